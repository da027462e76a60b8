//! Transformations (`t:name`): byte-to-byte functions applied to a value before the operator.
//!
//! One file per transformation under `transformations/`, each with its own table test.
//! A transformation returns `Cow::Borrowed` when the input is unchanged, so the engine can
//! skip copies and key its per-transaction cache. `t:none` is handled by the engine (it
//! clears the list) and is not in the table.
//!
//! Semantics follow libmodsecurity 3.0.x byte for byte (checked against libmodsecurity
//! 3.0.15), quirks included; each module documents the rules it implements. Digests
//! (`t:md5`, `t:sha1`) are raw bytes, as in ModSecurity. `t:urlDecodeUni` with a
//! `SecUnicodeMapFile` map is [`url_decode_uni_with_map`] (the table entry uses no map).

use std::borrow::Cow;

mod base64_decode;
mod base64_decode_ext;
mod base64_encode;
mod cmd_line;
mod common;
mod compress_whitespace;
mod css_decode;
mod escape_seq_decode;
mod hex_decode;
mod hex_encode;
mod html_entity_decode;
mod js_decode;
mod length;
mod lowercase;
mod md5;
mod normalise_path;
mod parity;
mod remove_comments;
mod remove_comments_char;
mod remove_nulls;
mod remove_whitespace;
mod replace_comments;
mod replace_nulls;
mod sha1;
mod sql_hex_decode;
mod trim;
mod uppercase;
mod url_decode;
mod url_decode_uni;
mod url_encode;
mod utf8_to_unicode;

pub use base64_decode::base64_decode;
pub use base64_decode_ext::base64_decode_ext;
pub use base64_encode::base64_encode;
pub use cmd_line::cmd_line;
pub use compress_whitespace::compress_whitespace;
pub use css_decode::css_decode;
pub use escape_seq_decode::escape_seq_decode;
pub use hex_decode::hex_decode;
pub use hex_encode::hex_encode;
pub use html_entity_decode::html_entity_decode;
pub use js_decode::js_decode;
pub use length::length;
pub use lowercase::lowercase;
pub use md5::md5;
pub use normalise_path::{normalise_path, normalise_path_win};
pub use parity::{parity_even_7bit, parity_odd_7bit, parity_zero_7bit};
pub use remove_comments::remove_comments;
pub use remove_comments_char::remove_comments_char;
pub use remove_nulls::remove_nulls;
pub use remove_whitespace::remove_whitespace;
pub use replace_comments::replace_comments;
pub use replace_nulls::replace_nulls;
pub use sha1::sha1;
pub use sql_hex_decode::sql_hex_decode;
pub use trim::{trim, trim_left, trim_right};
pub use uppercase::uppercase;
pub use url_decode::url_decode;
pub use url_decode_uni::{UnicodeMap, url_decode_uni, url_decode_uni_with_map};
pub use url_encode::url_encode;
pub use utf8_to_unicode::utf8_to_unicode;

/// A transformation function. Never panics, whatever the bytes.
pub type Transform = fn(&[u8]) -> Cow<'_, [u8]>;

/// All transformations, sorted by lower-cased name.
pub static TRANSFORMATIONS: &[(&str, Transform)] = &[
    ("base64decode", base64_decode),
    ("base64decodeext", base64_decode_ext),
    ("base64encode", base64_encode),
    ("cmdline", cmd_line),
    ("compresswhitespace", compress_whitespace),
    ("cssdecode", css_decode),
    ("escapeseqdecode", escape_seq_decode),
    ("hexdecode", hex_decode),
    ("hexencode", hex_encode),
    ("htmlentitydecode", html_entity_decode),
    ("jsdecode", js_decode),
    ("length", length),
    ("lowercase", lowercase),
    ("md5", md5),
    ("normalisepath", normalise_path),
    ("normalisepathwin", normalise_path_win),
    ("normalizepath", normalise_path),
    ("normalizepathwin", normalise_path_win),
    ("parityeven7bit", parity_even_7bit),
    ("parityodd7bit", parity_odd_7bit),
    ("parityzero7bit", parity_zero_7bit),
    ("removecomments", remove_comments),
    ("removecommentschar", remove_comments_char),
    ("removenulls", remove_nulls),
    ("removewhitespace", remove_whitespace),
    ("replacecomments", replace_comments),
    ("replacenulls", replace_nulls),
    ("sha1", sha1),
    ("sqlhexdecode", sql_hex_decode),
    ("trim", trim),
    ("trimleft", trim_left),
    ("trimright", trim_right),
    ("uppercase", uppercase),
    ("urldecode", url_decode),
    ("urldecodeuni", url_decode_uni),
    ("urlencode", url_encode),
    ("utf8tounicode", utf8_to_unicode),
];

