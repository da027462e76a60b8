//! Parse raw request bytes the way nginx does before handing them to ModSecurity v3
//! (ModSecurity-nginx): requests nginx refuses never reach the WAF and get nginx's status.
//!
//! Emulated nginx behaviour (defaults: `ignore_invalid_headers on`,
//! `underscores_in_headers off`, 8 KiB header buffers):
//! - request line: method of `A-Z _ -`, target starting with `/` or an absolute
//!   `scheme://host[:port]` form (ModSecurity then sees only the path, `/` when there is none),
//!   spaces inside the target allowed, version `HTTP/x.y`; `HTTP/2+` -> 505; anything else -> 400;
//! - headers: names with characters other than letters, digits and `-` are dropped silently;
//!   a line without `:` -> 400; missing or duplicate `Host` (HTTP/1.1) -> 400; duplicate or
//!   invalid `Content-Length` -> 400; `Content-Length` with `Transfer-Encoding` -> 400; a
//!   transfer coding other than `chunked` -> 501;
//! - body: `Content-Length` bytes or the decoded chunked body (malformed chunks -> 400).

/// A request as ModSecurity-nginx passes it to the WAF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method as sent.
    pub method: Vec<u8>,
    /// Request target as ModSecurity sees it (`r->unparsed_uri`).
    pub uri: Vec<u8>,
    /// Protocol, e.g. `HTTP/1.1`.
    pub protocol: Vec<u8>,
    /// Headers nginx kept, in order, values trimmed.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Decoded body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// First header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// Outcome of parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// nginx accepts the request and passes it to ModSecurity.
    Accepted(HttpRequest),
    /// nginx answers with this status itself; the WAF never sees the request.
    Rejected(u16),
}

const MAX_LINE: usize = 8192;

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Split off one line ending in LF (CR before it removed). `None` when no LF is left.
fn take_line(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let nl = buf.iter().position(|b| *b == b'\n')?;
    let line = buf.get(..nl).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, buf.get(nl + 1..).unwrap_or_default()))
}

fn parse_version(v: &[u8]) -> Result<(), u16> {
    let Some(rest) = v.strip_prefix(b"HTTP/") else {
        return Err(400);
    };
    let dot = rest.iter().position(|b| *b == b'.').ok_or(400u16)?;
    let (major, minor) = (
        rest.get(..dot).unwrap_or_default(),
        rest.get(dot + 1..).unwrap_or_default(),
    );
    if major.is_empty()
        || minor.is_empty()
        || !major.iter().all(u8::is_ascii_digit)
        || !minor.iter().all(u8::is_ascii_digit)
    {
        return Err(400);
    }
    if major.len() > 3 || minor.len() > 3 {
        return Err(400);
    }
    let major: u32 = std::str::from_utf8(major)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(400u16)?;
    if major > 1 {
        return Err(505);
    }
    if major == 0 {
        return Err(400);
    }
    Ok(())
}

/// The path part of the request target as nginx records it for ModSecurity.
fn target(uri: &[u8]) -> Result<Vec<u8>, u16> {
    match uri.first() {
        Some(b'/') => {}
        Some(c) if c.is_ascii_alphabetic() => {
            // scheme://host[:port][/path]
            let colon = uri.iter().position(|b| *b == b':').ok_or(400u16)?;
            let scheme = uri.get(..colon).unwrap_or_default();
            if !scheme
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
            {
                return Err(400);
            }
            let rest = uri.get(colon..).unwrap_or_default();
            let Some(after) = rest.strip_prefix(b"://") else {
                return Err(400);
            };
            if after.is_empty() {
                return Err(400);
            }
            return Ok(match after.iter().position(|b| *b == b'/' || *b == b'?') {
                Some(i) if after.get(i) == Some(&b'/') => {
                    after.get(i..).unwrap_or_default().to_vec()
                }
                Some(_) => return Err(400),
                None => b"/".to_vec(),
            });
        }
        _ => return Err(400),
    }
    if uri.contains(&0) {
        return Err(400);
    }
    Ok(uri.to_vec())
}

fn valid_header_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

fn decode_chunked(mut buf: &[u8]) -> Result<Vec<u8>, u16> {
    let mut out = Vec::new();
    loop {
        let (line, rest) = take_line(buf).ok_or(400u16)?;
        let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
        let size_text = trim(size_text);
        if size_text.is_empty()
            || size_text.len() > 16
            || !size_text.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(400);
        }
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(400u16)?;
        if size == 0 {
            return Ok(out);
        }
        let data = rest.get(..size).ok_or(400u16)?;
        out.extend_from_slice(data);
        let after = rest.get(size..).unwrap_or_default();
        buf = after
            .strip_prefix(b"\r\n")
            .or_else(|| after.strip_prefix(b"\n"))
            .ok_or(400u16)?;
    }
}

/// Parse raw request bytes like nginx.
pub fn parse(raw: &[u8]) -> Parsed {
    match parse_inner(raw) {
        Ok(r) => Parsed::Accepted(r),
        Err(code) => Parsed::Rejected(code),
    }
}

