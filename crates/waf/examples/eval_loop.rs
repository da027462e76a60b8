//! Evaluates a benign GET (or another request kind) N times: a small binary for
//! `valgrind --tool=callgrind` instruction counts.
//!
//! `cargo run --release -p waf --example eval_loop -- [get|form|json|sqli] [N] [PARANOIA]`
//!
//! `BODY=file` replaces the form or JSON body with the file's bytes (e.g. the checkout
//! bodies `bench/waf.sh` sends, kept in its run folder under `bodies/`).
//!
//! The first request of a kind compiles the regexes it needs (compilation is lazy); one
//! warm-up request runs before the measured loop, which is the function `measured`, so
//! `--toggle-collect=eval_loop::measured` counts steady-state requests only. PARANOIA
//! (default 1) is the blocking paranoia level.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use waf::{EngineMode, RuleSet};

#[path = "../benches/support/mod.rs"]
mod support;

use support::{BENIGN_GET_URI, SQLI_GET_URI, form_body, json_body, load, request};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("get", String::as_str).to_owned();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let paranoia: u8 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut rs = load(paranoia);
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let bodies = match std::env::var_os("BODY") {
        Some(path) => {
            let b = std::fs::read(path).expect("BODY file");
            (b.clone(), b)
        }
        None => (form_body(), json_body()),
    };
    let warm = one(&rs, &kind, &bodies);
    let total = measured(&rs, &kind, n, &bodies);
    println!(
        "{kind} x{n} at paranoia {paranoia}: {total} matched rules in total ({warm} in the warm-up)"
    );
}

/// One request of `kind`.
fn one(rs: &Arc<RuleSet>, kind: &str, (form, json): &(Vec<u8>, Vec<u8>)) -> usize {
    match kind {
        "form" => request(
            rs,
            b"POST",
            b"/submit",
            Some(b"application/x-www-form-urlencoded"),
            form,
        ),
        "json" => request(rs, b"POST", b"/api", Some(b"application/json"), json),
        "sqli" => request(rs, b"GET", SQLI_GET_URI, None, b""),
        _ => request(rs, b"GET", BENIGN_GET_URI, None, b""),
    }
}

/// The measured loop (not inlined, for `--toggle-collect`).
#[inline(never)]
fn measured(rs: &Arc<RuleSet>, kind: &str, n: usize, bodies: &(Vec<u8>, Vec<u8>)) -> usize {
    (0..n).map(|_| one(rs, kind, bodies)).sum()
}
