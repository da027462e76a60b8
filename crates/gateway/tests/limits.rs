#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::Duration;

use common::*;
use config::model::RouteSettings;
use gateway::GatewayOptions;

async fn limited() -> (Backend, Running) {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let s = RouteSettings {
        body_size_limit: Some(1000),
        ..RouteSettings::default()
    };
    let opts = GatewayOptions {
        header_read_timeout: Duration::from_millis(400),
        ..GatewayOptions::default()
    };
    let gw = start_with(simple(&up, s), opts).await;
    (b, gw)
}

fn status_of(resp: &str) -> &str {
    resp.split(' ').nth(1).unwrap_or("")
}

#[tokio::test]
async fn body_limit_content_length() {
    let (b, gw) = limited().await;
    let body = "x".repeat(1500);
    let req = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1500\r\n\r\n{body}");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "413");
    assert_eq!(b.hits(), 0, "rejected before contacting the upstream");
    let ok = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\nConnection: close\r\n\r\n{}",
        "y".repeat(900)
    );
    let resp = raw(gw.addr, ok.as_bytes()).await;
    assert_eq!(status_of(&resp), "200");
    assert!(resp.contains("\"body_len\":900"));
}

#[tokio::test]
async fn body_limit_chunked() {
    let (_b, gw) = limited().await;
    let mut req = String::from("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        req.push_str(&format!("1f4\r\n{}\r\n", "z".repeat(500)));
    }
    req.push_str("0\r\n\r\n");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "413");
    let mut small = String::from(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    small.push_str(&format!("1f4\r\n{}\r\n0\r\n\r\n", "z".repeat(500)));
    let resp = raw(gw.addr, small.as_bytes()).await;
    assert_eq!(status_of(&resp), "200");
    assert!(resp.contains("\"body_len\":500"));
}

#[tokio::test]
async fn header_and_uri_limits_and_bad_requests() {
    let (_b, gw) = limited().await;
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "h".repeat(40 * 1024)
    );
    assert_eq!(status_of(&raw(gw.addr, big.as_bytes()).await), "431");
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "431");
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "u".repeat(9000));
    assert_eq!(status_of(&raw(gw.addr, long.as_bytes()).await), "414");
    assert_eq!(status_of(&raw(gw.addr, b"GARBAGE\r\n\r\n").await), "400");
    assert_eq!(
        status_of(&raw(gw.addr, b"GET / HTTP/1.1\r\n\r\n").await),
        "400"
    );
    assert_eq!(
        status_of(&raw(gw.addr, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").await),
        "400"
    );
    assert_eq!(
        status_of(
            &raw(
                gw.addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
            )
            .await
        ),
        "400"
    );
    // Still serving.
    assert_eq!(get(gw.addr, "x", "/").await.status, 200);
}

#[tokio::test]
async fn random_bytes_never_break_the_listener() {
    let (_b, gw) = limited().await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 7, 64, 512, 4096] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed & 0xff) as u8
            })
            .collect();
        let _ = raw(gw.addr, &bytes).await;
    }
    assert_eq!(get(gw.addr, "x", "/").await.status, 200);
}

#[tokio::test]
async fn slow_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_b, gw) = limited().await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let t = std::time::Instant::now();
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "connection closed by the header timeout");
    assert!(t.elapsed() < Duration::from_secs(2));

    // An idle keep-alive connection is closed too.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "silent connection closed");

    // A keep-alive connection idle after a request is closed as well.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "idle keep-alive connection closed");
    assert!(String::from_utf8_lossy(&buf).contains("200 OK"));
}
