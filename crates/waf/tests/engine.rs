#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Engine behaviour: phases, chains, skipAfter, setvar, ctl, counts, exclusions, macros.

use std::sync::Arc;

use seclang::loader::MemLoader;
use waf::{EngineMode, InterruptAction, RuleSet, Transaction};

fn compile(text: &str) -> Arc<RuleSet> {
    let dirs = seclang::parse_str(text, "test.conf").expect("parse");
    Arc::new(RuleSet::compile(&dirs, &MemLoader::new()).expect("compile"))
}

fn try_compile(text: &str) -> Result<RuleSet, String> {
    let dirs = seclang::parse_str(text, "test.conf").map_err(|e| e.to_string())?;
    RuleSet::compile(&dirs, &MemLoader::new()).map_err(|e| e.to_string())
}

/// Operators are delivered by another engineer; tests that need `@rx` & co. skip until then.
fn have_ops() -> bool {
    let ctx = waf::operators::BuildContext {
        loader: &MemLoader::new(),
        base_dir: std::path::Path::new("."),
    };
    waf::operators::build("rx", "a", &ctx).is_ok() && waf::operators::build("eq", "1", &ctx).is_ok()
}

fn get(rs: &Arc<RuleSet>, uri: &str, headers: &[(&str, &str)]) -> Transaction {
    let mut tx = rs.transaction();
    tx.process_connection(
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:80".parse().unwrap(),
    );
    tx.process_uri(b"GET", uri.as_bytes(), b"HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    tx.process_request_body();
    tx.process_response_headers(200, b"HTTP/1.1");
    tx.process_response_body();
    tx.process_logging();
    tx
}

fn ids(tx: &Transaction) -> Vec<u64> {
    tx.matched_rules().iter().map(|m| m.id).collect()
}

fn tx_var(tx: &Transaction, k: &str) -> Option<String> {
    tx.collection_value("TX", k)
        .map(|v| String::from_utf8(v).unwrap())
}

#[test]
fn secaction_setvar_arithmetic_and_macros() {
    let rs = compile(
        r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=5,setvar:tx.b=+3,setvar:tx.a=+%{tx.b},setvar:tx.c=x%{tx.a}y"
SecAction "id:2,phase:1,pass,nolog,setvar:tx.a=-1,setvar:!tx.b,setvar:tx.flag,setvar:'tx.%{tx.c}=%{request_line}'"
"#,
    );
    let tx = get(&rs, "/p?q=1", &[]);
    assert_eq!(tx_var(&tx, "a").as_deref(), Some("7"));
    assert_eq!(tx_var(&tx, "b"), None);
    assert_eq!(tx_var(&tx, "c").as_deref(), Some("x8y"));
    assert_eq!(tx_var(&tx, "flag").as_deref(), Some("1"));
    assert_eq!(tx_var(&tx, "x8y").as_deref(), Some("GET /p?q=1 HTTP/1.1"));
    assert_eq!(ids(&tx), vec![1, 2]);
    assert!(tx.matched_rules().iter().all(|m| !m.logged));
}

#[test]
fn phases_run_in_order_and_rule_macro() {
    let rs = compile(
        r#"
SecAction "id:5,phase:5,pass,setvar:tx.order=%{tx.order}5"
SecAction "id:3,phase:3,pass,setvar:tx.order=%{tx.order}3"
SecAction "id:1,phase:1,pass,setvar:tx.order=%{tx.order}1,msg:'rule %{rule.id}'"
SecAction "id:4,phase:4,pass,setvar:tx.order=%{tx.order}4"
SecAction "id:2,phase:2,pass,setvar:tx.order=%{tx.order}2"
"#,
    );
    let tx = get(&rs, "/", &[]);
    assert_eq!(tx_var(&tx, "order").as_deref(), Some("12345"));
    assert_eq!(ids(&tx), vec![1, 2, 3, 4, 5]);
    assert_eq!(tx.matched_rules()[0].msg, "rule 1");
}

#[test]
fn skip_after_marker_and_skip() {
    let rs = compile(
        r#"
SecAction "id:1,phase:1,pass,nolog,skipAfter:END"
SecAction "id:2,phase:1,pass,nolog"
SecMarker END
SecAction "id:3,phase:1,pass,nolog,skip:1"
SecAction "id:4,phase:1,pass,nolog"
SecAction "id:5,phase:1,pass,nolog"
"#,
    );
    assert_eq!(ids(&get(&rs, "/", &[])), vec![1, 3, 5]);
}

#[test]
fn deny_interrupts_only_when_on() {
    let text = r#"
SecRuleEngine On
SecAction "id:1,phase:1,deny,status:406,log"
SecAction "id:2,phase:2,pass,log"
"#;
    let rs = compile(text);
    let tx = get(&rs, "/", &[]);
    let i = tx.interruption().expect("interrupted");
    assert_eq!(
        (i.status, i.rule_id, i.action.clone()),
        (406, 1, InterruptAction::Deny)
    );
    assert_eq!(ids(&tx), vec![1]);

    let mut tx = rs.transaction();
    tx.set_engine_mode(EngineMode::DetectionOnly);
    tx.process_uri(b"GET", b"/", b"HTTP/1.1");
    assert!(tx.process_request_headers().is_none());
    assert!(tx.process_request_body().is_none());

    let dirs = seclang::parse_str(text, "t.conf").unwrap();
    let mut rs = RuleSet::compile(&dirs, &MemLoader::new()).unwrap();
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let tx = get(&rs, "/", &[]);
    assert!(tx.interruption().is_none());
    assert_eq!(ids(&tx), vec![1, 2]);
    assert!(tx.matched_rules()[0].disruptive);
}

#[test]
fn block_uses_default_action_and_redirect() {
    let rs = compile(
        r#"
SecRuleEngine On
SecDefaultAction "phase:1,log,auditlog,redirect:'http://x/%{tx.a}',status:301"
SecAction "id:1,phase:1,pass,setvar:tx.a=b"
SecAction "id:2,phase:1,block"
"#,
    );
    let tx = get(&rs, "/", &[]);
    let i = tx.interruption().expect("interrupted");
    assert_eq!(i.status, 301);
    assert_eq!(i.action, InterruptAction::Redirect("http://x/b".to_owned()));
}

#[test]
fn allow_skips_later_phases_but_not_logging() {
    let rs = compile(
        r#"
SecRuleEngine On
SecAction "id:1,phase:1,allow"
SecAction "id:2,phase:2,deny"
SecAction "id:3,phase:5,pass"
"#,
    );
    let tx = get(&rs, "/", &[]);
    assert!(tx.interruption().is_none());
    assert_eq!(ids(&tx), vec![1, 3]);
}

#[test]
fn ctl_rule_remove_and_engine() {
    let rs = compile(
        r#"
SecRuleEngine On
SecAction "id:1,phase:1,pass,ctl:ruleRemoveById=3,ctl:ruleRemoveByTag=bad"
SecAction "id:2,phase:1,pass,tag:bad,deny"
SecAction "id:3,phase:2,deny"
SecAction "id:4,phase:2,pass,ctl:ruleEngine=DetectionOnly"
SecAction "id:5,phase:2,deny"
"#,
    );
    let tx = get(&rs, "/", &[]);
    assert!(tx.interruption().is_none());
    assert_eq!(ids(&tx), vec![1, 4, 5]);
}

#[test]
fn remove_by_id_and_update_action_at_compile_time() {
    let rs = compile(
        r#"
SecAction "id:1,phase:1,pass"
SecAction "id:2,phase:1,pass,msg:'orig'"
SecAction "id:3,phase:1,pass,tag:x"
SecAction "id:4,phase:1,pass,log"
SecRuleRemoveById 1
SecRuleRemoveByTag ^x$
SecRuleUpdateActionById 2 "msg:'changed'"
SecRuleUpdateActionById 4 "nolog"
"#,
    );
    let tx = get(&rs, "/", &[]);
    assert_eq!(ids(&tx), vec![2, 4]);
    assert_eq!(tx.matched_rules()[0].msg, "changed");
    assert!(tx.matched_rules()[0].logged);
    assert!(!tx.matched_rules()[1].logged);
}

#[test]
fn compile_errors_carry_spans() {
    let e = try_compile("SecAction \"id:1,phase:1,pass\"\nSecAction \"id:1,phase:1,pass\"")
        .unwrap_err();
    assert!(e.starts_with("test.conf:2:"), "{e}");
    assert!(e.contains("duplicate rule id 1"), "{e}");
    let e = try_compile("SecAction \"phase:1,pass\"").unwrap_err();
    assert!(e.contains("no id"), "{e}");
    let e = try_compile("SecAction \"id:1,phase:1,exec:/bin/sh\"").unwrap_err();
    assert!(e.contains("unsupported"), "{e}");
    let e = try_compile("SecAction \"id:1,phase:1,t:nope\"").unwrap_err();
    assert!(e.contains("unknown transformation"), "{e}");
    let e = try_compile("SecAction \"id:1,phase:1,chain\"").unwrap_err();
    assert!(e.contains("chain"), "{e}");
    let e = try_compile("SecRule ARGS \"@nosuchop x\" \"id:1,phase:1\"").unwrap_err();
    assert!(e.contains("nosuchop"), "{e}");
}

#[test]
fn rules_with_operators() {
    if !have_ops() {
        eprintln!("skipped: operators not available yet");
        return;
    }
    let rs = compile(
        r#"
SecRule ARGS "@rx ^(a+)b" "id:1,phase:1,pass,capture,log,msg:'m',logdata:'%{TX.1} in %{MATCHED_VAR_NAME}',setvar:tx.hits=+1"
SecRule ARGS|!ARGS:skip "@rx x" "id:2,phase:1,pass"
SecRule &ARGS "@eq 3" "id:3,phase:1,pass"
SecRule &REQUEST_HEADERS:X-Nope "@eq 0" "id:4,phase:1,pass"
SecRule REQUEST_HEADERS:user-agent "@rx bot" "id:5,phase:1,pass,chain"
    SecRule ARGS:q "@rx ^aa" "setvar:tx.chained=%{MATCHED_VAR}"
SecRule REQUEST_HEADERS:User-Agent "@rx nomatch" "id:6,phase:1,pass,chain,setvar:tx.never=1"
    SecRule ARGS "@rx ." ""
SecRule ARGS "@rx X" "id:7,phase:1,pass,t:none,t:uppercase"
SecRule ARGS_NAMES "@rx ^q$" "id:8,phase:1,pass,ctl:ruleRemoveTargetById=9;ARGS:q"
SecRule ARGS "@rx ab" "id:9,phase:2,pass"
SecRule REQUEST_URI "@rx ^/p a" "id:10,phase:1,pass"
"#,
    );
    let tx = get(&rs, "/p%20a?q=aab&skip=x&z=1", &[("User-Agent", "mybot")]);
    let got = ids(&tx);
    assert_eq!(got, vec![1, 3, 4, 5, 7, 8, 10], "{:?}", tx.matched_rules());
    let m = &tx.matched_rules()[0];
    assert_eq!(m.data, "aa in ARGS:q");
    assert_eq!(m.matched_var_name, "ARGS:q");
    assert_eq!(tx_var(&tx, "hits").as_deref(), Some("1"));
    assert_eq!(tx_var(&tx, "chained").as_deref(), Some("aab"));
    assert_eq!(tx_var(&tx, "never"), None);
}

#[test]
fn request_body_urlencoded_and_json() {
    if !have_ops() {
        eprintln!("skipped: operators not available yet");
        return;
    }
    let rs = compile(
        r#"
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule ARGS_POST:a "@rx ^1$" "id:2,phase:2,pass"
SecRule ARGS:json.b.c "@rx ^x$" "id:3,phase:2,pass"
SecRule REQBODY_PROCESSOR "@rx ^JSON$" "id:4,phase:2,pass"
SecRule REQBODY_ERROR "@eq 0" "id:5,phase:2,pass"
"#,
    );
    let mut tx = rs.transaction();
    tx.process_uri(b"POST", b"/", b"HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
    tx.process_request_headers();
    tx.append_request_body(b"a=1&b=2");
    tx.process_request_body();
    assert_eq!(ids(&tx), vec![2, 5]);

    let mut tx = rs.transaction();
    tx.process_uri(b"POST", b"/", b"HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"application/json");
    tx.process_request_headers();
    tx.append_request_body(br#"{"b":{"c":"x"}}"#);
    tx.process_request_body();
    assert_eq!(ids(&tx), vec![1, 3, 4, 5]);
}

#[test]
fn ruleset_and_transaction_are_thread_safe() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<RuleSet>();
    send::<Transaction>();
}

#[test]
fn update_target_and_runtime_target_removal() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRule ARGS "@rx evil" "id:1,phase:1,pass,tag:t1"
SecRule ARGS "@rx evil" "id:2,phase:1,pass,tag:t2"
SecRule ARGS "@rx evil" "id:3,phase:2,pass,tag:t3"
SecRule ARGS "@rx evil" "id:4,phase:2,pass,tag:t4"
SecRuleUpdateTargetById 1 "!ARGS:a"
SecRuleUpdateTargetByTag t2 "!ARGS:/^A$/"
SecAction "id:10,phase:1,pass,ctl:ruleRemoveTargetByTag=t3;ARGS:a,ctl:ruleRemoveTargetById=4;ARGS"
"#,
    );
    let tx = get(&rs, "/?a=evil", &[]);
    assert_eq!(ids(&tx), vec![10]);
    let tx = get(&rs, "/?a=evil&b=evil", &[]);
    assert_eq!(ids(&tx), vec![1, 2, 10, 3]);
}

#[test]
fn allow_phase_and_multimatch_and_counts() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRuleEngine On
SecAction "id:1,phase:1,allow:phase"
SecAction "id:2,phase:1,deny"
SecRule ARGS "@rx ^A" "id:3,phase:2,pass,multiMatch,t:uppercase,setvar:tx.n=+1"
SecRule &ARGS "@eq 2" "id:4,phase:2,pass"
SecRule &TX:n "@eq 1" "id:5,phase:2,pass"
SecRule TX:n "@eq 2" "id:6,phase:2,pass"
"#,
    );
    let tx = get(&rs, "/?x=abc&y=Abc", &[]);
    assert!(tx.interruption().is_none());
    // x: only the uppercased value matches; y: original and uppercased both match.
    assert_eq!(tx_var(&tx, "n").as_deref(), Some("3"));
    assert_eq!(ids(&tx), vec![1, 3, 4, 5]);
}

