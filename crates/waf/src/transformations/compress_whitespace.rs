//! `t:compressWhitespace`: each run of whitespace becomes one space.
//!
//! Whitespace is C-locale `isspace` (space, `\t`, `\n`, `\v`, `\f`, `\r`). libmodsecurity
//! 3.0.x does not treat the non-breaking space 0xA0 as whitespace here (unlike ModSecurity
//! 2.x and unlike its own `t:removeWhitespace`); checked against libmodsecurity 3.0.15.

use std::borrow::Cow;

use super::common::is_c_space;

/// Compresses whitespace runs into single spaces.
pub fn compress_whitespace(input: &[u8]) -> Cow<'_, [u8]> {
    // Unchanged iff every whitespace byte is a lone ' '.
    let needs = input.iter().enumerate().any(|(k, &b)| {
        is_c_space(b) && (b != b' ' || input.get(k + 1).is_some_and(|&n| is_c_space(n)))
    });
    if !needs {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut in_space = false;
    for &b in input {
        if is_c_space(b) {
            if !in_space {
                out.push(b' ');
                in_space = true;
            }
        } else {
            out.push(b);
            in_space = false;
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
            super::compress_whitespace,
            &[
                (b"", b""),
                (b"a b c", b"a b c"),
                (b"a  b", b"a b"),
                (b"a\t\r\n\x0b\x0cb", b"a b"),
                (b"\ta", b" a"),
                (b"a\xa0\xa0b", b"a\xa0\xa0b"),
                (b" ", b" "),
                (b"  ", b" "),
            ],
        );
    }
}
