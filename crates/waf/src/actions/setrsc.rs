//! `setrsc`: accepted; the RESOURCE collection is not persisted.
//!
//! Description: ModSecurity opens the RESOURCE collection for the given key. Here the
//! collection lives for one transaction only; the value is required but not used.
//!
//! Arguments: the resource key (a template).
//!
//! Example: `setrsc:%{REQUEST_FILENAME}`

use super::{Actions, need};

/// Handler for `setrsc`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "setrsc",
            &[
                (Some("%{REQUEST_FILENAME}"), true),
                (Some(""), true),
                (None, false),
            ],
        );
        let (a, _) = run("setrsc", Some("%{REQUEST_FILENAME}"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
