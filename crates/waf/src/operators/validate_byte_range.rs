//! `@validateByteRange`: true when the input holds a byte outside the allowed set.
//!
//! Description: the argument lists allowed byte values; the operator matches (the rule
//! fires) as soon as one input byte is not allowed (ModSecurity `ValidateByteRange`). An
//! empty input never matches. Each list item is converted like `std::stoi` (leading white
//! space allowed, trailing junk ignored). Where ModSecurity silently ignores a bad item
//! (unparsable, outside 0..=255, reversed range) we reject the rule with
//! [`OperatorError::InvalidArgument`] so that a typo does not widen the allowed set.
//!
//! Arguments: comma-separated values and inclusive ranges, e.g. `9,10,13,32-126`.
//!
//! Example: `SecRule ARGS "@validateByteRange 1-255" ...`

use super::numeric::stoi_checked;
use super::{BuildContext, OpContext, Operator, OperatorError, invalid};

const NAME: &str = "validateByteRange";

/// Compiled `@validateByteRange`.
#[derive(Debug)]
struct ValidateByteRange {
    allowed: [bool; 256],
}

fn byte_value(part: &str) -> Result<usize, OperatorError> {
    let v = stoi_checked(part.as_bytes())
        .ok_or_else(|| invalid(NAME, format!("not able to convert {part:?} into a number")))?;
    usize::try_from(v)
        .ok()
        .filter(|v| *v <= 255)
        .ok_or_else(|| invalid(NAME, format!("value {v} outside 0-255")))
}

/// Factory for `@validateByteRange`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let mut allowed = [false; 256];
    for part in argument.split(',') {
        let (start, end) = match part.split_once('-') {
            None => {
                let v = byte_value(part)?;
                (v, v)
            }
            Some((a, b)) => (byte_value(a)?, byte_value(b)?),
        };
        if start > end {
            return Err(invalid(NAME, format!("invalid range {start}-{end}")));
        }
        for slot in allowed.iter_mut().take(end + 1).skip(start) {
            *slot = true;
        }
    }
    Ok(Box::new(ValidateByteRange { allowed }))
}

impl Operator for ValidateByteRange {
    fn required_bytes(&self) -> Option<([u64; 4], usize)> {
        // A match holds a byte that is not allowed.
        let mut set = [0u64; 4];
        for (b, ok) in self.allowed.iter().enumerate() {
            if !ok {
                set[b / 64] |= 1u64 << (b % 64);
            }
        }
        Some((set, 1))
    }

    fn evaluate(&self, _ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        input.iter().any(|&b| !self.allowed[usize::from(b)])
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{BYTE_SET_INPUTS, build_op, eval, required_bytes_hold};
    use crate::operators::{BuildContext, build};
    use seclang::loader::MemLoader;
    use std::path::Path;

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("1-255", b"abc", false),
            ("1-255", b"a\0c", true),
            ("1-255", b"", false),
            ("9,10,13,32-126", b"hello world\r\n", false),
            ("9,10,13,32-126", b"tab\tok", false),
            ("9,10,13,32-126", b"caf\xc3\xa9", true),
            ("9,10,13,32-126,128-255", b"caf\xc3\xa9", false),
            ("32-36,38-126", b"a%b", true),
            ("20,45-47,48-57,65-90,95,97-122", b"Abc_09-/", false),
            ("20,45-47,48-57,65-90,95,97-122", b"a b", true),
            ("65", b"AAA", false),
            ("65", b"AB", true),
            ("0-255", b"\0\xff", false),
            (" 65, 66", b"AB", false),
        ];
        for (arg, input, want) in cases {
            let op = build_op("validateByteRange", arg);
            assert_eq!(eval(op.as_ref(), input), *want, "{arg:?} {input:?}");
        }
    }

    /// The screen's byte set is the complement of the allowed bytes.
    #[test]
    fn required_bytes() {
        let inputs = BYTE_SET_INPUTS;
        for (arg, rejected) in [("1-255", 12), ("9,10,13,32-126", 8), ("0-255", 13)] {
            let op = build_op("validateByteRange", arg);
            assert_eq!(required_bytes_hold(op.as_ref(), inputs), rejected, "{arg}");
        }
    }

    #[test]
    fn bad_arguments() {
        let loader = MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: Path::new("/"),
        };
        for arg in ["", "x", "1-300", "256", "10-5", "-1", "1,,2"] {
            assert!(build("validateByteRange", arg, &ctx).is_err(), "{arg:?}");
        }
    }
}
