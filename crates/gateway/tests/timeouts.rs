//! `proxy-send-timeout` and `proxy-read-timeout` with nginx's semantics, over real 127.0.0.1
//! sockets: each bounds the gap between two successive writes (reads) to (from) the
//! upstream, not the whole upload (download).

#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use config::model::RouteSettings;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn timeouts(send_ms: u64, read_ms: u64) -> RouteSettings {
    RouteSettings {
        send_timeout: Duration::from_millis(send_ms),
        read_timeout: Duration::from_millis(read_ms),
        body_size_limit: None,
        ..RouteSettings::default()
    }
}

/// Reads an HTTP/1.1 request head from `s`; returns it and the body bytes read past it.
async fn read_head(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "upstream: connection closed before the head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or(0)
}

/// A raw upstream that runs `serve` on each accepted connection.
async fn raw_upstream<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    raw_upstream_with(None, serve).await
}

/// As [`raw_upstream`], with a fixed receive buffer (so the TCP window reopens after small
/// reads, as behind a slow but steady consumer).
async fn raw_upstream_with<F, Fut>(rcvbuf: Option<u32>, serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = rcvbuf {
        sock.set_recv_buffer_size(size).unwrap();
    }
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let l = sock.listen(64).unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(serve(s));
        }
    });
    addr
}

#[tokio::test]
async fn stalled_upstream_gives_504_after_send_timeout() {
    // Reads the head, then never reads again (holding the connection open).
    let addr = raw_upstream(|mut s| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let up = upstream("stall", vec![addr]);
    let gw = start(simple(&up, timeouts(400, 20_000))).await;

    let total: usize = 256 << 20;
    let s = TcpStream::connect(gw.addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n");
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'a'; 64 << 10];
        let mut sent = 0;
        while sent < total {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
    });
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), rd.read(&mut buf))
        .await
        .expect("a response within 10 s")
        .unwrap();
    let elapsed = start.elapsed();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 504"), "{text}");
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    writer.abort();
}

#[tokio::test]
async fn steady_upload_longer_than_both_timeouts_succeeds() {
    // The client sends 10 chunks 100 ms apart (1 s in total) to an echo upstream; send and
    // read timeouts are 300 ms each, so only per-operation timing lets this pass.
    let b = backend("echo").await;
    let up = upstream("echo", vec![b.addr]);
    let gw = start(simple(&up, timeouts(300, 300))).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
    tokio::spawn(async move {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let chunk = Frame::data(Bytes::from(vec![b'x'; 10_000]));
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
    });
    let body = StreamBody::new(tokio_stream_from(rx));
    let req = http::Request::post(format!("http://{}/", gw.addr))
        .header("host", "x")
        .body(body)
        .unwrap();
    let c = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let start = Instant::now();
    let resp = tokio::time::timeout(Duration::from_secs(10), c.request(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["body_len"], 100_000);
    assert!(start.elapsed() >= Duration::from_millis(900));
}

/// Adapts an mpsc receiver to a `Stream` of frames.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn slow_reading_upstream_that_keeps_progressing_succeeds() {
    // The upstream (64 KiB receive buffer) reads at a steady 16 MiB/s. The kernel reports
    // the gateway's socket writable again once half its send buffer (at most 2 MiB here)
    // drained, so each write waits ~130 ms at worst, far below the 1 s send timeout, while
    // the whole 48 MiB upload takes longer than that.
    const RATE: f64 = 16.0 * 1024.0 * 1024.0;
    let addr = raw_upstream_with(Some(64 << 10), |mut s| async move {
        let (head, rest) = read_head(&mut s).await;
        let want = content_length(&head);
        let mut got = rest.len();
        let mut chunk = vec![0u8; 64 << 10];
        let began = Instant::now();
        while got < want {
            let due = Duration::from_secs_f64(got as f64 / RATE);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let n = s.read(&mut chunk).await.unwrap();
            if n == 0 {
                return;
            }
            got += n;
        }
        let body = got.to_string();
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = s.write_all(resp.as_bytes()).await;
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
    })
    .await;
    let up = upstream("slow", vec![addr]);
    let gw = start(simple(&up, timeouts(1_000, 5_000))).await;
    let total: usize = 48 << 20;
    let req = http::Request::post(format!("http://{}/", gw.addr))
        .header("host", "x")
        .body(http_body_util::Full::new(Bytes::from(vec![b'z'; total])))
        .unwrap();
    let start = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(60), client().request(req))
        .await
        .unwrap()
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(reply.status(), 200);
    let body = reply.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, Bytes::from(total.to_string()));
    assert!(elapsed > Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn slow_steady_response_longer_than_read_timeout_arrives_whole() {
    // Head at once, then one body byte every 80 ms (1.6 s in total); read timeout 300 ms.
    let addr = raw_upstream(|mut s| async move {
        let _ = read_head(&mut s).await;
        let body = b"abcdefghijklmnopqrst";
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        s.write_all(head.as_bytes()).await.unwrap();
        for b in body {
            tokio::time::sleep(Duration::from_millis(80)).await;
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
        }
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
    })
    .await;
    let up = upstream("drip", vec![addr]);
    let gw = start(simple(&up, timeouts(300, 300))).await;
    let start = Instant::now();
    let r = get(gw.addr, "x", "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "abcdefghijklmnopqrst");
    assert!(start.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn stalled_response_body_is_cut_after_read_timeout() {
    // Half the body, then silence: the client sees the stream end early, within ~the
    // read timeout rather than when the upstream gives up.
    let addr = raw_upstream(|mut s| async move {
        let _ = read_head(&mut s).await;
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let up = upstream("half", vec![addr]);
    let gw = start(simple(&up, timeouts(300, 300))).await;
    let start = Instant::now();
    let out = raw(gw.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with("hello"), "{out}");
    assert!(start.elapsed() < Duration::from_secs(3));
}
