//! `maturity`: how well tested the rule is.
//!
//! Description: metadata only, reported in logs (`RULE.maturity`).
//!
//! Arguments: a number 0-255 (ModSecurity documents 1-9).
//!
//! Example: `maturity:'9'`

use super::{Actions, need, parse_u8};

/// Handler for `maturity`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.maturity = Some(parse_u8("maturity", need(value)?)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Option<u8>, bool)] = &[
            (Some("9"), Some(9), true),
            (Some(" 1 "), Some(1), true),
            (Some("256"), None, false),
            (Some("x"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("maturity", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.maturity, *want, "{value:?}");
        }
    }
}
