//! PROXY protocol over real 127.0.0.1 sockets: the header is consumed exactly, the bytes
//! behind it stay for the next layer, slow or missing headers are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use gateway::proxy_protocol::{ProxyError, ProxyHeader, V2_SIGNATURE, read_proxy_header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Accepts one connection, reads the PROXY header, then everything else until EOF.
async fn server(
    header_timeout: Duration,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<(Result<ProxyHeader, ProxyError>, Vec<u8>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let header = read_proxy_header(&mut tcp, header_timeout).await;
        let mut rest = Vec::new();
        if header.is_ok() {
            let _ = timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
        }
        (header, rest)
    });
    (addr, task)
}

async fn send(addr: SocketAddr, chunks: &[&[u8]], pause: Duration) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.set_nodelay(true).unwrap();
    for chunk in chunks {
        c.write_all(chunk).await.unwrap();
        c.flush().await.unwrap();
        tokio::time::sleep(pause).await;
    }
    c.shutdown().await.unwrap();
}

fn v2_tcp4_header() -> Vec<u8> {
    let mut b = V2_SIGNATURE.to_vec();
    b.extend_from_slice(&[0x21, 0x11, 0x00, 0x0c + 7]);
    b.extend_from_slice(&[203, 0, 113, 9, 10, 0, 0, 1]);
    b.extend_from_slice(&40000u16.to_be_bytes());
    b.extend_from_slice(&8443u16.to_be_bytes());
    // A TLV (PP2_TYPE_AUTHORITY "a.test") to skip.
    b.extend_from_slice(&[0x02, 0x00, 0x04, b'a', b'.', b'c', b'o']);
    b
}

#[tokio::test]
async fn v1_in_one_segment_leaves_the_payload() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    send(
        addr,
        &[b"PROXY TCP4 203.0.113.9 10.0.0.1 40000 8080\r\nGET / HTTP/1.1\r\n\r\n"],
        Duration::ZERO,
    )
    .await;
    let (h, rest) = task.await.unwrap();
    let h = h.unwrap();
    assert_eq!(h.source, Some("203.0.113.9:40000".parse().unwrap()));
    assert_eq!(h.destination, Some("10.0.0.1:8080".parse().unwrap()));
    assert_eq!(rest, b"GET / HTTP/1.1\r\n\r\n");
}

#[tokio::test]
async fn v1_byte_by_byte_with_crlf_split() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    let header = b"PROXY TCP6 2001:db8::9 2001:db8::1 40000 443\r\n";
    let mut chunks: Vec<&[u8]> = header.chunks(1).collect();
    chunks.push(b"\x16\x03\x01rest");
    send(addr, &chunks, Duration::from_millis(2)).await;
    let (h, rest) = task.await.unwrap();
    assert_eq!(
        h.unwrap().source,
        Some("[2001:db8::9]:40000".parse().unwrap())
    );
    assert_eq!(rest, b"\x16\x03\x01rest");
}

#[tokio::test]
async fn v2_split_across_segments_with_tlv() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    let h = v2_tcp4_header();
    let (a, b) = h.split_at(14);
    let (b, c) = b.split_at(5);
    send(addr, &[a, b, c, b"payload"], Duration::from_millis(20)).await;
    let (hdr, rest) = task.await.unwrap();
    assert_eq!(
        hdr.unwrap().source,
        Some("203.0.113.9:40000".parse().unwrap())
    );
    assert_eq!(rest, b"payload");
}

#[tokio::test]
async fn missing_header_is_refused() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    send(
        addr,
        &[b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"],
        Duration::ZERO,
    )
    .await;
    let (h, _) = task.await.unwrap();
    assert!(matches!(h, Err(ProxyError::NotProxy)), "{h:?}");
}

#[tokio::test]
async fn silent_client_times_out() {
    let (addr, task) = server(Duration::from_millis(200)).await;
    let c = TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    let (h, _) = timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(h, Err(ProxyError::Timeout(_))), "{h:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(c);
}

#[tokio::test]
async fn slowloris_partial_header_times_out() {
    let (addr, task) = server(Duration::from_millis(300)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"PROXY TCP4 1.2.3.4").await.unwrap();
    let (h, _) = timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(h, Err(ProxyError::Timeout(_))), "{h:?}");
    drop(c);
}

#[tokio::test]
async fn close_mid_header_is_reported() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    send(addr, &[b"PROXY TCP4 1.2.3.4 "], Duration::ZERO).await;
    let (h, _) = task.await.unwrap();
    assert!(matches!(h, Err(ProxyError::Closed)), "{h:?}");
}

#[tokio::test]
async fn oversized_v1_is_refused_without_waiting() {
    let (addr, task) = server(Duration::from_secs(5)).await;
    let mut long = b"PROXY TCP4 ".to_vec();
    long.extend(std::iter::repeat_n(b'9', 200));
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(&long).await.unwrap();
    let (h, _) = timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(h, Err(ProxyError::TooLong)), "{h:?}");
}
