//! `redirect`: stops the transaction and redirects the client.
//!
//! Description: answers with a redirect to the URL (a template: macros are expanded when the
//! rule matches); the status is the rule's `status:` when it is a redirect status, else 302.
//!
//! Arguments: the target URL.
//!
//! Example: `id:1,phase:1,redirect:'https://example.com/blocked?id=%{RULE.id}'`

use super::{Actions, Disruptive, need, set_disruptive};
use crate::macros::Template;

/// Handler for `redirect`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    a.redirect = Some(Template::parse(v));
    set_disruptive(a, Disruptive::Redirect)
}

#[cfg(test)]
mod tests {
    use crate::actions::Disruptive;
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, target has macros, ok)
        let cases: &[(Option<&str>, bool, bool)] = &[
            (Some("http://x/"), false, true),
            (Some("https://x/?id=%{RULE.id}"), true, true),
            (None, false, false),
        ];
        for (value, macros, ok) in cases {
            let (a, r) = run("redirect", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            let want = ok.then_some(Disruptive::Redirect);
            assert_eq!(a.disruptive, want, "{value:?}");
            assert_eq!(
                a.redirect.is_some_and(|t| t.has_macros()),
                *macros,
                "{value:?}"
            );
        }
    }
}
