//! Small request helpers: URI percent-decoding, cookie splitting, civil time.

use std::borrow::Cow;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a URI (`%XX` only; `+` is kept; invalid sequences are kept as written),
/// as ModSecurity's `uri_decode` does for REQUEST_URI and REQUEST_FILENAME.
pub fn uri_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.contains(&b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                input.get(i + 1).and_then(|c| hex(*c)),
                input.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// Splits a `Cookie` header into (name, value) pairs the way ModSecurity v3 does: split on
/// `;`, skip empty pieces, split each on the first `=`, trim leading whitespace from the name,
/// skip empty names, trim trailing whitespace after the last pair.
pub fn parse_cookies(value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = value.split(|b| *b == b';').collect();
    if let Some(last) = pieces.last_mut() {
        while let Some((&c, rest)) = last.split_last() {
            if c.is_ascii_whitespace() {
                *last = rest;
            } else {
                break;
            }
        }
    }
    for piece in pieces {
        if piece.is_empty() {
            continue;
        }
        let (name, val) = match piece.iter().position(|b| *b == b'=') {
            Some(p) => (
                piece.get(..p).unwrap_or_default(),
                piece.get(p + 1..).unwrap_or_default(),
            ),
            None => (piece, &b""[..]),
        };
        let start = name
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(name.len());
        let name = name.get(start..).unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        out.push((name.to_vec(), val.to_vec()));
    }
    out
}

/// Civil date-time from seconds since the Unix epoch (UTC):
/// (year, month 1-12, day 1-31, hour, minute, second, weekday 0=Sunday).
pub fn civil(epoch: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let days = i64::try_from(epoch / 86_400).unwrap_or(0);
    let secs = epoch % 86_400;
    let hour = u32::try_from(secs / 3600).unwrap_or(0);
    let min = u32::try_from(secs % 3600 / 60).unwrap_or(0);
    let sec = u32::try_from(secs % 60).unwrap_or(0);
    let wday = u32::try_from((days + 4).rem_euclid(7)).unwrap_or(0);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, hour, min, sec, wday)
}

/// A deterministic xorshift64 generator for property tests (same seed, same sequence).
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"/a%20b", b"/a b"),
            (b"/a+b", b"/a+b"),
            (b"%zz%4", b"%zz%4"),
            (b"%41%42", b"AB"),
            (b"", b""),
        ];
        for (i, o) in cases {
            assert_eq!(&*uri_decode(i), *o);
        }
    }

    #[test]
    fn cookies() {
        let c = parse_cookies(b" a=1; b=x=y;;  c ; =z ");
        assert_eq!(
            c,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"x=y".to_vec()),
                (b"c ".to_vec(), b"".to_vec())
            ]
        );
    }

    #[test]
    fn civil_time() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0, 4));
        assert_eq!(civil(1_700_000_000), (2023, 11, 14, 22, 13, 20, 2));
    }
}
