//! `capture`: stores what the operator captured in `TX:0` to `TX:9`.
//!
//! Description: only operators that capture (`@rx`, `@pm`, `@detectSQLi`...) fill the slots.
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@rx (a)(b)" "id:1,capture,setvar:tx.x=%{TX.1}"`

use super::Actions;

/// Handler for `capture`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.capture = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        for value in [None, Some("x")] {
            let (a, r) = run("capture", value);
            assert!(r.is_ok() && a.capture, "{value:?}");
        }
        assert!(!run("chain", None).0.capture);
    }
}
