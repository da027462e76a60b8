//! `t:lowercase`: ASCII `A`-`Z` to `a`-`z` (C locale `tolower`); other bytes unchanged.

use std::borrow::Cow;

/// Lower-cases ASCII letters.
pub fn lowercase(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.iter().any(u8::is_ascii_uppercase) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::lowercase,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"AbC", b"abc"),
                (b"\xc3\x84X\x00Y", b"\xc3\x84x\x00y"),
            ],
        );
    }
}
