//! `skip`: skips the next N rules (or chains) when the rule matches.
//!
//! Description: counts rules in the same phase, a whole chain counting as one.
//!
//! Arguments: a positive integer.
//!
//! Example: `skip:2`

use super::{Actions, need};

/// Handler for `skip`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    match v.trim().parse::<u32>() {
        Ok(n) if n > 0 => {
            a.skip = n;
            Ok(())
        }
        _ => Err(format!("invalid skip count {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected count, ok)
        let cases: &[(Option<&str>, u32, bool)] = &[
            (Some("2"), 2, true),
            (Some(" 1 "), 1, true),
            (Some("0"), 0, false),
            (Some("-1"), 0, false),
            (Some("x"), 0, false),
            (None, 0, false),
        ];
        for (value, want, ok) in cases {
            let (a, r) = run("skip", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.skip, *want, "{value:?}");
        }
    }
}
