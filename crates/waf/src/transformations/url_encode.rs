//! `t:urlEncode`: URL-encodes as ModSecurity: ASCII letters, digits and `*` are kept, a
//! space becomes `+`, every other byte becomes `%xx` (lower-case hex).

use std::borrow::Cow;

use super::common::HEX_LOWER;

fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'*'
}

/// URL-encodes the value.
pub fn url_encode(input: &[u8]) -> Cow<'_, [u8]> {
    if input.iter().all(|&b| keep(b)) {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len() * 3);
    for &b in input {
        if keep(b) {
            out.push(b);
        } else if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX_LOWER[usize::from(b >> 4)],
                HEX_LOWER[usize::from(b & 0xf)],
            ]);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::url_encode,
            &[(b"", b""), (b"aZ9*", b"aZ9*"), (b"a b/\xff", b"a+b%2f%ff")],
        );
    }
}
