//! Flow and logging actions: chain, skip, skipAfter, capture, multiMatch, log, nolog,
//! auditlog, noauditlog, and `t:` transformations.

use super::{Actions, TransformStep, need};
use crate::transformations;

/// Handles the flow actions; `None` when `name` is not one of them.
pub(super) fn apply(
    a: &mut Actions,
    name: &str,
    value: Option<&str>,
) -> Option<Result<(), String>> {
    let r = match name {
        "chain" => {
            a.chain = true;
            Ok(())
        }
        "skip" => need(value).and_then(|v| match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => {
                a.skip = n;
                Ok(())
            }
            _ => Err(format!("invalid skip count {v:?}")),
        }),
        "skipafter" => need(value).map(|v| a.skip_after = Some(v.trim().to_owned())),
        "capture" => {
            a.capture = true;
            Ok(())
        }
        "multimatch" => {
            a.multi_match = true;
            Ok(())
        }
        "log" => {
            a.log = Some(true);
            Ok(())
        }
        "nolog" => {
            a.log = Some(false);
            // ModSecurity: nolog also implies noauditlog unless auditlog follows.
            a.auditlog = Some(false);
            Ok(())
        }
        "auditlog" => {
            a.auditlog = Some(true);
            Ok(())
        }
        "noauditlog" => {
            a.auditlog = Some(false);
            Ok(())
        }
        "t" => need(value).and_then(|v| {
            let n = v.trim().to_ascii_lowercase();
            if n == "none" {
                a.transforms.push(TransformStep {
                    name: n,
                    func: None,
                });
                return Ok(());
            }
            match transformations::lookup(&n) {
                Some(f) => {
                    a.transforms.push(TransformStep {
                        name: n,
                        func: Some(f),
                    });
                    Ok(())
                }
                None => Err(format!("unknown transformation {v}")),
            }
        }),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let mut a = Actions::default();
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("chain", None, true),
            ("skip", Some("2"), true),
            ("skip", Some("0"), false),
            ("skip", Some("x"), false),
            ("skipafter", Some("END"), true),
            ("capture", None, true),
            ("multimatch", None, true),
            ("nolog", None, true),
            ("auditlog", None, true),
            ("t", Some("none"), true),
            ("t", Some("doesNotExist"), false),
        ];
        for (name, value, ok) in cases {
            let r = apply(&mut a, name, *value).expect("handled");
            assert_eq!(r.is_ok(), *ok, "{name} {value:?}");
        }
        assert!(a.chain && a.capture && a.multi_match);
        assert_eq!(a.skip, 2);
        assert_eq!(a.skip_after.as_deref(), Some("END"));
        assert_eq!(a.log, Some(false));
        assert_eq!(a.auditlog, Some(true));
        assert_eq!(a.transforms.len(), 1);
        assert!(apply(&mut a, "id", Some("1")).is_none());
    }
}
