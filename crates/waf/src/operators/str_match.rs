//! `@strmatch`: case-sensitive substring test.
//!
//! Description: true when the argument occurs in the input (ModSecurity `StrMatch`, which
//! like `@contains` is a plain `find`). The argument may hold macros.
//!
//! Arguments: the substring.
//!
//! Example: `SecRule REQUEST_HEADERS:User-Agent "@strmatch WebZIP" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@strmatch`.
#[derive(Debug)]
struct StrMatch {
    arg: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
}

/// Factory for `@strmatch`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let arg = argument.as_bytes().to_vec();
    let finder = memchr::memmem::Finder::new(&arg).into_owned();
    Ok(Box::new(StrMatch { arg, finder }))
}

impl Operator for StrMatch {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        match ctx.expanded {
            Some(_) => memchr::memmem::find(input, effective_arg(ctx, &self.arg)).is_some(),
            None => self.finder.find(input).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("WebZIP", b"Mozilla WebZIP/1", true),
            ("WebZIP", b"webzip", false),
            ("WebZIP", b"", false),
            ("", b"x", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("strmatch", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        assert!(eval_expanded(
            build_op("strMatch", "%{tx.a}").as_ref(),
            b"b",
            b"abc"
        ));
    }
}
