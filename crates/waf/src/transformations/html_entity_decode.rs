//! `t:htmlEntityDecode`: decodes HTML character references the way libmodsecurity 3.0.x does.
//!
//! - `&#xHHHH;` / `&#XHHHH;` and `&#DDDD;`: all the digits are read, the value (as `strtol`,
//!   saturating at `LONG_MAX`) is truncated to its low byte (`&#x4142;` gives `B`, `&#999;`
//!   gives `0xE7`); the `;` is optional.
//! - Named: the whole alphanumeric run after `&` is the token; it is decoded when it
//!   *starts with* (case-insensitively) `quot`, `amp`, `lt`, `gt` or `nbsp` (giving `"`, `&`,
//!   `<`, `>`, `0xA0`), and the whole token is consumed (`&ltest;` gives `<`). This
//!   prefix behaviour is libmodsecurity's own. Other tokens are copied verbatim.
//! - Incomplete references (`&`, `&#`, `&#x`, `&#xZ`) are copied verbatim.

use std::borrow::Cow;

/// Decodes HTML entities (ModSecurity v3 rules).
pub fn html_entity_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'&', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while let Some(&c) = input.get(i) {
        if c == b'&'
            && let Some((byte, next)) = decode_at(input, i)
        {
            out.push(byte);
            i = next;
            continue;
        }
        out.push(c);
        i += 1;
    }
    super::common::changed_or_borrowed(input, out)
}

/// Decodes the reference starting at `input[amp] == b'&'`: the byte and the index after it.
/// `None` means "copy the `&` and go on" (copying the rest byte by byte is equivalent to
/// ModSecurity's bulk copy, since none of the copied bytes is an `&`).
fn decode_at(input: &[u8], amp: usize) -> Option<(u8, usize)> {
    let mut j = amp + 1;
    let first = *input.get(j)?;
    let (byte, end) = if first == b'#' {
        j += 1;
        let marker = *input.get(j)?;
        if marker == b'x' || marker == b'X' {
            j += 1;
            let digits = run(input, j, usize::MAX, |b| b.is_ascii_hexdigit());
            if digits == 0 {
                return None;
            }
            (strtol_low_byte(input.get(j..j + digits)?, 16), j + digits)
        } else {
            let digits = run(input, j, usize::MAX, |b| b.is_ascii_digit());
            if digits == 0 {
                return None;
            }
            (strtol_low_byte(input.get(j..j + digits)?, 10), j + digits)
        }
    } else {
        let len = run(input, j, usize::MAX, |b| b.is_ascii_alphanumeric());
        if len == 0 {
            return None;
        }
        let token = input.get(j..j + len)?;
        let byte = named(token)?;
        (byte, j + len)
    };
    let next = if input.get(end) == Some(&b';') {
        end + 1
    } else {
        end
    };
    Some((byte, next))
}

/// `(unsigned char) strtol(digits, NULL, radix)`: the value saturates at `LONG_MAX` (whose
/// low byte is 0xFF) and is then truncated to its low byte.
fn strtol_low_byte(digits: &[u8], radix: u32) -> u8 {
    let mut v: i64 = 0;
    for &d in digits {
        let digit = i64::from(char::from(d).to_digit(radix).unwrap_or(0));
        v = match v
            .checked_mul(i64::from(radix))
            .and_then(|x| x.checked_add(digit))
        {
            Some(x) => x,
            None => return 0xff,
        };
    }
    (v & 0xff) as u8
}

/// Number of bytes from `start` (at most `max`) that satisfy `pred`.
fn run(input: &[u8], start: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    input
        .get(start..)
        .unwrap_or(&[])
        .iter()
        .take(max)
        .take_while(|&&b| pred(b))
        .count()
}

/// The named entities libmodsecurity 3.0.x knows, matched as a case-insensitive prefix.
fn named(token: &[u8]) -> Option<u8> {
    const NAMES: &[(&[u8], u8)] = &[
        (b"quot", b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
        (b"nbsp", 0xa0),
    ];
    NAMES.iter().find_map(|&(name, byte)| {
        let head = token.get(..name.len())?;
        head.eq_ignore_ascii_case(name).then_some(byte)
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::html_entity_decode,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"&lt;&GT;&amp;&quot;&nbsp;", b"<>&\"\xa0"),
                (b"&lt&gt", b"<>"),
                (b"&ltest;x", b"<x"),
                (b"&foo;", b"&foo;"),
                (b"&#65;&#x41;&#X41", b"AAA"),
                (b"&#x4142;", b"B"),
                (b"&#0065;", b"A"),
                (b"&#x99999999999999999999;", b"\xff"),
                (b"&#999;", b"\xe7"),
                (b"&", b"&"),
                (b"&#", b"&#"),
                (b"&#x", b"&#x"),
                (b"&#xg", b"&#xg"),
                (b"&#a", b"&#a"),
                (b"& x", b"& x"),
                (b"&&lt;", b"&<"),
            ],
        );
    }
}
