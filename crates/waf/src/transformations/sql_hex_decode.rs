//! `t:sqlHexDecode`: decodes SQL hex literals: `0x` / `0X` followed by at least one pair
//! of hex digits becomes the bytes of those pairs (an odd final digit stays as it is).

use std::borrow::Cow;

use super::common::{is_hex, x2c};

/// Decodes `0xHHHH...` literals.
pub fn sql_hex_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let starts = |k: usize| matches!(input.get(k..k + 4), Some(&[b'0', x, h, l]) if (x | 0x20) == b'x' && is_hex(h) && is_hex(l));
    let Some(first) = (0..input.len()).find(|&k| starts(k)) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        if starts(i) {
            i += 2;
            while let Some(&[h, l]) = input.get(i..i + 2) {
                if !(is_hex(h) && is_hex(l)) {
                    break;
                }
                out.push(x2c(h, l));
                i += 2;
            }
        } else {
            out.push(c);
            i += 1;
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
            super::sql_hex_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"0x414243", b"ABC"),
                (b"x 0X41 y", b"x A y"),
                (b"0x4142f", b"ABf"),
                (b"0x", b"0x"),
                (b"0x4", b"0x4"),
                (b"0xzz", b"0xzz"),
            ],
        );
    }
}
