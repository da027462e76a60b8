//! `prepend`: rejected; unsupported by this engine.
//!
//! Description: ModSecurity prepends text to the response body. This engine refuses the rule at
//! compile time rather than silently ignoring it.
//!
//! Arguments: the text (a template).
//!
//! Example: `prepend:'<!-- checked -->'` (a compile error here)

use super::Actions;

/// Handler for `prepend`: always an error.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Err("unsupported by this engine".to_owned())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::check_cases;

    #[test]
    fn table() {
        check_cases(
            "prepend",
            &[(Some("x"), false), (Some(""), false), (None, false)],
        );
    }
}
