//! Raw request bytes exactly as go-ftw writes them on the wire.

use base64::Engine as _;

use crate::model::{Data, Headers, Input};

/// Errors building a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `encoded_request` is not valid base64.
    #[error("encoded_request is not valid base64: {0}")]
    Base64(String),
}

/// Headers with go-ftw's canonical-name lookups (`textproto.CanonicalMIMEHeaderKey`).
#[derive(Debug, Clone, Default)]
struct HeaderList(Vec<(String, String)>);

fn canonical(name: &str) -> String {
    // Go canonicalises only names made of token characters; otherwise it keeps them as is.
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

impl HeaderList {
    fn has_any(&self, name: &str) -> bool {
        let key = canonical(name);
        self.0.iter().any(|(n, _)| canonical(n) == key)
    }

    fn any_value(&self, name: &str, pred: impl Fn(&str) -> bool) -> bool {
        let key = canonical(name);
        self.0.iter().any(|(n, v)| canonical(n) == key && pred(v))
    }

    fn add(&mut self, name: &str, value: &str) {
        self.0.push((name.to_string(), value.to_string()));
    }
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Whether Go's `url.QueryUnescape(s)` would succeed and return `s` unchanged.
fn query_unescape_is_identity(s: &[u8]) -> bool {
    // Unchanged means: no '+' and no '%' at all (a valid %XX changes the text, an invalid one
    // is an error).
    !s.contains(&b'+') && !s.contains(&b'%')
}

/// go-ftw's `encodeDataParameters` for urlencoded bodies.
fn encode_data(data: &[u8]) -> Vec<u8> {
    if !query_unescape_is_identity(data) {
        return data.to_vec();
    }
    let mut out = String::new();
    let mut remaining = data;
    while !remaining.is_empty() {
        let (token, rest) = match remaining.iter().position(|b| *b == b'&') {
            Some(i) => (
                remaining.get(..i).unwrap_or_default(),
                remaining.get(i + 1..).unwrap_or_default(),
            ),
            None => (remaining, &b""[..]),
        };
        remaining = rest;
        match token.iter().position(|b| *b == b'=') {
            None => out.push_str(&query_escape(token)),
            Some(i) => {
                out.push_str(&query_escape(token.get(..i).unwrap_or_default()));
                out.push('=');
                out.push_str(&query_escape(token.get(i + 1..).unwrap_or_default()));
            }
        }
        out.push('&');
    }
    out.pop();
    out.into_bytes()
}

fn replace_lf_with_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Build the raw request bytes for one stage input, as go-ftw sends them.
pub fn build(input: &Input) -> Result<Vec<u8>, BuildError> {
    if let Some(enc) = &input.encoded_request {
        // Go's decoder skips CR and LF inside the text.
        let cleaned: String = enc.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        return base64::engine::general_purpose::STANDARD
            .decode(cleaned.trim())
            .map_err(|e| BuildError::Base64(e.to_string()));
    }
    let method = input.method.as_deref().unwrap_or("GET");
    let uri = input.uri.as_deref().unwrap_or("/");
    let version = input.version.as_deref().unwrap_or("HTTP/1.1");
    let autocomplete = input.autocomplete_headers.unwrap_or(true);
    let mut headers = HeaderList::default();
    match &input.headers {
        Some(Headers::Map(map)) => {
            for (k, v) in map {
                headers.add(k, &v.text());
            }
        }
        Some(Headers::List(list)) => {
            for h in list {
                headers.add(&h.name, &h.value.text());
            }
        }
        None => {}
    }
    let mut data: Vec<u8> = match &input.data {
        Some(Data::Text(t)) => t.as_bytes().to_vec(),
        Some(Data::Lines(lines)) => lines.join("\r\n").into_bytes(),
        None => Vec::new(),
    };

    let mut out = format!("{method} {uri} {version}\r\n").into_bytes();
    if !data.is_empty() && autocomplete {
        if !headers.has_any("Content-Type") {
            headers.add("Content-Type", "application/x-www-form-urlencoded");
        }
        if headers.any_value("Content-Type", |v| {
            v.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        }) {
            data = encode_data(&data);
        }
    }
    if headers.any_value("Content-Type", |v| {
        v.to_lowercase().contains("multipart/form-data;")
    }) {
        data = replace_lf_with_crlf(&data);
    }
    if autocomplete {
        if !headers.has_any("Connection") {
            headers.add("Connection", "close");
        }
        // go-ftw's regex `^POST|PUT|PATCH|DELETE$`, alternation precedence included.
        let body_method = method.starts_with("POST")
            || method.contains("PUT")
            || method.contains("PATCH")
            || method.ends_with("DELETE");
        if !headers.has_any("Content-Length") && (!data.is_empty() || body_method) {
            headers.add("Content-Length", &data.len().to_string());
        }
    }
    for (n, v) in &headers.0 {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&data);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scalar;
    use std::collections::BTreeMap;

    fn input(method: &str, headers: &[(&str, &str)], data: Option<&str>) -> Input {
        let map: BTreeMap<String, Scalar> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), Scalar::Str(v.to_string())))
            .collect();
        Input {
            method: Some(method.into()),
            uri: Some("/p?a=1".into()),
            headers: Some(Headers::Map(map)),
            data: data.map(|d| Data::Text(d.into())),
            ..Input::default()
        }
    }

    #[test]
    fn get_sorted_headers_and_connection_close() {
        let raw = build(&input(
            "GET",
            &[("User-Agent", "x"), ("Host", "localhost")],
            None,
        ))
        .unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "GET /p?a=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: x\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn post_gets_urlencoded_and_escaped() {
        let raw = build(&input("POST", &[("Host", "h")], Some("a=b c&d=<x>"))).unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "POST /p?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Connection: close\r\nContent-Length: 15\r\n\r\na=b+c&d=%3Cx%3E"
        );
        // Already escaped data is sent as is.
        let raw = build(&input("POST", &[("Host", "h")], Some("a=%3C"))).unwrap();
        assert!(raw.ends_with(b"\r\n\r\na=%3C"));
        // Empty POST still gets Content-Length: 0.
        let raw = build(&input("POST", &[("Host", "h")], None)).unwrap();
        assert!(
            String::from_utf8(raw)
                .unwrap()
                .contains("Content-Length: 0\r\n")
        );
    }

    #[test]
    fn other_content_type_not_escaped_and_multipart_crlf() {
        let raw = build(&input(
            "POST",
            &[("content-type", "application/json")],
            Some("{\"a\": 1}"),
        ))
        .unwrap();
        assert!(raw.ends_with(b"\r\n\r\n{\"a\": 1}"));
        let raw = build(&input(
            "POST",
            &[("Content-Type", "multipart/form-data; boundary=x")],
            Some("--x\nA: b\n\nv\n--x--\n"),
        ))
        .unwrap();
        assert!(raw.ends_with(b"Content-Length: 23\r\n\r\n--x\r\nA: b\r\n\r\nv\r\n--x--\r\n"));
    }

    #[test]
    fn no_autocomplete_and_encoded() {
        let mut i = input("POST", &[("Host", "h")], Some("a b"));
        i.autocomplete_headers = Some(false);
        assert_eq!(
            build(&i).unwrap(),
            b"POST /p?a=1 HTTP/1.1\r\nHost: h\r\n\r\na b".to_vec()
        );
        let i = Input {
            encoded_request: Some("R0VUIC8g\nSFRUUC8xLjENCg0K".into()),
            ..Input::default()
        };
        assert_eq!(build(&i).unwrap(), b"GET / HTTP/1.1\r\n\r\n".to_vec());
    }

    #[test]
    fn query_escape_like_go() {
        assert_eq!(query_escape(b"a b/&=~_.-\xff"), "a+b%2F%26%3D~_.-%FF");
    }
}
