//! `@unconditionalMatch`: always true.
//!
//! Description: matches every input, whatever the argument (ModSecurity
//! `UnconditionalMatch`).
//!
//! Arguments: none (ignored).
//!
//! Example: `SecRule REMOTE_ADDR "@unconditionalMatch" "id:1,phase:1,pass,nolog"`

use super::{BuildContext, OpContext, Operator, OperatorError};

/// Compiled `@unconditionalMatch`.
#[derive(Debug)]
struct UnconditionalMatch;

/// Factory for `@unconditionalMatch`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(UnconditionalMatch))
}

impl Operator for UnconditionalMatch {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, _input: &[u8]) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8])] = &[("", b""), ("", b"x"), ("ignored", b"\xff\0")];
        for (arg, input) in cases {
            assert!(eval(build_op("unconditionalMatch", arg).as_ref(), input));
        }
    }
}
