//! `sanitiseArg` (also spelt `sanitizeArg`): accepted and ignored; there is no audit log to
//! sanitise.
//!
//! Description: ModSecurity masks the named argument's value in the audit log. This engine
//! writes no audit log, so the action records nothing.
//!
//! Arguments: the argument name.
//!
//! Example: `sanitiseArg:password`

use super::Actions;

/// Handler for `sanitiseArg` and `sanitizeArg`.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        for name in ["sanitiseArg", "sanitizeArg"] {
            check_cases(
                name,
                &[(Some("password"), true), (Some(""), true), (None, true)],
            );
            let (a, _) = run(name, Some("password"));
            assert!(a.setvars.is_empty() && a.disruptive.is_none(), "{name}");
        }
    }
}
