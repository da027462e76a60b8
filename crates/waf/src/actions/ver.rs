//! `ver`: the version of the rule set the rule belongs to.
//!
//! Description: free text, kept as written and reported in logs (`RULE.ver`).
//!
//! Arguments: the version text.
//!
//! Example: `ver:'OWASP_CRS/4.28.0'`

use super::{Actions, need};

/// Handler for `ver`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.ver = Some(need(value)?.to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some("OWASP_CRS/4.28.0"), Some("OWASP_CRS/4.28.0"), true),
            (Some(" x "), Some(" x "), true),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("ver", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.ver.as_deref(), *want, "{value:?}");
        }
    }
}
