//! `t:jsDecode`: decodes JavaScript escapes as ModSecurity does.
//!
//! - `\uHHHH`: the low byte only; full-width ASCII (`\uFF01`-`\uFF5E`) gets 0x20 added.
//! - `\xHH`: one byte (lower-case `x` and `u` only).
//! - `\OOO`: up to three octal digits, but only two when the first is above `3`.
//! - `\a \b \f \n \r \t \v`: control characters; any other `\C` gives `C`.
//! - A trailing lone backslash is kept.

use std::borrow::Cow;

use super::common::{is_hex, is_octal, x2c};

/// Decodes JavaScript escape sequences.
pub fn js_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let next = input.get(i + 1).copied();
        if let (Some(b'u'), Some(&[a, b, c2, d])) = (next, input.get(i + 2..i + 6))
            && is_hex(a)
            && is_hex(b)
            && is_hex(c2)
            && is_hex(d)
        {
            let low = x2c(c2, d);
            let full_width = a | 0x20 == b'f' && b | 0x20 == b'f';
            out.push(if full_width && low > 0 && low < 0x5f {
                low + 0x20
            } else {
                low
            });
            i += 6;
            continue;
        }
        if let (Some(b'x'), Some(&[h, l])) = (next, input.get(i + 2..i + 4))
            && is_hex(h)
            && is_hex(l)
        {
            out.push(x2c(h, l));
            i += 4;
            continue;
        }
        match next {
            Some(o) if is_octal(o) => {
                let tail = input.get(i + 1..).unwrap_or(&[]);
                let mut n = tail.iter().take(3).take_while(|&&b| is_octal(b)).count();
                if n == 3 && o > b'3' {
                    n = 2;
                }
                let v = tail
                    .iter()
                    .take(n)
                    .fold(0u32, |acc, &d| acc * 8 + u32::from(d - b'0'));
                out.push((v & 0xff) as u8);
                i += 1 + n;
            }
            Some(e) => {
                out.push(match e {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 0x0b,
                    other => other,
                });
                i += 2;
            }
            None => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::js_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"\\u0041\\uff01\\uFF5e\\u1234", b"A!~\x34"),
                (b"\\U0041", b"U0041"),
                (b"\\x41\\X41", b"AX41"),
                (b"\\x4", b"x4"),
                (b"\\101\\1011\\477\\7", b"AA1'7\x07"),
                (b"\\n\\t\\'\\\"\\\\", b"\n\t'\"\\"),
                (b"\\z", b"z"),
                (b"a\\", b"a\\"),
                (b"\\u12", b"u12"),
                (b"\\8", b"8"),
            ],
        );
    }
}
