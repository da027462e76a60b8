//! `@endsWith`: case-sensitive suffix test.
//!
//! Description: true when the input ends with the argument (ModSecurity `EndsWith`); an
//! empty argument matches every input. The argument may hold macros.
//!
//! Arguments: the suffix.
//!
//! Example: `SecRule REQUEST_FILENAME "@endsWith .pdf" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@endsWith`.
#[derive(Debug)]
struct EndsWith {
    arg: Vec<u8>,
}

/// Factory for `@endsWith`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(EndsWith {
        arg: argument.as_bytes().to_vec(),
    }))
}

impl Operator for EndsWith {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        input.ends_with(effective_arg(ctx, &self.arg))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            (".pdf", b"/a/b.pdf", true),
            (".pdf", b"/a/b.PDF", false),
            (".pdf", b"pdf", false),
            (".pdf", b"/a.pdf/x", false),
            ("", b"", true),
            ("", b"abc", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("endsWith", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("endswith", "%{tx.p}");
        assert!(eval_expanded(op.as_ref(), b"bc", b"abc"));
    }
}
