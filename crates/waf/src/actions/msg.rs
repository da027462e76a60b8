//! `msg`: the message logged when the rule matches.
//!
//! Description: a text template; macros (`%{TX.0}`, `%{MATCHED_VAR}`) are expanded when the
//! rule matches. A later `msg` replaces an earlier one.
//!
//! Arguments: the message, usually single-quoted.
//!
//! Example: `msg:'SQL Injection Attack Detected via libinjection'`

use super::{Actions, need};
use crate::macros::Template;

/// Handler for `msg`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.msg = Some(Template::parse(need(value)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, has macros, ok)
        let cases: &[(Option<&str>, bool, bool)] = &[
            (Some("plain"), false, true),
            (Some("SQLi %{TX.0}"), true, true),
            (Some(""), false, true),
            (None, false, false),
        ];
        for (value, macros, ok) in cases {
            let (a, r) = run("msg", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.msg.is_some(), *ok, "{value:?}");
            assert_eq!(a.msg.is_some_and(|t| t.has_macros()), *macros, "{value:?}");
        }
    }
}
