//! `@lt`: numeric comparison, true when the input is less than the argument.
//!
//! Description: both sides are converted to integers the way ModSecurity does
//! (`atoll`: leading white space, sign, digits, stop at the first other byte; empty is 0); the argument may hold macros (`%{tx.x}`), expanded per evaluation by the engine.
//!
//! Arguments: an integer, or a macro expression.
//!
//! Example: `SecRule TX:ANOMALY_SCORE "@lt %{tx.inbound_anomaly_score_threshold}" ...`

use super::numeric::{Cmp, Conversion, Numeric};
use super::{BuildContext, Operator, OperatorError};

/// Factory for `@lt`.
pub(crate) fn build(
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Numeric::boxed(Cmp::Lt, Conversion::Atoll, argument, ctx)
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        // (argument, input, expected)
        let cases: &[(&str, &str, bool)] = &[
            ("1", "0", true),
            ("1", "1", false),
            ("1", "", true),
            ("2", "1", true),
            ("4", "4", false),
            ("0", "-5", true),
        ];
        for (arg, input, want) in cases {
            let op = build_op("lt", arg);
            assert_eq!(
                eval(op.as_ref(), input.as_bytes()),
                *want,
                "@lt {arg:?} on {input:?}"
            );
        }
    }

    #[test]
    fn macro_argument() {
        let op = build_op("lt", "%{tx.threshold}");
        assert!(eval_expanded(op.as_ref(), b"2", b"1"));
        assert!(!eval_expanded(op.as_ref(), b"1", b"1"));
    }
}
