//! `@le`: numeric comparison, true when the input is less than or equal to the argument.
//!
//! Description: both sides are converted to integers the way ModSecurity does
//! (`atoll`: leading white space, sign, digits, stop at the first other byte; empty is 0); the argument may hold macros (`%{tx.x}`), expanded per evaluation by the engine.
//!
//! Arguments: an integer, or a macro expression.
//!
//! Example: `SecRule TX:ANOMALY_SCORE "@le %{tx.inbound_anomaly_score_threshold}" ...`

use super::numeric::{Cmp, Conversion, Numeric};
use super::{BuildContext, Operator, OperatorError};

/// Factory for `@le`.
pub(crate) fn build(
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Numeric::boxed(Cmp::Le, Conversion::Atoll, argument, ctx)
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        // (argument, input, expected)
        let cases: &[(&str, &str, bool)] = &[
            ("5", "5", true),
            ("5", "6", false),
            ("0", "", true),
            ("0", "-1", true),
            ("3", "x9", true),
        ];
        for (arg, input, want) in cases {
            let op = build_op("le", arg);
            assert_eq!(
                eval(op.as_ref(), input.as_bytes()),
                *want,
                "@le {arg:?} on {input:?}"
            );
        }
    }

    #[test]
    fn macro_argument() {
        let op = build_op("le", "%{tx.threshold}");
        assert!(eval_expanded(op.as_ref(), b"5", b"5"));
        assert!(!eval_expanded(op.as_ref(), b"5", b"6"));
    }
}
