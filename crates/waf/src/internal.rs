//! Hooks for fuzz targets and tests; not a stable interface.

/// Fuzzing entry points: each takes arbitrary bytes and must never panic (apart from the
/// invariant checks they make on purpose).
pub mod fuzzing {
    use std::borrow::Cow;

    use crate::transformations::{TRANSFORMATIONS, Transform};

    /// Content type used by [`multipart`] when the input has no first line to take it from.
    const DEFAULT_MULTIPART_CT: &[u8] = b"multipart/form-data; boundary=xyz";

    fn run_one(name: &str, f: Transform, input: &[u8]) -> Vec<u8> {
        let out = f(input);
        if let Cow::Borrowed(b) = &out {
            assert!(
                *b == input,
                "t:{name} returned Cow::Borrowed for a changed value"
            );
        }
        out.into_owned()
    }

    /// Runs every transformation on `data`, then a chain of up to four transformations
    /// picked by the first bytes of `data` over the rest of it.
    pub fn transformations(data: &[u8]) {
        for &(name, f) in TRANSFORMATIONS {
            let _ = run_one(name, f, data);
        }
        let picks = data.len().min(4);
        let (selectors, rest) = data.split_at(picks);
        let mut value = rest.to_vec();
        for &s in selectors {
            let Some(&(name, f)) = TRANSFORMATIONS.get(usize::from(s) % TRANSFORMATIONS.len())
            else {
                continue;
            };
            value = run_one(name, f, &value);
        }
    }

    /// `application/x-www-form-urlencoded` parsing (both separators) and `%` decoding.
    pub fn urlencoded(data: &[u8]) {
        let _ = crate::body::urlencoded::parse_checked(data, b'&');
        let _ = crate::body::urlencoded::parse(data, b';');
        let _ = crate::body::urlencoded::decode(data);
    }

    /// `multipart/form-data` parsing. The first line of `data` (up to `\n`) is the
    /// Content-Type header value and the rest is the body; without a `\n` the whole input
    /// is the body of a `boundary=xyz` request.
    pub fn multipart(data: &[u8]) {
        let (content_type, body) = match memchr::memchr(b'\n', data) {
            Some(nl) => (
                data.get(..nl).unwrap_or_default(),
                data.get(nl + 1..).unwrap_or_default(),
            ),
            None => (DEFAULT_MULTIPART_CT, data),
        };
        let _ = crate::body::multipart::parse(
            content_type,
            body,
            &crate::body::multipart::Limits::default(),
        );
        let strict = crate::body::multipart::Limits {
            upload_file_limit: 1,
            extract_files: true,
        };
        let _ = crate::body::multipart::parse(content_type, body, &strict);
    }

    /// JSON body parsing, with a deep and a shallow nesting limit.
    pub fn json(data: &[u8]) {
        let _ = crate::body::json::parse(data, 10_000);
        let _ = crate::body::json::parse(data, 3);
    }

    /// XML body parsing.
    pub fn xml(data: &[u8]) {
        let _ = crate::body::xml::parse(data);
    }
}
