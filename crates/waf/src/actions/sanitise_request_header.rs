//! `sanitiseRequestHeader` (also spelt `sanitizeRequestHeader`): accepted and ignored; there is
//! no audit log to sanitise.
//!
//! Description: ModSecurity masks a request header's value in the audit log. This engine writes
//! no audit log, so the action records nothing.
//!
//! Arguments: the header name.
//!
//! Example: `sanitiseRequestHeader:Authorization`

use super::Actions;

/// Handler for `sanitiseRequestHeader` and `sanitizeRequestHeader`.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        for name in ["sanitiseRequestHeader", "sanitizeRequestHeader"] {
            check_cases(
                name,
                &[
                    (Some("Authorization"), true),
                    (Some(""), true),
                    (None, true),
                ],
            );
            let (a, _) = run(name, Some("Authorization"));
            assert!(a.setvars.is_empty() && a.disruptive.is_none(), "{name}");
        }
    }
}
