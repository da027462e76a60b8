//! `@detectXSS`: cross-site scripting detection with libinjection.
//!
//! Description: runs libinjection's HTML5 tokenizer based XSS check (the `libinjectionrs`
//! port) over the input, as ModSecurity's `DetectXSS` does with `libinjection_xss`. With
//! the `capture` action, slot 0 receives the whole input (as libmodsecurity 3.0.15 does).
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@detectXSS" "id:941100,..."`

use super::{BuildContext, OpContext, Operator, OperatorError, set_captures};

/// Compiled `@detectXSS`.
#[derive(Debug)]
struct DetectXss;

/// Factory for `@detectXSS`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(DetectXss))
}

impl Operator for DetectXss {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        // A lone word or number holds no markup (see `one_token`; tested there for XSS too).
        if super::detect_sqli::one_token(input) {
            return false;
        }
        if !libinjectionrs::detect_xss(input).is_injection() {
            return false;
        }
        set_captures(ctx, [input]);
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_capture};

    #[test]
    fn table() {
        // Expectations confirmed against libmodsecurity 3.0.15's @detectXSS.
        let cases: &[(&[u8], bool)] = &[
            (b"<script>alert(1)</script>", true),
            (b"<img src=x onerror=alert(1)>", true),
            (b"javascript:alert(1)", false),
            (b"\"><svg onload=alert(1)>", true),
            (b"hello world", false),
            (b"a < b and c > d", false),
            (b"", false),
            (b"<b>bold</b>", false),
        ];
        let op = build_op("detectXSS", "");
        for (input, want) in cases {
            assert_eq!(
                eval(op.as_ref(), input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            if *want {
                assert_eq!(eval_capture(op.as_ref(), input).1, vec![input.to_vec()]);
            }
        }
    }
}
