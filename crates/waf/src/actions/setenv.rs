//! `setenv`: sets an environment variable for the transaction.
//!
//! Description: the variable lives in the transaction's `ENV` collection only (nothing is
//! exported to the process). Without `=` the value is `1`; a leading `!` on the name is
//! ignored. The value is a template, expanded when the rule matches.
//!
//! Arguments: `name=value`, or `name`.
//!
//! Example: `setenv:blocked_by=%{RULE.id}`

use super::{Actions, need};
use crate::macros::Template;

/// Handler for `setenv`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    let (k, val) = v.split_once('=').unwrap_or((v, "1"));
    let k = k.trim().trim_start_matches('!');
    if k.is_empty() {
        return Err("setenv with empty name".to_owned());
    }
    a.setenvs.push((k.to_owned(), Template::parse(val)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;
    use crate::macros::Template;

    /// (value, expected name and value, ok).
    type Case = (
        Option<&'static str>,
        Option<(&'static str, &'static str)>,
        bool,
    );

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (Some("x=1"), Some(("x", "1")), true),
            (Some(" x =a=b"), Some(("x", "a=b")), true),
            (Some("flag"), Some(("flag", "1")), true),
            (Some("!gone"), Some(("gone", "1")), true),
            (Some("=1"), None, false),
            (Some("!"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("setenv", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            let got: Vec<(String, Template)> = a.setenvs;
            let want: Vec<(String, Template)> = want
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Template::parse(v)))
                .collect();
            assert_eq!(got, want, "{value:?}");
        }
    }
}
