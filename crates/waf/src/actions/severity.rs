//! `severity`: how serious a match is.
//!
//! Description: stored as a number 0 (emergency) to 7 (debug); the syslog names are accepted
//! in any case.
//!
//! Arguments: `0`-`7` or one of `EMERGENCY`, `ALERT`, `CRITICAL`, `ERROR`, `WARNING`,
//! `NOTICE`, `INFO`, `DEBUG`.
//!
//! Example: `severity:'CRITICAL'`

use super::{Actions, need};

/// Handler for `severity`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let s = parse_severity(need(value)?)?;
    a.severity = Some(s);
    Ok(())
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
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected severity, ok)
        let cases: &[(Option<&str>, Option<u8>, bool)] = &[
            (Some("CRITICAL"), Some(2), true),
            (Some("notice"), Some(5), true),
            (Some("Debug"), Some(7), true),
            (Some("0"), Some(0), true),
            (Some("3"), Some(3), true),
            (Some("8"), None, false),
            (Some("9"), None, false),
            (Some("loud"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("severity", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.severity, *want, "{value:?}");
        }
    }
}
