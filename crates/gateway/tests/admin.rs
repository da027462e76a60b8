//! The admin listener over a real 127.0.0.1 socket: health, readiness, and `/metrics`
//! checked with a strict Prometheus text-format parser, `promtool check metrics` and a
//! real Prometheus scrape when those binaries are installed (skipped otherwise).

#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gateway::admin::{AdminState, serve_admin};
use telemetry::{AccessEvent, Metrics, MetricsConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;

const T: Duration = Duration::from_secs(5);

/// Label pairs of one series, sorted, without `le`.
type SeriesKey = Vec<(String, String)>;

struct Admin {
    addr: SocketAddr,
    state: AdminState,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Admin {
    let metrics = Arc::new(Metrics::new(MetricsConfig::default()).unwrap());
    let state = AdminState::new(metrics);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_admin(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    Admin {
        addr,
        state,
        stop: Some(stop),
        task,
    }
}

/// A minimal HTTP/1.1 GET; returns status, lower-cased headers and body.
async fn get(addr: SocketAddr, path: &str) -> (u16, HashMap<String, String>, String) {
    let mut s = timeout(T, TcpStream::connect(addr)).await.unwrap().unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    timeout(T, s.read_to_end(&mut raw)).await.unwrap().unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<HashMap<_, _>>();
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

#[tokio::test]
async fn health_ready_and_404() {
    let mut a = start().await;
    let (st, h, body) = get(a.addr, "/healthz").await;
    assert_eq!((st, body.as_str()), (200, "ok"));
    assert!(h["content-type"].starts_with("text/plain"));

    let (st, _, body) = get(a.addr, "/readyz").await;
    assert_eq!((st, body.as_str()), (503, "not ready"));
    a.state.set_ready(true);
    let (st, _, body) = get(a.addr, "/readyz").await;
    assert_eq!((st, body.as_str()), (200, "ok"));
    a.state.set_ready(false);
    assert_eq!(get(a.addr, "/readyz").await.0, 503);

    assert_eq!(get(a.addr, "/nope").await.0, 404);

    a.stop.take().unwrap().send(()).unwrap();
    timeout(T, &mut a.task).await.unwrap().unwrap().unwrap();
    assert!(
        TcpStream::connect(a.addr).await.is_err(),
        "listener closed after shutdown"
    );
}

fn sample_events(m: &Metrics) {
    for (status, path) in [(200, "/"), (200, "/"), (404, "/api"), (503, "/api")] {
        let ev = AccessEvent {
            method: "GET".into(),
            status,
            host: Some("shop.example.com".into()),
            ingress_namespace: Some("default".into()),
            ingress_name: Some("shop".into()),
            service: Some("shop-svc".into()),
            route_path: Some(path.into()),
            bytes_in: 80,
            bytes_out: 2048,
            duration_ms: 3.5,
            upstream_latency_ms: Some(2.0),
            upstream_connect_ms: Some(0.3),
            user_agent: Some("ua \"quoted\" \\ back".into()),
            ..AccessEvent::default()
        };
        m.observe(&ev);
    }
    m.config_reloaded(true, 0xdead_beef);
    let _guard = m.connection_opened();
}

/// A strict parser of the Prometheus text exposition format 0.0.4. Returns the samples
/// as (name, labels, value); panics with the offending line on any violation.
fn parse_exposition(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let name_re = regex::Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$").unwrap();
    let label_re = regex::Regex::new(r"^[a-zA-Z_][a-zA-Z0-9_]*$").unwrap();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "exposition ends with a newline");
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap();
            let name = parts
                .next()
                .unwrap_or_else(|| panic!("bad comment: {line}"));
            assert!(name_re.is_match(name), "bad metric name in {line}");
            match kind {
                "HELP" => assert!(helps.insert(name.to_string()), "duplicate HELP: {line}"),
                "TYPE" => {
                    let t = parts.next().unwrap();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "bad type: {line}"
                    );
                    assert!(
                        types.insert(name.to_string(), t.to_string()).is_none(),
                        "dup TYPE"
                    );
                }
                _ => {}
            }
            continue;
        }
        // name{labels} value
        let (name, labels, rest) = match line.find('{') {
            Some(i) => {
                let name = &line[..i];
                let mut labels = HashMap::new();
                let bytes = line.as_bytes();
                let mut j = i + 1;
                loop {
                    if bytes[j] == b'}' {
                        j += 1;
                        break;
                    }
                    let eq = line[j..].find('=').unwrap() + j;
                    let lname = &line[j..eq];
                    assert!(label_re.is_match(lname), "bad label name {lname} in {line}");
                    assert_eq!(bytes[eq + 1], b'"', "label value must be quoted: {line}");
                    let mut k = eq + 2;
                    let mut value = String::new();
                    loop {
                        match bytes[k] {
                            b'\\' => {
                                match bytes[k + 1] {
                                    b'\\' => value.push('\\'),
                                    b'"' => value.push('"'),
                                    b'n' => value.push('\n'),
                                    other => panic!("bad escape \\{} in {line}", other as char),
                                }
                                k += 2;
                            }
                            b'"' => break,
                            b'\n' => panic!("raw newline in label value"),
                            _ => {
                                let ch = line[k..].chars().next().unwrap();
                                value.push(ch);
                                k += ch.len_utf8();
                            }
                        }
                    }
                    assert!(
                        labels.insert(lname.to_string(), value).is_none(),
                        "dup label"
                    );
                    j = k + 1;
                    if bytes[j] == b',' {
                        j += 1;
                    }
                }
                (name, labels, &line[j..])
            }
            None => {
                let sp = line.find(' ').unwrap();
                (&line[..sp], HashMap::new(), &line[sp..])
            }
        };
        assert!(name_re.is_match(name), "bad sample name {name}");
        let value_text = rest.trim().split(' ').next().unwrap();
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.contains_key(*f)))
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        samples.push((name.to_string(), labels, value));
    }
    // Histograms: monotone buckets ending with +Inf equal to _count.
    for (family, t) in &types {
        if t != "histogram" {
            continue;
        }
        let mut series: HashMap<SeriesKey, Vec<(f64, f64)>> = HashMap::new();
        let mut counts: HashMap<SeriesKey, f64> = HashMap::new();
        for (n, l, v) in &samples {
            let mut key: SeriesKey = l
                .iter()
                .filter(|(k, _)| k.as_str() != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            key.sort();
            if *n == format!("{family}_bucket") {
                let le = match l["le"].as_str() {
                    "+Inf" => f64::INFINITY,
                    x => x.parse().unwrap(),
                };
                series.entry(key).or_default().push((le, *v));
            } else if *n == format!("{family}_count") {
                counts.insert(key, *v);
            }
        }
        for (key, buckets) in series {
            let mut prev = (f64::NEG_INFINITY, 0.0);
            for b in &buckets {
                assert!(
                    b.0 > prev.0 && b.1 >= prev.1,
                    "{family}: buckets not monotone"
                );
                prev = *b;
            }
            assert_eq!(prev.0, f64::INFINITY, "{family}: last bucket is +Inf");
            assert_eq!(Some(&prev.1), counts.get(&key), "{family}: +Inf == _count");
        }
    }
    samples
}

