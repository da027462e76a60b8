//! Client address resolution and the headers sent upstream.

use std::net::IpAddr;

use config::model::GlobalSettings;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use rand::RngCore;

/// `X-Forwarded-For` and friends (not in `http::header`).
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub(crate) static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub(crate) static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub(crate) static X_SCHEME: HeaderName = HeaderName::from_static("x-scheme");

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Hop-by-hop headers never forwarded (RFC 9110 7.6.1 plus legacy ones, and `Upgrade`).
static HOP_BY_HOP: [&HeaderName; 9] = [
    &header::CONNECTION,
    &KEEP_ALIVE,
    &PROXY_CONNECTION,
    &header::PROXY_AUTHENTICATE,
    &header::PROXY_AUTHORIZATION,
    &header::TE,
    &header::TRAILER,
    &header::TRANSFER_ENCODING,
    &header::UPGRADE,
];

/// What the gateway knows about the connection a request arrived on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnInfo {
    /// The TCP peer, or the source from the PROXY protocol header.
    pub(crate) peer: std::net::SocketAddr,
    /// The local listener address (its port is `X-Forwarded-Port`).
    pub(crate) local: std::net::SocketAddr,
    /// Whether the connection is TLS.
    pub(crate) tls: bool,
    /// Negotiated TLS version (`TLSv1.3`), for the access log.
    pub(crate) tls_version: Option<&'static str>,
}

/// The client as seen after trusting (or not) forwarding headers.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// True client address.
    pub(crate) ip: IpAddr,
    /// Whether the peer is a trusted proxy whose `X-Forwarded-*` headers are honoured.
    pub(crate) trusted_peer: bool,
    /// Scheme the client used (`http`/`https`), possibly from a trusted `X-Forwarded-Proto`.
    pub(crate) scheme: &'static str,
}

/// Resolves the true client address and scheme.
///
/// The peer is trusted only when `use_forwarded_headers` is on and it lies in
/// `proxy_real_ip_cidr`. `X-Forwarded-For` is then walked from the right, skipping trusted
/// addresses (nginx `real_ip_recursive on`); `X-Real-IP` is the fallback.
pub(crate) fn resolve_client(
    conn: &ConnInfo,
    headers: &HeaderMap,
    global: &GlobalSettings,
) -> Client {
    let peer_ip = conn.peer.ip();
    let own_scheme = if conn.tls { "https" } else { "http" };
    let trusted = |ip: &IpAddr| global.proxy_real_ip_cidr.iter().any(|n| n.contains(ip));
    if !(global.use_forwarded_headers && trusted(&peer_ip)) {
        return Client {
            ip: peer_ip,
            trusted_peer: false,
            scheme: own_scheme,
        };
    }
    let mut ip = peer_ip;
    let xff: Vec<IpAddr> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_ip)
        .collect();
    if xff.is_empty() {
        if let Some(real) = headers
            .get(&X_REAL_IP)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_ip)
        {
            ip = real;
        }
    } else {
        ip = xff
            .iter()
            .rev()
            .find(|a| !trusted(a))
            .or_else(|| xff.first())
            .copied()
            .unwrap_or(peer_ip);
    }
    let scheme = match headers.get(&X_FORWARDED_PROTO).map(HeaderValue::as_bytes) {
        Some(b) if b.eq_ignore_ascii_case(b"https") => "https",
        Some(b) if b.eq_ignore_ascii_case(b"http") => "http",
        _ => own_scheme,
    };
    Client {
        ip,
        trusted_peer: true,
        scheme,
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    // `[v6]:port` or `v4:port`.
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    None
}

/// Host name of the request (lower-case, port stripped) and the raw `Host` value.
pub(crate) fn request_host(uri: &http::Uri, headers: &HeaderMap) -> (String, Option<String>) {
    let raw = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
    let host = raw.as_deref().map(strip_port).unwrap_or_default();
    (host.to_ascii_lowercase(), raw)
}

fn strip_port(h: &str) -> &str {
    if let Some(rest) = h.strip_prefix('[') {
        // IPv6 literal: keep the brackets.
        return match rest.find(']') {
            Some(end) => h.get(..end + 2).unwrap_or(h),
            None => h,
        };
    }
    match h.rfind(':') {
        Some(i) => h.get(..i).unwrap_or(h),
        None => h,
    }
}

