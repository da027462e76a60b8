//! PROXY protocol v1 (text) and v2 (binary) on the listeners (`use-proxy-protocol`), as
//! sent by cloud load balancers, HAProxy and nginx `proxy_protocol on`.
//!
//! [`read_proxy_header`] reads the header from a fresh `TcpStream` before anything else
//! (TLS or HTTP), under a timeout, consuming exactly the header's bytes: what follows is
//! left in the socket for the next layer. A connection without a valid header gets an
//! error and must be closed by the caller; there is no fallback to the raw peer address
//! when PROXY is required.
//!
//! Limits: a v1 line is at most 107 bytes (the specification's maximum); a v2 header at
//! most 16 + [`MAX_V2_PAYLOAD`] bytes. Supported: v1 `TCP4`, `TCP6`, `UNKNOWN`; v2 `LOCAL`
//! and `PROXY` over `AF_INET`/`AF_INET6` (stream or datagram), `AF_UNSPEC` and `AF_UNIX`
//! (no addresses). TLVs are skipped. [`parse`] is a pure function that never panics,
//! whatever the bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The 12-byte signature that starts a v2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v1 line, `\r\n` included (specification section 2.1).
pub const V1_MAX_LEN: usize = 107;
/// The largest v2 payload (addresses + TLVs) accepted.
pub const MAX_V2_PAYLOAD: usize = 2048;
/// The default time allowed for the whole header to arrive.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

const V1_PREFIX: &[u8] = b"PROXY ";

/// Protocol version of a received header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    /// Text header.
    V1,
    /// Binary header.
    V2,
}

/// A parsed PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Which version was received.
    pub version: ProxyVersion,
    /// The original client address; `None` for v1 `UNKNOWN`, v2 `LOCAL` (health checks
    /// of the load balancer) and address families without IP addresses.
    pub source: Option<SocketAddr>,
    /// The address the client connected to on the load balancer.
    pub destination: Option<SocketAddr>,
}

impl ProxyHeader {
    /// The client address to use: the header's source when there is one, else the peer.
    pub fn client_addr(&self, peer: SocketAddr) -> SocketAddr {
        self.source.unwrap_or(peer)
    }
}

/// Why a PROXY header was refused. The connection must be closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The header did not arrive in time.
    #[error("PROXY header not received within {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection before the header was complete.
    #[error("connection closed before the PROXY header was complete")]
    Closed,
    /// Reading the socket failed.
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
    /// The connection does not start with a PROXY v1 or v2 signature.
    #[error("connection does not start with a PROXY protocol header")]
    NotProxy,
    /// The header exceeds the size limits.
    #[error("PROXY header too long")]
    TooLong,
    /// A malformed v1 line.
    #[error("invalid PROXY v1 header: {0}")]
    InvalidV1(&'static str),
    /// A malformed v2 header.
    #[error("invalid PROXY v2 header: {0}")]
    InvalidV2(&'static str),
}

/// Result of [`parse`] on a buffer that may hold only the beginning of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A complete header that used the first `len` bytes.
    Complete {
        /// The header.
        header: ProxyHeader,
        /// Bytes consumed.
        len: usize,
    },
    /// Still a valid beginning; more bytes are needed.
    Incomplete,
}

/// Parses a PROXY header at the start of `buf`. Never panics; rejects as early as the
/// bytes allow (a prefix that cannot become a valid header is an error, not `Incomplete`).
pub fn parse(buf: &[u8]) -> Result<Parsed, ProxyError> {
    let Some(&first) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    match first {
        b'\r' => parse_v2(buf),
        b'P' => parse_v1(buf),
        _ => Err(ProxyError::NotProxy),
    }
}

fn is_prefix_of(buf: &[u8], full: &[u8]) -> bool {
    let n = buf.len().min(full.len());
    buf.get(..n) == full.get(..n)
}

