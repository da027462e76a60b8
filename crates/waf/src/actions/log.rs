//! `log`: logs a match (the error log / match list).
//!
//! Description: the opposite of `nolog`; the last one written wins. Unlike `nolog` it does
//! not change audit logging.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:2,log,pass`

use super::Actions;

/// Handler for `log`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.log = Some(true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::Actions;
    use crate::actions::test_util::{run, run_on};

    #[test]
    fn table() {
        let (a, r) = run("log", None);
        assert!(r.is_ok());
        assert_eq!((a.log, a.auditlog), (Some(true), None));
        let mut a = Actions::default();
        // (action, log, auditlog) after each step, in order.
        let steps: &[(&str, Option<bool>, Option<bool>)] = &[
            ("nolog", Some(false), Some(false)),
            ("log", Some(true), Some(false)),
        ];
        for (name, log, audit) in steps {
            assert!(run_on(&mut a, name, None).is_ok());
            assert_eq!((a.log, a.auditlog), (*log, *audit), "{name}");
        }
    }
}
