//! `@verifyCPF`: Brazilian CPF number detection.
//!
//! Description: the argument is a regular expression (compiled like [`super::rx`]) for
//! candidates, scanned like `@verifySSN` (ModSecurity `VerifyCPF`). A candidate is
//! accepted when its first eleven digits (bytes after a NUL are ignored) carry valid check
//! digits and are not one of the known invalid all-same or `01234567890` numbers. With the
//! `capture` action, slot 0 receives the accepted match. An empty argument never matches.
//!
//! Arguments: the regular expression for candidates.
//!
//! Example: `SecRule ARGS "@verifyCPF \d{3}\.?\d{3}\.?\d{3}-?\d{2}" "id:1,capture,..."`

use regex::bytes::Regex;

use super::rx::compile;
use super::verify_ssn::{context_sensitive, scan};
use super::{BuildContext, OpContext, Operator, OperatorError, invalid};

/// Compiled `@verifyCPF`.
#[derive(Debug)]
struct VerifyCpf {
    re: Option<Regex>,
    context: bool,
}

/// Factory for `@verifyCPF`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if argument.is_empty() {
        return Ok(Box::new(VerifyCpf {
            re: None,
            context: false,
        }));
    }
    let re = compile(argument).map_err(|e| invalid("verifyCPF", e.to_string()))?;
    Ok(Box::new(VerifyCpf {
        re: Some(re),
        context: context_sensitive(argument),
    }))
}

/// ModSecurity's CPF check-digit validation of a candidate.
pub(crate) fn valid_cpf(s: &[u8]) -> bool {
    let mut cpf = [0u32; 11];
    let mut n = 0usize;
    for &b in s.iter().take_while(|&&b| b != 0) {
        if n < 11 && b.is_ascii_digit() {
            cpf[n] = u32::from(b - b'0');
            n += 1;
        }
    }
    if n != 11 {
        return false;
    }
    let all_same = cpf.iter().all(|&d| d == cpf[0]);
    let sequence = cpf == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    if all_same || sequence {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = cpf
            .iter()
            .take(len)
            .zip((2..=len as u32 + 1).rev())
            .map(|(d, w)| d * w)
            .sum();
        let f = sum % 11;
        if f < 2 { 0 } else { 11 - f }
    };
    let first = check(9);
    let mut with_first = cpf;
    with_first[9] = first;
    let second = {
        let sum: u32 = with_first
            .iter()
            .take(10)
            .zip((2..=11u32).rev())
            .map(|(d, w)| d * w)
            .sum();
        let f = sum % 11;
        if f < 2 { 0 } else { 11 - f }
    };
    cpf[9] == first && cpf[10] == second
}

impl Operator for VerifyCpf {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        self.re
            .as_ref()
            .is_some_and(|re| scan(re, self.context, ctx, input, valid_cpf))
    }
}

#[cfg(test)]
mod tests {
    use super::valid_cpf;
    use crate::operators::test_util::{build_op, eval};

    #[test]
    fn table() {
        let re = "\\d{3}\\.?\\d{3}\\.?\\d{3}-?\\d{2}";
        let cases: &[(&[u8], bool)] = &[
            (b"cpf 529.982.247-25", true),
            (b"52998224725", true),
            (b"529.982.247-26", false),
            (b"111.111.111-11", false),
            (b"012.345.678-90", false),
            (b"", false),
        ];
        let op = build_op("verifyCPF", re);
        for (input, want) in cases {
            assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
        }
        assert!(valid_cpf(b"11144477735"));
        assert!(!valid_cpf(b"1114447773"));
    }
}
