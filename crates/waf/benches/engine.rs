//! Criterion benches: CRS load (`crs_load/paranoia1`; regexes compile on first use, so
//! `crs_load/paranoia1_first_get` adds the first benign GET) and per-request evaluation
//! (benign GET, 1 KB form POST, 1 KB JSON POST, SQLi GET) at paranoia 1, the gateway's
//! default (`eval/*`), and at paranoia 4, the CRS CI profile (`eval_pl4/*`).
//!
//! Needs the CRS at `../shared/crs` relative to the repository root.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use waf::EngineMode;

mod support;

use support::{BENIGN_GET_URI, SQLI_GET_URI, crs_dir, form_body, json_body, load, request};

fn benches(c: &mut Criterion) {
    if !crs_dir().join("rules").exists() {
        eprintln!("CRS not found; skipping benches");
        return;
    }
    let mut g = c.benchmark_group("crs_load");
    g.sample_size(10);
    g.bench_function("paranoia1", |b| b.iter(|| load(1)));
    g.bench_function("paranoia1_first_get", |b| {
        b.iter(|| {
            let rs = Arc::new(load(1));
            request(&rs, b"GET", BENIGN_GET_URI, None, b"")
        })
    });
    g.finish();
    for (group, paranoia) in [("eval", 1u8), ("eval_pl4", 4)] {
        eval_group(c, group, paranoia);
    }
}

fn eval_group(c: &mut Criterion, group: &str, paranoia: u8) {
    let mut rs = load(paranoia);
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let (form, json) = (form_body(), json_body());
    let mut g = c.benchmark_group(group);
    g.bench_function("benign_get", |b| {
        b.iter(|| request(&rs, b"GET", BENIGN_GET_URI, None, b""))
    });
    g.bench_function("form_post_1k", |b| {
        b.iter(|| {
            request(
                &rs,
                b"POST",
                b"/submit",
                Some(b"application/x-www-form-urlencoded"),
                &form,
            )
        })
    });
    g.bench_function("json_post_1k", |b| {
        b.iter(|| request(&rs, b"POST", b"/api", Some(b"application/json"), &json))
    });
    g.bench_function("sqli_get", |b| {
        b.iter(|| request(&rs, b"GET", SQLI_GET_URI, None, b""))
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
