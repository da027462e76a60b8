//! `nolog`: does not log a match.
//!
//! Description: as in ModSecurity it also implies `noauditlog`, unless `auditlog` is
//! written after it.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:1,pass,nolog,setvar:tx.x=1`

use super::Actions;

/// Handler for `nolog`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.log = Some(false);
    // ModSecurity: nolog also implies noauditlog unless auditlog follows.
    a.auditlog = Some(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::Actions;
    use crate::actions::test_util::{run, run_on};

    #[test]
    fn table() {
        let (a, r) = run("nolog", None);
        assert!(r.is_ok());
        assert_eq!((a.log, a.auditlog), (Some(false), Some(false)));
        // (sequence, log, auditlog)
        let cases: &[(&[&str], Option<bool>, Option<bool>)] = &[
            (&["nolog", "auditlog"], Some(false), Some(true)),
            (&["auditlog", "nolog"], Some(false), Some(false)),
            (&["log", "nolog"], Some(false), Some(false)),
        ];
        for (seq, log, audit) in cases {
            let mut a = Actions::default();
            for name in *seq {
                assert!(run_on(&mut a, name, None).is_ok());
            }
            assert_eq!((a.log, a.auditlog), (*log, *audit), "{seq:?}");
        }
    }
}
