//! `status`: the HTTP status used by `deny` (and `redirect`).
//!
//! Description: not disruptive by itself.
//!
//! Arguments: a three-digit status, 100-999.
//!
//! Example: `id:1,phase:1,deny,status:406`

use super::{Actions, need};

/// Handler for `status`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    match v.trim().parse::<u16>() {
        Ok(s @ 100..=999) => {
            a.status = Some(s);
            Ok(())
        }
        _ => Err(format!("invalid status {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected status, ok)
        let cases: &[(Option<&str>, Option<u16>, bool)] = &[
            (Some("406"), Some(406), true),
            (Some(" 302 "), Some(302), true),
            (Some("100"), Some(100), true),
            (Some("999"), Some(999), true),
            (Some("42"), None, false),
            (Some("1000"), None, false),
            (Some("x"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("status", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.status, *want, "{value:?}");
            assert_eq!(a.disruptive, None, "{value:?}");
        }
    }
}
