#![allow(clippy::unwrap_used, clippy::expect_used)]
//! WAF response inspection (phases 3-4) through real sockets: CRS data-leakage rules on
//! text bodies, ProcessPartial beyond the response body limit, uninspected types and
//! compressed bodies stream untouched. Also the per-phase time budget.
mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::*;
use config::model::RouteSettings;
use gateway::GatewayOptions;
use gateway::waf::{BudgetAction, Waf, WafOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The CRS with response body access on, compiled once for the test binary.
fn rules() -> Arc<waf::RuleSet> {
    crs_rules(1 << 20, true)
}

/// A snippet-only Ingress (no CRS) with a phase-4 rule of its own.
const SNIPPET_PHASE4: &str = "SecRuleEngine On\nSecRule RESPONSE_BODY \"@contains secret-token\" \"id:9001,phase:4,deny,status:403,log,msg:'token leak'\"\n";

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

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn sql_page() -> Vec<u8> {
    format!("<html><body>{SQL_ERROR}</body></html>").into_bytes()
}

/// Size of the decompression bomb: 10 MiB of `a`, the leak near its end.
const BOMB: usize = 10 << 20;

/// The compressed bodies served by the upstream: (Content-Encoding, bytes), built once.
fn encoded(path: &str) -> Option<(&'static str, Vec<u8>)> {
    static BOMB_GZ: OnceLock<Vec<u8>> = OnceLock::new();
    static BOMB_EARLY_GZ: OnceLock<Vec<u8>> = OnceLock::new();
    let page = sql_page();
    Some(match path {
        "/gzip-error" => ("gzip", gzip(&page)),
        "/x-gzip-error" => ("x-gzip", gzip(&page)),
        "/deflate-error" => ("deflate", zlib(&page)),
        "/raw-deflate-error" => ("deflate", raw_deflate(&page)),
        "/br-error" => ("br", br(&page)),
        "/gzip-br-error" => ("gzip, br", br(&gzip(&page))),
        "/gzip-ok" => (
            "gzip",
            gzip(b"<html><body>hello, all is fine</body></html>"),
        ),
        "/zstd-error" => ("zstd", page),
        "/gzip-bomb" => (
            "gzip",
            BOMB_GZ
                .get_or_init(|| gzip(&filler(BOMB, b'a', SQL_ERROR, BOMB - 2000)))
                .clone(),
        ),
        "/gzip-bomb-early" => (
            "gzip",
            BOMB_EARLY_GZ
                .get_or_init(|| gzip(&filler(BOMB, b'a', SQL_ERROR, 1000)))
                .clone(),
        ),
        "/gzip-corrupt" => {
            // A benign page whose deflate data is damaged halfway.
            let text: Vec<u8> = (0..5000u32)
                .flat_map(|i| format!("<p>row {i}</p>\n").into_bytes())
                .collect();
            let mut z = gzip(&text);
            let mid = z.len() / 2;
            for b in z.iter_mut().skip(mid).take(32) {
                *b ^= 0xa5;
            }
            ("gzip", z)
        }
        "/gzip-corrupt-leak" => {
            // A first member with the leak, then a member with an invalid block type.
            let mut z = gzip(&page);
            z.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0, 0]);
            ("gzip", z)
        }
        "/secret-gzip" => ("gzip", gzip(b"<html>the secret-token is 42</html>")),
        _ => return None,
    })
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
                let coded = encoded(&path);
                let out = match path.as_str() {
                    _ if let Some((coding, body)) = &coded => page(
                        "text/html; charset=utf-8",
                        &format!("Content-Encoding: {coding}\r\n"),
                        body,
                    ),
                    "/secret" => html("<html>the secret-token is 42</html>"),
                    "/sql-error" => html(&format!("<html><body>{SQL_ERROR}</body></html>")),
                    "/ok" => html("<html><body>hello, all is fine</body></html>"),
                    "/json-error" => page("application/json", "", SQL_ERROR.as_bytes()),
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

async fn start_gw(tune: impl FnOnce(&mut WafOptions)) -> (Upstream, Running, Events) {
    let u = upstream().await;
    let up = common::upstream("u", vec![u.addr]);
    let hosts: Vec<(&str, RouteSettings)> = vec![
        ("detect.test", waf_detect()),
        ("block.test", waf_block()),
        (
            "snippet.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                ("enable-owasp-core-rules", "false"),
                ("modsecurity-snippet", SNIPPET_PHASE4),
            ]),
        ),
        (
            "nobody.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                (
                    "modsecurity-snippet",
                    "SecRuleEngine On\nSecResponseBodyAccess Off\n",
                ),
            ]),
        ),
    ];
    let (events, sink) = event_sink();
    let wopts = waf_options(|o| {
        o.response_inspection = true;
        tune(o);
    });
    let waf = Waf::with_rules(wopts, rules()).with_sink(sink);
    let gw = start_waf(hosts, &up, waf).await;
    (u, gw, events)
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
async fn only_configured_types_and_known_codings() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // application/json is not in SecResponseBodyMimeType: not inspected.
    let (status, _, body) = fetch(gw.addr, "block.test", "/json-error").await;
    assert_eq!(status, 200);
    assert_eq!(body, SQL_ERROR.as_bytes());
    // A coding the WAF does not decode: not inspected, passed as is.
    let (status, head, body) = fetch(gw.addr, "block.test", "/zstd-error").await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: zstd"),
        "{head}"
    );
    assert_eq!(body, sql_page());
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
            vec![route(prefix("/"), &up, waf_block())],
        ),
        server(
            host("detect.test"),
            vec![route(prefix("/"), &up, waf_detect())],
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

#[tokio::test]
async fn compressed_leaks_blocked_or_detected() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    for path in [
        "/gzip-error",
        "/x-gzip-error",
        "/deflate-error",
        "/raw-deflate-error",
        "/br-error",
        "/gzip-br-error",
    ] {
        // Block mode: decoded for phase 4, 951230 and 959100 fire, the 403 replaces it.
        events.lock().clear();
        let (status, _, body) = fetch(gw.addr, "block.test", path).await;
        assert_eq!(status, 403, "{path}: {}", String::from_utf8_lossy(&body));
        let ids = rule_ids(&events, "block.test");
        assert!(ids.contains(&951_230), "{path}: {ids:?}");
        assert!(ids.contains(&959_100), "{path}: {ids:?}");
        // Detect mode: the match is reported, the client gets the exact compressed bytes.
        let (status, head, body) = fetch(gw.addr, "detect.test", path).await;
        assert_eq!(status, 200, "{path}");
        let (coding, sent) = encoded(path).unwrap();
        assert_eq!(body, sent, "{path}: bytes changed");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-encoding: {coding}")),
            "{head}"
        );
        let ids = rule_ids(&events, "detect.test");
        assert!(ids.contains(&951_230), "{path}: {ids:?}");
    }
    // A benign compressed page passes in block mode, byte for byte.
    events.lock().clear();
    let (status, _, body) = fetch(gw.addr, "block.test", "/gzip-ok").await;
    assert_eq!(status, 200);
    assert_eq!(body, encoded("/gzip-ok").unwrap().1);
    assert!(rule_ids(&events, "block.test").is_empty());
}

