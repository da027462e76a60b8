#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use config::model::RouteSettings;
use futures_util::{SinkExt, StreamExt};
use gateway::GatewayOptions;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_swap_under_load_loses_nothing() {
    let a = backend("a").await;
    let b = backend("b").await;
    let ua = upstream("a", vec![a.addr]);
    let ub = upstream("b", vec![b.addr]);
    let (ma, mb) = (
        simple(&ua, RouteSettings::default()),
        simple(&ub, RouteSettings::default()),
    );
    let gw = start(Arc::clone(&ma)).await;
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (f, d, addr) = (Arc::clone(&failures), Arc::clone(&done), gw.addr);
        tasks.push(tokio::spawn(async move {
            let c = client();
            for _ in 0..100 {
                let req = http::Request::get(format!("http://{addr}/"))
                    .header("host", "x")
                    .body(http_body_util::Full::new(bytes::Bytes::new()))
                    .unwrap();
                let r = send(&c, req).await;
                if r.status != 200 {
                    f.fetch_add(1, Ordering::SeqCst);
                }
                d.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let mut swaps = 0;
    while swaps < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        gw.gw.swap(if swaps % 2 == 0 {
            Arc::clone(&mb)
        } else {
            Arc::clone(&ma)
        });
        swaps += 1;
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 2000);
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert!(
        a.hits() > 0 && b.hits() > 0,
        "a {} b {}",
        a.hits(),
        b.hits()
    );
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight() {
    let slow = backend_with("slow", Duration::from_millis(800)).await;
    let up = upstream("s", vec![slow.addr]);
    let opts = GatewayOptions {
        drain_timeout: Duration::from_secs(5),
        ..GatewayOptions::default()
    };
    let mut gw = start_with(simple(&up, RouteSettings::default()), opts).await;
    let addr = gw.addr;
    let inflight = tokio::spawn(async move { get(addr, "x", "/").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.stop.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // No longer accepting.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let r = inflight.await.unwrap();
    assert_eq!(r.status, 200);
    let task = gw.task.take().unwrap();
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn websocket_echo_through_proxy_survives_swap() {
    let b = backend("ws").await;
    let up = upstream("ws", vec![b.addr]);
    let gw = start(simple(&up, RouteSettings::default())).await;
    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut ws, resp) = tokio_tungstenite::client_async(format!("ws://{}/chat", gw.addr), tcp)
        .await
        .unwrap();
    assert_eq!(resp.status(), 101);
    ws.send(Message::text("hello")).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(m.into_text().unwrap().as_str(), "hello");
    // A model swap does not cut the tunnel.
    gw.gw.swap(simple(
        &upstream("other", vec![closed_port().await]),
        RouteSettings::default(),
    ));
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(m.into_data().as_ref(), &[1u8, 2, 3]);
}

#[tokio::test]
async fn access_events_are_reported() {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let events = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let ev = Arc::clone(&events);
    let gw = start_with_sink(
        simple(&up, RouteSettings::default()),
        GatewayOptions::default(),
        move |e: gateway::AccessEvent| ev.lock().push(e),
    )
    .await;
    let r = get(gw.addr, "Ev.Test", "/path?q=1").await;
    assert_eq!(r.status, 200);
    assert_eq!(get(gw.addr, "nomatch", "/").await.status, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let evs = events.lock();
    let e = &evs[0];
    assert_eq!(e.status, 200);
    assert_eq!(e.method, "GET");
    assert_eq!(e.host.as_deref(), Some("ev.test"));
    assert_eq!(e.path, "/path");
    assert_eq!(e.query.as_deref(), Some("q=1"));
    assert_eq!(e.protocol, "HTTP/1.1");
    assert_eq!(e.client_ip.unwrap().to_string(), "127.0.0.1");
    assert_eq!(
        e.upstream_addr.as_deref(),
        Some(b.addr.to_string().as_str())
    );
    assert_eq!(e.upstream_status, Some(200));
    assert_eq!(e.ingress_name.as_deref(), Some("ing"));
    assert_eq!(e.service.as_deref(), Some("a"));
    assert_eq!(e.request_id.len(), 32);
    assert!(e.bytes_out > r.body.len() as u64);
    assert!(e.bytes_in > 0);
}

#[tokio::test]
async fn upstream_closing_idle_connections_causes_no_errors() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A backend that answers one request per connection, keeps it "alive" briefly, then
    // closes it without saying so.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            });
        }
    });
    let up = upstream("closing", vec![addr]);
    let gw = start(simple(&up, RouteSettings::default())).await;
    for _ in 0..8 {
        let r = get(gw.addr, "x", "/").await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "ok"));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}