fn parse_v1(buf: &[u8]) -> Result<Parsed, ProxyError> {
    if !is_prefix_of(buf, V1_PREFIX) {
        return Err(ProxyError::NotProxy);
    }
    let window = buf.get(..buf.len().min(V1_MAX_LEN)).unwrap_or(buf);
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        if window.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
            return Err(ProxyError::InvalidV1("non-printable byte"));
        }
        return if buf.len() >= V1_MAX_LEN {
            Err(ProxyError::TooLong)
        } else {
            Ok(Parsed::Incomplete)
        };
    };
    let line = window.get(..cr).unwrap_or_default();
    if line.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
        return Err(ProxyError::InvalidV1("non-printable byte"));
    }
    match buf.get(cr + 1) {
        None => {
            return if cr + 1 >= V1_MAX_LEN {
                Err(ProxyError::TooLong)
            } else {
                Ok(Parsed::Incomplete)
            };
        }
        Some(b'\n') => {}
        Some(_) => return Err(ProxyError::InvalidV1("CR not followed by LF")),
    }
    let len = cr + 2;
    if len > V1_MAX_LEN {
        return Err(ProxyError::TooLong);
    }
    // Invariant: `line` is printable ASCII, checked above.
    let text = std::str::from_utf8(line).map_err(|_| ProxyError::InvalidV1("not ASCII"))?;
    let mut fields = text.split(' ');
    let _proxy = fields.next();
    let proto = fields
        .next()
        .ok_or(ProxyError::InvalidV1("missing protocol"))?;
    if proto == "UNKNOWN" {
        // The rest of the line is ignored by specification.
        return Ok(Parsed::Complete {
            header: ProxyHeader {
                version: ProxyVersion::V1,
                source: None,
                destination: None,
            },
            len,
        });
    }
    let rest: Vec<&str> = fields.collect();
    let [src, dst, sport, dport] = rest.as_slice() else {
        return Err(ProxyError::InvalidV1("expected 4 address fields"));
    };
    let (src, dst): (IpAddr, IpAddr) = match proto {
        "TCP4" => (
            IpAddr::V4(
                src.parse::<Ipv4Addr>()
                    .map_err(|_| ProxyError::InvalidV1("bad IPv4 source"))?,
            ),
            IpAddr::V4(
                dst.parse::<Ipv4Addr>()
                    .map_err(|_| ProxyError::InvalidV1("bad IPv4 destination"))?,
            ),
        ),
        "TCP6" => (
            IpAddr::V6(
                src.parse::<Ipv6Addr>()
                    .map_err(|_| ProxyError::InvalidV1("bad IPv6 source"))?,
            ),
            IpAddr::V6(
                dst.parse::<Ipv6Addr>()
                    .map_err(|_| ProxyError::InvalidV1("bad IPv6 destination"))?,
            ),
        ),
        _ => return Err(ProxyError::InvalidV1("unknown protocol")),
    };
    let sport = parse_port(sport).ok_or(ProxyError::InvalidV1("bad source port"))?;
    let dport = parse_port(dport).ok_or(ProxyError::InvalidV1("bad destination port"))?;
    Ok(Parsed::Complete {
        header: ProxyHeader {
            version: ProxyVersion::V1,
            source: Some(SocketAddr::new(src, sport)),
            destination: Some(SocketAddr::new(dst, dport)),
        },
        len,
    })
}

/// A decimal port, 1 to 5 digits, no sign, no leading zero except `0` itself.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

fn parse_v2(buf: &[u8]) -> Result<Parsed, ProxyError> {
    if !is_prefix_of(buf, &V2_SIGNATURE) {
        return Err(ProxyError::NotProxy);
    }
    let Some(head) = buf.get(..16) else {
        // Check what is there of the version/command byte early.
        if let Some(&vc) = buf.get(12) {
            check_ver_cmd(vc)?;
        }
        return Ok(Parsed::Incomplete);
    };
    let (vc, fam, l0, l1) = match head {
        [.., vc, fam, l0, l1] => (*vc, *fam, *l0, *l1),
        _ => return Ok(Parsed::Incomplete),
    };
    let local = check_ver_cmd(vc)?;
    let payload_len = usize::from(u16::from_be_bytes([l0, l1]));
    if payload_len > MAX_V2_PAYLOAD {
        return Err(ProxyError::TooLong);
    }
    let total = 16 + payload_len;
    let Some(payload) = buf.get(16..total) else {
        return Ok(Parsed::Incomplete);
    };
    let (source, destination) = if local {
        // LOCAL: the load balancer's own connection (health check); addresses ignored.
        (None, None)
    } else {
        match fam >> 4 {
            // AF_UNSPEC, AF_UNIX: nothing usable.
            0x0 | 0x3 => (None, None),
            0x1 => {
                let a = payload
                    .get(..12)
                    .ok_or(ProxyError::InvalidV2("IPv4 address block too short"))?;
                let ip = |i: usize| -> Ipv4Addr {
                    let mut o = [0u8; 4];
                    if let Some(s) = a.get(i..i + 4) {
                        o.copy_from_slice(s);
                    }
                    Ipv4Addr::from(o)
                };
                let port = |i: usize| -> u16 {
                    u16::from_be_bytes([
                        a.get(i).copied().unwrap_or(0),
                        a.get(i + 1).copied().unwrap_or(0),
                    ])
                };
                (
                    Some(SocketAddr::new(IpAddr::V4(ip(0)), port(8))),
                    Some(SocketAddr::new(IpAddr::V4(ip(4)), port(10))),
                )
            }
            0x2 => {
                let a = payload
                    .get(..36)
                    .ok_or(ProxyError::InvalidV2("IPv6 address block too short"))?;
                let ip = |i: usize| -> Ipv6Addr {
                    let mut o = [0u8; 16];
                    if let Some(s) = a.get(i..i + 16) {
                        o.copy_from_slice(s);
                    }
                    Ipv6Addr::from(o)
                };
                let port = |i: usize| -> u16 {
                    u16::from_be_bytes([
                        a.get(i).copied().unwrap_or(0),
                        a.get(i + 1).copied().unwrap_or(0),
                    ])
                };
                (
                    Some(SocketAddr::new(IpAddr::V6(ip(0)), port(32))),
                    Some(SocketAddr::new(IpAddr::V6(ip(16)), port(34))),
                )
            }
            _ => return Err(ProxyError::InvalidV2("unknown address family")),
        }
    };
    if !local && !matches!(fam & 0x0f, 0x0..=0x2) {
        return Err(ProxyError::InvalidV2("unknown transport protocol"));
    }
    Ok(Parsed::Complete {
        header: ProxyHeader {
            version: ProxyVersion::V2,
            source,
            destination,
        },
        len: total,
    })
}

