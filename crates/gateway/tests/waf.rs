#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The WAF on the request path, through real sockets, with the OWASP CRS from `../shared/crs`.
mod common;

use common::*;
use config::model::RouteSettings;
use gateway::waf::Waf;

/// A gateway with one host per scenario and a WAF in `detect` mode (body limit 1000).
async fn start_gw() -> (Backend, Running, Events) {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let hosts: Vec<(&str, RouteSettings)> = vec![
        ("off.test", waf_settings(&[])),
        ("detect.test", waf_detect()),
        ("block.test", waf_block()),
        (
            "lua.test",
            waf_settings(&[
                ("lua-resty-waf", "active"),
                ("lua-resty-waf-score-threshold", "10000"),
            ]),
        ),
        (
            "removed.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                (
                    "modsecurity-snippet",
                    "SecRuleEngine On\nSecRuleRemoveByTag attack-sqli\nSecRuleRemoveById 949110 980170\n",
                ),
            ]),
        ),
        (
            "extra.test",
            waf_settings(&[
                ("enable-modsecurity", "true"),
                ("enable-owasp-core-rules", "false"),
                (
                    "modsecurity-snippet",
                    "SecRuleEngine On\nSecRule ARGS:x \"@streq forbidden\" \"id:10001,phase:1,deny,status:406,log,msg:'custom'\"\n",
                ),
            ]),
        ),
    ];
    let (events, sink) = event_sink();
    let wopts = waf_options(|o| o.body_limit = 1000);
    let waf = Waf::with_rules(wopts, crs_rules(1000, false)).with_sink(sink);
    let gw = start_waf(hosts, &up, waf).await;
    (b, gw, events)
}

#[tokio::test]
async fn annotation_on_off_detect_and_block() {
    let (b, gw, events) = start_gw().await;
    // No annotation: the WAF does not run.
    assert_eq!(
        status_of(&raw(gw.addr, get_req("off.test", SQLI).as_bytes()).await),
        "200"
    );
    assert!(events_for(&events, "off.test").is_empty());
    // Detect: response unchanged, event written.
    assert_eq!(
        status_of(&raw(gw.addr, get_req("detect.test", SQLI).as_bytes()).await),
        "200"
    );
    let det = events_for(&events, "detect.test");
    assert_eq!(det.len(), 1, "{det:?}");
    assert_eq!(det[0]["action"], "detected");
    assert!(
        det[0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["category"] == "sqli")
    );
    // Block: 403 with the request id, upstream never contacted.
    let hits = b.hits();
    let resp = raw(gw.addr, get_req("block.test", SQLI).as_bytes()).await;
    assert_eq!(status_of(&resp), "403", "{resp}");
    assert_eq!(b.hits(), hits);
    let blk = events_for(&events, "block.test");
    assert_eq!(blk.len(), 1, "{blk:?}");
    assert_eq!(blk[0]["action"], "blocked");
    assert_eq!(blk[0]["status"], 403);
    assert_eq!(blk[0]["method"], "GET");
    assert_eq!(blk[0]["ingress_name"], "ing");
    assert!(blk[0]["anomaly_score"].as_i64().unwrap() >= 5);
    let id = blk[0]["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(resp.contains(id), "{resp}");
    let sqli = blk[0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "sqli")
        .expect("an sqli rule");
    assert_eq!(sqli["paranoia_level"], 1);
    assert!(sqli["data"].as_str().is_some());
    // Benign requests pass, without events.
    let resp = raw(
        gw.addr,
        get_req(
            "block.test",
            "/search?q=shoes&page=2&sort=price&lang=en&size=20",
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status_of(&resp), "200", "{resp}");
    assert_eq!(events_for(&events, "block.test").len(), 1);
}

#[tokio::test]
async fn lua_resty_waf_threshold_and_snippet_removal() {
    let (_b, gw, events) = start_gw().await;
    // lua-resty-waf active, threshold 10000: scored and logged, not blocked.
    assert_eq!(
        status_of(&raw(gw.addr, get_req("lua.test", SQLI).as_bytes()).await),
        "200"
    );
    let ev = events_for(&events, "lua.test");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["action"], "detected");
    // Snippet removes the SQLi rules: the attack passes, no sqli rule in events.
    assert_eq!(
        status_of(&raw(gw.addr, get_req("removed.test", SQLI).as_bytes()).await),
        "200"
    );
    for e in events_for(&events, "removed.test") {
        assert!(
            !e["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["category"] == "sqli"),
            "{e}"
        );
    }
    // Snippet SecRule additions (no CRS on this Ingress): the rule's own status.
    let resp = raw(gw.addr, get_req("extra.test", "/?x=forbidden").as_bytes()).await;
    assert_eq!(status_of(&resp), "406", "{resp}");
    assert_eq!(
        status_of(&raw(gw.addr, get_req("extra.test", SQLI).as_bytes()).await),
        "200"
    );
}

#[tokio::test]
async fn json_and_multipart_bodies() {
    let (_b, gw, events) = start_gw().await;
    let benign = r#"{"name":"alice","items":[1,2,3],"note":"see you tomorrow"}"#;
    let resp = raw(
        gw.addr,
        post_req("block.test", "application/json", benign).as_bytes(),
    )
    .await;
    assert_eq!(status_of(&resp), "200", "{resp}");
    assert!(
        resp.contains(&format!("\"body_len\":{}", benign.len())),
        "{resp}"
    );
    let attack = r#"{"name":"x' UNION SELECT password FROM users --","id":1}"#;
    let resp = raw(
        gw.addr,
        post_req("block.test", "application/json", attack).as_bytes(),
    )
    .await;
    assert_eq!(status_of(&resp), "403", "{resp}");

    let boundary = "----portcullis42";
    let mp = |value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n{value}\r\n--{boundary}--\r\n"
        )
    };
    let ctype = format!("multipart/form-data; boundary={boundary}");
    let ok = mp("hello world");
    let resp = raw(gw.addr, post_req("block.test", &ctype, &ok).as_bytes()).await;
    assert_eq!(status_of(&resp), "200", "{resp}");
    assert!(
        resp.contains(&format!("\"body_len\":{}", ok.len())),
        "{resp}"
    );
    let bad = mp("<script>alert(document.cookie)</script>");
    let resp = raw(gw.addr, post_req("block.test", &ctype, &bad).as_bytes()).await;
    assert_eq!(status_of(&resp), "403", "{resp}");
    let ev = events_for(&events, "block.test");
    assert!(ev.iter().any(|e| {
        e["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["category"] == "xss")
    }));
}

#[tokio::test]
async fn oversized_bodies() {
    let (_b, gw, _events) = start_gw().await;
    let big = format!("a={}", "b".repeat(2000));
    let form = "application/x-www-form-urlencoded";
    // Block mode rejects bodies over the WAF limit.
    let resp = raw(gw.addr, post_req("block.test", form, &big).as_bytes()).await;
    assert_eq!(status_of(&resp), "413", "{resp}");
    // Detect mode inspects the first part and forwards the whole body.
    let resp = raw(gw.addr, post_req("detect.test", form, &big).as_bytes()).await;
    assert_eq!(status_of(&resp), "200", "{resp}");
    assert!(
        resp.contains(&format!("\"body_len\":{}", big.len())),
        "{resp}"
    );
    // WAF off: streamed untouched.
    let resp = raw(gw.addr, post_req("off.test", form, &big).as_bytes()).await;
    assert_eq!(status_of(&resp), "200", "{resp}");
}