/// For each byte, whether a value made only of such bytes passes a transformation chain
/// unchanged (see [`identity_bytes`]).
pub type IdentityBytes = [bool; 256];

/// White space for the transformations that touch it, plus every non-ASCII byte (some
/// implementations treat 0xa0 as space; being conservative costs nothing on ASCII input).
fn space_or_high(b: u8) -> bool {
    matches!(b, 0x09..=0x0d | b' ') || b >= 0x80
}

/// The bytes that may make transformation `name` (lower-cased) change its input; `None`
/// when any input may change (encoders, hashes, `length`, hex/base64 decoders, ...).
fn may_change(name: &str) -> Option<fn(u8) -> bool> {
    Some(match name {
        "lowercase" => |b: u8| b.is_ascii_uppercase(),
        "uppercase" => |b: u8| b.is_ascii_lowercase(),
        "urldecode" | "urldecodeuni" => |b: u8| b == b'%' || b == b'+',
        "htmlentitydecode" => |b: u8| b == b'&',
        "jsdecode" | "cssdecode" | "escapeseqdecode" => |b: u8| b == b'\\',
        "removenulls" | "replacenulls" => |b: u8| b == 0,
        "utf8tounicode" => |b: u8| b >= 0x80 || b == 0,
        "compresswhitespace" | "removewhitespace" | "trim" | "trimleft" | "trimright" => {
            space_or_high
        }
        "normalisepath" | "normalizepath" => |b: u8| b == b'/' || b == b'.',
        "normalisepathwin" | "normalizepathwin" => |b: u8| b == b'/' || b == b'.' || b == b'\\',
        "removecomments" | "removecommentschar" | "replacecomments" => {
            |b: u8| matches!(b, b'/' | b'*' | b'-' | b'#' | b'<' | b'!' | b'>')
        }
        "cmdline" => |b: u8| {
            matches!(b, b'\\' | b'"' | b'\'' | b'^' | b',' | b';' | b'/' | b'(')
                || b.is_ascii_uppercase()
                || space_or_high(b)
        },
        _ => return None,
    })
}

/// The bytes that no transformation of `chain` (names, any case) changes: a value made
/// only of them leaves the chain as it came, so evaluation can skip running (and caching)
/// the chain. `None` when some transformation may change any input. Conservative: a byte
/// marked false may still leave a value unchanged.
pub fn identity_bytes<'a>(chain: impl IntoIterator<Item = &'a str>) -> Option<Box<IdentityBytes>> {
    let mut table = Box::new([true; 256]);
    for name in chain {
        let changes = may_change(&name.to_ascii_lowercase())?;
        for (b, safe) in (0u8..=255).zip(table.iter_mut()) {
            if changes(b) {
                *safe = false;
            }
        }
    }
    Some(table)
}

/// For transformations that may change any byte ([`identity_bytes`] has no table for
/// them): a cheap test that is true only for values the transformation surely leaves
/// unchanged, and whose answer does not depend on ASCII case (so it holds whatever
/// `lowercase` did before). `None` when there is none.
pub fn surely_unchanged(name: &str) -> Option<fn(&[u8]) -> bool> {
    match name.to_ascii_lowercase().as_str() {
        // Not Base64 at all (wrong length or a byte outside the alphabet): left as it is.
        "base64decode" => Some(base64_decode::surely_invalid),
        _ => None,
    }
}

