//! `t:escapeSeqDecode`: decodes ANSI C escape sequences, as libmodsecurity does.
//!
//! `\a \b \f \n \r \t \v \\ \? \' \"`; `\xHH` / `\XHH` (two hex digits); `\O`..`\OOO` (up to
//! three octal digits, truncated to a byte). Any other `\C`, including an invalid `\x`,
//! gives `C`. A trailing lone backslash is kept.

use std::borrow::Cow;

use super::common::{is_hex, is_octal, x2c};

/// Decodes C escape sequences.
pub fn escape_seq_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        let Some(&e) = input.get(i + 1).filter(|_| c == b'\\') else {
            out.push(c);
            i += 1;
            continue;
        };
        let simple = match e {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'?' | b'\'' | b'"' => Some(e),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            i += 2;
            continue;
        }
        if e == b'x' || e == b'X' {
            if let Some(&[h, l]) = input.get(i + 2..i + 4)
                && is_hex(h)
                && is_hex(l)
            {
                out.push(x2c(h, l));
                i += 4;
                continue;
            }
        } else if is_octal(e) {
            let tail = input.get(i + 1..).unwrap_or(&[]);
            let n = tail.iter().take(3).take_while(|&&b| is_octal(b)).count();
            let v = tail
                .iter()
                .take(n)
                .fold(0u32, |acc, &d| acc * 8 + u32::from(d - b'0'));
            out.push((v & 0xff) as u8);
            i += 1 + n;
            continue;
        }
        out.push(e);
        i += 2;
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::escape_seq_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"\\n\\t\\\\\\?\\'\\\"", b"\n\t\\?'\""),
                (b"\\x41\\X42", b"AB"),
                (b"\\x4", b"x4"),
                (b"\\101\\7\\777", b"A\x07\xff"),
                (b"\\z", b"z"),
                (b"a\\", b"a\\"),
            ],
        );
    }
}
