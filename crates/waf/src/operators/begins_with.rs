//! `@beginsWith`: case-sensitive prefix test.
//!
//! Description: true when the input starts with the argument (ModSecurity `BeginsWith`);
//! an empty argument matches every input. The argument may hold macros.
//!
//! Arguments: the prefix.
//!
//! Example: `SecRule REQUEST_URI "@beginsWith /api/" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@beginsWith`.
#[derive(Debug)]
struct BeginsWith {
    arg: Vec<u8>,
}

/// Factory for `@beginsWith`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(BeginsWith {
        arg: argument.as_bytes().to_vec(),
    }))
}

impl Operator for BeginsWith {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        input.starts_with(effective_arg(ctx, &self.arg))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("/api", b"/api/x", true),
            ("/api", b"/API/x", false),
            ("/api", b"/ap", false),
            ("/api", b"x/api", false),
            ("", b"", true),
            ("", b"abc", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("beginsWith", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("beginswith", "%{tx.p}");
        assert!(eval_expanded(op.as_ref(), b"ab", b"abc"));
        assert!(!eval_expanded(op.as_ref(), b"bc", b"abc"));
    }
}
