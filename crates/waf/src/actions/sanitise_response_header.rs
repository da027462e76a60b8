//! `sanitiseResponseHeader` (also spelt `sanitizeResponseHeader`): accepted and ignored; there
//! is no audit log to sanitise.
//!
//! Description: ModSecurity masks a response header's value in the audit log. This engine
//! writes no audit log, so the action records nothing.
//!
//! Arguments: the header name.
//!
//! Example: `sanitiseResponseHeader:Set-Cookie`

use super::Actions;

/// Handler for `sanitiseResponseHeader` and `sanitizeResponseHeader`.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        for name in ["sanitiseResponseHeader", "sanitizeResponseHeader"] {
            check_cases(
                name,
                &[(Some("Set-Cookie"), true), (Some(""), true), (None, true)],
            );
            let (a, _) = run(name, Some("Set-Cookie"));
            assert!(a.setvars.is_empty() && a.disruptive.is_none(), "{name}");
        }
    }
}
