//! `sanitiseMatchedBytes` (also spelt `sanitizeMatchedBytes`): accepted and ignored; there is
//! no audit log to sanitise.
//!
//! Description: ModSecurity masks the matched bytes of the variable that matched (optionally
//! keeping some at each end) in the audit log. This engine writes no audit log, so the action
//! records nothing.
//!
//! Arguments: none, or `N/M` bytes to keep at the start and end.
//!
//! Example: `sanitiseMatchedBytes:1/4`

use super::Actions;

/// Handler for `sanitiseMatchedBytes` and `sanitizeMatchedBytes`.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        for name in ["sanitiseMatchedBytes", "sanitizeMatchedBytes"] {
            check_cases(name, &[(Some("1/4"), true), (Some(""), true), (None, true)]);
            let (a, _) = run(name, Some("1/4"));
            assert!(a.setvars.is_empty() && a.disruptive.is_none(), "{name}");
        }
    }
}
