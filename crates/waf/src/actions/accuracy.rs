//! `accuracy`: how likely a match is a true positive.
//!
//! Description: metadata only, reported in logs (`RULE.accuracy`).
//!
//! Arguments: a number 0-255 (ModSecurity documents 1-9).
//!
//! Example: `accuracy:'8'`

use super::{Actions, need, parse_u8};

/// Handler for `accuracy`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.accuracy = Some(parse_u8("accuracy", need(value)?)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Option<u8>, bool)] = &[
            (Some("8"), Some(8), true),
            (Some("0"), Some(0), true),
            (Some("x"), None, false),
            (Some("-1"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("accuracy", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.accuracy, *want, "{value:?}");
        }
    }
}
