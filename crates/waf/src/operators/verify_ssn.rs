//! `@verifySSN`: US social security number detection.
//!
//! Description: the argument is a regular expression (compiled like [`super::rx`]) for
//! candidates. As in ModSecurity `VerifySSN`, every suffix of the input (all but the last
//! byte as start) is searched for all matches, and a match is accepted when its digits
//! form a plausible SSN: exactly nine digits, not all sequential or all repeated, area,
//! group and serial non-zero, area below 740 and not 666. With the `capture` action,
//! slot 0 receives the accepted match. An empty argument never matches.
//!
//! Arguments: the regular expression for candidates.
//!
//! Example: `SecRule ARGS "@verifySSN \d{3}-?\d{2}-?\d{4}" "id:1,capture,..."`

use regex::bytes::Regex;

use super::rx::compile;
use super::{BuildContext, OpContext, Operator, OperatorError, invalid, set_captures};

/// Compiled `@verifySSN`.
#[derive(Debug)]
struct VerifySsn {
    re: Option<Regex>,
}

/// Factory for `@verifySSN`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if argument.is_empty() {
        return Ok(Box::new(VerifySsn { re: None }));
    }
    let re = compile(argument).map_err(|e| invalid("verifySSN", e.to_string()))?;
    Ok(Box::new(VerifySsn { re: Some(re) }))
}

/// ModSecurity's SSN plausibility check on a candidate.
pub(crate) fn plausible_ssn(s: &[u8]) -> bool {
    let mut num = [0u32; 9];
    let mut digits = 0usize;
    for &b in s {
        if b.is_ascii_digit() {
            if let Some(slot) = num.get_mut(digits) {
                *slot = u32::from(b - b'0');
            }
            digits += 1;
        }
    }
    if digits != 9 {
        return false;
    }
    let sequential = num.windows(2).filter(|w| w[0] + 1 == w[1]).count();
    let repeated = num.windows(2).filter(|w| w[0] == w[1]).count();
    if sequential == 8 || repeated == 8 {
        return false;
    }
    let area = num[0] * 100 + num[1] * 10 + num[2];
    let group = num[3] * 10 + num[4];
    let serial = num[5] * 1000 + num[6] * 100 + num[7] * 10 + num[8];
    area != 0 && group != 0 && serial != 0 && area < 740 && area != 666
}

/// Shared suffix scan of `@verifySSN` and `@verifyCPF`.
pub(crate) fn scan(
    re: &Regex,
    ctx: &mut OpContext<'_>,
    input: &[u8],
    check: fn(&[u8]) -> bool,
) -> bool {
    for i in 0..input.len().saturating_sub(1) {
        let Some(val) = input.get(i..) else { break };
        for m in re.find_iter(val) {
            if check(m.as_bytes()) {
                set_captures(ctx, [m.as_bytes()]);
                return true;
            }
        }
    }
    false
}

impl Operator for VerifySsn {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        self.re
            .as_ref()
            .is_some_and(|re| scan(re, ctx, input, plausible_ssn))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_capture};

    #[test]
    fn table() {
        let re = "\\d{3}-?\\d{2}-?\\d{4}";
        let cases: &[(&[u8], bool)] = &[
            (b"ssn 078-05-1120 x", true),
            (b"078051120", true),
            (b"000-12-3456", false),
            (b"666-12-3456", false),
            (b"740-12-3456", false),
            (b"123-00-4567", false),
            (b"123-45-0000", false),
            (b"123456789", false),
            (b"111111111", false),
            (b"", false),
            (b"1", false),
        ];
        let op = build_op("verifySSN", re);
        for (input, want) in cases {
            assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
        }
        let (_, caps) = eval_capture(op.as_ref(), b"x 078-05-1120");
        assert_eq!(caps, vec![b"078-05-1120".to_vec()]);
        assert!(!eval(build_op("verifySSN", "").as_ref(), b"078051120"));
    }
}
