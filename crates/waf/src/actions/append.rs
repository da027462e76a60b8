//! `append`: rejected; unsupported by this engine.
//!
//! Description: ModSecurity appends text to the response body. This engine refuses the rule at
//! compile time rather than silently ignoring it.
//!
//! Arguments: the text (a template).
//!
//! Example: `append:'<!-- checked -->'` (a compile error here)

use super::Actions;

/// Handler for `append`: always an error.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Err("unsupported by this engine".to_owned())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::check_cases;

    #[test]
    fn table() {
        check_cases(
            "append",
            &[(Some("x"), false), (Some(""), false), (None, false)],
        );
    }
}
