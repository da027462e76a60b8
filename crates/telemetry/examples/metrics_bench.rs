//! Cost of `Metrics::observe` per request and of `Metrics::render`.
//!
//! `cargo run --release -p telemetry --example metrics_bench`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use telemetry::{AccessEvent, Metrics, MetricsConfig};

fn main() {
    let m = Metrics::new(MetricsConfig::default()).unwrap();
    let events: Vec<AccessEvent> = (0..64)
        .map(|i| AccessEvent {
            method: if i % 4 == 0 { "POST" } else { "GET" }.into(),
            status: [200, 200, 304, 404][i % 4],
            host: Some(format!("host{}.example.com", i % 8)),
            ingress_namespace: Some("default".into()),
            ingress_name: Some(format!("ing{}", i % 8)),
            service: Some(format!("svc{}", i % 8)),
            route_path: Some(format!("/p{}", i % 2)),
            bytes_in: 300,
            bytes_out: 4096,
            duration_ms: 2.0,
            upstream_latency_ms: Some(1.5),
            upstream_connect_ms: Some(0.2),
            ..AccessEvent::default()
        })
        .collect();
    let n = 400_000;
    let start = Instant::now();
    for i in 0..n {
        m.observe(&events[i % events.len()]);
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    let start = Instant::now();
    let text = m.render();
    println!(
        "observe: {per:.0} ns/event ({} series); render: {:?} for {} bytes",
        events.len(),
        start.elapsed(),
        text.len()
    );
}
