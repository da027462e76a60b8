//! `@streq`: case-sensitive string equality.
//!
//! Description: true when the input equals the argument byte for byte (ModSecurity `StrEq`).
//! The argument may hold macros, expanded per evaluation by the engine.
//!
//! Arguments: the string to compare with (may be empty, then only an empty input matches).
//!
//! Example: `SecRule REQUEST_METHOD "@streq POST" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@streq`.
#[derive(Debug)]
struct StrEq {
    arg: Vec<u8>,
}

/// Factory for `@streq` (alias `@strEq`, names are case-insensitive).
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(StrEq {
        arg: argument.as_bytes().to_vec(),
    }))
}

impl Operator for StrEq {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        effective_arg(ctx, &self.arg) == input
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("POST", b"POST", true),
            ("POST", b"post", false),
            ("POST", b"POST ", false),
            ("", b"", true),
            ("", b"x", false),
            ("GET /", b"GET /", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("streq", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
            assert_eq!(
                eval(build_op("strEq", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("streq", "%{ARGS._method}");
        assert!(eval_expanded(op.as_ref(), b"PUT", b"PUT"));
        assert!(!eval_expanded(op.as_ref(), b"PUT", b"%{ARGS._method}"));
    }
}