/// Removes hop-by-hop headers, including those named in `Connection`.
///
/// One scan over the names finds which are present (usually none in requests, `Connection`
/// in responses); only those are removed, without parsing or hashing the others.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut present = [false; HOP_BY_HOP.len()];
    let mut any = false;
    for name in headers.keys() {
        if let Some(i) = HOP_BY_HOP.iter().position(|h| *h == name)
            && let Some(p) = present.get_mut(i)
        {
            *p = true;
            any = true;
        }
    }
    if !any {
        return;
    }
    // Names listed in `Connection` (`keep-alive` and the like are removed below anyway);
    // the usual lone `keep-alive` or `close` names none.
    let lists_names = || {
        headers.get_all(header::CONNECTION).iter().any(|v| {
            let v = v.as_bytes();
            !(v.eq_ignore_ascii_case(b"keep-alive") || v.eq_ignore_ascii_case(b"close"))
        })
    };
    if present.first() == Some(&true) && lists_names() {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|n| {
                !HOP_BY_HOP
                    .iter()
                    .any(|h| h.as_str().eq_ignore_ascii_case(n))
            })
            .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
            .collect();
        for n in named {
            headers.remove(n);
        }
    }
    for (name, hit) in HOP_BY_HOP.iter().zip(present) {
        if hit {
            headers.remove(*name);
        }
    }
}

/// `ip` as a header value (its `Display` text), formatted without `fmt` for IPv4.
pub(crate) fn ip_value(ip: IpAddr) -> HeaderValue {
    let mut buf = [0u8; 15];
    let text: &[u8] = match ip {
        IpAddr::V4(v4) => {
            let len = write_v4(v4, &mut buf);
            buf.get(..len).unwrap_or_default()
        }
        IpAddr::V6(_) => {
            return HeaderValue::try_from(ip.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static(""));
        }
    };
    // Invariant: digits and dots are valid header bytes.
    HeaderValue::from_bytes(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Writes the dotted quad of `ip` into `buf` (15 bytes suffice), returns its length.
pub(crate) fn write_v4(ip: std::net::Ipv4Addr, buf: &mut [u8; 15]) -> usize {
    let mut n = 0;
    let mut push = |b: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
            n += 1;
        }
    };
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            push(b'.');
        }
        if o >= 100 {
            push(b'0' + o / 100);
        }
        if o >= 10 {
            push(b'0' + o / 10 % 10);
        }
        push(b'0' + o % 10);
    }
    n
}

/// `addr` as its `Display` text (`ip:port`, `[v6]:port`), formatted without `fmt` for IPv4.
pub(crate) fn socket_addr_string(addr: std::net::SocketAddr) -> String {
    match addr {
        std::net::SocketAddr::V4(v4) => {
            let mut buf = [0u8; 15];
            let len = write_v4(*v4.ip(), &mut buf);
            let mut s = String::with_capacity(21);
            for &b in buf.get(..len).unwrap_or_default() {
                s.push(char::from(b));
            }
            s.push(':');
            let port = v4.port();
            let mut digits = [0u8; 5];
            let mut i = digits.len();
            let mut p = port;
            loop {
                i -= 1;
                if let Some(d) = digits.get_mut(i) {
                    *d = b'0' + u8::try_from(p % 10).unwrap_or(0);
                }
                p /= 10;
                if p == 0 || i == 0 {
                    break;
                }
            }
            for &b in digits.get(i..).unwrap_or_default() {
                s.push(char::from(b));
            }
            s
        }
        std::net::SocketAddr::V6(_) => addr.to_string(),
    }
}

