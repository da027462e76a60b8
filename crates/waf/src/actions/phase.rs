//! `phase`: when the rule runs.
//!
//! Description: the processing phase: 1 request headers, 2 request body, 3 response headers,
//! 4 response body, 5 logging. The names `request` (2), `response` (4) and `logging` (5) are
//! accepted in any case.
//!
//! Arguments: `1`-`5`, `request`, `response` or `logging`.
//!
//! Example: `phase:2`

use super::{Actions, need};

/// Handler for `phase`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let p = parse_phase(need(value)?)?;
    a.phase = Some(p);
    Ok(())
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

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected phase, ok)
        let cases: &[(Option<&str>, Option<u8>, bool)] = &[
            (Some("1"), Some(1), true),
            (Some("5"), Some(5), true),
            (Some("request"), Some(2), true),
            (Some("RESPONSE"), Some(4), true),
            (Some(" logging "), Some(5), true),
            (Some("0"), None, false),
            (Some("6"), None, false),
            (Some("x"), None, false),
            (None, None, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("phase", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.phase, *want, "{value:?}");
        }
    }
}
