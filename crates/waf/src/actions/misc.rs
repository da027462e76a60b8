//! Other actions: setenv (kept in the transaction's ENV), expirevar, initcol, setuid, setsid
//! (accepted: collections live only for one transaction, nothing persists), sanitiseArg,
//! sanitiseMatched, sanitiseMatchedBytes, sanitiseRequestHeader, sanitiseResponseHeader
//! (accepted and ignored: there is no audit log to sanitise), xmlns (accepted), and exec,
//! append, prepend, proxy (rejected: unsupported in this engine).

use super::{Actions, need};
use crate::macros::Template;

/// Handles the miscellaneous actions; `None` when `name` is not one of them.
pub(super) fn apply(
    a: &mut Actions,
    name: &str,
    value: Option<&str>,
) -> Option<Result<(), String>> {
    let r = match name {
        "setenv" => need(value).and_then(|v| {
            let (k, val) = v.split_once('=').unwrap_or((v, "1"));
            let k = k.trim().trim_start_matches('!');
            if k.is_empty() {
                return Err("setenv with empty name".to_owned());
            }
            a.setenvs.push((k.to_owned(), Template::parse(val)));
            Ok(())
        }),
        "expirevar" | "initcol" | "setuid" | "setsid" | "setrsc" | "xmlns" | "deprecatevar" => {
            need(value).map(|_| ())
        }
        "sanitisearg"
        | "sanitisematched"
        | "sanitisematchedbytes"
        | "sanitiserequestheader"
        | "sanitiseresponseheader"
        | "sanitizearg"
        | "sanitizematched"
        | "sanitizematchedbytes"
        | "sanitizerequestheader"
        | "sanitizeresponseheader" => Ok(()),
        "exec" | "append" | "prepend" | "proxy" => Err("unsupported by this engine".to_owned()),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("setenv", Some("x=1"), true),
            ("setenv", Some("=1"), false),
            ("expirevar", Some("ip.x=60"), true),
            ("initcol", Some("ip=%{remote_addr}"), true),
            ("initcol", None, false),
            ("setuid", Some("%{ARGS.user}"), true),
            ("setsid", Some("x"), true),
            ("xmlns", Some("soap=http://x"), true),
            ("sanitisematched", None, true),
            ("exec", Some("/bin/x"), false),
            ("append", Some("x"), false),
            ("prepend", Some("x"), false),
        ];
        for (name, value, ok) in cases {
            let mut a = Actions::default();
            let r = apply(&mut a, name, *value).expect("handled");
            assert_eq!(r.is_ok(), *ok, "{name}");
        }
        assert!(apply(&mut Actions::default(), "id", Some("1")).is_none());
    }
}
