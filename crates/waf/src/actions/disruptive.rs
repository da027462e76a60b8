//! Disruptive actions: pass, block, deny, drop, allow (allow:phase, allow:request), redirect,
//! plus status and pause (accepted; pause does not delay: the engine does no I/O).

use super::{Actions, need};
use crate::macros::Template;

/// What `allow` lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowScope {
    /// `allow`: skip all remaining rules of every phase except logging.
    All,
    /// `allow:phase`: skip the rest of the current phase.
    Phase,
    /// `allow:request`: skip the rest of the request phases (1-2).
    Request,
}

/// A disruptive action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruptive {
    /// Continue.
    Pass,
    /// Stop with `status` (default 403).
    Deny,
    /// Close the connection.
    Drop,
    /// Stop evaluating (see [`AllowScope`]).
    Allow(AllowScope),
    /// Redirect to the rule's `redirect:` URL.
    Redirect,
}

/// Handles the disruptive actions; `None` when `name` is not one of them.
pub(super) fn apply(
    a: &mut Actions,
    name: &str,
    value: Option<&str>,
) -> Option<Result<(), String>> {
    let r = match name {
        "pass" => set(a, Disruptive::Pass),
        "deny" => set(a, Disruptive::Deny),
        "drop" => set(a, Disruptive::Drop),
        "block" => {
            a.block = true;
            Ok(())
        }
        "allow" => match value.map(|v| v.trim().to_ascii_lowercase()) {
            None => set(a, Disruptive::Allow(AllowScope::All)),
            Some(v) if v == "phase" => set(a, Disruptive::Allow(AllowScope::Phase)),
            Some(v) if v == "request" => set(a, Disruptive::Allow(AllowScope::Request)),
            Some(v) => Err(format!("invalid allow scope {v:?}")),
        },
        "redirect" => need(value).and_then(|v| {
            a.redirect = Some(Template::parse(v));
            set(a, Disruptive::Redirect)
        }),
        "status" => need(value).and_then(|v| match v.trim().parse::<u16>() {
            Ok(s @ 100..=999) => {
                a.status = Some(s);
                Ok(())
            }
            _ => Err(format!("invalid status {v:?}")),
        }),
        // Accepted for compatibility; the engine never sleeps.
        "pause" => need(value).map(|_| ()),
        _ => return None,
    };
    Some(r)
}

fn set(a: &mut Actions, d: Disruptive) -> Result<(), String> {
    a.disruptive = Some(d);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>, Option<Disruptive>, bool)] = &[
            ("pass", None, Some(Disruptive::Pass), true),
            ("deny", None, Some(Disruptive::Deny), true),
            ("drop", None, Some(Disruptive::Drop), true),
            (
                "allow",
                None,
                Some(Disruptive::Allow(AllowScope::All)),
                true,
            ),
            (
                "allow",
                Some("phase"),
                Some(Disruptive::Allow(AllowScope::Phase)),
                true,
            ),
            (
                "allow",
                Some("REQUEST"),
                Some(Disruptive::Allow(AllowScope::Request)),
                true,
            ),
            ("allow", Some("x"), None, false),
            (
                "redirect",
                Some("http://x/"),
                Some(Disruptive::Redirect),
                true,
            ),
            ("block", None, None, true),
        ];
        for (name, value, want, ok) in cases {
            let mut a = Actions::default();
            let r = apply(&mut a, name, *value).expect("handled");
            assert_eq!(r.is_ok(), *ok, "{name}");
            assert_eq!(a.disruptive, *want, "{name}");
        }
        let mut a = Actions::default();
        assert!(
            apply(&mut a, "status", Some("406"))
                .expect("handled")
                .is_ok()
        );
        assert_eq!(a.status, Some(406));
        assert!(
            apply(&mut a, "status", Some("42"))
                .expect("handled")
                .is_err()
        );
        assert!(apply(&mut a, "msg", Some("x")).is_none());
    }
}
