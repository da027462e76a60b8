//! `proxy`: rejected; unsupported by this engine.
//!
//! Description: ModSecurity forwards the request to another server (Apache only). This engine
//! refuses the rule at compile time rather than silently ignoring it.
//!
//! Arguments: the target URL.
//!
//! Example: `proxy:http://honeypot.example/` (a compile error here)

use super::Actions;

/// Handler for `proxy`: always an error.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Err("unsupported by this engine".to_owned())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::check_cases;

    #[test]
    fn table() {
        check_cases(
            "proxy",
            &[(Some("http://x/"), false), (Some(""), false), (None, false)],
        );
    }
}
