//! `@validateUrlEncoding`: true when the input holds an invalid `%` escape.
//!
//! Description: every `%` must be followed by two hexadecimal digits; the operator matches
//! (the rule fires) on the first `%` that is not, including a `%` too close to the end
//! (ModSecurity `ValidateUrlEncoding`). Valid or empty input does not match.
//!
//! Arguments: none.
//!
//! Example: `SecRule REQUEST_URI_RAW "@validateUrlEncoding" "id:920220,..."`

use super::{BuildContext, OpContext, Operator, OperatorError};

/// Compiled `@validateUrlEncoding`.
#[derive(Debug)]
struct ValidateUrlEncoding;

/// Factory for `@validateUrlEncoding`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(ValidateUrlEncoding))
}

/// Whether `input` holds an invalid percent escape.
pub(crate) fn invalid_url_encoding(input: &[u8]) -> bool {
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' {
            match (input.get(i + 1), input.get(i + 2)) {
                (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                _ => return true,
            }
        } else {
            i += 1;
        }
    }
    false
}

impl Operator for ValidateUrlEncoding {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        invalid_url_encoding(input)
    }

    fn required_bytes(&self) -> Option<([u64; 4], usize)> {
        // Only a `%` starts an invalid escape.
        Some(([1u64 << b'%', 0, 0, 0], 1))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{BYTE_SET_INPUTS, build_op, eval, required_bytes_hold};

    /// The screen's byte set: only inputs holding one of its bytes can match.
    #[test]
    fn required_bytes() {
        let inputs = BYTE_SET_INPUTS;
        let op = build_op("validateUrlEncoding", "");
        assert_eq!(required_bytes_hold(op.as_ref(), inputs), 9);
    }

    #[test]
    fn table() {
        let cases: &[(&[u8], bool)] = &[
            (b"", false),
            (b"abc", false),
            (b"a%20b", false),
            (b"%aF%00", false),
            (b"a%2", true),
            (b"a%", true),
            (b"%g0", true),
            (b"%0g", true),
            (b"100%", true),
            (b"%%41", true),
            (b"%41%", true),
        ];
        let op = build_op("validateUrlEncoding", "");
        for (input, want) in cases {
            assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
        }
    }
}
