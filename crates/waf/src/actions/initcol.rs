//! `initcol`: accepted; collections are not persisted.
//!
//! Description: ModSecurity opens a persistent collection (IP, GLOBAL, RESOURCE) keyed by the
//! value. Here `setvar` on those collections works for the current transaction and nothing is
//! stored across transactions, so the value is required but not used.
//!
//! Arguments: `collection=key` (a template).
//!
//! Example: `initcol:ip=%{REMOTE_ADDR}_%{tx.ua_hash}`

use super::{Actions, need};

/// Handler for `initcol`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "initcol",
            &[
                (Some("ip=%{remote_addr}"), true),
                (Some(""), true),
                (None, false),
            ],
        );
        let (a, _) = run("initcol", Some("ip=%{remote_addr}"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
