//! `skipAfter`: when the rule matches, skips to just after a `SecMarker` (or rule id).
//!
//! Description: the marker is looked up when the rule set is compiled; white space around
//! the name is removed.
//!
//! Arguments: the marker name.
//!
//! Example: `skipAfter:END-REQUEST-942-APPLICATION-ATTACK-SQLI`

use super::{Actions, need};

/// Handler for `skipAfter`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.skip_after = Some(need(value)?.trim().to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some("END"), Some("END"), true),
            (Some(" END-X "), Some("END-X"), true),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("skipAfter", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.skip_after.as_deref(), *want, "{value:?}");
        }
    }
}