/// Checks the version/command byte; returns whether the command is LOCAL.
fn check_ver_cmd(vc: u8) -> Result<bool, ProxyError> {
    if vc >> 4 != 2 {
        return Err(ProxyError::InvalidV2("version is not 2"));
    }
    match vc & 0x0f {
        0 => Ok(true),
        1 => Ok(false),
        _ => Err(ProxyError::InvalidV2("unknown command")),
    }
}

/// Reads a PROXY v1 or v2 header from `stream` within `timeout`, consuming exactly its
/// bytes. Any error means the connection must be closed.
pub async fn read_proxy_header(
    stream: &mut TcpStream,
    timeout: Duration,
) -> Result<ProxyHeader, ProxyError> {
    tokio::time::timeout(timeout, read_header_inner(stream))
        .await
        .map_err(|_| ProxyError::Timeout(timeout))?
}

async fn read_header_inner(stream: &mut TcpStream) -> Result<ProxyHeader, ProxyError> {
    // Bytes consumed so far: all of them belong to the header (they were only consumed
    // after `parse` said the header goes on beyond them).
    let mut acc: Vec<u8> = Vec::with_capacity(64);
    let mut peek = vec![0u8; 16 + MAX_V2_PAYLOAD];
    loop {
        let n = stream.peek(&mut peek).await?;
        if n == 0 {
            return Err(ProxyError::Closed);
        }
        let peeked = peek.get(..n).unwrap_or_default();
        let mut view = Vec::with_capacity(acc.len() + n);
        view.extend_from_slice(&acc);
        view.extend_from_slice(peeked);
        match parse(&view)? {
            Parsed::Complete { header, len } => {
                let rest = len.saturating_sub(acc.len());
                let mut sink = vec![0u8; rest];
                stream.read_exact(&mut sink).await?;
                return Ok(header);
            }
            Parsed::Incomplete => {
                // Consume what was peeked, then wait for more.
                let mut sink = vec![0u8; n];
                stream.read_exact(&mut sink).await?;
                acc.extend_from_slice(&sink);
            }
        }
    }
}