fn parse_inner(raw: &[u8]) -> Result<HttpRequest, u16> {
    let mut buf = raw;
    while let [b'\r' | b'\n', rest @ ..] = buf {
        buf = rest;
    }
    let (line, mut rest) = take_line(buf).ok_or(400u16)?;
    if line.len() > MAX_LINE {
        return Err(414);
    }
    let sp = line.iter().position(|b| *b == b' ').ok_or(400u16)?;
    let method = line.get(..sp).unwrap_or_default();
    if method.is_empty()
        || !method
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-')
    {
        return Err(400);
    }
    let after_method = trim(line.get(sp..).unwrap_or_default());
    // nginx >= 1.21.1 rejects spaces and control characters inside the request target.
    let (raw_uri, version) = match after_method.iter().position(|b| *b == b' ') {
        Some(i) => (
            after_method.get(..i).unwrap_or_default(),
            trim(after_method.get(i + 1..).unwrap_or_default()),
        ),
        None => (after_method, &b""[..]),
    };
    if raw_uri.iter().any(|b| *b < 0x20 || *b == 0x7f) {
        return Err(400);
    }
    let uri = target(raw_uri)?;
    if version.is_empty() {
        // HTTP/0.9 simple request: GET only, no headers, answered without a status line.
        if method != b"GET" {
            return Err(400);
        }
        return Ok(HttpRequest {
            method: method.to_vec(),
            uri,
            protocol: b"HTTP/0.9".to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    parse_version(version)?;
    let is_http10 = version == b"HTTP/1.0";

    let mut headers = Vec::new();
    loop {
        let Some((hline, next)) = take_line(rest) else {
            // Headers never terminated: nginx would time out.
            return Err(400);
        };
        rest = next;
        if hline.is_empty() {
            break;
        }
        if hline.len() > MAX_LINE {
            return Err(400);
        }
        let Some(colon) = hline.iter().position(|b| *b == b':') else {
            return Err(400);
        };
        let name = hline.get(..colon).unwrap_or_default();
        if name.contains(&0) {
            return Err(400);
        }
        if !valid_header_name(name) {
            continue;
        }
        let value = trim(hline.get(colon + 1..).unwrap_or_default());
        if value.contains(&b'\r') {
            // A CR not followed by LF ends the header line badly.
            return Err(400);
        }
        headers.push((name.to_vec(), value.to_vec()));
    }

    let count = |n: &str| {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(n.as_bytes()))
            .count()
    };
    let hosts = count("host");
    if hosts > 1 || (hosts == 0 && !is_http10) {
        return Err(400);
    }
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(b"host") && v.is_empty())
    {
        return Err(400);
    }
    let cls: Vec<&[u8]> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(b"content-length"))
        .map(|(_, v)| v.as_slice())
        .collect();
    if cls.len() > 1 {
        return Err(400);
    }
    let te = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"transfer-encoding"))
        .map(|(_, v)| v.clone());
    let body = if let Some(te) = te {
        if is_http10 || !cls.is_empty() {
            return Err(400);
        }
        if !te.eq_ignore_ascii_case(b"chunked") {
            return Err(501);
        }
        decode_chunked(rest)?
    } else if let Some(cl) = cls.first() {
        if cl.is_empty() || cl.len() > 18 || !cl.iter().all(u8::is_ascii_digit) {
            return Err(400);
        }
        let n: usize = std::str::from_utf8(cl)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(400u16)?;
        rest.get(..n.min(rest.len())).unwrap_or_default().to_vec()
    } else {
        Vec::new()
    };
    Ok(HttpRequest {
        method: method.to_vec(),
        uri,
        protocol: version.to_vec(),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> HttpRequest {
        match parse(raw.as_bytes()) {
            Parsed::Accepted(r) => r,
            Parsed::Rejected(c) => panic!("rejected {c}: {raw:?}"),
        }
    }

    fn code(raw: &str) -> u16 {
        match parse(raw.as_bytes()) {
            Parsed::Accepted(_) => 0,
            Parsed::Rejected(c) => c,
        }
    }

    #[test]
    fn basic_get_and_post() {
        let r = ok("GET /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent:  ua \r\n\r\n");
        assert_eq!(r.method, b"GET");
        assert_eq!(r.uri, b"/a?b=c");
        assert_eq!(r.protocol, b"HTTP/1.1");
        assert_eq!(r.header("user-agent"), Some(&b"ua"[..]));
        let r = ok("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdef");
        assert_eq!(r.body, b"abc");
        let r = ok(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n",
        );
        assert_eq!(r.body, b"Hi CRS");
    }

    #[test]
    fn nginx_rejections() {
        assert_eq!(code("     GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(code("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(code("GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(code("GET / HTTP/1.0\r\n\r\n"), 0);
        assert_eq!(code("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
        assert_eq!(code("GET / HTTP/1.1a\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(code("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(
            code("CONNECT www.example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
            400
        );
        assert_eq!(code("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"), 400);
        assert_eq!(code("GET / HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n"), 400);
        assert_eq!(
            code(
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            400
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
            400
        );
    }

    #[test]
    fn invalid_header_names_dropped_and_absolute_uri() {
        let r = ok(
            "GET http://h/p?q HTTP/1.1\r\nHost: x\r\nX_Filename: a\r\nX.Y: b\r\nX-Ok: c\r\n\r\n",
        );
        assert_eq!(r.uri, b"/p?q");
        assert_eq!(r.headers.len(), 2);
        assert_eq!(ok("GET http://h HTTP/1.1\r\nHost: x\r\n\r\n").uri, b"/");
        assert_eq!(code("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(code("GET / HTTP/1.1\r\nHost: \r\n\r\n"), 400);
        assert_eq!(code("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n"), 400);
        assert_eq!(ok("GET / \r\nHost: x\r\n\r\n").protocol, b"HTTP/0.9");
        assert_eq!(code("POST /\r\n\r\n"), 400);
        assert_eq!(
            ok("GET /x#frag HTTP/1.1\r\nHost: x\r\n\r\n").uri,
            b"/x#frag"
        );
    }

    #[test]
    fn never_panics() {
        let alphabet = b"GET /\r\n:H1.0T";
        let mut buf = Vec::new();
        for n in 0..50_000u32 {
            buf.clear();
            let mut x = n;
            for _ in 0..6 {
                buf.push(alphabet[(x as usize) % alphabet.len()]);
                x /= alphabet.len() as u32;
            }
            let _ = parse(&buf);
        }
    }
}
