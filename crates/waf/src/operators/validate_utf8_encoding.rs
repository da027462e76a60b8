//! `@validateUtf8Encoding`: true when the input is not valid UTF-8.
//!
//! Description: ModSecurity's `ValidateUtf8Encoding` checks each sequence: truncated
//! sequences, bad lead or continuation bytes, overlong forms, surrogates (U+D800..U+DFFF)
//! and lead bytes `F5`..`FF` are invalid and make the operator match (the rule fires).
//! Like ModSecurity, four-byte sequences led by `F4` above U+10FFFF are accepted. Empty
//! input does not match.
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@validateUtf8Encoding" "id:920250,..."`

use super::{BuildContext, OpContext, Operator, OperatorError};

/// Compiled `@validateUtf8Encoding`.
#[derive(Debug)]
struct ValidateUtf8Encoding;

/// Factory for `@validateUtf8Encoding`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(ValidateUtf8Encoding))
}

/// Length of the valid character at the start of `s` (non-empty), or `None` if invalid.
fn char_len(s: &[u8]) -> Option<usize> {
    let c = *s.first()?;
    let cont = |i: usize| s.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    let low = |i: usize| u32::from(s.get(i).copied().unwrap_or(0) & 0x3F);
    let (len, d) = if c & 0x80 == 0 {
        return Some(1);
    } else if c & 0xE0 == 0xC0 {
        if !cont(1) {
            return None;
        }
        (2, (u32::from(c & 0x1F) << 6) | low(1))
    } else if c & 0xF0 == 0xE0 {
        if !(cont(1) && cont(2)) {
            return None;
        }
        (3, (u32::from(c & 0x0F) << 12) | (low(1) << 6) | low(2))
    } else if c & 0xF8 == 0xF0 {
        if c >= 0xF5 || !(cont(1) && cont(2) && cont(3)) {
            return None;
        }
        (
            4,
            (u32::from(c & 0x07) << 18) | (low(1) << 12) | (low(2) << 6) | low(3),
        )
    } else {
        return None;
    };
    let overlong = match len {
        2 => d < 0x80,
        3 => d < 0x800,
        _ => d < 0x10000,
    };
    if (0xD800..=0xDFFF).contains(&d) || overlong {
        None
    } else {
        Some(len)
    }
}

/// Whether `input` holds an invalid UTF-8 sequence, by ModSecurity's rules.
pub(crate) fn invalid_utf8(input: &[u8]) -> bool {
    let mut i = 0;
    while let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) {
        match char_len(rest) {
            Some(n) => i += n,
            None => return true,
        }
    }
    false
}

impl Operator for ValidateUtf8Encoding {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        invalid_utf8(input)
    }

    fn required_bytes(&self) -> Option<([u64; 4], usize)> {
        // ASCII is valid UTF-8: an invalid input holds a byte from 0x80 up.
        Some(([0, 0, u64::MAX, u64::MAX], 1))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{BYTE_SET_INPUTS, build_op, eval, required_bytes_hold};

    /// The screen's byte set: only inputs holding one of its bytes can match.
    #[test]
    fn required_bytes() {
        let inputs = BYTE_SET_INPUTS;
        let op = build_op("validateUtf8Encoding", "");
        assert_eq!(required_bytes_hold(op.as_ref(), inputs), 10);
    }

    #[test]
    fn table() {
        let cases: &[(&[u8], bool)] = &[
            (b"", false),
            (b"plain ascii", false),
            ("caf\u{e9} \u{20ac} \u{1f600}".as_bytes(), false),
            (b"\xc3", true),
            (b"\xc3(", true),
            (b"\x80", true),
            (b"\xc0\xaf", true),
            (b"\xe0\x80\xaf", true),
            (b"\xf0\x80\x80\xaf", true),
            (b"\xed\xa0\x80", true),
            (b"\xf5\x80\x80\x80", true),
            (b"\xf4\x90\x80\x80", false),
            (b"\xf8\x88\x80\x80\x80", true),
            (b"\xff", true),
            (b"ok\xe2\x82", true),
        ];
        let op = build_op("validateUtf8Encoding", "");
        for (input, want) in cases {
            assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
        }
    }
}
