#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::Duration;

use common::*;
use config::model::RouteSettings;
use gateway::GatewayOptions;

async fn limited() -> (Backend, Running) {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let s = RouteSettings {
        body_size_limit: Some(1000),
        ..RouteSettings::default()
    };
    let opts = GatewayOptions {
        header_read_timeout: Duration::from_millis(400),
        ..GatewayOptions::default()
    };
    let gw = start_with(simple(&up, s), opts).await;
    (b, gw)
}

fn status_of(resp: &str) -> &str {
    resp.split(' ').nth(1).unwrap_or("")
}

#[tokio::test]
async fn body_limit_content_length() {
    let (b, gw) = limited().await;
    let body = "x".repeat(1500);
    let req = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1500\r\n\r\n{body}");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "413");
    assert_eq!(b.hits(), 0, "rejected before contacting the upstream");
    let ok = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\nConnection: close\r\n\r\n{}",
        "y".repeat(900)
    );
    let resp = raw(gw.addr, ok.as_bytes()).await;
    assert_eq!(status_of(&resp), "200");
    assert!(resp.contains("\"body_len\":900"));
}

#[tokio::test]
async fn body_limit_chunked() {
    let (_b, gw) = limited().await;
    let mut req = String::from("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        req.push_str(&format!("1f4\r\n{}\r\n", "z".repeat(500)));
    }
    req.push_str("0\r\n\r\n");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "413");
    let mut small = String::from(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    small.push_str(&format!("1f4\r\n{}\r\n0\r\n\r\n", "z".repeat(500)));
    let resp = raw(gw.addr, small.as_bytes()).await;
    assert_eq!(status_of(&resp), "200");
    assert!(resp.contains("\"body_len\":500"));
}

#[tokio::test]
async fn header_and_uri_limits_and_bad_requests() {
    let (_b, gw) = limited().await;
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "h".repeat(40 * 1024)
    );
    assert_eq!(status_of(&raw(gw.addr, big.as_bytes()).await), "431");
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_eq!(status_of(&raw(gw.addr, req.as_bytes()).await), "431");
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "u".repeat(9000));
    assert_eq!(status_of(&raw(gw.addr, long.as_bytes()).await), "414");
    assert_eq!(status_of(&raw(gw.addr, b"GARBAGE\r\n\r\n").await), "400");
    assert_eq!(
        status_of(&raw(gw.addr, b"GET / HTTP/1.1\r\n\r\n").await),
        "400"
    );
    assert_eq!(
        status_of(&raw(gw.addr, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").await),
        "400"
    );
    assert_eq!(
        status_of(
            &raw(
                gw.addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
            )
            .await
        ),
        "400"
    );
    // Still serving.
    assert_eq!(get(gw.addr, "x", "/").await.status, 200);
}

#[tokio::test]
async fn random_bytes_never_break_the_listener() {
    let (_b, gw) = limited().await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 7, 64, 512, 4096] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed & 0xff) as u8
            })
            .collect();
        let _ = raw(gw.addr, &bytes).await;
    }
    assert_eq!(get(gw.addr, "x", "/").await.status, 200);
}

#[tokio::test]
async fn slow_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_b, gw) = limited().await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let t = std::time::Instant::now();
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "connection closed by the header timeout");
    assert!(t.elapsed() < Duration::from_secs(2));

    // An idle keep-alive connection is closed too.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "silent connection closed");

    // A keep-alive connection idle after a request is closed as well.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "idle keep-alive connection closed");
    assert!(String::from_utf8_lossy(&buf).contains("200 OK"));
}

// === abuse control (issue #6) ===

mod abuse {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use config::limits::{CidrList, GlobalLimits, LimitSettings, UserAgentBlocklist, parse_cidr};
    use config::model::{GlobalSettings, HostMatch, Model, RouteSettings};
    use gateway::{GatewayOptions, LimitOptions, RejectSinks};
    use http::{Request, StatusCode};
    use http_body_util::Full;
    use telemetry::events::SecurityEvent;

    use super::common::*;

    fn list(items: &[&str]) -> CidrList {
        CidrList::new(items.iter().map(|s| parse_cidr(s).unwrap()).collect())
    }

    fn limits(f: impl FnOnce(&mut LimitSettings)) -> RouteSettings {
        let mut l = LimitSettings {
            burst_multiplier: 5,
            ..LimitSettings::default()
        };
        f(&mut l);
        RouteSettings {
            limits: l,
            ..RouteSettings::default()
        }
    }

    /// Trusts X-Forwarded-For from loopback, so tests can present any client address.
    fn global(limits: GlobalLimits) -> GlobalSettings {
        GlobalSettings {
            use_forwarded_headers: true,
            proxy_real_ip_cidr: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            limits,
            ..GlobalSettings::default()
        }
    }

