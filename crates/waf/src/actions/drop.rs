//! `drop`: stops the transaction and closes the client connection.
//!
//! Description: the engine reports a drop interruption (status from `status:`, else 403,
//! for logs) and the gateway closes the connection instead of answering.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:1,drop`

use super::{Actions, Disruptive, set_disruptive};

/// Handler for `drop`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    set_disruptive(a, Disruptive::Drop)
}

#[cfg(test)]
mod tests {
    use crate::actions::Disruptive;
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        for name in ["drop", "Drop"] {
            let (a, r) = run(name, None);
            assert!(r.is_ok(), "{name}");
            assert_eq!(a.disruptive, Some(Disruptive::Drop), "{name}");
        }
    }
}
