//! `id`: the rule's unique number.
//!
//! Description: identifies the rule in logs, exclusions (`SecRuleRemoveById`,
//! `ctl:ruleRemoveById`) and `SecRuleUpdate*ById`. The compiler requires it on chain starters.
//!
//! Arguments: an unsigned integer (white space around it is ignored).
//!
//! Example: `id:942100`

use super::{Actions, need};

/// Handler for `id`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    let id = v
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("invalid id {v:?}"))?;
    a.id = Some(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected id, ok)
        let cases: &[(Option<&str>, Option<u64>, bool)] = &[
            (Some("942100"), Some(942100), true),
            (Some(" 7 "), Some(7), true),
            (Some("x"), None, false),
            (Some("-1"), None, false),
            (Some(""), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("id", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.id, *want, "{value:?}");
        }
    }
}
