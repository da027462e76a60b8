//! `multiMatch`: runs the operator after every transformation, not only after the last.
//!
//! Description: the rule matches when the operator matches the value at any step of the
//! transformation pipeline (including the untransformed value).
//!
//! Arguments: none.
//!
//! Example: `t:urlDecode,t:lowercase,multiMatch`

use super::Actions;

/// Handler for `multiMatch`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.multi_match = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        for name in ["multiMatch", "multimatch", "MULTIMATCH"] {
            let (a, r) = run(name, None);
            assert!(r.is_ok() && a.multi_match, "{name}");
        }
        assert!(!run("capture", None).0.multi_match);
    }
}
