//! `t:hexDecode`: decodes pairs of hex digits, as libmodsecurity: pairs are taken from the
//! start without validation (invalid digits decode with ModSecurity's `x2c` arithmetic) and
//! an odd trailing byte is dropped.

use std::borrow::Cow;

use super::common::x2c;

/// Decodes hex pairs.
pub fn hex_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if input.is_empty() {
        return Cow::Borrowed(input);
    }
    super::common::changed_or_borrowed(
        input,
        input.chunks_exact(2).map(|p| x2c(p[0], p[1])).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::hex_decode,
            &[
                (b"", b""),
                (b"414243", b"ABC"),
                (b"4142f", b"AB"),
                (b"fF00", b"\xff\x00"),
            ],
        );
    }
}
