//! `tag`: a label for grouping and excluding rules.
//!
//! Description: may be given many times; tags accumulate in order. They are matched by
//! `SecRuleRemoveByTag` and `ctl:ruleRemoveByTag` and are not macro-expanded.
//!
//! Arguments: the tag text.
//!
//! Example: `tag:'attack-sqli'`

use super::{Actions, need};

/// Handler for `tag`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.tags.push(need(value)?.to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::Actions;
    use crate::actions::test_util::{check_cases, run_on};

    #[test]
    fn table() {
        check_cases(
            "tag",
            &[(Some("OWASP_CRS"), true), (Some(""), true), (None, false)],
        );
        let mut a = Actions::default();
        for t in ["a", "%{tx.x}", "a"] {
            assert!(run_on(&mut a, "tag", Some(t)).is_ok());
        }
        assert_eq!(a.tags, vec!["a", "%{tx.x}", "a"]);
    }
}
