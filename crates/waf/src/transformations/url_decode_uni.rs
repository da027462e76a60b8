//! `t:urlDecodeUni`: like `t:urlDecode`, plus IIS-style `%uXXXX`.
//!
//! As ModSecurity without a `SecUnicodeMapFile`: `%uXXXX` keeps only the low byte, except
//! that full-width ASCII `%uFF01`-`%uFF5E` maps to `0x21`-`0x7E` (low byte + 0x20). A `%u`
//! not followed by four hex digits is copied as `%u` and decoding resumes after it. With a
//! map, [`url_decode_uni_with_map`] looks the code point up first.

use std::borrow::Cow;

use super::common::{is_hex, x2c};

/// URL-decodes `%XX`, `%uXXXX` and `+`.
pub fn url_decode_uni(input: &[u8]) -> Cow<'_, [u8]> {
    url_decode_uni_with_map(input, None)
}

/// `t:urlDecodeUni` with an optional Unicode map (code point -> byte), as loaded from a
/// `SecUnicodeMapFile`; code points the map does not list fall back to the default rule.
pub fn url_decode_uni_with_map<'a>(input: &'a [u8], map: Option<&UnicodeMap>) -> Cow<'a, [u8]> {
    let Some(first) = input.iter().position(|&b| b == b'%' || b == b'+') else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        match c {
            b'%' if matches!(input.get(i + 1), Some(b'u' | b'U')) => {
                match input.get(i + 2..i + 6) {
                    Some(&[a, b, c2, d]) if is_hex(a) && is_hex(b) && is_hex(c2) && is_hex(d) => {
                        let code = u16::from(x2c(a, b)) << 8 | u16::from(x2c(c2, d));
                        let mapped = map.and_then(|m| m.get(code));
                        out.push(match mapped {
                            Some(byte) => byte,
                            None => {
                                let low = x2c(c2, d);
                                if low > 0 && low < 0x5f && a | 0x20 == b'f' && b | 0x20 == b'f' {
                                    low + 0x20
                                } else {
                                    low
                                }
                            }
                        });
                        i += 6;
                    }
                    _ => {
                        // Invalid or truncated: copy "%u" and go on after it.
                        out.push(b'%');
                        out.extend(input.get(i + 1).copied());
                        i += 2;
                    }
                }
            }
            b'%' => match (input.get(i + 1), input.get(i + 2)) {
                (Some(&h), Some(&l)) if is_hex(h) && is_hex(l) => {
                    out.push(x2c(h, l));
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    super::common::changed_or_borrowed(input, out)
}

/// A Unicode code point -> byte map, the content of a `SecUnicodeMapFile` for one code page.
#[derive(Clone)]
pub struct UnicodeMap {
    table: Box<[i16]>,
}

impl std::fmt::Debug for UnicodeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.table.iter().filter(|&&v| v >= 0).count();
        f.debug_struct("UnicodeMap").field("entries", &n).finish()
    }
}

impl UnicodeMap {
    /// Parses the `unicode.mapping` format shipped with ModSecurity: a line starting with a
    /// code page number (`20127  (US-ASCII)`) starts a section, a `(...)` heading without a
    /// number ends it; the section's lines are whitespace-separated `hexcodepoint:hexbyte`
    /// pairs. Only the section of `codepage` is kept. Returns `None`
    /// when that code page is not in the text.
    pub fn parse(text: &str, codepage: u32) -> Option<UnicodeMap> {
        let mut table = vec![-1i16; 65536].into_boxed_slice();
        let mut in_section = false;
        let mut found = false;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            if let Ok(cp) = first.parse::<u32>()
                && !first.contains(':')
            {
                in_section = cp == codepage;
                found |= in_section;
                continue;
            }
            if first.starts_with('(') {
                // A heading without a code page number, e.g. "(MAC - Roman)".
                in_section = false;
                continue;
            }
            if !in_section {
                continue;
            }
            for pair in line.split_whitespace() {
                let Some((code, byte)) = pair.split_once(':') else {
                    continue;
                };
                let (Ok(code), Ok(byte)) =
                    (u32::from_str_radix(code, 16), u32::from_str_radix(byte, 16))
                else {
                    continue;
                };
                if let (Some(slot), Ok(byte)) = (table.get_mut(code as usize), u8::try_from(byte)) {
                    *slot = i16::from(byte);
                }
            }
        }
        found.then_some(UnicodeMap { table })
    }

    /// The byte a code point maps to, if the map lists it.
    pub fn get(&self, code: u16) -> Option<u8> {
        self.table
            .get(usize::from(code))
            .and_then(|&v| u8::try_from(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::url_decode_uni,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"a+b%20c", b"a b c"),
                (b"%u0041%U0042", b"AB"),
                (b"%uff01%uFF5E%uff00%uff5f", b"!~\x00\x5f"),
                (b"%u1234", b"\x34"),
                (b"%u12", b"%u12"),
                (b"%u", b"%u"),
                (b"%U", b"%U"),
                (b"%u12zz", b"%u12zz"),
                (b"%u%41", b"%uA"),
                (b"%", b"%"),
                (b"%4", b"%4"),
                (b"%41", b"A"),
                (b"%zz", b"%zz"),
            ],
        );
    }

    #[test]
    fn with_map() {
        let map = super::UnicodeMap::parse("1252\n00a0:20 0041:61\n\n20127\n00a0:21\n", 20127)
            .expect("codepage present");
        assert_eq!(map.get(0xa0), Some(0x21));
        assert_eq!(map.get(0x41), None);
        assert_eq!(
            super::url_decode_uni_with_map(b"%u00a0%u0041", Some(&map)).as_ref(),
            b"!A"
        );
        assert!(super::UnicodeMap::parse("1252\n00a0:20\n", 20127).is_none());
        let text =
            "(MAC - Roman)\n\n20127  (US-ASCII)\nff01:21 00c0:41 \n\n(MAC - Icelandic)\n0041:7a\n";
        let map = super::UnicodeMap::parse(text, 20127).expect("codepage present");
        assert_eq!(map.get(0xc0), Some(b'A'));
        assert_eq!(map.get(0x41), None);
    }
}
