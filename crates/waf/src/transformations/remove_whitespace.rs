//! `t:removeWhitespace`: removes C-locale whitespace (space, `\t`, `\n`, `\v`, `\f`, `\r`),
//! the non-breaking space 0xA0 and, as libmodsecurity 3.0.x does (it aims at the UTF-8
//! form `C2 A0`), every 0xC2 byte, whatever follows it.

use std::borrow::Cow;

use super::common::is_c_space;

const NBSP: u8 = 0xa0;
const NBSP_UTF8_LEAD: u8 = 0xc2;

/// Removes whitespace bytes, including 0xA0.
pub fn remove_whitespace(input: &[u8]) -> Cow<'_, [u8]> {
    let gone = |b: u8| is_c_space(b) || b == NBSP || b == NBSP_UTF8_LEAD;
    if !input.iter().any(|&b| gone(b)) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.iter().copied().filter(|&b| !gone(b)).collect())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::remove_whitespace,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b" a\tb\r\nc\x0b\x0c\xa0d ", b"abcd"),
                (b"\xc2\xa0", b""),
                (b"\xc3\xa9\xc2", b"\xc3\xa9"),
            ],
        );
    }
}
