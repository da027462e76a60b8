//! `@noMatch`: always false.
//!
//! Description: never matches, whatever the input and argument (ModSecurity `NoMatch`).
//!
//! Arguments: none (ignored).
//!
//! Example: `SecRule ARGS "@noMatch" "id:1,phase:2,pass"`

use super::{BuildContext, OpContext, Operator, OperatorError};

/// Compiled `@noMatch`.
#[derive(Debug)]
struct NoMatch;

/// Factory for `@noMatch`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(NoMatch))
}

impl Operator for NoMatch {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, _input: &[u8]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8])] = &[("", b""), ("", b"x"), ("x", b"x")];
        for (arg, input) in cases {
            assert!(!eval(build_op("noMatch", arg).as_ref(), input));
        }
    }
}
