#![allow(clippy::unwrap_used, clippy::expect_used)]
//! WAF response inspection (phases 3-4) through real sockets: CRS data-leakage rules on
//! text bodies, ProcessPartial beyond the response body limit, uninspected types and
//! compressed bodies stream untouched. Also the per-phase time budget.
mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::*;
use config::model::RouteSettings;
use gateway::GatewayOptions;
use gateway::waf::{BudgetAction, Waf, WafOptions};
use parking_lot::Mutex;
use telemetry::events::SecurityEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

fn crs_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"))
}

/// The CRS with response body access on, compiled once for the test binary.
fn rules() -> Arc<waf::RuleSet> {
    static RULES: OnceLock<Arc<waf::RuleSet>> = OnceLock::new();
    Arc::clone(RULES.get_or_init(|| {
        gateway::waf::profile::compile(&crs_dir(), 1 << 20, true).expect("CRS compiles")
    }))
}

fn settings(pairs: &[(&str, &str)]) -> RouteSettings {
    let short: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (waf, problems) = config::waf::from_annotations(&short);
    assert!(problems.is_empty(), "{problems:?}");
    RouteSettings {
        waf,
        ..RouteSettings::default()
    }
}

const SQL_ERROR: &str = "<p>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1</p>";

/// Size of the large bodies (over the 512 KiB response body limit).
const BIG: usize = 1 << 20;

/// An upstream answering by path, one response per connection.
struct Upstream {
    addr: SocketAddr,
    /// Lets `/slow` send the rest of its body.
    release: Arc<Notify>,
}

