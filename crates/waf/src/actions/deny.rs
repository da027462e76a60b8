//! `deny`: stops the transaction and answers with an error status.
//!
//! Description: the status is the rule's `status:` (403 when none is given).
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:1,deny,status:406`

use super::{Actions, Disruptive, set_disruptive};

/// Handler for `deny`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    set_disruptive(a, Disruptive::Deny)
}

#[cfg(test)]
mod tests {
    use crate::actions::Disruptive;
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        for name in ["deny", "DENY"] {
            let (a, r) = run(name, None);
            assert!(r.is_ok(), "{name}");
            assert_eq!(a.disruptive, Some(Disruptive::Deny), "{name}");
            assert_eq!(a.status, None, "{name}: deny does not set a status itself");
            assert!(!a.block, "{name}");
        }
    }
}
