//! `sanitiseMatched` (also spelt `sanitizeMatched`): accepted and ignored; there is no audit
//! log to sanitise.
//!
//! Description: ModSecurity masks the whole value of the variable that matched in the audit
//! log. This engine writes no audit log, so the action records nothing.
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS_NAMES "@rx pass" "id:1,phase:2,pass,nolog,sanitiseMatched"`

use super::Actions;

/// Handler for `sanitiseMatched` and `sanitizeMatched`.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        for name in ["sanitiseMatched", "sanitizeMatched"] {
            check_cases(name, &[(None, true), (Some(""), true), (Some("x"), true)]);
            let (a, _) = run(name, None);
            assert!(a.setvars.is_empty() && a.disruptive.is_none(), "{name}");
        }
    }
}