#[tokio::test]
async fn decompression_bomb_inspected_to_the_limit() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // 10 MiB decoded, the leak near its end: only the first 512 KiB are decoded and
    // inspected, the whole compressed body streams unchanged.
    let t0 = std::time::Instant::now();
    let (status, _, body) = fetch(gw.addr, "block.test", "/gzip-bomb").await;
    assert_eq!(status, 200);
    assert_eq!(body, encoded("/gzip-bomb").unwrap().1);
    assert!(
        !rule_ids(&events, "block.test")
            .iter()
            .any(|id| (951_000..952_000).contains(id))
    );
    assert!(t0.elapsed() < Duration::from_secs(15));
    // The same bomb with the leak in its first 512 KiB: decoded that far, and blocked.
    let (status, _, _) = fetch(gw.addr, "block.test", "/gzip-bomb-early").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn corrupt_compressed_bodies() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // Damaged deflate data: inspected up to the damage, streamed unchanged.
    let (status, _, body) = fetch(gw.addr, "block.test", "/gzip-corrupt").await;
    assert_eq!(status, 200);
    assert_eq!(body, encoded("/gzip-corrupt").unwrap().1);
    // Before the break is inspected: the leak there blocks; detect mode passes it whole.
    let (status, _, _) = fetch(gw.addr, "block.test", "/gzip-corrupt-leak").await;
    assert_eq!(status, 403);
    let (status, _, body) = fetch(gw.addr, "detect.test", "/gzip-corrupt-leak").await;
    assert_eq!(status, 200);
    assert_eq!(body, encoded("/gzip-corrupt-leak").unwrap().1);
    assert!(rule_ids(&events, "detect.test").contains(&951_230));
}

