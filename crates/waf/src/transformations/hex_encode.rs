//! `t:hexEncode`: each byte as two lower-case hex digits.

use std::borrow::Cow;

/// Hex-encodes the value (lower case).
pub fn hex_encode(input: &[u8]) -> Cow<'_, [u8]> {
    if input.is_empty() {
        return Cow::Borrowed(input);
    }
    Cow::Owned(hex::encode(input).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(super::hex_encode, &[(b"", b""), (b"A\xff\x00", b"41ff00")]);
    }
}
