//! `@verifySSN`: US social security number detection.
//!
//! Description: the argument is a regular expression (compiled like [`super::rx`]) for
//! candidates. As in ModSecurity `VerifySSN`, every suffix of the input (all but the last
//! byte as start) is searched for all matches, checked last to first (computed in linear
//! time, see [`scan`]), and a match is accepted when its digits
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
    context: bool,
}

/// Factory for `@verifySSN`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if argument.is_empty() {
        return Ok(Box::new(VerifySsn {
            re: None,
            context: false,
        }));
    }
    let re = compile(argument).map_err(|e| invalid("verifySSN", e.to_string()))?;
    Ok(Box::new(VerifySsn {
        re: Some(re),
        context: context_sensitive(argument),
    }))
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

/// Whether a pattern's matches can depend on what precedes the search start (anchors and
/// word boundaries), which makes ModSecurity's per-suffix search differ from a search at an
/// offset of the whole input.
pub(crate) fn context_sensitive(pattern: &str) -> bool {
    pattern.contains('^')
        || pattern.contains("\\b")
        || pattern.contains("\\B")
        || pattern.contains("\\A")
}

/// Shared scan of `@verifySSN` and `@verifyCPF`. ModSecurity runs the regex over every
/// suffix of the input (all but the last byte as start), lists all matches of each suffix
/// and checks them last to first, reporting the first that passes `check`: quadratic. For
/// patterns whose matches do not depend on where the search starts, the matches of a
/// suffix are the chain "leftmost match from the start, then leftmost from its end, ...",
/// and chains from different starts merge, so the answer for each chain is memoised by
/// match start: same verdict and same reported match, in linear time. Patterns with
/// anchors or word boundaries (`context`) take the literal per-suffix path.
pub(crate) fn scan(
    re: &Regex,
    context: bool,
    ctx: &mut OpContext<'_>,
    input: &[u8],
    check: fn(&[u8]) -> bool,
) -> bool {
    let last_start = input.len().saturating_sub(1);
    let found = if context {
        literal_scan(re, input, last_start, check)
    } else {
        chain_scan(re, input, last_start, check)
    };
    match found.and_then(|(s, e)| input.get(s..e)) {
        Some(m) => {
            set_captures(ctx, [m]);
            true
        }
        None => false,
    }
}

/// ModSecurity's loop, literally: every suffix, its matches last to first.
fn literal_scan(
    re: &Regex,
    input: &[u8],
    last_start: usize,
    check: fn(&[u8]) -> bool,
) -> Option<(usize, usize)> {
    for i in 0..last_start {
        let val = input.get(i..)?;
        let matches: Vec<(usize, usize)> =
            re.find_iter(val).map(|m| (m.start(), m.end())).collect();
        for &(s, e) in matches.iter().rev() {
            if val.get(s..e).is_some_and(check) {
                return Some((i + s, i + e));
            }
        }
    }
    None
}

/// The memoised equivalent of [`literal_scan`] for start-independent patterns.
fn chain_scan(
    re: &Regex,
    input: &[u8],
    last_start: usize,
    check: fn(&[u8]) -> bool,
) -> Option<(usize, usize)> {
    // Match start -> the last match passing `check` in the chain from that match.
    let mut memo: std::collections::HashMap<usize, Option<(usize, usize)>> =
        std::collections::HashMap::new();
    let mut i = 0;
    while i < last_start {
        let first = re.find_at(input, i)?;
        let first = (first.start(), first.end());
        if !memo.contains_key(&first.0) {
            // Walk the chain until it joins a known one or ends.
            let mut chain = vec![first];
            let mut tail: Option<(usize, usize)> = None;
            while let Some(&(s, e)) = chain.last() {
                let next_from = if e > s { e } else { e + 1 };
                if next_from > input.len() {
                    break;
                }
                let Some(n) = re.find_at(input, next_from) else {
                    break;
                };
                if let Some(known) = memo.get(&n.start()) {
                    tail = *known;
                    break;
                }
                chain.push((n.start(), n.end()));
            }
            for &(s, e) in chain.iter().rev() {
                if tail.is_none() && input.get(s..e).is_some_and(check) {
                    tail = Some((s, e));
                }
                memo.insert(s, tail);
            }
        }
        if let Some(Some(hit)) = memo.get(&first.0) {
            return Some(*hit);
        }
        i = i.max(first.0) + 1;
    }
    None
}

impl Operator for VerifySsn {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        self.re
            .as_ref()
            .is_some_and(|re| scan(re, self.context, ctx, input, plausible_ssn))
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
        // Matches of a suffix are checked last to first (checked with libmodsecurity 3.0.15).
        let (_, caps) = eval_capture(op.as_ref(), b"49290010013612515634708219");
        assert_eq!(caps, vec![b"136125156".to_vec()]);
        let (_, caps) = eval_capture(op.as_ref(), b"69.693-2113868-660739368999");
        assert_eq!(caps, vec![b"660739368".to_vec()]);
        // Anchored patterns take the literal per-suffix path: `^` holds at every suffix.
        let (hit, caps) = eval_capture(build_op("verifySSN", "^\\d{9}").as_ref(), b"x078051120");
        assert!(hit);
        assert_eq!(caps, vec![b"078051120".to_vec()]);
    }
}