    fn one_route(b: &Backend, s: RouteSettings, g: GlobalSettings) -> Arc<Model> {
        let up = upstream("a", vec![b.addr]);
        Arc::new(Model {
            servers: vec![server(HostMatch::Any, vec![route(prefix("/"), &up, s)])],
            global: g,
            ..Model::default()
        })
    }

    struct Seen {
        events: Arc<Mutex<Vec<SecurityEvent>>>,
        metrics: Arc<telemetry::Metrics>,
    }

    fn options() -> (GatewayOptions, Seen) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let metrics =
            Arc::new(telemetry::Metrics::new(telemetry::MetricsConfig::default()).unwrap());
        let ev = Arc::clone(&events);
        let opts = GatewayOptions {
            limits: LimitOptions {
                sinks: RejectSinks {
                    events: Some(Arc::new(move |e: &SecurityEvent| {
                        ev.lock().unwrap().push(e.clone())
                    })),
                    metrics: Some(Arc::clone(&metrics)),
                },
                ..LimitOptions::default()
            },
            ..GatewayOptions::default()
        };
        (opts, Seen { events, metrics })
    }

    async fn ask(
        addr: std::net::SocketAddr,
        xff: Option<&str>,
        ua: Option<&str>,
        path: &str,
    ) -> StatusCode {
        let mut r = Request::get(format!("http://{addr}{path}")).header("host", "x");
        if let Some(x) = xff {
            r = r.header("x-forwarded-for", x);
        }
        if let Some(u) = ua {
            r = r.header("user-agent", u);
        }
        send(&client(), r.body(Full::new(Bytes::new())).unwrap())
            .await
            .status
    }

    #[tokio::test]
    async fn rps_burst_then_503() {
        let b = backend("a").await;
        let s = limits(|l| {
            l.rps = Some(1);
            l.burst_multiplier = 3;
        });
        let (opts, seen) = options();
        let gw = start_with(one_route(&b, s, GlobalSettings::default()), opts).await;
        let t = Instant::now();
        let mut ok = 0u64;
        let mut limited = 0u64;
        for _ in 0..10 {
            match ask(gw.addr, None, None, "/").await {
                StatusCode::OK => ok += 1,
                StatusCode::SERVICE_UNAVAILABLE => limited += 1,
                other => panic!("unexpected {other}"),
            }
        }
        // Burst 3 -> 4 at once, plus at most one per elapsed second.
        let slack = t.elapsed().as_secs() + 1;
        assert!(ok >= 4 && ok <= 4 + slack, "ok {ok}");
        assert!(limited >= 1, "limited {limited}");
        assert_eq!(
            b.hits() as u64,
            ok,
            "rejected requests never reach the upstream"
        );
        let events = seen.events.lock().unwrap().clone();
        assert_eq!(events.len() as u64, limited);
        let e = &events[0];
        assert_eq!(e.kind, "limit");
        assert_eq!(e.reason, Some("rate"));
        assert_eq!(e.status, Some(503));
        assert_eq!(e.ingress_name.as_deref(), Some("ing"));
        assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(e.request_id.len(), 32);
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["reason"], "rate");
        assert_eq!(v["action"], "rate_limited");
        let text = seen.metrics.render();
        let line = text
            .lines()
            .find(|l| l.starts_with("portcullis_limit_rejections_total{"))
            .unwrap();
        assert!(line.contains("reason=\"rate\""), "{line}");
        assert!(line.contains("ingress=\"ing\""), "{line}");
        assert!(line.ends_with(&format!(" {limited}")), "{line}");
    }

    #[tokio::test]
    async fn rpm_with_custom_429_and_whitelist() {
        let b = backend("a").await;
        let s = limits(|l| {
            l.rpm = Some(1);
            l.burst_multiplier = 2;
            l.req_status_code = Some(429);
            l.whitelist = list(&["10.0.0.0/8", "2001:db8:1::/48"]);
        });
        let gw = start(one_route(&b, s, global(GlobalLimits::default()))).await;
        // rpm 1, burst 2: three at once, then 429 for a minute.
        for i in 0..3 {
            assert_eq!(
                ask(gw.addr, Some("192.0.2.1"), None, "/").await,
                200,
                "#{i}"
            );
        }
        assert_eq!(ask(gw.addr, Some("192.0.2.1"), None, "/").await, 429);
        // Keyed by the true client IP: another client still has its burst.
        assert_eq!(ask(gw.addr, Some("192.0.2.2"), None, "/").await, 200);
        // IPv6 clients are limited too.
        for _ in 0..3 {
            assert_eq!(ask(gw.addr, Some("2001:db8:2::1"), None, "/").await, 200);
        }
        assert_eq!(ask(gw.addr, Some("2001:db8:2::1"), None, "/").await, 429);
        // limit-whitelist: exempt (IPv4 and IPv6).
        for _ in 0..8 {
            assert_eq!(ask(gw.addr, Some("10.1.2.3"), None, "/").await, 200);
            assert_eq!(ask(gw.addr, Some("2001:db8:1::9"), None, "/").await, 200);
        }
    }

    #[tokio::test]
    async fn limiter_state_survives_swaps_and_goes_with_the_ingress() {
        let b = backend("a").await;
        let s = || {
            limits(|l| {
                l.rpm = Some(1);
                l.burst_multiplier = 1;
            })
        };
        let gw = start(one_route(&b, s(), GlobalSettings::default())).await;
        assert_eq!(ask(gw.addr, None, None, "/").await, 200);
        assert_eq!(ask(gw.addr, None, None, "/").await, 200);
        assert_eq!(ask(gw.addr, None, None, "/").await, 503);
        gw.gw.swap(one_route(&b, s(), GlobalSettings::default()));
        assert_eq!(
            ask(gw.addr, None, None, "/").await,
            503,
            "kept across a swap"
        );
        // The Ingress goes away (no limits), then comes back: a fresh start.
        gw.gw.swap(one_route(
            &b,
            RouteSettings::default(),
            GlobalSettings::default(),
        ));
        assert_eq!(ask(gw.addr, None, None, "/").await, 200);
        gw.gw.swap(one_route(&b, s(), GlobalSettings::default()));
        assert_eq!(ask(gw.addr, None, None, "/").await, 200);
    }

    #[tokio::test]
    async fn connections_limit_with_slow_upstream() {
        let b = backend_with("slow", Duration::from_millis(700)).await;
        let s = limits(|l| l.connections = Some(1));
        let (opts, seen) = options();
        let gw = start_with(one_route(&b, s, GlobalSettings::default()), opts).await;
        let addr = gw.addr;
        let first = tokio::spawn(async move { ask(addr, None, None, "/").await });
        // Wait until the first request is at the upstream.
        let t = Instant::now();
        while b.hits() == 0 && t.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            ask(addr, None, None, "/").await,
            503,
            "second concurrent request"
        );
        assert_eq!(first.await.unwrap(), 200);
        // The slot is free once the first response is done.
        assert_eq!(ask(addr, None, None, "/").await, 200);
        let events = seen.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].reason, Some("connections"));
    }

    #[tokio::test]
    async fn allow_and_deny_lists_v4_v6() {
        let b = backend("a").await;
        let s = limits(|l| {
            l.allowlist = Some(list(&["2001:db8::/32", "192.0.2.0/24"]));
            l.denylist = Some(list(&["192.0.2.66/32", "2001:db8:bad::/48"]));
        });
        let (opts, seen) = options();
        let gw = start_with(one_route(&b, s, global(GlobalLimits::default())), opts).await;
        let a = gw.addr;
        assert_eq!(ask(a, Some("2001:db8::5"), None, "/").await, 200);
        assert_eq!(ask(a, Some("192.0.2.7"), None, "/").await, 200);
        assert_eq!(ask(a, Some("2001:db9::1"), None, "/").await, 403);
        assert_eq!(ask(a, None, None, "/").await, 403, "127.0.0.1 not allowed");
        assert_eq!(ask(a, Some("192.0.2.66"), None, "/").await, 403);
        assert_eq!(ask(a, Some("2001:db8:bad::1"), None, "/").await, 403);
        let reasons: Vec<_> = seen
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.reason.unwrap())
            .collect();
        assert_eq!(reasons, ["allowlist", "allowlist", "denylist", "denylist"]);
        assert_eq!(b.hits(), 2);
        // ACME HTTP-01 solver paths skip the allowlist (not the denylist).
        let acme = "/.well-known/acme-challenge/tok";
        assert_eq!(ask(a, Some("203.0.113.1"), None, acme).await, 200);
        assert_eq!(ask(a, Some("192.0.2.66"), None, acme).await, 403);
    }

    #[tokio::test]
    async fn global_blocks_and_defaults() {
        let b = backend("a").await;
        let g = GlobalLimits {
            block_cidrs: list(&["198.51.100.0/24", "2001:db8:dead::/48"]),
            block_user_agents: UserAgentBlocklist::parse(&["BadBot/1.0", "~*sqlmap"]).unwrap(),
            allowlist: Some(list(&["10.0.0.0/8", "::1"])),
            ..GlobalLimits::default()
        };
        let (opts, seen) = options();
        let gw = start_with(one_route(&b, RouteSettings::default(), global(g)), opts).await;
        let a = gw.addr;
        assert_eq!(
            ask(a, Some("10.0.0.1"), Some("Mozilla/5.0"), "/").await,
            200
        );
        assert_eq!(ask(a, Some("10.0.0.1"), Some("badbot/1.0"), "/").await, 403);
        assert_eq!(
            ask(a, Some("10.0.0.1"), Some("x SQLMap/1.7"), "/").await,
            403
        );
        assert_eq!(ask(a, Some("198.51.100.3"), None, "/").await, 403);
        assert_eq!(ask(a, Some("2001:db8:dead::3"), None, "/").await, 403);
        // Global allowlist default applies to an Ingress without its own.
        assert_eq!(ask(a, Some("192.0.2.1"), None, "/").await, 403);
        let reasons: Vec<_> = seen
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.reason.unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "user-agent",
                "user-agent",
                "denylist",
                "denylist",
                "allowlist"
            ]
        );
        let text = seen.metrics.render();
        assert!(
            text.lines()
                .any(|l| l.starts_with("portcullis_limit_rejections_total{")
                    && l.contains("reason=\"user-agent\"")
                    && l.ends_with(" 2")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn body_size_rejection_is_recorded() {
        let b = backend("a").await;
        let s = RouteSettings {
            body_size_limit: Some(100),
            ..RouteSettings::default()
        };
        let (opts, seen) = options();
        let gw = start_with(one_route(&b, s, GlobalSettings::default()), opts).await;
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{}",
            "x".repeat(200)
        );
        assert!(
            raw(gw.addr, req.as_bytes())
                .await
                .starts_with("HTTP/1.1 413")
        );
        let mut chunked =
            String::from("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..3 {
            chunked.push_str(&format!("64\r\n{}\r\n", "z".repeat(100)));
        }
        chunked.push_str("0\r\n\r\n");
        assert!(
            raw(gw.addr, chunked.as_bytes())
                .await
                .starts_with("HTTP/1.1 413")
        );
        let events = seen.events.lock().unwrap().clone();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.reason == Some("body-size")));
        assert_eq!(events[0].action, telemetry::events::Disposition::Blocked);
        assert!(seen.metrics.render().contains("reason=\"body-size\""));
    }

    #[tokio::test]
    async fn ipv6_listener_when_available() {
        let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
            eprintln!("no IPv6 loopback here; skipped");
            return;
        };
        let b = backend("a").await;
        let s = limits(|l| l.allowlist = Some(list(&["::1/128"])));
        let gw = gateway::Gateway::new(
            one_route(&b, s, GlobalSettings::default()),
            GatewayOptions::default(),
        );
        let addr = listener.local_addr().unwrap();
        let stop = gateway::CancellationToken::new();
        let (g, st) = (Arc::clone(&gw), stop.clone());
        tokio::spawn(async move { g.serve_http(listener, st).await });
        assert_eq!(ask(addr, None, None, "/").await, 200, "::1 is allowed");
        // Same gateway over IPv4 loopback is not.
        gw.swap(one_route(
            &b,
            limits(|l| l.allowlist = Some(list(&["127.0.0.1"]))),
            GlobalSettings::default(),
        ));
        assert_eq!(
            ask(addr, None, None, "/").await,
            403,
            "::1 no longer allowed"
        );
        stop.cancel();
    }

    /// End-to-end added latency of local limiting, one run (`cargo test -p gateway --test
    /// limits latency -- --ignored --nocapture`; add `--release` for real numbers).
    #[tokio::test]
    #[ignore = "timing report"]
    async fn latency_with_and_without_limit_rps() {
        let b = backend("a").await;
        let up = upstream("a", vec![b.addr]);
        let limited = limits(|l| {
            l.rps = Some(1_000_000);
            l.connections = Some(100_000);
        });
        let m = Arc::new(Model {
            servers: vec![
                server(
                    host("plain.test"),
                    vec![route(prefix("/"), &up, RouteSettings::default())],
                ),
                server(host("limited.test"), vec![route(prefix("/"), &up, limited)]),
            ],
            ..Model::default()
        });
        let gw = start(m).await;
        let c = client();
        let one = |h: &'static str| {
            let r = Request::get(format!("http://{}/", gw.addr))
                .header("host", h)
                .body(Full::new(Bytes::new()))
                .unwrap();
            send(&c, r)
        };
        let n = 2000u32;
        let (mut plain, mut lim) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..200 {
            one("plain.test").await;
            one("limited.test").await;
        }
        for _ in 0..n {
            let t = Instant::now();
            assert_eq!(one("plain.test").await.status, 200);
            plain += t.elapsed();
            let t = Instant::now();
            assert_eq!(one("limited.test").await.status, 200);
            lim += t.elapsed();
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(n);
        eprintln!(
            "mean per request: no limits {:.1} us, limit-rps+connections {:.1} us, added {:.1} us",
            us(plain),
            us(lim),
            us(lim) - us(plain)
        );
    }
}
