//! `@within`: the input occurs inside the argument.
//!
//! Description: true when the input is a substring of the argument (ModSecurity `Within`,
//! case-sensitive, plain substring search, so `@within GET POST` also accepts `ET P`). An
//! empty input always matches, as in ModSecurity. The argument may hold macros (CRS writes
//! `@within %{tx.allowed_methods}`).
//!
//! Arguments: the text to search in, typically a space-separated list.
//!
//! Example: `SecRule REQUEST_METHOD "!@within %{tx.allowed_methods}" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@within`.
#[derive(Debug)]
struct Within {
    arg: Vec<u8>,
}

/// Factory for `@within`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(Within {
        arg: argument.as_bytes().to_vec(),
    }))
}

impl Operator for Within {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        input.is_empty() || memchr::memmem::find(effective_arg(ctx, &self.arg), input).is_some()
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("GET POST HEAD", b"POST", true),
            ("GET POST HEAD", b"post", false),
            ("GET POST HEAD", b"PUT", false),
            ("GET POST HEAD", b"ET P", true),
            ("GET POST HEAD", b"", true),
            ("", b"", true),
            ("", b"x", false),
            ("HTTP/2 HTTP/2.0 HTTP/3 HTTP/3.0", b"HTTP/1.1", false),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("within", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("within", "%{tx.allowed_methods}");
        assert!(eval_expanded(op.as_ref(), b"GET HEAD", b"HEAD"));
        assert!(!eval_expanded(op.as_ref(), b"GET HEAD", b"PUT"));
    }
}
