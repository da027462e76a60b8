//! Latency of one global-limit check on loopback: starts its own `redis-server`, runs 10 000
//! sequential checks (1 000 distinct keys) and prints percentiles; then the same while Redis
//! is down (the no-network path).
//!
//! `cargo run --release -p globallimit --example latency [-- CALLS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use globallimit::testing::RedisServer;
use globallimit::{Decision, GlobalLimiter, GlobalOptions};

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i]
    };
    println!(
        "{what}: n={} p50={:?} p90={:?} p99={:?} p99.9={:?} max={:?}",
        samples.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let Some(mut server) = RedisServer::start().unwrap() else {
        return;
    };
    let opts = GlobalOptions {
        timeout: Duration::from_millis(100),
        ..GlobalOptions::default()
    };
    let l = GlobalLimiter::new(&server.url(), opts).unwrap();
    assert!(l.wait_available(Duration::from_secs(10)).await);
    let window = Duration::from_secs(60);
    for i in 0..1000 {
        l.check(&format!("warm-{i}"), 1_000_000, window).await;
    }
    let mut samples = Vec::with_capacity(calls);
    let mut denied = 0;
    for i in 0..calls {
        let key = format!("10.0.{}.{}", (i / 256) % 4, i % 250);
        let t = Instant::now();
        let d = l.check(&key, 1_000_000, window).await;
        samples.push(t.elapsed());
        if d != Decision::Allow {
            denied += 1;
        }
    }
    report("check() with Redis up", samples);
    println!("not allowed: {denied} (expected 0); stats: {:?}", l.stats());

    server.kill();
    l.check("x", 10, window).await; // notices the loss
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let t = Instant::now();
        let d = l.check(&format!("k{i}"), 10, window).await;
        samples.push(t.elapsed());
        assert_eq!(d, Decision::Unavailable);
    }
    report("check() with Redis down", samples);
}
