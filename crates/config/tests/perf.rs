#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Load and match timings on a large generated folder. Not a pass/fail test:
//! `cargo test -p config --release --test perf -- --ignored --nocapture`.

use std::fmt::Write as _;
use std::time::Instant;

use config::{LoadOptions, load_dir};

#[test]
#[ignore = "timing report; run with --release -- --ignored --nocapture"]
fn thousand_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..1000 {
        let regex = if i % 10 == 0 {
            "  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /$2}\n"
        } else {
            ""
        };
        let p = if i % 10 == 0 { "/api(/|$)(.*)" } else { "/api" };
        write!(
            text,
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\nspec:\n  ports: [{{port: 80}}]\n  clusterIP: 127.0.0.1\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i{i}\n{regex}spec:\n  rules:\n  - host: h{i}.example.com\n    http:\n      paths:\n      \
             - {{path: \"{p}\", pathType: ImplementationSpecific, backend: {{service: {{name: s{i}, port: {{number: 80}}}}}}}}\n      \
             - {{path: /static, pathType: Prefix, backend: {{service: {{name: s{i}, port: {{number: 80}}}}}}}}\n      \
             - {{path: /, pathType: Prefix, backend: {{service: {{name: s{i}, port: {{number: 80}}}}}}}}\n---\n"
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("big.yaml"), &text).unwrap();
    let t = Instant::now();
    let m = load_dir(dir.path(), &LoadOptions::default()).unwrap();
    let load = t.elapsed();
    assert!(m.problems.is_empty(), "{:?}", &m.problems[..1]);
    let t = Instant::now();
    let n = 200_000u32;
    let mut hits = 0u32;
    for i in 0..n {
        let host = format!("h{}.example.com", i % 1000);
        if m.route(&host, "/api/orders/42").is_some() {
            hits += 1;
        }
    }
    let per = t.elapsed() / n;
    assert_eq!(hits, n);
    println!(
        "load 1000 Ingresses + 1000 Services ({} KiB): {load:?}; route(): {per:?} per call",
        text.len() / 1024
    );
}
