//! `t:urlDecode`: decodes `%XX` and `+` (as ModSecurity's `urldecode_nonstrict_inplace`).
//!
//! Invalid or truncated `%` sequences are copied as they are; `+` becomes a space.

use std::borrow::Cow;

use super::common::{is_hex, x2c};

/// URL-decodes (`%XX`, `+`), leaving invalid escapes untouched.
pub fn url_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = input.iter().position(|&b| b == b'%' || b == b'+') else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        match c {
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

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::url_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"a+b", b"a b"),
                (b"%41%42c", b"ABc"),
                (b"%", b"%"),
                (b"%4", b"%4"),
                (b"%4g", b"%4g"),
                (b"%%41", b"%A"),
                (b"%u0041", b"%u0041"),
                (b"%00x", b"\x00x"),
                (b"%ff", b"\xff"),
            ],
        );
    }
}
