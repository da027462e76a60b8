//! Emulation of the CRS test backend (albedo) behind nginx.
//!
//! `/reflect` answers with the status, headers and body described by the request's JSON body
//! (`{"status": 200, "headers": {..}, "body": "..", "encodedBody": "<base64>"}`); every other
//! path answers 200 with a small text body.

use base64::Engine as _;

use crate::http::HttpRequest;

/// A backend response as the WAF sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Go's `http.DetectContentType`, reduced to the types that matter for the CI MIME list.
fn sniff(body: &[u8]) -> &'static str {
    let trimmed: &[u8] = {
        let n = body
            .iter()
            .take_while(|b| matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
            .count();
        body.get(n..).unwrap_or_default()
    };
    let html_tags: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for tag in html_tags {
        if trimmed.len() > tag.len()
            && trimmed
                .get(..tag.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(tag))
            && matches!(trimmed.get(tag.len()), Some(b' ' | b'>'))
        {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let binary = body
        .iter()
        .take(512)
        .any(|b| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

fn path_of(uri: &[u8]) -> &[u8] {
    let end = uri
        .iter()
        .position(|b| *b == b'?' || *b == b'#')
        .unwrap_or(uri.len());
    uri.get(..end).unwrap_or_default()
}

/// The backend's answer to `req`.
pub fn respond(req: &HttpRequest) -> Response {
    let mut status = 200u16;
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut body: Vec<u8> = b"Hello from the CRS test backend\n".to_vec();
    if path_of(&req.uri) == b"/reflect"
        && let Ok(spec) = serde_json::from_slice::<serde_json::Value>(&req.body)
    {
        body = Vec::new();
        if let Some(s) = spec.get("status").and_then(serde_json::Value::as_u64)
            && (100..1000).contains(&s)
        {
            status = u16::try_from(s).unwrap_or(200);
        }
        if let Some(map) = spec.get("headers").and_then(serde_json::Value::as_object) {
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                headers.push((k.as_bytes().to_vec(), v.into_bytes()));
            }
        }
        if let Some(b) = spec.get("body").and_then(serde_json::Value::as_str) {
            body = b.as_bytes().to_vec();
        }
        if let Some(b) = spec.get("encodedBody").and_then(serde_json::Value::as_str)
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b.trim())
        {
            body = decoded;
        }
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(b"content-type"))
    {
        headers.push((b"Content-Type".to_vec(), sniff(&body).as_bytes().to_vec()));
    }
    if req.method == b"HEAD" {
        body.clear();
    }
    headers.push((
        b"Content-Length".to_vec(),
        body.len().to_string().into_bytes(),
    ));
    Response {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, body: &str) -> HttpRequest {
        HttpRequest {
            method: b"POST".to_vec(),
            uri: uri.as_bytes().to_vec(),
            protocol: b"HTTP/1.1".to_vec(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reflect_and_default() {
        let r = respond(&req(
            "/reflect",
            r#"{"status": 404, "headers": {"X-A": "b"}, "body": "<html> hi"}"#,
        ));
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"<html> hi");
        assert!(r.headers.contains(&(b"X-A".to_vec(), b"b".to_vec())));
        assert!(r.headers.contains(&(
            b"Content-Type".to_vec(),
            b"text/html; charset=utf-8".to_vec()
        )));
        let r = respond(&req("/reflect", r#"{"encodedBody": "aGk="}"#));
        assert_eq!(r.body, b"hi");
        let r = respond(&req("/get?x=1", ""));
        assert_eq!(r.status, 200);
        assert!(r.headers.contains(&(
            b"Content-Type".to_vec(),
            b"text/plain; charset=utf-8".to_vec()
        )));
    }
}
