//! End-to-end tests of the `portcullis` binary: real processes, real sockets on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{free_addr, manifest, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn crs_dir() -> PathBuf {
    workspace_root().join("../shared/crs")
}

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

fn serve(manifests: &Path, extra: &[&str], state: &Path) -> Server {
    let (http, https, admin) = (free_addr(), free_addr(), free_addr());
    let child = Command::new(BIN)
        .arg("serve")
        .arg("--manifests")
        .arg(manifests)
        .args([
            "--http",
            &http.to_string(),
            "--https",
            &https.to_string(),
            "--admin",
            &admin.to_string(),
        ])
        .arg("--state-dir")
        .arg(state)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, http, admin };
    wait_until(Duration::from_secs(20), || {
        get(server.admin, "localhost", "/readyz").0 == 200
    });
    server
}

/// A minimal HTTP/1.1 GET; returns (status, body). Status 0 when the connection fails.
fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A backend answering every request with 200 and a fixed body, on its own thread.
fn backend(body: &'static str) -> SocketAddr {
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
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes());
            });
        }
    });
    addr
}

#[test]
fn check_reports_file_and_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.yaml"),
        manifest("a.test", free_addr(), &[]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: [oops\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("check")
        .arg("--manifests")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bad.yaml:3:"), "{stdout}");

    let ok = Command::new(BIN)
        .args(["check", "--manifests"])
        .arg(workspace_root().join("examples"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
}

#[test]
fn serve_routes_and_reloads_rejecting_broken_changes() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let (one, two) = (backend("one"), backend("two"));
    std::fs::write(dir.path().join("app.yaml"), manifest("app.test", one, &[])).unwrap();
    let server = serve(dir.path(), &[], state.path());

    assert_eq!(get(server.http, "app.test", "/"), (200, "one".into()));
    assert_eq!(get(server.http, "other.test", "/").0, 404);

    // A broken document next to the good one: rejected, the running model keeps serving.
    std::fs::write(dir.path().join("broken.yaml"), "kind: Ingress\nspec: [\n").unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(get(server.http, "app.test", "/"), (200, "one".into()));

    // Fix it and point the Service elsewhere: applied without restart.
    std::fs::remove_file(dir.path().join("broken.yaml")).unwrap();
    std::fs::write(dir.path().join("app.yaml"), manifest("app.test", two, &[])).unwrap();
    wait_until(Duration::from_secs(10), || {
        get(server.http, "app.test", "/") == (200, "two".into())
    });

    let (status, metrics) = get(server.admin, "localhost", "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("nginx_ingress_controller_requests{"),
        "{metrics}"
    );
    assert!(metrics.contains("nginx_ingress_controller_config_last_reload_successful{"));
}

#[test]
fn serve_bundled_example_with_demo_backends() {
    let state = tempfile::tempdir().unwrap();
    let server = serve(
        &workspace_root().join("examples"),
        &["--demo"],
        state.path(),
    );
    let mut backends = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let (status, body) = get(server.http, "shop.localhost", "/cart");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        backends.insert(v["backend"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        backends.len(),
        2,
        "round robin over both demo backends: {backends:?}"
    );
    let (status, body) = get(server.http, "shop.localhost", "/api/orders/42");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["path"], "/orders/42");
}

fn eval(raw: &str, paranoia: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args(["waf", "eval", "--crs"]).arg(crs_dir());
    if let Some(p) = paranoia {
        cmd.args(["--paranoia", p]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn waf_eval_blocks_sqli_and_passes_benign() {
    let sqli = eval(
        "GET /?id=1%27%20OR%201=1--%20 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl\r\nAccept: */*\r\n\r\n",
        None,
    );
    assert_eq!(sqli["blocked"], true, "{sqli}");
    assert_eq!(sqli["status"], 403);
    assert!(
        sqli["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == 942100),
        "{sqli}"
    );
    assert!(sqli["anomaly_score"].as_i64().unwrap() >= 5);

    let benign = eval(
        "GET /index.html?a=1&b=hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\r\n",
        Some("2"),
    );
    assert_eq!(benign["blocked"], false, "{benign}");
    assert_eq!(benign["status"], 200);
}

#[test]
fn waf_eval_reports_rule_errors_with_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("crs-setup.conf.example"), "# empty\n").unwrap();
    std::fs::write(
        dir.path().join("rules/BROKEN.conf"),
        "\nSecRule ARGS \"@nosuchop x\" \"id:1,phase:1,pass\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["waf", "eval", "--crs"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BROKEN.conf:2"), "{err}");
}

#[test]
fn serve_reports_limit_rejections_as_security_events_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let up = backend("up");
    let denied = manifest(
        "denied.test",
        up,
        &[(
            "nginx.ingress.kubernetes.io/denylist-source-range",
            "127.0.0.0/8, ::1/128",
        )],
    );
    assert!(denied.contains("denylist-source-range"));
    std::fs::write(dir.path().join("app.yaml"), denied).unwrap();
    let security = state.path().join("security.log");
    let security_arg = security.to_string_lossy().into_owned();
    let server = serve(
        dir.path(),
        &["--waf", "off", "--security-log", &security_arg],
        state.path(),
    );

    assert_eq!(get(server.http, "denied.test", "/").0, 403);
    wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&security).is_ok_and(|t| t.contains("denylist"))
    });
    let line = std::fs::read_to_string(&security).unwrap();
    let event: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(event["kind"], "limit", "{event}");
    assert_eq!(event["reason"], "denylist", "{event}");
    let (_, metrics) = get(server.admin, "localhost", "/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("portcullis_limit_rejections_total{")
                && l.contains("reason=\"denylist\"")),
        "{metrics}"
    );
}
