//! `@eq`: numeric comparison, true when the input is equal to the argument.
//!
//! Description: both sides are converted to integers the way ModSecurity does
//! (`std::stoi`: leading white space, sign, digits; anything unparsable or outside the 32-bit range counts as 0); the argument may hold macros (`%{tx.x}`), expanded per evaluation by the engine.
//!
//! Arguments: an integer, or a macro expression.
//!
//! Example: `SecRule TX:ANOMALY_SCORE "@eq %{tx.inbound_anomaly_score_threshold}" ...`

use super::numeric::{Cmp, Conversion, Numeric};
use super::{BuildContext, Operator, OperatorError};

/// Factory for `@eq`.
pub(crate) fn build(
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Numeric::boxed(Cmp::Eq, Conversion::Stoi, argument, ctx)
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_expanded};

    #[test]
    fn table() {
        // (argument, input, expected)
        let cases: &[(&str, &str, bool)] = &[
            ("5", "5", true),
            ("5", " 5abc", true),
            ("5", "6", false),
            ("0", "", true),
            ("0", "abc", true),
            ("0", "4294967296", true),
            ("-1", "-1", true),
            ("x", "0", true),
        ];
        for (arg, input, want) in cases {
            let op = build_op("eq", arg);
            assert_eq!(
                eval(op.as_ref(), input.as_bytes()),
                *want,
                "@eq {arg:?} on {input:?}"
            );
        }
    }

    #[test]
    fn macro_argument() {
        let op = build_op("eq", "%{tx.threshold}");
        assert!(eval_expanded(op.as_ref(), b"7", b"7"));
        assert!(!eval_expanded(op.as_ref(), b"7", b"8"));
    }
}
