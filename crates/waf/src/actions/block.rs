//! `block`: performs the disruptive action of `SecDefaultAction` for the rule's phase.
//!
//! Description: sets a flag only; the compiler resolves it against the default actions
//! (CRS uses `pass` there and blocks on the anomaly score). It does not clear an explicit
//! disruptive action written in the same rule.
//!
//! Arguments: none.
//!
//! Example: `id:942100,phase:2,block,capture,t:none`

use super::Actions;

/// Handler for `block`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.block = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::Actions;
    use crate::actions::test_util::{run, run_on};

    #[test]
    fn table() {
        let (a, r) = run("block", None);
        assert!(r.is_ok());
        assert!(a.block);
        assert_eq!(a.disruptive, None);
        let mut a = Actions::default();
        assert!(run_on(&mut a, "deny", None).is_ok());
        assert!(run_on(&mut a, "block", None).is_ok());
        assert!(a.block);
        assert!(a.disruptive.is_some());
    }
}
