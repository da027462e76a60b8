//! `t:cssDecode`: decodes CSS 2 escapes as ModSecurity does.
//!
//! A backslash followed by 1 to 6 hex digits gives one byte: one digit is its value, more
//! digits use the last two. With exactly 4 digits (or 5 starting with `0`, or 6 starting
//! with `00`) full-width ASCII `FF01`-`FF5E` maps to `0x21`-`0x7E`. One whitespace byte after
//! a hex escape is swallowed. `\` + newline is removed, `\` + other byte gives that byte, a
//! trailing `\` is dropped.

use std::borrow::Cow;

use super::common::{hex_digit, is_c_space, is_hex, x2c};

/// Decodes CSS escape sequences.
pub fn css_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    let at = |k: usize| input.get(k).copied().unwrap_or(0);
    while let Some(&c) = input.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        if i + 1 >= input.len() {
            // Trailing backslash: dropped.
            i += 1;
            continue;
        }
        i += 1;
        let j = input
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take(6)
            .take_while(|&&b| is_hex(b))
            .count();
        if j == 0 {
            if at(i) == b'\n' {
                i += 1;
            } else {
                out.push(at(i));
                i += 1;
            }
            continue;
        }
        let (byte, full_check) = match j {
            1 => (hex_digit(at(i)), false),
            2 | 3 => (x2c(at(i + j - 2), at(i + j - 1)), false),
            4 => (x2c(at(i + 2), at(i + 3)), true),
            5 => (x2c(at(i + 3), at(i + 4)), at(i) == b'0'),
            _ => (
                x2c(at(i + 4), at(i + 5)),
                at(i) == b'0' && at(i + 1) == b'0',
            ),
        };
        let byte = if full_check
            && byte > 0
            && byte < 0x5f
            && at(i + j - 3) | 0x20 == b'f'
            && at(i + j - 4) | 0x20 == b'f'
        {
            byte + 0x20
        } else {
            byte
        };
        out.push(byte);
        let mut skip = j;
        if input.get(i + j).is_some_and(|&b| is_c_space(b)) {
            skip += 1;
        }
        i += skip;
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::css_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"\\41", b"A"),
                (b"\\41 b", b"Ab"),
                (b"\\4", b"\x04"),
                (b"\\141", b"A"),
                (b"\\ff01\\FF5E", b"!~"),
                (b"\\0ff01", b"!"),
                (b"\\1ff01", b"\x01"),
                (b"\\00ff01x", b"!x"),
                (b"\\12ff01", b"\x01"),
                (b"\\1234567", b"\x567"),
                (b"a\\\nb", b"ab"),
                (b"\\z\\\\", b"z\\"),
                (b"ab\\", b"ab"),
            ],
        );
    }
}
