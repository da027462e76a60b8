//! Evaluates a benign GET (or another request kind) N times: a small binary for
//! `valgrind --tool=callgrind` instruction counts.
//!
//! `cargo run --release -p waf --example eval_loop -- [get|form|json|sqli] [N]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use waf::EngineMode;

#[path = "../benches/support/mod.rs"]
mod support;

use support::{BENIGN_GET_URI, SQLI_GET_URI, form_body, json_body, load, request};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("get", String::as_str).to_owned();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut rs = load(1);
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let (form, json) = (form_body(), json_body());
    let mut total = 0usize;
    for _ in 0..n {
        total += match kind.as_str() {
            "form" => request(
                &rs,
                b"POST",
                b"/submit",
                Some(b"application/x-www-form-urlencoded"),
                &form,
            ),
            "json" => request(&rs, b"POST", b"/api", Some(b"application/json"), &json),
            "sqli" => request(&rs, b"GET", SQLI_GET_URI, None, b""),
            _ => request(&rs, b"GET", BENIGN_GET_URI, None, b""),
        };
    }
    println!("{kind} x{n}: {total} matched rules in total");
}
