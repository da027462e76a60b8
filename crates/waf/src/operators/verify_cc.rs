//! `@verifyCC`: credit card number detection (regular expression plus Luhn check).
//!
//! Description: the argument is a regular expression (compiled like [`super::rx`]). For
//! every start offset in the input, the first match at or after it is checked with the
//! Luhn mod-10 algorithm over its digits; the operator matches on the first valid number
//! (ModSecurity `VerifyCC`). With the `capture` action, slot 0 receives that match.
//!
//! Arguments: the regular expression for candidate numbers.
//!
//! Example: `SecRule RESPONSE_BODY "@verifyCC \d{13,16}" "id:1,capture,..."`

use regex::bytes::Regex;

use super::rx::compile;
use super::{BuildContext, OpContext, Operator, OperatorError, invalid, set_captures};

/// Compiled `@verifyCC`.
#[derive(Debug)]
struct VerifyCc {
    re: Regex,
}

/// Factory for `@verifyCC`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let re = compile(argument).map_err(|e| invalid("verifyCC", e.to_string()))?;
    Ok(Box::new(VerifyCc { re }))
}

/// Luhn mod-10 over the ASCII digits of `s` (other bytes ignored); no digits is invalid.
pub(crate) fn luhn(s: &[u8]) -> bool {
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let mut sums = [0u32; 2];
    let mut odd = 0usize;
    let mut digits = 0usize;
    for &b in s {
        if b.is_ascii_digit() {
            let d = u32::from(b - b'0');
            let dd = DOUBLED[usize::from(b - b'0')];
            sums[0] = sums[0].wrapping_add(if odd == 0 { dd } else { d });
            sums[1] = sums[1].wrapping_add(if odd == 1 { dd } else { d });
            odd = 1 - odd;
            digits += 1;
        }
    }
    digits > 0 && sums[odd] % 10 == 0
}

impl Operator for VerifyCc {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        let mut offset = 0;
        while offset < input.len() {
            let Some(m) = self.re.find_at(input, offset) else {
                return false;
            };
            if luhn(m.as_bytes()) {
                set_captures(ctx, [m.as_bytes()]);
                return true;
            }
            // The next offsets up to the match start find the same match.
            offset = offset.max(m.start()) + 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::luhn;
    use crate::operators::test_util::{build_op, eval, eval_capture};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("\\d{13,16}", b"card 4111111111111111 ok", true),
            ("\\d{13,16}", b"card 4111111111111112 ok", true),
            ("\\d{13,16}", b"card 4111111111111113 ok", false),
            ("\\d{13,16}", b"41111111111111115", true),
            ("(?:\\d[ -]?){12,15}\\d", b"5500 0000 0000 0004", true),
            ("\\d{13,16}", b"", false),
            ("\\d{13,16}", b"no numbers", false),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("verifyCC", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let (_, caps) = eval_capture(
            build_op("verifyCC", "\\d{16}").as_ref(),
            b"x4111111111111111",
        );
        assert_eq!(caps, vec![b"4111111111111111".to_vec()]);
        // A later start offset finds a shorter valid number (as libmodsecurity 3.0.15 does).
        let (_, caps) = eval_capture(
            build_op("verifyCC", "\\d{13,16}").as_ref(),
            b"card 4111111111111112 ok",
        );
        assert_eq!(caps, vec![b"1111111111112".to_vec()]);
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(!luhn(b"--"));
    }
}
