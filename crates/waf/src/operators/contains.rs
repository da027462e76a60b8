//! `@contains`: case-sensitive substring test.
//!
//! Description: true when the argument occurs anywhere in the input (ModSecurity
//! `Contains`, `std::string::find`); an empty argument matches every input. The argument
//! may hold macros.
//!
//! Arguments: the substring to look for.
//!
//! Example: `SecRule REQUEST_LINE "@contains /admin" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@contains`.
#[derive(Debug)]
struct Contains {
    arg: Vec<u8>,
}

/// Factory for `@contains`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(Contains {
        arg: argument.as_bytes().to_vec(),
    }))
}

impl Operator for Contains {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        memchr::memmem::find(input, effective_arg(ctx, &self.arg)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("abc", b"xxabcxx", true),
            ("abc", b"ABC", false),
            ("abc", b"ab", false),
            ("", b"", true),
            ("", b"anything", true),
            ("\0", b"a\0b", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("contains", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("contains", "%{tx.x}");
        assert!(eval_expanded(op.as_ref(), b"bc", b"abcd"));
    }
}
