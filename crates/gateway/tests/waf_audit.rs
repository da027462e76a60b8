#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The ModSecurity-compatible JSON audit log through real sockets: the libmodsecurity 3
//! record shape, parts, RelevantOnly semantics, snippet rules.
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gateway::GatewayOptions;
use gateway::waf::Waf;
use gateway::waf::audit::{AuditLog, AuditParts};

async fn start_gw(log: &Path, parts: &str) -> (Backend, Running) {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let dead = upstream("dead", vec![closed_port().await]);
    let servers = vec![
        server(
            host("block.test"),
            vec![
                route(prefix("/down"), &dead, waf_detect()),
                route(prefix("/"), &up, waf_block()),
            ],
        ),
        server(
            host("extra.test"),
            vec![route(
                prefix("/"),
                &up,
                waf_settings(&[
                    ("enable-modsecurity", "true"),
                    ("enable-owasp-core-rules", "false"),
                    (
                        "modsecurity-snippet",
                        "SecRuleEngine DetectionOnly\nSecRule ARGS:x \"@streq evil\" \"id:10001,phase:1,pass,log,msg:'custom',ver:'mine/1',rev:'7'\"\n",
                    ),
                ]),
            )],
        ),
    ];
    let audit = AuditLog::open(log, AuditParts::parse(parts).unwrap()).unwrap();
    let waf = Waf::with_rules(waf_options(|_| {}), crs_rules(1 << 20, false))
        .with_audit_log(audit)
        .unwrap();
    let opts = GatewayOptions {
        waf: Some(Arc::new(waf)),
        ..GatewayOptions::default()
    };
    let gw = start_with(model(servers), opts).await;
    (b, gw)
}

/// Waits until the log has `n` records (the writer is a background thread).
async fn records(log: &Path, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().count() >= n {
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "fewer than {n} audit records:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[tokio::test]
async fn relevant_transactions_in_modsecurity_shape() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.json");
    let (_b, gw) = start_gw(&log, "ABHZ").await;
    // Benign and 404-free: nothing written.
    let resp = raw(gw.addr, get_req("block.test", "/search?q=shoes").as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // Blocked SQL injection: one record.
    let resp = raw(gw.addr, get_req("block.test", SQLI).as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    let recs = records(&log, 1).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    let t = &recs[0]["transaction"];
    assert_eq!(t["client_ip"], "127.0.0.1");
    assert!(t["client_port"].as_u64().unwrap() > 0);
    assert_eq!(t["host_ip"], "127.0.0.1");
    assert_eq!(t["host_port"].as_u64().unwrap(), u64::from(gw.addr.port()));
    assert_eq!(t["server_id"].as_str().unwrap().len(), 40);
    assert_eq!(t["unique_id"].as_str().unwrap().len(), 32);
    assert!(resp.contains(t["unique_id"].as_str().unwrap()));
    assert_eq!(t["is_interrupted"], true);
    assert_eq!(t["time_stamp"].as_str().unwrap().split(' ').count(), 5);
    assert_eq!(t["request"]["method"], "GET");
    assert_eq!(t["request"]["http_version"], "1.1");
    assert_eq!(t["request"]["uri"], SQLI);
    assert_eq!(t["request"]["headers"]["host"], "block.test");
    assert!(t["request"].get("body").is_none(), "part C is off");
    assert_eq!(t["response"]["http_code"], 403);
    assert!(t["response"].get("headers").is_none(), "part F is off");
    assert_eq!(t["producer"]["secrules_engine"], "Enabled");
    assert_eq!(t["producer"]["components"][0], "OWASP_CRS/4.28.0");
    let msgs = t["messages"].as_array().unwrap();
    let sqli = msgs
        .iter()
        .find(|m| m["details"]["ruleId"] == "942100")
        .expect("libinjection SQLi rule");
    let d = &sqli["details"];
    assert!(
        d["file"]
            .as_str()
            .unwrap()
            .ends_with("REQUEST-942-APPLICATION-ATTACK-SQLI.conf"),
        "{d}"
    );
    assert!(d["lineNumber"].as_str().unwrap().parse::<u32>().unwrap() > 1);
    assert_eq!(d["severity"], "2");
    assert_eq!(d["ver"], "OWASP_CRS/4.28.0");
    assert!(d["match"].as_str().unwrap().contains("ARGS:id"), "{d}");
    assert!(
        d["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "attack-sqli")
    );
    for k in ["reference", "data", "rev", "maturity", "accuracy"] {
        assert!(d[k].is_string(), "{k}: {d}");
    }
    let blocking = msgs
        .iter()
        .find(|m| m["details"]["ruleId"] == "949110")
        .expect("the blocking evaluation rule");
    assert!(
        blocking["message"]
            .as_str()
            .unwrap()
            .contains("Anomaly Score")
    );
}

#[tokio::test]
async fn statuses_parts_and_snippet_rules() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.json");
    let (_b, gw) = start_gw(&log, "ABCFHZ").await;
    // 502 from a dead upstream: relevant by status, no messages.
    let resp = raw(gw.addr, get_req("block.test", "/down/x").as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 502"), "{resp}");
    let recs = records(&log, 1).await;
    let t = &recs[0]["transaction"];
    assert_eq!(t["response"]["http_code"], 502);
    assert_eq!(t["is_interrupted"], false);
    assert!(t["messages"].as_array().unwrap().is_empty());
    assert!(t["response"]["headers"].is_object(), "part F");
    // A POST with an attack in the body: part C carries the body.
    let body = "comment=<script>alert(1)</script>";
    let post = format!(
        "POST /c HTTP/1.1\r\nHost: block.test\r\nUser-Agent: test\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let resp = raw(gw.addr, post.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    let recs = records(&log, 2).await;
    let t = &recs[1]["transaction"];
    assert_eq!(t["request"]["body"], body);
    assert_eq!(
        t["response"]["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );
    // A snippet rule in DetectionOnly: its own file/line and metadata.
    let resp = raw(gw.addr, get_req("extra.test", "/?x=evil").as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let recs = records(&log, 3).await;
    let t = &recs[2]["transaction"];
    assert_eq!(t["producer"]["secrules_engine"], "DetectionOnly");
    let m = &t["messages"][0];
    assert_eq!(m["message"], "custom");
    assert_eq!(m["details"]["ruleId"], "10001");
    assert_eq!(m["details"]["file"], "modsecurity-snippet");
    assert_eq!(m["details"]["lineNumber"], "2");
    assert_eq!(m["details"]["ver"], "mine/1");
    assert_eq!(m["details"]["rev"], "7");
    // An unrouted 404: the WAF does not run, nothing is written.
    let resp = raw(gw.addr, get_req("nohost.test", "/").as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(records(&log, 3).await.len(), 3);
}
