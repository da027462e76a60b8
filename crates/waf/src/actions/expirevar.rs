//! `expirevar`: accepted; collection entries never outlive the transaction here.
//!
//! Description: ModSecurity removes a persistent collection variable after a number of seconds.
//! This engine keeps collections for one transaction only, so there is nothing to expire; the
//! value is required but not used.
//!
//! Arguments: `collection.key=seconds`.
//!
//! Example: `expirevar:ip.reput_block_flag=600`

use super::{Actions, need};

/// Handler for `expirevar`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "expirevar",
            &[(Some("ip.x=60"), true), (Some(""), true), (None, false)],
        );
        let (a, _) = run("expirevar", Some("ip.x=60"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
