//! `chain`: links the next rule to this one.
//!
//! Description: the rule matches only when the following rule (and its own chain) matches
//! too. Disruptive, skip and metadata actions belong on the chain starter.
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@rx a" "id:1,phase:2,deny,chain"`

use super::Actions;

/// Handler for `chain`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.chain = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        for value in [None, Some("ignored")] {
            let (a, r) = run("chain", value);
            assert!(r.is_ok(), "{value:?}");
            assert!(a.chain, "{value:?}");
        }
        assert!(!run("pass", None).0.chain);
    }
}