#[tokio::test]
async fn metrics_endpoint_is_valid_prometheus_text() {
    let a = start().await;
    sample_events(a.state.metrics());
    let (st, h, body) = get(a.addr, "/metrics").await;
    assert_eq!(st, 200);
    assert!(
        h["content-type"].starts_with("text/plain; version=0.0.4"),
        "{h:?}"
    );
    let samples = parse_exposition(&body);
    let requests: f64 = samples
        .iter()
        .filter(|(n, l, _)| n == "nginx_ingress_controller_requests" && l["ingress"] == "shop")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(requests, 4.0);
    let ok = samples
        .iter()
        .find(|(n, l, _)| {
            n == "nginx_ingress_controller_requests" && l["status"] == "200" && l["path"] == "/"
        })
        .unwrap();
    assert_eq!(ok.2, 2.0);
    for label in [
        "controller_class",
        "controller_namespace",
        "controller_pod",
        "ingress",
        "namespace",
        "service",
        "status",
        "method",
        "path",
        "host",
        "canary",
    ] {
        assert!(ok.1.contains_key(label), "requests lacks {label}");
    }
    assert!(samples.iter().any(|(n, _, v)| n
        == "nginx_ingress_controller_config_last_reload_successful"
        && *v == 1.0));
    assert!(
        samples
            .iter()
            .any(|(n, _, v)| n == "nginx_ingress_controller_config_hash"
                && *v == f64::from(0xdead_beef_u32))
    );
}

fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|f| f.is_file())
    })
}

#[tokio::test]
async fn promtool_accepts_metrics() {
    let Some(promtool) = which("promtool") else {
        eprintln!("SKIP: promtool not installed (Debian package `prometheus`)");
        return;
    };
    let a = start().await;
    sample_events(a.state.metrics());
    let (_, _, body) = get(a.addr, "/metrics").await;
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The only findings allowed are lint advice about ingress-nginx's historical counter
    // names (`_total` suffix), which compatibility fixes; anything else (parse errors,
    // duplicate series, bad types) fails.
    eprintln!("promtool: {report}");
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.ends_with("counter metrics should have \"_total\" suffix"),
            "promtool: {line}"
        );
    }
}

#[tokio::test]
async fn real_prometheus_scrape() {
    let Some(prometheus) = which("prometheus") else {
        eprintln!("SKIP: prometheus not installed (Debian package `prometheus`)");
        return;
    };
    let a = start().await;
    sample_events(a.state.metrics());
    let dir = tempfile::tempdir().unwrap();
    let web = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web_addr = web.local_addr().unwrap();
    drop(web);
    let cfg = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: portcullis\n    static_configs:\n      - targets: ['{}']\n",
        a.addr
    );
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let mut child = tokio::process::Command::new(prometheus)
        .arg(format!("--config.file={}", cfg_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={web_addr}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let query =
        "/api/v1/query?query=sum(nginx_ingress_controller_requests%7Bingress%3D%22shop%22%7D)";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let mut last = String::new();
    let value = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "prometheus never scraped the series; last answer: {last}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        if TcpStream::connect(web_addr).await.is_err() {
            continue;
        }
        let (st, _, body) = get(web_addr, query).await;
        last = body.clone();
        if st != 200 {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if let Some(r) = v["data"]["result"].as_array().and_then(|r| r.first()) {
            break r["value"][1].as_str().unwrap().to_string();
        }
    };
    assert_eq!(value, "4");
    // The scrape target is healthy (Prometheus parsed every sample).
    let (_, _, body) = get(
        web_addr,
        "/api/v1/query?query=up%7Bjob%3D%22portcullis%22%7D",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "1");
    let _ = child.kill().await;
}

/// The value of `nginx_ingress_controller_nginx_process_connections{state="active"}`.
async fn active_connections(admin: SocketAddr) -> f64 {
    let (st, _, body) = get(admin, "/metrics").await;
    assert_eq!(st, 200);
    parse_exposition(&body)
        .into_iter()
        .find(|(n, l, _)| {
            n == "nginx_ingress_controller_nginx_process_connections" && l["state"] == "active"
        })
        .map(|(_, _, v)| v)
        .unwrap()
}

/// Polls until the active gauge equals `want` (the gateway drops the guard on its own task).
async fn wait_active(admin: SocketAddr, want: f64) {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let got = active_connections(admin).await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "active connections {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn gateway_connections_feed_the_active_gauge() {
    let a = start().await;
    let backend = common::backend("b").await;
    let up = common::upstream("b", vec![backend.addr]);
    let model = common::simple(&up, config::model::RouteSettings::default());
    let sink = gateway::TelemetrySink::new(
        telemetry::AccessLog::disabled(),
        Some(Arc::clone(a.state.metrics())),
    );
    let gw = common::start_with_sink(model, gateway::GatewayOptions::default(), sink).await;
    assert_eq!(active_connections(a.addr).await, 0.0);

    // Two keep-alive client connections, each with one request answered.
    let mut conns = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = timeout(T, s.read(&mut buf)).await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        conns.push(s);
    }
    wait_active(a.addr, 2.0).await;
    let (_, _, body) = get(a.addr, "/metrics").await;
    let accepted = parse_exposition(&body)
        .into_iter()
        .find(|(n, l, _)| {
            n == "nginx_ingress_controller_nginx_process_connections_total"
                && l["state"] == "accepted"
        })
        .map(|(_, _, v)| v)
        .unwrap();
    assert_eq!(accepted, 2.0);

    drop(conns.pop());
    wait_active(a.addr, 1.0).await;
    drop(conns);
    wait_active(a.addr, 0.0).await;
}
