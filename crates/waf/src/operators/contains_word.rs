//! `@containsWord`: the argument occurs in the input as a whole word.
//!
//! Description: case-sensitive search for the argument where the bytes on both sides are
//! not ASCII letters (ModSecurity `ContainsWord`: only `A-Z`/`a-z` count as word bytes, so
//! digits and `_` are boundaries) or are the ends of the input. An empty argument matches
//! every input; otherwise an empty input never matches. The argument may hold macros.
//!
//! Arguments: the word.
//!
//! Example: `SecRule ARGS "@containsWord select" ...`

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg};

/// Compiled `@containsWord`.
#[derive(Debug)]
struct ContainsWord {
    arg: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
}

/// Factory for `@containsWord`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let arg = argument.as_bytes().to_vec();
    let finder = memchr::memmem::Finder::new(&arg).into_owned();
    Ok(Box::new(ContainsWord { arg, finder }))
}

/// Whether position `pos` (which may be out of range) holds a non-letter byte.
fn boundary(input: &[u8], pos: Option<usize>) -> bool {
    pos.and_then(|p| input.get(p))
        .is_some_and(|b| !b.is_ascii_alphabetic())
}

impl Operator for ContainsWord {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        let word = effective_arg(ctx, &self.arg);
        if word.is_empty() {
            return true;
        }
        if input.is_empty() {
            return false;
        }
        if input == word {
            return true;
        }
        let dynamic;
        let finder = if ctx.expanded.is_some() {
            dynamic = memchr::memmem::Finder::new(word);
            &dynamic
        } else {
            &self.finder
        };
        let mut from = 0;
        while let Some(rel) = input.get(from..).and_then(|h| finder.find(h)) {
            let pos = from + rel;
            let after = pos + word.len();
            let before = pos.checked_sub(1);
            if pos == 0 && boundary(input, Some(after)) {
                return true;
            }
            if after == input.len() && boundary(input, before) {
                return true;
            }
            if boundary(input, before) && boundary(input, Some(after)) {
                return true;
            }
            from = pos + 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("select", b"select", true),
            ("select", b"a select b", true),
            ("select", b"select b", true),
            ("select", b"a select", true),
            ("select", b"selection", false),
            ("select", b"preselect", false),
            ("select", b"1select2", true),
            ("select", b"_select_", true),
            ("select", b"SELECT", false),
            ("select", b"selectx select", true),
            ("select", b"", false),
            ("", b"", true),
            ("", b"x", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("containsWord", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let op = build_op("containsWord", "%{tx.w}");
        assert!(eval_expanded(op.as_ref(), b"ab", b"x ab y"));
    }
}