#[tokio::test]
async fn snippet_rules_run_response_phases() {
    let (_u, gw, events) = start_gw(|_| {}).await;
    // A snippet-only Ingress (no CRS): its phase-4 rule sees the body, plain or compressed.
    for path in ["/secret", "/secret-gzip"] {
        let (status, _, body) = fetch(gw.addr, "snippet.test", path).await;
        assert_eq!(status, 403, "{path}: {}", String::from_utf8_lossy(&body));
    }
    assert!(rule_ids(&events, "snippet.test").contains(&9001));
    let (status, _, _) = fetch(gw.addr, "snippet.test", "/ok").await;
    assert_eq!(status, 200);
    // No CRS on this Ingress: the SQL error page is not its business.
    let (status, _, _) = fetch(gw.addr, "snippet.test", "/sql-error").await;
    assert_eq!(status, 200);
    // `SecResponseBodyAccess Off` in a snippet: phase 4 runs without the body.
    let (status, _, body) = fetch(gw.addr, "nobody.test", "/sql-error").await;
    assert_eq!(status, 200);
    assert_eq!(body, sql_page());
}

#[tokio::test]
async fn snippet_turns_response_inspection_on() {
    // Response inspection off globally, and a CRS compiled without response body access.
    let u = upstream().await;
    let up = common::upstream("u", vec![u.addr]);
    let hosts: Vec<(&str, RouteSettings)> = vec![
        ("block.test", waf_block()),
        (
            "optin.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                (
                    "modsecurity-snippet",
                    "SecRuleEngine On\nSecResponseBodyAccess On\n",
                ),
            ]),
        ),
        (
            "snippet.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                ("enable-owasp-core-rules", "false"),
                (
                    "modsecurity-snippet",
                    &format!("SecResponseBodyAccess On\n{SNIPPET_PHASE4}"),
                ),
            ]),
        ),
    ];
    let (events, sink) = event_sink();
    let waf = Waf::with_rules(waf_options(|_| {}), crs_rules(1 << 20, false)).with_sink(sink);
    let gw = start_waf(hosts, &up, waf).await;
    // The plain block-mode Ingress does not look at responses.
    let (status, _, _) = fetch(gw.addr, "block.test", "/sql-error").await;
    assert_eq!(status, 200);
    // The opted-in Ingress does, with the CRS (plain and compressed) and its own rules.
    let (status, _, _) = fetch(gw.addr, "optin.test", "/sql-error").await;
    assert_eq!(status, 403);
    let (status, _, _) = fetch(gw.addr, "optin.test", "/br-error").await;
    assert_eq!(status, 403);
    assert!(rule_ids(&events, "optin.test").contains(&951_230));
    let (status, _, _) = fetch(gw.addr, "optin.test", "/ok").await;
    assert_eq!(status, 200);
    let (status, _, _) = fetch(gw.addr, "snippet.test", "/secret").await;
    assert_eq!(status, 403);
}
