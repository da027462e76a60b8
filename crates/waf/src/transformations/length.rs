//! `t:length`: the byte length of the value, in decimal.

use std::borrow::Cow;

/// Replaces the value with its length in bytes (decimal).
pub fn length(input: &[u8]) -> Cow<'_, [u8]> {
    super::common::changed_or_borrowed(input, input.len().to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::length,
            &[(b"", b"0"), (b"abc", b"3"), (b"5", b"1"), (b"1", b"1")],
        );
    }
}
