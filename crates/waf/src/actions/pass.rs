//! `pass`: continues with the next rule when this one matches.
//!
//! Description: a disruptive action that disrupts nothing; it replaces any disruptive action
//! inherited from `SecDefaultAction`. The last disruptive action written wins.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:1,pass,nolog,setvar:tx.x=1`

use super::{Actions, Disruptive, set_disruptive};

/// Handler for `pass`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    set_disruptive(a, Disruptive::Pass)
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{run, run_on};
    use crate::actions::{Actions, Disruptive};

    #[test]
    fn table() {
        let (a, r) = run("pass", None);
        assert!(r.is_ok());
        assert_eq!(a.disruptive, Some(Disruptive::Pass));
        // (sequence, final disruptive action)
        let cases: &[(&[&str], Disruptive)] = &[
            (&["deny", "pass"], Disruptive::Pass),
            (&["pass", "deny"], Disruptive::Deny),
        ];
        for (seq, want) in cases {
            let mut a = Actions::default();
            for name in *seq {
                assert!(run_on(&mut a, name, None).is_ok());
            }
            assert_eq!(a.disruptive, Some(*want), "{seq:?}");
        }
    }
}