#[test]
fn response_body_only_for_configured_types() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecResponseBodyAccess On
SecResponseBodyMimeType text/html
SecRule RESPONSE_BODY "@rx secret" "id:1,phase:4,pass"
SecRule RESPONSE_STATUS "@eq 500" "id:2,phase:3,pass"
"#,
    );
    for (ct, want) in [
        ("text/html; charset=utf-8", vec![2, 1]),
        ("application/octet-stream", vec![2]),
    ] {
        let mut tx = rs.transaction();
        tx.process_uri(b"GET", b"/", b"HTTP/1.1");
        tx.process_request_headers();
        tx.process_request_body();
        tx.add_response_header(b"Content-Type", ct.as_bytes());
        tx.process_response_headers(500, b"HTTP/1.1");
        tx.append_response_body(b"the secret is out");
        tx.process_response_body();
        tx.process_logging();
        assert_eq!(ids(&tx), want, "{ct}");
    }
}

#[test]
fn multipart_and_xml_bodies() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx xml" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule FILES "@rx \.php$" "id:2,phase:2,pass"
SecRule ARGS_POST:field "@rx ^v$" "id:3,phase:2,pass"
SecRule MULTIPART_STRICT_ERROR "@eq 0" "id:4,phase:2,pass"
SecRule XML:/* "@rx hello" "id:5,phase:2,pass"
SecRule XML://@* "@rx ^attr$" "id:6,phase:2,pass"
SecRule REQBODY_ERROR "@eq 1" "id:7,phase:2,pass"
"#,
    );
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv\r\n--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php ?>\r\n--XyZ--\r\n";
    let mut tx = rs.transaction();
    tx.process_uri(b"POST", b"/upload", b"HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"multipart/form-data; boundary=XyZ");
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    assert_eq!(ids(&tx), vec![2, 3, 4]);

    let mut tx = rs.transaction();
    tx.process_uri(b"POST", b"/x", b"HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"text/xml");
    tx.process_request_headers();
    tx.append_request_body(b"<a b=\"attr\">hello</a>");
    tx.process_request_body();
    assert_eq!(ids(&tx), vec![1, 4, 5, 6]);

    let mut tx = rs.transaction();
    tx.process_uri(b"POST", b"/x", b"HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"text/xml");
    tx.process_request_headers();
    tx.append_request_body(b"<a><b></a>");
    tx.process_request_body();
    assert_eq!(ids(&tx), vec![1, 4, 7]);
}

/// A phase stops between rules once the deadline has passed, later phases do not run, and
/// the transaction says so; without a deadline (or a distant one) every rule runs.
#[test]
fn deadline_stops_evaluation_between_rules() {
    let mut text = String::from("SecRuleEngine On\n");
    for i in 0..200 {
        text.push_str(&format!(
            "SecRule ARGS \"@rx a+b\" \"id:{},phase:1,pass,log,t:none\"\n",
            1000 + i
        ));
    }
    text.push_str("SecAction \"id:5000,phase:2,pass,log\"\n");
    let rs = compile(&text);
    let run = |deadline: Option<std::time::Instant>| {
        let mut tx = rs.transaction();
        tx.set_deadline(deadline);
        tx.process_uri(b"GET", b"/?x=aaab", b"HTTP/1.1");
        tx.process_request_headers();
        tx.process_request_body();
        tx
    };
    let all = run(None);
    assert_eq!(all.matched_rules().len(), 201);
    assert!(!all.deadline_exceeded());
    let far = run(Some(
        std::time::Instant::now() + std::time::Duration::from_secs(3600),
    ));
    assert_eq!(far.matched_rules().len(), 201);
    assert!(!far.deadline_exceeded());
    let past = run(Some(std::time::Instant::now()));
    assert!(past.deadline_exceeded());
    assert!(past.matched_rules().is_empty(), "{:?}", ids(&past));
    assert!(past.interruption().is_none());
}

/// The deadline also cuts a phase in the middle: 200 rules scanning a 1 MiB argument take
/// far longer than 20 ms, so evaluation stops after the first check that sees the clock past
/// it (checks come every 16 rules).
#[test]
fn deadline_cuts_a_phase_midway() {
    let mut text = String::from("SecRuleEngine On\n");
    for i in 0..200 {
        text.push_str(&format!(
            "SecRule ARGS \"@rx a+b\" \"id:{},phase:1,pass,log,t:none\"\n",
            1000 + i
        ));
    }
    let rs = compile(&text);
    let mut uri = String::from("/?x=");
    uri.push_str(&"a".repeat(1024 * 1024));
    uri.push('b');
    let mut tx = rs.transaction();
    tx.process_uri(b"GET", uri.as_bytes(), b"HTTP/1.1");
    tx.set_deadline(Some(
        std::time::Instant::now() + std::time::Duration::from_millis(20),
    ));
    tx.process_request_headers();
    let n = tx.matched_rules().len();
    assert!(tx.deadline_exceeded(), "{n} rules ran");
    assert!((15..200).contains(&n), "{n} rules ran");
}

/// Rules screened before evaluation (`screen.rs`) still match whenever their operator would:
/// literals created by a transformation, hidden by case, in the original value of a
/// multiMatch rule, found by `@pm`; and the screen does skip rules whose literals are absent.
/// (Debug builds also evaluate every skipped rule and fail if it matches.)
#[test]
fn screened_rules_match_exactly_when_they_should() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRule ARGS "@rx a%41" "id:10,phase:1,pass,log,t:urlDecode,multiMatch"
SecRule ARGS "@rx union" "id:11,phase:1,pass,log,t:removeWhitespace"
SecRule ARGS "@rx select" "id:12,phase:1,pass,log,t:lowercase"
SecRule REQUEST_HEADERS "@pm evilbot sqlmap" "id:13,phase:1,pass,log"
SecRule ARGS "@rx zzz" "id:14,phase:1,pass,log"
SecRule REQUEST_HEADERS:Referer "@rx evilbot" "id:15,phase:1,pass,log"
SecRule ARGS_NAMES "@rx unionselect" "id:16,phase:1,pass,log"
SecRule ARGS "@rx union" "id:17,phase:2,pass,log,t:none"
SecRule ARGS "@rx [!-/:-@]x" "id:18,phase:1,pass,log"
SecRule ARGS "@validateByteRange 32-126" "id:19,phase:1,pass,log"
SecRule REQUEST_HEADERS:User-Agent "@rx xhtml" "id:20,phase:1,pass,log"
SecRule REQUEST_HEADERS:Accept "@rx xhtml" "id:21,phase:1,pass,log"
SecRule ARGS "@validateUrlEncoding" "id:22,phase:1,pass,log"
SecRule ARGS "@rx [!-/:-@]X" "id:23,phase:1,pass,log,t:urlDecode"
SecRule ARGS|REQUEST_HEADERS|ARGS_NAMES "@rx (?i)evilbot" "id:24,phase:1,pass,log,setvar:tx.m=%{matched_var_name}"
SecRule ARGS "@rx union" "id:25,phase:1,pass,log,t:base64Decode"
"#,
    );
    assert!(
        rs.screened_rule_count() >= 13,
        "{}",
        rs.screened_rule_count()
    );
    let tx = get(
        &rs,
        "/?a=a%2541&b=un+ion&c=SeLeCt&unionselec=1&d=;x&e=100%25&f=%253bX&g=dW5pb24%3d",
        &[
            ("User-Agent", "x EvilBot y"),
            ("Accept", "text/html,application/xhtml+xml"),
        ],
    );
    assert_eq!(ids(&tx), vec![10, 11, 12, 13, 18, 21, 22, 23, 24, 25]);
    // 24 runs on the headers only (no argument holds its literal) and sees the same match.
    assert_eq!(
        tx_var(&tx, "m").as_deref(),
        Some("REQUEST_HEADERS:User-Agent")
    );
    // Byte sets (18, 19, 22, 23), a keyed header (20) and values that are not Base64 (25)
    // screen rules out.
    let tx = get(
        &rs,
        "/?a=plain&b=words",
        &[("Accept", "application/xhtml+xml")],
    );
    assert_eq!(ids(&tx), vec![21]);
}

/// Which rules the screen may skip: only a non-negated operator with required literals, no
/// macro argument, over request/response collections (XML only while no XML body is parsed).
#[test]
fn screenable_rules() {
    if !have_ops() {
        return;
    }
    let count = |text: &str| compile(text).screened_rule_count();
    assert_eq!(count(r#"SecRule ARGS "@rx union" "id:1,phase:2,pass""#), 1);
    assert_eq!(
        count(r#"SecRule REQUEST_HEADERS|XML:/* "@pm a bb" "id:1,phase:2,pass""#),
        1
    );
    assert_eq!(count(r#"SecRule ARGS "!@rx union" "id:1,phase:2,pass""#), 0);
    assert_eq!(count(r#"SecRule &ARGS "@rx 5" "id:1,phase:2,pass""#), 0);
    assert_eq!(
        count(r#"SecRule ARGS|TX:foo "@rx union" "id:1,phase:2,pass""#),
        0
    );
    assert_eq!(
        count(r#"SecRule ARGS "@rx %{tx.x}" "id:1,phase:2,pass""#),
        0
    );
    assert_eq!(count(r#"SecRule ARGS "@rx ." "id:1,phase:2,pass""#), 0);
    assert_eq!(
        count(r#"SecRule ARGS "@detectSQLi" "id:1,phase:2,pass""#),
        0
    );
}

/// A transaction made after another on the same thread reuses its TX buffers and scratch
/// space but sees none of its variables, matches or cached transformations.
#[test]
fn recycled_transactions_start_clean() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRule &TX:seen "@eq 0" "id:1,phase:1,pass,log"
SecRule ARGS "@rx union" "id:2,phase:1,pass,log,t:lowercase"
SecRule ARGS:a "@rx ^(\w+)$" "id:3,phase:1,pass,log,capture,setvar:tx.seen=%{tx.1}"
SecRule TX:0 "@rx ." "id:4,phase:2,pass,log"
"#,
    );
    let first = get(&rs, "/?a=UNION", &[]);
    assert_eq!(ids(&first), vec![1, 2, 3, 4]);
    assert_eq!(tx_var(&first, "seen").as_deref(), Some("UNION"));
    drop(first);
    for _ in 0..3 {
        let next = get(&rs, "/?b=plain+value", &[]);
        assert_eq!(ids(&next), vec![1]);
        assert_eq!(tx_var(&next, "seen"), None);
        assert_eq!(tx_var(&next, "0"), None);
    }
}

/// Values the screen rules out one by one (their own scan holds no literal) are skipped,
/// the others evaluated as before: every matching value still runs the rule's setvar.
#[test]
fn screened_values_one_by_one() {
    if !have_ops() {
        return;
    }
    let rs = compile(
        r#"
SecRule ARGS "@rx union" "id:30,phase:1,pass,log,setvar:tx.n=+1"
SecRule ARGS "@rx (?i)select" "id:31,phase:1,pass,log,t:urlDecode,setvar:tx.m=+1"
"#,
    );
    let tx = get(
        &rs,
        "/?a=union&b=xx&c=union+select&d=UNION&e=plain&f=sel%2565ct&g=words",
        &[],
    );
    assert_eq!(ids(&tx), vec![30, 31]);
    // `union` in a and c (not d: the regex is case-sensitive, the screen is not).
    assert_eq!(tx_var(&tx, "n").as_deref(), Some("2"));
    // `select` in c, and in f only after t:urlDecode (a value the chain changes is never
    // ruled out by its raw scan).
    assert_eq!(tx_var(&tx, "m").as_deref(), Some("2"));
}