/// The client address for logs, X-Forwarded-For and limits: the PROXY header's source
/// when the peer may send one, else the TCP peer.
///
/// `trusted` is `proxy-real-ip-cidr`. Turning `use-proxy-protocol` on is itself the
/// operator's statement that a load balancer sits in front, so an empty list trusts every
/// peer's header; a non-empty list restricts it to those networks (other peers' headers
/// are still consumed, but their addresses ignored).
pub fn effective_client(header: &ProxyHeader, peer: SocketAddr, trusted: &[IpNet]) -> SocketAddr {
    let peer_ip = canonical(peer.ip());
    if trusted.is_empty() || trusted.iter().any(|n| n.contains(&peer_ip)) {
        header.client_addr(peer)
    } else {
        peer
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as IPv4, so IPv4 CIDRs match them.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn v2(cmd: u8, fam: u8, payload: &[u8]) -> Vec<u8> {
        let mut b = V2_SIGNATURE.to_vec();
        b.push(0x20 | cmd);
        b.push(fam);
        b.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        b.extend_from_slice(payload);
        b
    }

    fn v2_tcp4() -> Vec<u8> {
        let mut p = vec![192, 0, 2, 1, 198, 51, 100, 2];
        p.extend_from_slice(&56324u16.to_be_bytes());
        p.extend_from_slice(&443u16.to_be_bytes());
        v2(1, 0x11, &p)
    }

    fn v2_tcp6_with_tlvs() -> Vec<u8> {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut p = src.octets().to_vec();
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(&1234u16.to_be_bytes());
        p.extend_from_slice(&8443u16.to_be_bytes());
        // TLVs: ALPN "h2", authority "example.com", NOOP padding.
        p.extend_from_slice(&[0x01, 0x00, 0x02, b'h', b'2']);
        p.extend_from_slice(&[0x02, 0x00, 0x0b]);
        p.extend_from_slice(b"example.com");
        p.extend_from_slice(&[0x04, 0x00, 0x03, 0, 0, 0]);
        v2(1, 0x21, &p)
    }

    fn sa(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            input: Vec<u8>,
            want: Result<(Option<SocketAddr>, Option<SocketAddr>, usize), &'static str>,
        }
        let long_v1 = {
            let mut s = b"PROXY TCP4 ".to_vec();
            s.extend(std::iter::repeat_n(b'1', 120));
            s
        };
        let cases = vec![
            Case {
                name: "v1 tcp4",
                input: b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /".to_vec(),
                want: Ok((sa("192.0.2.1:56324"), sa("198.51.100.2:443"), 45)),
            },
            Case {
                name: "v1 tcp6",
                input: b"PROXY TCP6 2001:db8::1 2001:db8::2 1234 8443\r\n".to_vec(),
                want: Ok((sa("[2001:db8::1]:1234"), sa("[2001:db8::2]:8443"), 46)),
            },
            Case {
                name: "v1 unknown",
                input: b"PROXY UNKNOWN\r\n".to_vec(),
                want: Ok((None, None, 15)),
            },
            Case {
                name: "v1 unknown with junk",
                input: b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n".to_vec(),
                want: Ok((None, None, 35)),
            },
            Case {
                name: "v1 max length",
                input: {
                    let mut s = b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n".to_vec();
                    s.extend_from_slice(b"rest");
                    s
                },
                want: Ok((
                    sa("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
                    sa("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
                    104,
                )),
            },
            Case {
                name: "v1 tcp4 with v6 address",
                input: b"PROXY TCP4 ::1 ::2 1 2\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 bad port",
                input: b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 leading zero port",
                input: b"PROXY TCP4 1.2.3.4 5.6.7.8 080 1\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 missing field",
                input: b"PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 double space",
                input: b"PROXY TCP4  1.2.3.4 5.6.7.8 80 1\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 bare LF",
                input: b"PROXY TCP4 1.2.3.4 5.6.7.8 80 1\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 CR without LF",
                input: b"PROXY TCP4 1.2.3.4 5.6.7.8 80 1\rX".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 unknown protocol",
                input: b"PROXY UDP4 1.2.3.4 5.6.7.8 80 1\r\n".to_vec(),
                want: Err("InvalidV1"),
            },
            Case {
                name: "v1 too long",
                input: long_v1,
                want: Err("TooLong"),
            },
            Case {
                name: "v1 lowercase",
                input: b"proxy TCP4 1.2.3.4 5.6.7.8 80 1\r\n".to_vec(),
                want: Err("NotProxy"),
            },
            Case {
                name: "http request",
                input: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                want: Err("NotProxy"),
            },
            Case {
                name: "tls client hello",
                input: vec![0x16, 0x03, 0x01, 0x00, 0x10],
                want: Err("NotProxy"),
            },
            Case {
                name: "v2 tcp4",
                input: v2_tcp4(),
                want: Ok((sa("192.0.2.1:56324"), sa("198.51.100.2:443"), 28)),
            },
            Case {
                name: "v2 tcp6 + tlvs skipped",
                input: v2_tcp6_with_tlvs(),
                want: Ok((
                    sa("[2001:db8::1]:1234"),
                    sa("[2001:db8::2]:8443"),
                    16 + 36 + 5 + 14 + 6,
                )),
            },
            Case {
                name: "v2 local",
                input: v2(0, 0x00, &[]),
                want: Ok((None, None, 16)),
            },
            Case {
                name: "v2 local with addresses ignored",
                input: {
                    let mut b = v2_tcp4();
                    b[12] = 0x20;
                    b
                },
                want: Ok((None, None, 28)),
            },
            Case {
                name: "v2 unix",
                input: v2(1, 0x31, &[0u8; 216]),
                want: Ok((None, None, 16 + 216)),
            },
            Case {
                name: "v2 udp4",
                input: {
                    let mut b = v2_tcp4();
                    b[13] = 0x12;
                    b
                },
                want: Ok((sa("192.0.2.1:56324"), sa("198.51.100.2:443"), 28)),
            },
            Case {
                name: "v2 version 1",
                input: {
                    let mut b = v2_tcp4();
                    b[12] = 0x11;
                    b
                },
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 bad command",
                input: {
                    let mut b = v2_tcp4();
                    b[12] = 0x2f;
                    b
                },
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 bad family",
                input: v2(1, 0x41, &[0; 12]),
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 bad transport",
                input: v2(1, 0x13, &[0; 12]),
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 tcp4 short block",
                input: v2(1, 0x11, &[1, 2, 3]),
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 tcp6 short block",
                input: v2(1, 0x21, &[0; 12]),
                want: Err("InvalidV2"),
            },
            Case {
                name: "v2 too long",
                input: {
                    let mut b = V2_SIGNATURE.to_vec();
                    b.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
                    b
                },
                want: Err("TooLong"),
            },
            Case {
                name: "v2 bad signature",
                input: b"\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c".to_vec(),
                want: Err("NotProxy"),
            },
        ];
        for c in cases {
            let got = parse(&c.input);
            match (&c.want, got) {
                (Ok((src, dst, len)), Ok(Parsed::Complete { header, len: l })) => {
                    assert_eq!(header.source, *src, "{}", c.name);
                    assert_eq!(header.destination, *dst, "{}", c.name);
                    assert_eq!(l, *len, "{}", c.name);
                }
                (Err(kind), Err(e)) => {
                    assert!(format!("{e:?}").starts_with(kind), "{}: got {e:?}", c.name);
                }
                (want, got) => panic!("{}: want {want:?}, got {got:?}", c.name),
            }
        }
    }

    #[test]
    fn every_truncation_of_a_valid_header_is_incomplete() {
        let valid: Vec<Vec<u8>> = vec![
            b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n".to_vec(),
            b"PROXY TCP6 2001:db8::1 2001:db8::2 1234 8443\r\n".to_vec(),
            b"PROXY UNKNOWN\r\n".to_vec(),
            v2_tcp4(),
            v2_tcp6_with_tlvs(),
            v2(0, 0, &[]),
        ];
        for h in valid {
            for n in 0..h.len() {
                assert_eq!(
                    parse(&h[..n]).unwrap(),
                    Parsed::Incomplete,
                    "prefix {n} of {h:?}"
                );
            }
            assert!(matches!(parse(&h).unwrap(), Parsed::Complete { len, .. } if len == h.len()));
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        // Deterministic xorshift; biased towards the signatures so deep paths are reached.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..20_000 {
            let len = (next() % 140) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            match i % 3 {
                0 => {
                    let sig = V2_SIGNATURE;
                    for (d, s) in buf.iter_mut().zip(sig.iter()) {
                        *d = *s;
                    }
                    if let Some(b) = buf.get_mut(12) {
                        *b = 0x20 | (*b & 1);
                    }
                }
                1 => {
                    for (d, s) in buf.iter_mut().zip(b"PROXY TCP4 ".iter()) {
                        *d = *s;
                    }
                }
                _ => {}
            }
            let _ = parse(&buf);
        }
    }

    #[test]
    fn trust_rules() {
        let h = ProxyHeader {
            version: ProxyVersion::V1,
            source: sa("203.0.113.9:1000"),
            destination: sa("10.0.0.1:443"),
        };
        let peer: SocketAddr = "10.1.2.3:5555".parse().unwrap();
        assert_eq!(
            effective_client(&h, peer, &[]),
            sa("203.0.113.9:1000").unwrap()
        );
        let lb: IpNet = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            effective_client(&h, peer, &[lb]),
            sa("203.0.113.9:1000").unwrap()
        );
        let other: IpNet = "192.168.0.0/16".parse().unwrap();
        assert_eq!(effective_client(&h, peer, &[other]), peer);
        let mapped: SocketAddr = "[::ffff:10.1.2.3]:5555".parse().unwrap();
        assert_eq!(
            effective_client(&h, mapped, &[lb]),
            sa("203.0.113.9:1000").unwrap()
        );
        let local = ProxyHeader {
            source: None,
            destination: None,
            ..h
        };
        assert_eq!(effective_client(&local, peer, &[]), peer);
    }
}