fn page(ctype: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A body of `len` bytes of `fill` with `needle` at `at`.
fn filler(len: usize, fill: u8, needle: &str, at: usize) -> Vec<u8> {
    let mut b = vec![fill; len];
    b[at..at + needle.len()].copy_from_slice(needle.as_bytes());
    b
}

async fn upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let release = Arc::new(Notify::new());
    let rel = Arc::clone(&release);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let rel = Arc::clone(&rel);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let html = |b: &str| page("text/html; charset=utf-8", "", b.as_bytes());
                let out = match path.as_str() {
                    "/sql-error" => html(&format!("<html><body>{SQL_ERROR}</body></html>")),
                    "/ok" => html("<html><body>hello, all is fine</body></html>"),
                    "/json-error" => page("application/json", "", SQL_ERROR.as_bytes()),
                    "/gzip-error" => page(
                        "text/html",
                        "Content-Encoding: gzip\r\n",
                        SQL_ERROR.as_bytes(),
                    ),
                    "/big-html-late" => {
                        page("text/html", "", &filler(BIG, b'a', SQL_ERROR, 600_000))
                    }
                    "/big-html-early" => page("text/html", "", &filler(BIG, b'a', SQL_ERROR, 1000)),
                    "/big-binary" => page(
                        "application/octet-stream",
                        "",
                        &filler(BIG, 0xfe, SQL_ERROR, 1000),
                    ),
                    "/slow" => {
                        let body = filler(BIG, 0xfe, SQL_ERROR, 1000);
                        let all = page("application/octet-stream", "", &body);
                        let split = all.len() - body.len() + 65536;
                        if s.write_all(&all[..split]).await.is_err() {
                            return;
                        }
                        let _ = tokio::time::timeout(Duration::from_secs(10), rel.notified()).await;
                        let _ = s.write_all(&all[split..]).await;
                        let _ = s.shutdown().await;
                        return;
                    }
                    _ => page("text/plain", "", b"?"),
                };
                let _ = s.write_all(&out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    Upstream { addr, release }
}

type Events = Arc<Mutex<Vec<serde_json::Value>>>;

async fn start_gw(tune: impl FnOnce(&mut WafOptions)) -> (Upstream, Running, Events) {
    let u = upstream().await;
    let up = common::upstream("u", vec![u.addr]);
    let hosts: Vec<(&str, RouteSettings)> = vec![
        ("detect.test", settings(&[("enable-modsecurity", "true")])),
        (
            "block.test",
            settings(&[
                ("enable-modsecurity", "true"),
                ("modsecurity-snippet", "SecRuleEngine On\n"),
            ]),
        ),
    ];
    let servers = hosts
        .into_iter()
        .map(|(h, s)| server(host(h), vec![route(prefix("/"), &up, s)]))
        .collect();
    let events: Events = Arc::default();
    let ev = Arc::clone(&events);
    let mut wopts = WafOptions::new(crs_dir());
    wopts.response_inspection = true;
    // No time budget unless the test sets one: debug builds on a loaded machine are slow.
    wopts.max_eval = None;
    tune(&mut wopts);
    let waf = Waf::with_rules(wopts, rules()).with_sink(Arc::new(move |e: &SecurityEvent| {
        ev.lock().push(serde_json::to_value(e).unwrap());
    }));
    let opts = GatewayOptions {
        waf: Some(Arc::new(waf)),
        ..GatewayOptions::default()
    };
    let gw = start_with(model(servers), opts).await;
    (u, gw, events)
}

fn get_req(host: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
}

/// Sends a GET and returns (status, head, body bytes).
async fn fetch(addr: SocketAddr, host: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(get_req(host, path).as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("response within 10 s")
        .unwrap();
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap();
    (status, head, out[end + 4..].to_vec())
}

fn rule_ids(events: &Events, host: &str) -> Vec<u64> {
    events
        .lock()
        .iter()
        .filter(|e| e["host"] == host)
        .flat_map(|e| {
            e["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn sql_error_leak_blocked_or_detected() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // Block mode: the outbound score reaches 4, the page is replaced by the 403.
    let (status, _, body) = fetch(gw.addr, "block.test", "/sql-error").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(!contains(&body, "SQL syntax"));
    let ids = rule_ids(&events, "block.test");
    assert!(ids.contains(&951_230), "MySQL error rule: {ids:?}");
    assert!(
        ids.contains(&959_100),
        "outbound blocking evaluation: {ids:?}"
    );
    let ev = events
        .lock()
        .iter()
        .find(|e| e["host"] == "block.test")
        .cloned()
        .unwrap();
    assert_eq!(ev["action"], "blocked");
    assert!(ev["outbound_anomaly_score"].as_i64().unwrap() >= 4, "{ev}");
    // Detect mode: the response is unchanged, the match is reported.
    let (status, _, body) = fetch(gw.addr, "detect.test", "/sql-error").await;
    assert_eq!(status, 200);
    assert!(contains(&body, SQL_ERROR));
    let ids = rule_ids(&events, "detect.test");
    assert!(
        ids.iter().any(|id| (951_000..952_000).contains(id)),
        "{ids:?}"
    );
    // A benign page passes in block mode, byte for byte.
    let (status, _, body) = fetch(gw.addr, "block.test", "/ok").await;
    assert_eq!(status, 200);
    assert_eq!(body, b"<html><body>hello, all is fine</body></html>");
}

#[tokio::test]
async fn only_configured_types_and_uncompressed_bodies() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // application/json is not in SecResponseBodyMimeType: not inspected.
    let (status, _, body) = fetch(gw.addr, "block.test", "/json-error").await;
    assert_eq!(status, 200);
    assert_eq!(body, SQL_ERROR.as_bytes());
    // Compressed bodies are not decoded nor inspected.
    let (status, head, _) = fetch(gw.addr, "block.test", "/gzip-error").await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    // A large binary body passes whole.
    let (status, _, body) = fetch(gw.addr, "block.test", "/big-binary").await;
    assert_eq!(status, 200);
    assert_eq!(body, filler(BIG, 0xfe, SQL_ERROR, 1000));
    assert!(rule_ids(&events, "block.test").is_empty());
}

#[tokio::test]
async fn large_text_bodies_process_partial() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // The leak past the 512 KiB limit is not seen; the whole body is sent.
    let (status, _, body) = fetch(gw.addr, "block.test", "/big-html-late").await;
    assert_eq!(status, 200);
    assert_eq!(body, filler(BIG, b'a', SQL_ERROR, 600_000));
    assert!(
        !rule_ids(&events, "block.test")
            .iter()
            .any(|id| (951_000..952_000).contains(id))
    );
    // Within the inspected prefix it is, and blocked.
    let (status, _, _) = fetch(gw.addr, "block.test", "/big-html-early").await;
    assert_eq!(status, 403);
    // Detect mode sends the large body unchanged after inspecting its prefix.
    let (status, _, body) = fetch(gw.addr, "detect.test", "/big-html-early").await;
    assert_eq!(status, 200);
    assert_eq!(body, filler(BIG, b'a', SQL_ERROR, 1000));
}

#[tokio::test]
async fn uninspected_bodies_stream() {
    let (u, gw, _events) = start_gw(|_| {}).await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(get_req("block.test", "/slow").as_bytes())
        .await
        .unwrap();
    // The first 64 KiB reach the client while the upstream holds the rest back.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let first = tokio::time::timeout(Duration::from_secs(5), async {
        while got.len() < 32768 {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        first.is_ok(),
        "the body was not streamed ({} bytes)",
        got.len()
    );
    u.release.notify_one();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert_eq!(got.len() - end - 4, BIG);
}

#[tokio::test]
async fn time_budget() {
    // A zero budget: every phase is over it. Default action: fail open, the leak passes.
    let (_u, gw, _events) = start_gw(|o| o.max_eval = Some(Duration::ZERO)).await;
    let (status, _, body) = fetch(gw.addr, "block.test", "/sql-error").await;
    assert_eq!(status, 200);
    assert!(contains(&body, SQL_ERROR));

    // Block action in block mode: 403; detect mode still passes.
    let registry = prometheus::Registry::new();
    let u = upstream().await;
    let up = common::upstream("u", vec![u.addr]);
    let servers = vec![
        server(
            host("block.test"),
            vec![route(
                prefix("/"),
                &up,
                settings(&[
                    ("enable-modsecurity", "true"),
                    ("modsecurity-snippet", "SecRuleEngine On\n"),
                ]),
            )],
        ),
        server(
            host("detect.test"),
            vec![route(
                prefix("/"),
                &up,
                settings(&[("enable-modsecurity", "true")]),
            )],
        ),
    ];
    let mut wopts = WafOptions::new(crs_dir());
    wopts.max_eval = Some(Duration::ZERO);
    wopts.budget_action = BudgetAction::Block;
    let waf = Waf::with_rules(wopts, rules())
        .with_metrics(&registry)
        .unwrap();
    let opts = GatewayOptions {
        waf: Some(Arc::new(waf)),
        ..GatewayOptions::default()
    };
    let gw = start_with(model(servers), opts).await;
    let (status, _, _) = fetch(gw.addr, "block.test", "/ok").await;
    assert_eq!(status, 403);
    let (status, _, _) = fetch(gw.addr, "detect.test", "/ok").await;
    assert_eq!(status, 200);
    let mut text = Vec::new();
    prometheus::Encoder::encode(
        &prometheus::TextEncoder::new(),
        &registry.gather(),
        &mut text,
    )
    .unwrap();
    let exceeded: f64 = String::from_utf8(text)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("portcullis_waf_budget_exceeded_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(exceeded >= 2.0, "{exceeded}");
}
