//! `t:utf8toUnicode`: replaces each valid multi-byte UTF-8 sequence with `%uXXXX` (lower-case
//! hex, at least four digits), as libmodsecurity does, including its quirks:
//!
//! - a lead byte whose sequence is truncated or has a bad continuation byte is dropped and
//!   decoding resumes at the next byte;
//! - a lead byte `F5`-`F7` is copied before its sequence is decoded;
//! - surrogates (`U+D800`-`U+DFFF`) and overlong forms are encoded and followed by a copy of
//!   their lead byte;
//! - a NUL byte is dropped, unless it is the last byte of the value;
//! - other bytes (ASCII, stray continuation bytes, `F8`-`FF`) are copied.

use std::borrow::Cow;

use super::common::HEX_LOWER;

/// Converts UTF-8 sequences to `%uXXXX` escapes.
pub fn utf8_to_unicode(input: &[u8]) -> Cow<'_, [u8]> {
    let nul_inside = input
        .split_last()
        .is_some_and(|(_, head)| memchr::memchr(0, head).is_some());
    if input.is_ascii() && !nul_inside {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len() * 2);
    let mut i = 0;
    let cont = |k: usize| input.get(k).is_some_and(|&b| b & 0xc0 == 0x80);
    let low6 = |k: usize| u32::from(input.get(k).copied().unwrap_or(0) & 0x3f);
    while let Some(&c) = input.get(i) {
        let (len, code) = if c & 0x80 == 0 {
            // libmodsecurity drops a NUL byte unless it is the last one.
            if c != 0 || i + 1 == input.len() {
                out.push(c);
            }
            i += 1;
            continue;
        } else if c & 0xe0 == 0xc0 {
            if cont(i + 1) {
                (2, (u32::from(c & 0x1f) << 6) | low6(i + 1))
            } else {
                (0, 0)
            }
        } else if c & 0xf0 == 0xe0 {
            if cont(i + 1) && cont(i + 2) {
                (
                    3,
                    (u32::from(c & 0x0f) << 12) | (low6(i + 1) << 6) | low6(i + 2),
                )
            } else {
                (0, 0)
            }
        } else if c & 0xf8 == 0xf0 {
            if c >= 0xf5 {
                out.push(c);
            }
            if cont(i + 1) && cont(i + 2) && cont(i + 3) {
                (
                    4,
                    (u32::from(c & 0x07) << 18)
                        | (low6(i + 1) << 12)
                        | (low6(i + 2) << 6)
                        | low6(i + 3),
                )
            } else {
                (0, 0)
            }
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        if len == 0 {
            // Invalid or truncated sequence: the lead byte is dropped.
            i += 1;
            continue;
        }
        push_escape(&mut out, code);
        if (0xd800..=0xdfff).contains(&code) {
            out.push(c);
        }
        let overlong = match len {
            4 => code < 0x1_0000,
            3 => code < 0x800,
            _ => code < 0x80,
        };
        if overlong {
            out.push(c);
        }
        i += len;
    }
    super::common::changed_or_borrowed(input, out)
}

/// Appends `%u` and `code` in lower-case hex, zero-padded to four digits.
fn push_escape(out: &mut Vec<u8>, code: u32) {
    out.extend_from_slice(b"%u");
    let digits = (32 - code.leading_zeros()).div_ceil(4).max(4);
    for k in (0..digits).rev() {
        out.push(HEX_LOWER[((code >> (k * 4)) & 0xf) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::utf8_to_unicode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                ("é".as_bytes(), b"%u00e9"),
                ("€x".as_bytes(), b"%u20acx"),
                ("😀".as_bytes(), b"%u1f600"),
                (b"\xc3", b""),
                (b"\xc3(", b"("),
                (b"\x80", b"\x80"),
                (b"\xff", b"\xff"),
                (b"\xc0\x80", b"%u0000\xc0"),
                (b"\xed\xa0\x80", b"%ud800\xed"),
                (b"a\x00b\x00", b"ab\x00"),
            ],
        );
    }
}
