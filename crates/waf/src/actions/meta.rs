//! Metadata actions: id, phase, msg, logdata, tag, severity, ver, rev, maturity, accuracy.

use super::{Actions, need};
use crate::macros::Template;

/// Handles the metadata actions; `None` when `name` is not one of them.
pub(super) fn apply(
    a: &mut Actions,
    name: &str,
    value: Option<&str>,
) -> Option<Result<(), String>> {
    let r = match name {
        "id" => need(value).and_then(|v| {
            v.trim()
                .parse::<u64>()
                .map(|id| a.id = Some(id))
                .map_err(|_| format!("invalid id {v:?}"))
        }),
        "phase" => need(value).and_then(|v| parse_phase(v).map(|p| a.phase = Some(p))),
        "msg" => need(value).map(|v| a.msg = Some(Template::parse(v))),
        "logdata" => need(value).map(|v| a.logdata = Some(Template::parse(v))),
        "tag" => need(value).map(|v| a.tags.push(v.to_owned())),
        "severity" => need(value).and_then(|v| parse_severity(v).map(|s| a.severity = Some(s))),
        "ver" => need(value).map(|v| a.ver = Some(v.to_owned())),
        "rev" => need(value).map(|v| a.rev = Some(v.to_owned())),
        "maturity" => need(value).and_then(|v| {
            v.trim()
                .parse::<u8>()
                .map(|m| a.maturity = Some(m))
                .map_err(|_| format!("invalid maturity {v:?}"))
        }),
        "accuracy" => need(value).and_then(|v| {
            v.trim()
                .parse::<u8>()
                .map(|m| a.accuracy = Some(m))
                .map_err(|_| format!("invalid accuracy {v:?}"))
        }),
        _ => return None,
    };
    Some(r)
}

/// `phase:` value: 1-5, `request` (2), `response` (4), `logging` (5).
pub(crate) fn parse_phase(v: &str) -> Result<u8, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "request" => Ok(2),
        "response" => Ok(4),
        "logging" => Ok(5),
        other => match other.parse::<u8>() {
            Ok(p @ 1..=5) => Ok(p),
            _ => Err(format!("invalid phase {v:?}")),
        },
    }
}

/// `severity:` value: a number 0-7 or a syslog name.
pub(crate) fn parse_severity(v: &str) -> Result<u8, String> {
    const NAMES: [&str; 8] = [
        "emergency",
        "alert",
        "critical",
        "error",
        "warning",
        "notice",
        "info",
        "debug",
    ];
    let t = v.trim();
    if let Ok(n @ 0..=7) = t.parse::<u8>() {
        return Ok(n);
    }
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(t))
        .and_then(|p| u8::try_from(p).ok())
        .ok_or_else(|| format!("invalid severity {v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let mut a = Actions::default();
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("id", Some("942100"), true),
            ("id", Some("x"), false),
            ("id", None, false),
            ("phase", Some("request"), true),
            ("phase", Some("6"), false),
            ("msg", Some("SQLi %{TX.0}"), true),
            ("logdata", Some("x"), true),
            ("tag", Some("OWASP_CRS"), true),
            ("severity", Some("CRITICAL"), true),
            ("severity", Some("9"), false),
            ("ver", Some("OWASP_CRS/4.28.0"), true),
            ("rev", Some("1"), true),
            ("maturity", Some("9"), true),
            ("accuracy", Some("x"), false),
        ];
        for (name, value, ok) in cases {
            let r = apply(&mut a, name, *value).expect("handled");
            assert_eq!(r.is_ok(), *ok, "{name} {value:?}");
        }
        assert!(apply(&mut a, "deny", None).is_none());
        assert_eq!(a.id, Some(942100));
        assert_eq!(a.phase, Some(2));
        assert_eq!(a.severity, Some(2));
        assert_eq!(a.tags, vec!["OWASP_CRS".to_owned()]);
    }

    #[test]
    fn phases_and_severities() {
        assert_eq!(parse_phase("response"), Ok(4));
        assert_eq!(parse_phase("logging"), Ok(5));
        assert_eq!(parse_phase("1"), Ok(1));
        assert!(parse_phase("0").is_err());
        assert_eq!(parse_severity("notice"), Ok(5));
        assert_eq!(parse_severity("3"), Ok(3));
    }
}
