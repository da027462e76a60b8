//! `t:removeNulls`: removes every NUL (0x00) byte.

use std::borrow::Cow;

/// Removes NUL bytes.
pub fn remove_nulls(input: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0, input).is_none() {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.iter().copied().filter(|&b| b != 0).collect())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::remove_nulls,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"\x00a\x00\x00b\x00", b"ab"),
                (b"\x00", b""),
            ],
        );
    }
}
