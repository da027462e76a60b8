//! `setsid`: accepted; the SESSION collection is not persisted.
//!
//! Description: ModSecurity opens the SESSION collection for the given session id. Here the
//! collection lives for one transaction only; the value is required but not used.
//!
//! Arguments: the session id (a template).
//!
//! Example: `setsid:%{REQUEST_COOKIES.PHPSESSID}`

use super::{Actions, need};

/// Handler for `setsid`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "setsid",
            &[(Some("x"), true), (Some(""), true), (None, false)],
        );
        let (a, _) = run("setsid", Some("x"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
