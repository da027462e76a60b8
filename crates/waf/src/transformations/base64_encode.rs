//! `t:base64Encode`: standard Base64 with `=` padding.

use std::borrow::Cow;

use base64::Engine as _;

/// Encodes as standard Base64.
pub fn base64_encode(input: &[u8]) -> Cow<'_, [u8]> {
    if input.is_empty() {
        return Cow::Borrowed(input);
    }
    Cow::Owned(
        base64::engine::general_purpose::STANDARD
            .encode(input)
            .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::base64_encode,
            &[
                (b"", b""),
                (b"ABC", b"QUJD"),
                (b"A", b"QQ=="),
                (b"\xff\x00", b"/wA="),
            ],
        );
    }
}
