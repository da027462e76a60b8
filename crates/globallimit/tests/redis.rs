//! Against a real `redis-server` on a loopback port (skipped only when the binary is absent
//! and `PORTCULLIS_REQUIRE_REDIS` is unset).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use globallimit::testing::RedisServer;
use globallimit::{Decision, GlobalLimiter, GlobalOptions};

/// Generous per-call timeout for tests about counting (the machine may be busy).
fn patient() -> GlobalOptions {
    GlobalOptions {
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_millis(500),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..GlobalOptions::default()
    }
}

async fn limiter(server: &RedisServer, opts: GlobalOptions) -> GlobalLimiter {
    let l = GlobalLimiter::new(&server.url(), opts).unwrap();
    assert!(
        l.wait_available(Duration::from_secs(10)).await,
        "never connected"
    );
    l
}

macro_rules! redis_or_skip {
    () => {
        match RedisServer::start().unwrap() {
            Some(s) => s,
            None => return,
        }
    };
}

#[tokio::test]
async fn limit_enforced_per_key() {
    let server = redis_or_skip!();
    let l = limiter(&server, patient()).await;
    let w = Duration::from_secs(60);
    for i in 0..5 {
        assert_eq!(l.check("a", 5, w).await, Decision::Allow, "request {i}");
    }
    match l.check("a", 5, w).await {
        Decision::Deny { retry_after } => {
            assert!(
                retry_after > Duration::ZERO && retry_after <= 2 * w,
                "{retry_after:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Denied requests are not counted, other keys and other windows are independent.
    assert!(matches!(l.check("a", 5, w).await, Decision::Deny { .. }));
    assert_eq!(l.check("b", 5, w).await, Decision::Allow);
    assert_eq!(
        l.check("a", 5, Duration::from_secs(30)).await,
        Decision::Allow
    );
    let s = l.stats();
    assert_eq!((s.allowed, s.denied, s.unavailable), (7, 2, 0), "{s:?}");
    assert!(s.available);
}

#[tokio::test]
async fn counters_expire() {
    let server = redis_or_skip!();
    let l = limiter(&server, patient()).await;
    assert_eq!(
        l.check("x", 5, Duration::from_secs(10)).await,
        Decision::Allow
    );
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("portcullis:gl:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let base = globallimit::counter_key("portcullis:gl:", "x", 10_000);
    assert!(keys[0].starts_with(&format!("{base}:")), "{keys:?}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 20_000, "{ttl}");
}

#[tokio::test]
async fn window_rolls() {
    let server = redis_or_skip!();
    let l = limiter(&server, patient()).await;
    let w = Duration::from_millis(400);
    let mut allowed = 0;
    while l.check("roll", 4, w).await == Decision::Allow {
        allowed += 1;
        assert!(allowed <= 4);
    }
    assert!(allowed >= 1, "the estimate can only lower the first burst");
    let Decision::Deny { retry_after } = l.check("roll", 4, w).await else {
        panic!("expected a denial");
    };
    assert!(retry_after <= 2 * w, "{retry_after:?}");
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert_eq!(l.check("roll", 4, w).await, Decision::Allow);
    // Two full windows later the past is forgotten: a full burst again.
    tokio::time::sleep(2 * w + Duration::from_millis(20)).await;
    for i in 0..4 {
        assert_eq!(l.check("roll", 4, w).await, Decision::Allow, "request {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_under_concurrency() {
    let server = redis_or_skip!();
    let l = Arc::new(limiter(&server, patient()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let l = Arc::clone(&l);
        tasks.spawn(async move { l.check("shared", 20, Duration::from_secs(60)).await });
    }
    let (mut allow, mut deny) = (0, 0);
    while let Some(d) = tasks.join_next().await {
        match d.unwrap() {
            Decision::Allow => allow += 1,
            Decision::Deny { .. } => deny += 1,
            Decision::Unavailable => panic!("unavailable"),
        }
    }
    assert_eq!((allow, deny), (20, 30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_limiters_share_one_limit() {
    let server = redis_or_skip!();
    let a = limiter(&server, patient()).await;
    let b = limiter(&server, patient()).await;
    let w = Duration::from_secs(60);
    let mut allowed = 0;
    for i in 0..10 {
        let l = if i % 2 == 0 { &a } else { &b };
        if l.check("client", 6, w).await == Decision::Allow {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 6);
}

#[tokio::test]
async fn timeout_bound_when_redis_is_frozen() {
    let server = redis_or_skip!();
    let opts = GlobalOptions {
        timeout: Duration::from_millis(5),
        connect_timeout: Duration::from_millis(200),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..GlobalOptions::default()
    };
    let l = limiter(&server, opts).await;
    server.pause().unwrap();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(
            l.check("f", 100, Duration::from_secs(1)).await,
            Decision::Unavailable
        );
        slowest = slowest.max(t.elapsed());
    }
    let s = l.stats();
    // Three timeouts mark Redis down; the other calls do not touch the network at all.
    assert_eq!(s.timeouts, 3, "{s:?}");
    assert!(!s.available);
    // 5 ms timer plus scheduling slack on a busy machine.
    assert!(slowest < Duration::from_millis(60), "{slowest:?}");
    let t = Instant::now();
    for _ in 0..1000 {
        l.check("f", 100, Duration::from_secs(1)).await;
    }
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    server.resume().unwrap();
    assert!(l.wait_available(Duration::from_secs(10)).await);
    assert_eq!(
        l.check("f", 100, Duration::from_secs(1)).await,
        Decision::Allow
    );
}

#[tokio::test]
async fn fail_open_and_fail_closed() {
    let mut server = redis_or_skip!();
    let open = limiter(&server, patient()).await;
    let closed = limiter(
        &server,
        GlobalOptions {
            fail_open: false,
            ..patient()
        },
    )
    .await;
    let w = Duration::from_secs(60);
    assert!(open.allows(open.check("k", 1, w).await));
    assert!(!open.allows(open.check("k", 1, w).await));
    server.kill();
    let (d_open, d_closed) = (open.check("k", 1, w).await, closed.check("k", 1, w).await);
    assert_eq!(
        (d_open, d_closed),
        (Decision::Unavailable, Decision::Unavailable)
    );
    assert!(open.allows(d_open), "fail open lets requests pass");
    assert!(!closed.allows(d_closed), "fail closed rejects them");
    assert!(open.fail_open() && !closed.fail_open());
    assert!(open.stats().errors >= 1);
}

#[tokio::test]
async fn reconnects_after_restart() {
    let mut server = redis_or_skip!();
    let l = limiter(&server, patient()).await;
    let w = Duration::from_secs(60);
    assert_eq!(l.check("r", 2, w).await, Decision::Allow);
    assert_eq!(l.check("r", 2, w).await, Decision::Allow);
    server.kill();
    assert_eq!(l.check("r", 2, w).await, Decision::Unavailable);
    let t = Instant::now();
    for _ in 0..100 {
        assert_eq!(l.check("r", 2, w).await, Decision::Unavailable);
    }
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    // Let a few reconnect attempts fail, then bring Redis back (empty) on the same port.
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.restart().unwrap();
    assert!(l.wait_available(Duration::from_secs(10)).await);
    assert_eq!(l.check("r", 2, w).await, Decision::Allow);
    assert_eq!(l.check("r", 2, w).await, Decision::Allow);
    assert!(matches!(l.check("r", 2, w).await, Decision::Deny { .. }));
    let s = l.stats();
    assert_eq!(s.connects, 2, "{s:?}");
    assert!(s.connect_failures >= 1, "{s:?}");
}