/// A fresh request id: 32 lower-case hex characters (as ingress-nginx's `$req_id`).
pub(crate) fn new_request_id() -> HeaderValue {
    let out = request_id_bytes();
    // Invariant: the bytes are ASCII hex digits, always a valid header value.
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// 16 random bytes as 32 lower-case hex digits.
fn request_id_bytes() -> [u8; 32] {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let mut out = [0u8; 32];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in raw.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    out
}

thread_local! {
    /// The last listener port formatted for `X-Forwarded-Port` (a shared value: cloning it
    /// neither allocates nor formats).
    static PORT_VALUE: std::cell::RefCell<Option<(u16, HeaderValue)>> =
        const { std::cell::RefCell::new(None) };
}

/// `port` as a header value, reused while the port stays the same.
fn port_value(port: u16) -> HeaderValue {
    PORT_VALUE.with(|cell| {
        let Ok(mut cached) = cell.try_borrow_mut() else {
            return HeaderValue::from(port);
        };
        match &*cached {
            Some((p, v)) if *p == port => v.clone(),
            _ => {
                let v = HeaderValue::from(port);
                *cached = Some((port, v.clone()));
                v
            }
        }
    })
}

/// Sets the `X-Forwarded-*`, `X-Real-IP` and `X-Request-ID` headers for the upstream request.
/// Returns the request id used (empty if the client sent one that is not visible ASCII).
pub(crate) fn set_forwarded(
    headers: &mut HeaderMap,
    conn: &ConnInfo,
    client: &Client,
    raw_host: Option<&str>,
) -> String {
    // Room for the up to seven headers set here: one growth of the map instead of several.
    headers.reserve(7);
    let client_ip = ip_value(client.ip);
    let xff = if client.trusted_peer {
        let peer = conn.peer.ip().to_string();
        let prior: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let xff = if prior.is_empty() {
            peer
        } else {
            format!("{}, {peer}", prior.join(", "))
        };
        HeaderValue::try_from(xff).ok()
    } else {
        Some(client_ip.clone())
    };
    if let Some(v) = xff {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    if !client_ip.is_empty() {
        headers.insert(X_REAL_IP.clone(), client_ip);
    }
    let keep_incoming = |h: &HeaderMap, n: &HeaderName| client.trusted_peer && h.contains_key(n);
    if !keep_incoming(headers, &X_FORWARDED_PROTO) {
        headers.insert(
            X_FORWARDED_PROTO.clone(),
            HeaderValue::from_static(client.scheme),
        );
    }
    headers.insert(X_SCHEME.clone(), HeaderValue::from_static(client.scheme));
    if !keep_incoming(headers, &X_FORWARDED_HOST) {
        // The `Host` value itself when it is what `raw_host` came from (a shared clone).
        let same_host = headers
            .get(header::HOST)
            .filter(|v| raw_host.is_some_and(|h| h.as_bytes() == v.as_bytes()))
            .cloned();
        if let Some(v) = same_host.or_else(|| raw_host.and_then(|h| HeaderValue::from_str(h).ok()))
        {
            headers.insert(X_FORWARDED_HOST.clone(), v);
        } else {
            headers.remove(&X_FORWARDED_HOST);
        }
    }
    if !keep_incoming(headers, &X_FORWARDED_PORT) {
        headers.insert(X_FORWARDED_PORT.clone(), port_value(conn.local.port()));
    }
    match headers.get(&X_REQUEST_ID) {
        Some(v) if !v.is_empty() => v.to_str().unwrap_or_default().to_owned(),
        _ => {
            let id = request_id_bytes();
            // Invariant: hex digits are a valid header value.
            if let Ok(v) = HeaderValue::from_bytes(&id) {
                headers.insert(X_REQUEST_ID.clone(), v);
            }
            // Hex digits are ASCII: one copy, no per-char UTF-8 encoding.
            String::from_utf8(id.to_vec()).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_is_32_hex() {
        let id = new_request_id();
        let s = id.to_str().unwrap();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn addresses_format_as_display() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.2.30.199",
            "::1",
            "2001:db8::7",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_value(ip).to_str().unwrap(), ip.to_string());
        }
        for sa in [
            "127.0.0.1:80",
            "1.22.133.4:65535",
            "9.9.9.9:0",
            "[::1]:8080",
        ] {
            let sa: std::net::SocketAddr = sa.parse().unwrap();
            assert_eq!(socket_addr_string(sa), sa.to_string());
        }
    }

    #[test]
    fn hop_by_hop_headers_are_stripped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            "keep-alive, X-Private, close".parse().unwrap(),
        );
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-private", "1".parse().unwrap());
        h.insert("proxy-connection", "x".parse().unwrap());
        h.insert(header::TE, "trailers".parse().unwrap());
        h.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert(header::UPGRADE, "websocket".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        h.insert(header::HOST, "a".parse().unwrap());
        strip_hop_by_hop(&mut h);
        let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["content-type", "host"]);
        let mut plain = HeaderMap::new();
        plain.insert(header::HOST, "a".parse().unwrap());
        plain.insert(header::PROXY_AUTHORIZATION, "b".parse().unwrap());
        strip_hop_by_hop(&mut plain);
        assert_eq!(plain.len(), 1);
    }

    #[test]
    fn strip_port_handles_v6() {
        assert_eq!(strip_port("a.example:8080"), "a.example");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("plain"), "plain");
    }

    #[test]
    fn xff_recursive_skips_trusted() {
        let global = GlobalSettings {
            use_forwarded_headers: true,
            proxy_real_ip_cidr: vec!["10.0.0.0/8".parse().unwrap()],
            ..GlobalSettings::default()
        };
        let conn = ConnInfo {
            peer: "10.1.1.1:5000".parse().unwrap(),
            local: "127.0.0.1:80".parse().unwrap(),
            tls: false,
            tls_version: None,
        };
        let mut h = HeaderMap::new();
        h.insert(
            &X_FORWARDED_FOR,
            "1.2.3.4, 5.6.7.8, 10.2.2.2".parse().unwrap(),
        );
        let c = resolve_client(&conn, &h, &global);
        assert_eq!(c.ip.to_string(), "5.6.7.8");
        let untrusted = ConnInfo {
            peer: "9.9.9.9:5000".parse().unwrap(),
            ..conn
        };
        let c = resolve_client(&untrusted, &h, &global);
        assert_eq!(c.ip.to_string(), "9.9.9.9");
    }
}
