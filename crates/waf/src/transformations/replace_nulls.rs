//! `t:replaceNulls`: replaces every NUL (0x00) byte with a space.

use std::borrow::Cow;

/// Replaces NUL bytes with spaces.
pub fn replace_nulls(input: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0, input).is_none() {
        return Cow::Borrowed(input);
    }
    Cow::Owned(
        input
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::replace_nulls,
            &[(b"", b""), (b"abc", b"abc"), (b"\x00a\x00\x00b", b" a  b")],
        );
    }
}
