//! `exec`: rejected; unsupported by this engine.
//!
//! Description: ModSecurity runs an external script or Lua program when the rule matches. This
//! engine refuses the rule at compile time rather than silently ignoring it.
//!
//! Arguments: the script path.
//!
//! Example: `exec:/usr/local/bin/notify.sh` (a compile error here)

use super::Actions;

/// Handler for `exec`: always an error.
pub(super) fn apply(_a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    Err("unsupported by this engine".to_owned())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::check_cases;

    #[test]
    fn table() {
        check_cases(
            "exec",
            &[(Some("/bin/x"), false), (Some(""), false), (None, false)],
        );
    }
}
