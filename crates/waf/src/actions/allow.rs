//! `allow`: stops rule processing and lets the transaction through.
//!
//! Description: without a value, skips the remaining rules of every phase but logging;
//! `allow:phase` skips the rest of the current phase; `allow:request` skips the rest of the
//! request phases (1-2). The value is case-insensitive.
//!
//! Arguments: none, `phase` or `request`.
//!
//! Example: `SecRule REMOTE_ADDR "@ipMatch 10.0.0.1" "id:1,phase:1,allow:request,nolog"`

use super::{Actions, AllowScope, Disruptive, set_disruptive};

/// Handler for `allow`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => set_disruptive(a, Disruptive::Allow(AllowScope::All)),
        Some(v) if v == "phase" => set_disruptive(a, Disruptive::Allow(AllowScope::Phase)),
        Some(v) if v == "request" => set_disruptive(a, Disruptive::Allow(AllowScope::Request)),
        Some(v) => Err(format!("invalid allow scope {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;
    use crate::actions::{AllowScope, Disruptive};

    #[test]
    fn table() {
        // (value, expected scope, ok)
        let cases: &[(Option<&str>, Option<AllowScope>, bool)] = &[
            (None, Some(AllowScope::All), true),
            (Some("phase"), Some(AllowScope::Phase), true),
            (Some("REQUEST"), Some(AllowScope::Request), true),
            (Some(" request "), Some(AllowScope::Request), true),
            (Some(""), None, false),
            (Some("response"), None, false),
            (Some("x"), None, false),
        ];
        for (value, scope, ok) in cases {
            let (a, r) = run("allow", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.disruptive, scope.map(Disruptive::Allow), "{value:?}");
        }
    }
}