/// Looks up a transformation by name (any case).
pub fn lookup(name: &str) -> Option<Transform> {
    let lower = name.to_ascii_lowercase();
    TRANSFORMATIONS
        .binary_search_by(|(n, _)| n.cmp(&lower.as_str()))
        .ok()
        .and_then(|i| TRANSFORMATIONS.get(i))
        .map(|&(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every transformation with an identity table leaves values of its safe bytes
    /// unchanged (pseudo-random values over the safe bytes, and each safe byte alone).
    #[test]
    fn identity_tables_hold() {
        let mut next = crate::util::xorshift(0x9e37_79b9_7f4a_7c15);
        for (name, f) in TRANSFORMATIONS {
            let Some(table) = identity_bytes([*name]) else {
                continue;
            };
            let safe: Vec<u8> = (0u8..=255).filter(|b| table[usize::from(*b)]).collect();
            assert!(!safe.is_empty(), "{name}");
            for b in &safe {
                assert_eq!(&*f(&[*b]), &[*b], "{name} changes byte {b:#x}");
            }
            for _ in 0..3000 {
                let len = (next() % 40) as usize;
                let v: Vec<u8> = (0..len)
                    .map(|_| safe[(next() as usize) % safe.len()])
                    .collect();
                assert_eq!(&*f(&v), &v[..], "{name} changes {v:?}");
            }
        }
        assert!(identity_bytes(["urlDecodeUni", "lowercase"]).is_some());
        assert!(identity_bytes(["base64Decode"]).is_none());
        let t = identity_bytes(["lowercase", "urlDecodeUni"]).unwrap();
        assert!(t[usize::from(b'a')] && !t[usize::from(b'A')] && !t[usize::from(b'%')]);
    }

    /// A value `surely_unchanged` accepts comes out unchanged, and the answer is the same
    /// for the value in any ASCII case.
    #[test]
    fn surely_unchanged_holds() {
        let mut next = crate::util::xorshift(0x0dd5_eed5_0bad_cafe);
        let alphabet = b"aZ09+/=. \r\n-_%\x00\xff";
        for (name, f) in TRANSFORMATIONS {
            let Some(keeps) = surely_unchanged(name) else {
                continue;
            };
            let mut accepted = 0;
            for _ in 0..50_000 {
                let len = (next() % 16) as usize;
                let v: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() as usize) % alphabet.len()])
                    .collect();
                assert_eq!(keeps(&v), keeps(&v.to_ascii_lowercase()), "{name} {v:?}");
                assert_eq!(keeps(&v), keeps(&v.to_ascii_uppercase()), "{name} {v:?}");
                if keeps(&v) {
                    accepted += 1;
                    assert_eq!(&*f(&v), &v[..], "{name} changes {v:?}");
                }
            }
            assert!(accepted > 1000, "{name}: {accepted}");
        }
        assert!(surely_unchanged("base64Decode").is_some());
        assert!(surely_unchanged("md5").is_none());
    }

    /// The names the brief requires (every `t:` CRS v4 uses, plus the ModSecurity list).
    const REQUIRED: &[&str] = &[
        "base64Decode",
        "base64DecodeExt",
        "base64Encode",
        "cmdLine",
        "compressWhitespace",
        "cssDecode",
        "escapeSeqDecode",
        "hexDecode",
        "hexEncode",
        "htmlEntityDecode",
        "jsDecode",
        "length",
        "lowercase",
        "md5",
        "normalisePath",
        "normalizePath",
        "normalisePathWin",
        "normalizePathWin",
        "parityEven7bit",
        "parityOdd7bit",
        "parityZero7bit",
        "removeComments",
        "removeCommentsChar",
        "removeNulls",
        "removeWhitespace",
        "replaceComments",
        "replaceNulls",
        "sha1",
        "sqlHexDecode",
        "trim",
        "trimLeft",
        "trimRight",
        "uppercase",
        "urlDecode",
        "urlDecodeUni",
        "urlEncode",
        "utf8toUnicode",
    ];

    #[test]
    fn table_sorted_unique_lowercase() {
        for w in TRANSFORMATIONS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} must sort before {}", w[0].0, w[1].0);
        }
        for (name, _) in TRANSFORMATIONS {
            assert_eq!(*name, name.to_ascii_lowercase());
        }
    }

    #[test]
    fn table_covers_required_list() {
        for name in REQUIRED {
            assert!(lookup(name).is_some(), "missing t:{name}");
        }
        assert_eq!(REQUIRED.len(), TRANSFORMATIONS.len());
        assert!(lookup("none").is_none());
        assert!(lookup("nosuch").is_none());
    }

    #[test]
    fn table_covers_crs() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs/rules");
        let Ok(entries) = std::fs::read_dir(dir) else {
            eprintln!("CRS not found at {dir}; skipping");
            return;
        };
        let mut seen = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("conf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (pos, _) in text.match_indices("t:") {
                // Only `t:` right after an action separator or quote (skips `rx` bodies).
                let before = text[..pos].chars().last().unwrap_or(' ');
                if !matches!(before, ',' | '"' | '\'' | ' ') {
                    continue;
                }
                let name: String = text[pos + 2..]
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if name.is_empty() || name.eq_ignore_ascii_case("none") {
                    continue;
                }
                // A `t:` inside a regex or a message is not a transformation; those do not
                // look like action lists (`t:alert` in a message).
                if name == "alert" {
                    continue;
                }
                assert!(
                    lookup(&name).is_some(),
                    "{}: t:{name} unknown",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} t: actions found in CRS");
    }

    #[test]
    fn lookup_any_case() {
        assert!(lookup("URLDECODEUNI").is_some());
        assert_eq!(
            lookup("lowercase").map(|f| f(b"AB").into_owned()),
            Some(b"ab".to_vec())
        );
    }
}
