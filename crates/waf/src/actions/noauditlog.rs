//! `noauditlog`: does not record the transaction in the audit log because of this rule.
//!
//! Description: the opposite of `auditlog`; the last one written wins. Does not change `log`.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:2,log,noauditlog,pass`

use super::Actions;

/// Handler for `noauditlog`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.auditlog = Some(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::Actions;
    use crate::actions::test_util::{run, run_on};

    #[test]
    fn table() {
        let (a, r) = run("noauditlog", None);
        assert!(r.is_ok());
        assert_eq!((a.log, a.auditlog), (None, Some(false)));
        let mut a = Actions::default();
        for name in ["log", "auditlog", "noauditlog"] {
            assert!(run_on(&mut a, name, None).is_ok());
        }
        assert_eq!((a.log, a.auditlog), (Some(true), Some(false)));
    }
}
