//! `setuid`: accepted; the USER collection is not persisted.
//!
//! Description: ModSecurity opens the USER collection for the given user id. Here the
//! collection lives for one transaction only; the value is required but not used.
//!
//! Arguments: the user id (a template).
//!
//! Example: `setuid:%{ARGS.username}`

use super::{Actions, need};

/// Handler for `setuid`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "setuid",
            &[
                (Some("%{ARGS.user}"), true),
                (Some(""), true),
                (None, false),
            ],
        );
        let (a, _) = run("setuid", Some("%{ARGS.user}"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
