#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use config::model::{Affinity, LoadBalance, RouteSettings};
use gateway::{GatewayOptions, HealthOptions};
use http_body_util::Full;

fn with_lb(lb: LoadBalance) -> RouteSettings {
    RouteSettings {
        load_balance: lb,
        ..RouteSettings::default()
    }
}

#[tokio::test]
async fn round_robin_is_even() {
    let bs = [backend("a").await, backend("b").await, backend("c").await];
    let up = upstream("rr", bs.iter().map(|b| b.addr).collect());
    let gw = start(simple(&up, RouteSettings::default())).await;
    for _ in 0..30 {
        assert_eq!(get(gw.addr, "x", "/").await.status, 200);
    }
    for b in &bs {
        assert_eq!(b.hits(), 10);
    }
}

#[tokio::test]
async fn consistent_hash_is_stable() {
    let bs = [backend("a").await, backend("b").await, backend("c").await];
    let up = upstream("h", bs.iter().map(|b| b.addr).collect());
    let gw = start(simple(
        &up,
        with_lb(LoadBalance::Hash("$request_uri".into())),
    ))
    .await;
    let mut first = HashMap::new();
    for i in 0..30 {
        let p = format!("/item/{i}");
        first.insert(p.clone(), get(gw.addr, "x", &p).await.backend());
    }
    for (p, want) in &first {
        assert_eq!(&get(gw.addr, "x", p).await.backend(), want, "{p}");
    }
    let used: std::collections::HashSet<_> = first.values().collect();
    assert!(used.len() >= 2, "hash spreads keys: {used:?}");

    // Removing one endpoint only moves the keys it owned.
    let up2 = upstream("h", vec![bs[0].addr, bs[1].addr]);
    gw.gw.swap(simple(
        &up2,
        with_lb(LoadBalance::Hash("$request_uri".into())),
    ));
    for (p, was) in &first {
        let now = get(gw.addr, "x", p).await.backend();
        if was != "c" {
            assert_eq!(&now, was, "{p} moved although its endpoint stayed");
        }
    }
}

#[tokio::test]
async fn ewma_prefers_fast_endpoint() {
    let fast = backend("fast").await;
    let slow = backend_with("slow", Duration::from_millis(40)).await;
    let up = upstream("e", vec![slow.addr, fast.addr]);
    let gw = start(simple(&up, with_lb(LoadBalance::Ewma))).await;
    for _ in 0..40 {
        assert_eq!(get(gw.addr, "x", "/").await.status, 200);
    }
    assert!(
        fast.hits() >= 32,
        "fast {} slow {}",
        fast.hits(),
        slow.hits()
    );
}

#[tokio::test]
async fn retries_on_connect_errors() {
    let ok = backend("ok").await;
    let (c1, c2) = (closed_port().await, closed_port().await);
    let up = upstream("r", vec![c1, c2, ok.addr]);
    let gw = start(simple(&up, RouteSettings::default())).await;
    for _ in 0..9 {
        let r = get(gw.addr, "x", "/").await;
        assert_eq!((r.status.as_u16(), r.backend().as_str()), (200, "ok"));
    }
    // One attempt only, endpoint closed: 502.
    let dead = upstream("d", vec![closed_port().await]);
    let once = RouteSettings {
        next_upstream_tries: 1,
        ..RouteSettings::default()
    };
    let gw2 = start(simple(&dead, once)).await;
    assert_eq!(get(gw2.addr, "x", "/").await.status, 502);
}

#[tokio::test]
async fn read_timeout_gives_504() {
    let slow = backend_with("slow", Duration::from_secs(3)).await;
    let up = upstream("s", vec![slow.addr]);
    let s = RouteSettings {
        read_timeout: Duration::from_millis(200),
        ..RouteSettings::default()
    };
    let gw = start(simple(&up, s)).await;
    let t = std::time::Instant::now();
    assert_eq!(get(gw.addr, "x", "/").await.status, 504);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn ejection_and_recovery() {
    let good = backend("good").await;
    let flaky_addr = closed_port().await;
    let up = upstream("f", vec![flaky_addr, good.addr]);
    let events = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let ev = std::sync::Arc::clone(&events);
    let opts = GatewayOptions {
        health: HealthOptions {
            max_fails: 1,
            fail_timeout: Duration::from_millis(600),
        },
        ..GatewayOptions::default()
    };
    let gw = start_with_sink(
        simple(&up, RouteSettings::default()),
        opts,
        move |e: gateway::AccessEvent| ev.lock().push(e),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(get(gw.addr, "x", "/").await.backend(), "good");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let retried = events
        .lock()
        .iter()
        .filter(|e| e.upstream_addr.as_deref().is_some_and(|a| a.contains(',')))
        .count();
    assert_eq!(retried, 1, "the dead endpoint is tried once, then ejected");

    // The endpoint comes back: after fail_timeout it receives traffic again.
    let listener = tokio::net::TcpListener::bind(flaky_addr).await.unwrap();
    let revived = serve_echo_on(listener, "revived");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(get(gw.addr, "x", "/").await.backend());
    }
    assert!(seen.iter().any(|b| b == "revived"), "{seen:?}");
    revived.cancel();
}

#[tokio::test]
async fn affinity_cookie_pins_and_repins() {
    let bs = [backend("a").await, backend("b").await, backend("c").await];
    let up = upstream("aff", bs.iter().map(|b| b.addr).collect());
    let aff = Affinity {
        cookie_name: "INGRESSCOOKIE".into(),
        path: None,
        domain: None,
        expires: None,
        max_age: Some(3600),
        samesite: Some("Lax".into()),
        secure: false,
        change_on_failure: true,
    };
    let s = RouteSettings {
        affinity: Some(aff),
        ..RouteSettings::default()
    };
    let gw = start(simple(&up, s)).await;
    let r = get(gw.addr, "x", "/").await;
    let set = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("INGRESSCOOKIE="), "{set}");
    assert!(set.contains("Path=/") && set.contains("Max-Age=3600") && set.contains("SameSite=Lax"));
    let cookie = set.split(';').next().unwrap().to_owned();
    let pinned = r.backend();
    let c = client();
    for _ in 0..10 {
        let req = http::Request::get(format!("http://{}/", gw.addr))
            .header("host", "x")
            .header("cookie", &cookie)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let r = send(&c, req).await;
        assert_eq!(r.backend(), pinned);
        assert!(r.headers.get("set-cookie").is_none());
    }
    // The pinned endpoint dies: the request is served elsewhere and re-pinned.
    let idx = ["a", "b", "c"].iter().position(|n| *n == pinned).unwrap();
    let [a, b, cc] = bs;
    let mut all = vec![a, b, cc];
    drop(all.remove(idx));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let req = http::Request::get(format!("http://{}/", gw.addr))
        .header("host", "x")
        .header("cookie", &cookie)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let r = send(&client(), req).await;
    assert_eq!(r.status, 200);
    assert_ne!(r.backend(), pinned);
    let new = r.headers["set-cookie"].to_str().unwrap();
    assert!(!new.starts_with(&cookie), "{new}");
}
