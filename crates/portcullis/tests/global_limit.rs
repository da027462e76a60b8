//! End to end: two `portcullis serve` processes share one `global-rate-limit` counted in a
//! real `redis-server` on a loopback port; Redis killed mid-test lets traffic through (fail
//! open) and the limit is enforced again once Redis is back. Skipped only when
//! `redis-server` is absent and `PORTCULLIS_REQUIRE_REDIS` is unset.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use globallimit::testing::RedisServer;

mod common;
use common::{free_addr, manifest, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const HOST: &str = "limited.test";
const LIMIT: usize = 10;

/// A running `portcullis serve`, killed on drop.
struct Server {
    child: Child,
    http: SocketAddr,
    admin: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, name: &str, redis: &str) -> Server {
    let (http, https, admin) = (free_addr(), free_addr(), free_addr());
    let child = Command::new(BIN)
        .arg("serve")
        .arg("--manifests")
        .arg(dir.join("manifests"))
        .arg("--config")
        .arg(dir.join("portcullis.yaml"))
        .args(["--http", &http.to_string()])
        .args(["--https", &https.to_string()])
        .args(["--admin", &admin.to_string()])
        .args(["--redis", redis])
        .arg("--state-dir")
        .arg(dir.join(name))
        .arg("--access-log")
        .arg(dir.join(format!("{name}.log")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, http, admin };
    wait_until(Duration::from_secs(30), || {
        get(server.admin, "localhost", "/readyz").status == 200
    });
    server
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// A minimal HTTP/1.1 GET. Status 0 when the connection fails.
fn get(addr: SocketAddr, host: &str, path: &str) -> Reply {
    let failed = Reply {
        status: 0,
        head: String::new(),
        body: String::new(),
    };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return failed;
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return failed;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

/// A backend answering every request with 200 `ok`, on its own thread.
fn backend() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    addr
}

fn app_manifest(backend: SocketAddr) -> String {
    let limit = LIMIT.to_string();
    manifest(
        HOST,
        backend,
        &[
            ("nginx.ingress.kubernetes.io/global-rate-limit", &limit),
            (
                "nginx.ingress.kubernetes.io/global-rate-limit-window",
                "24h",
            ),
            ("nginx.ingress.kubernetes.io/limit-req-status-code", "429"),
        ],
    )
}

fn metric(admin: SocketAddr, line_start: &str) -> Option<f64> {
    let r = get(admin, "localhost", "/metrics");
    r.body
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn redis_up(s: &Server) -> bool {
    metric(s.admin, "portcullis_global_limit_redis_up") == Some(1.0)
}

/// Sends `n` requests alternating between the two gateways; returns (allowed, rejected).
fn burst(a: &Server, b: &Server, n: usize) -> (usize, usize) {
    let (mut ok, mut rejected) = (0, 0);
    for i in 0..n {
        let s = if i % 2 == 0 { a } else { b };
        let r = get(s.http, HOST, "/");
        match r.status {
            200 => ok += 1,
            429 => {
                assert!(r.head.contains("\r\nretry-after: "), "{}", r.head);
                rejected += 1;
            }
            other => panic!("unexpected status {other}: {}", r.head),
        }
    }
    (ok, rejected)
}

#[test]
fn two_gateways_share_one_limit_and_survive_redis_outage() {
    let Some(mut redis) = RedisServer::start().unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    std::fs::write(
        dir.path().join("manifests/app.yaml"),
        app_manifest(backend()),
    )
    .unwrap();
    // A patient Redis timeout: the test machine may be busy, and a timeout fails open.
    std::fs::write(
        dir.path().join("portcullis.yaml"),
        "global_rate_limit_timeout_ms: 500\n",
    )
    .unwrap();
    let a = serve(dir.path(), "a", &redis.url());
    let b = serve(dir.path(), "b", &redis.url());
    wait_until(Duration::from_secs(20), || redis_up(&a) && redis_up(&b));

    // One limit for both replicas: exactly LIMIT requests pass in total.
    assert_eq!(burst(&a, &b, 2 * LIMIT), (LIMIT, LIMIT));
    let denied = |s: &Server| {
        metric(
            s.admin,
            "portcullis_global_limit_checks_total{result=\"deny\"}",
        )
        .unwrap_or(0.0)
    };
    assert_eq!(denied(&a) + denied(&b), 10.0);

    // Redis gone: fail open, traffic continues without delay.
    redis.kill();
    let start = Instant::now();
    assert_eq!(burst(&a, &b, 20), (20, 0));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!redis_up(&a) && !redis_up(&b));

    // Redis back (empty): both reconnect on their own and enforce the limit again.
    redis.restart().unwrap();
    wait_until(Duration::from_secs(20), || redis_up(&a) && redis_up(&b));
    assert_eq!(burst(&a, &b, 2 * LIMIT), (LIMIT, LIMIT));
}
