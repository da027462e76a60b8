//! `rev`: the rule's revision.
//!
//! Description: free text, kept as written and reported in logs (`RULE.rev`).
//!
//! Arguments: the revision text.
//!
//! Example: `rev:'2'`

use super::{Actions, need};

/// Handler for `rev`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.rev = Some(need(value)?.to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some("1"), Some("1"), true),
            (Some("1.2a"), Some("1.2a"), true),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("rev", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.rev.as_deref(), *want, "{value:?}");
        }
    }
}
