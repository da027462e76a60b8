#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One test per rule: classes, upstream resolution, TLS host coverage, validation problems,
//! and a no-panic sweep over odd request hosts and paths.

use std::net::SocketAddr;

use config::model::{Model, PathMatch};
use config::{LoadOptions, load_str};

fn model(yaml: &str) -> Model {
    load_str("t.yaml", yaml, &LoadOptions::default())
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn ing(
    meta_extra: &str,
    spec_extra: &str,
    host: &str,
    path: &str,
    ty: &str,
    svc: &str,
    port: &str,
) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i{}\n{meta_extra}spec:\n{spec_extra}  rules:\n  - host: {host}\n    http:\n      paths:\n      - path: \"{path}\"\n        pathType: {ty}\n        backend:\n          service:\n            name: {svc}\n            port: {port}\n",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, targetPort: 8080, name: web}]\n  clusterIP: 127.0.0.1\n";

#[test]
fn foreign_default_class_rejects_classless() {
    let class = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: other\n  annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}\nspec: {controller: example.com/other}\n";
    let i = ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}");
    let m = model(&format!("{SVC}---\n{class}---\n{i}"));
    assert!(m.route("a.com", "/").is_none());
    assert!(m.problems.is_empty());
    // Our own default class adopts them.
    let ours = class.replace("example.com/other", "k8s.io/ingress-nginx");
    let m = model(&format!("{SVC}---\n{ours}---\n{i}"));
    assert!(m.route("a.com", "/").is_some());
    // The annotation wins over spec.ingressClassName.
    let annotated = ing(
        "  annotations: {kubernetes.io/ingress.class: other}\n",
        "  ingressClassName: nginx\n",
        "b.com",
        "/",
        "Prefix",
        "s",
        "{number: 80}",
    );
    assert!(
        model(&format!("{SVC}---\n{annotated}"))
            .route("b.com", "/")
            .is_none()
    );
}

#[test]
fn service_port_resolution() {
    let eps = "apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets:\n- addresses: [{ip: 10.1.0.1}]\n  ports: [{name: web, port: 8080}, {name: other, port: 9999}]\n";
    let by_name = ing("", "", "a.com", "/", "Prefix", "s", "{name: web}");
    let m = model(&format!("{SVC}---\n{eps}---\n{by_name}"));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(
        m.route("a.com", "/").unwrap().route.upstream.endpoints,
        addrs(&["10.1.0.1:8080"])
    );

    let wrong_port = ing("", "", "a.com", "/", "Prefix", "s", "{number: 81}");
    let m = model(&format!("{SVC}---\n{wrong_port}"));
    assert_eq!(m.problems.len(), 1);
    assert!(
        m.problems[0].reason.contains("no port `81`"),
        "{}",
        m.problems[0]
    );
    assert_eq!(m.problems[0].line, 1, "points at the Service");
    assert!(
        m.route("a.com", "/")
            .unwrap()
            .route
            .upstream
            .endpoints
            .is_empty()
    );

    let missing = ing("", "", "a.com", "/", "Prefix", "nope", "{number: 80}");
    let m = model(&missing);
    assert!(
        m.problems[0]
            .reason
            .contains("Service default/nope not found")
    );
    assert_eq!(
        m.problems[0].line,
        missing
            .lines()
            .position(|l| l.contains("name: nope"))
            .unwrap() as u32
            + 1
    );
}

#[test]
fn standalone_addresses() {
    // Named targetPort without endpoints: IP:PORT required in the annotation.
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: {portcullis.dev/endpoints: \"127.0.0.1\"}\nspec:\n  ports: [{port: 80, targetPort: http}]\n";
    let i = ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}");
    let m = model(&format!("{svc}---\n{i}"));
    assert!(
        m.problems[0].reason.contains("targetPort `http` is a name"),
        "{:?}",
        m.problems
    );
    // Bare IP with a numeric targetPort, externalIPs, no address at all.
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: {portcullis.dev/endpoints: \"127.0.0.5 127.0.0.6:7000\"}\nspec:\n  ports: [{port: 80, targetPort: 9000}]\n";
    let m = model(&format!("{svc}---\n{i}"));
    assert_eq!(
        m.route("a.com", "/").unwrap().route.upstream.endpoints,
        addrs(&["127.0.0.5:9000", "127.0.0.6:7000"])
    );
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: None\n  externalIPs: [127.0.0.7]\n  ports: [{port: 80, targetPort: 9000}]\n";
    let m = model(&format!("{svc}---\n{i}"));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(
        m.route("a.com", "/").unwrap().route.upstream.endpoints,
        addrs(&["127.0.0.7:80"])
    );
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n";
    let m = model(&format!("{svc}---\n{i}"));
    assert!(
        m.problems[0].reason.contains("no endpoints"),
        "{:?}",
        m.problems
    );
    // ExternalName with an IP literal is used directly.
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: ExternalName\n  externalName: 127.0.0.9\n";
    let m = model(&format!("{svc}---\n{i}"));
    let up = &m.route("a.com", "/").unwrap().route.upstream;
    assert_eq!(up.endpoints, addrs(&["127.0.0.9:80"]));
    assert!(up.external_name.is_none());
}

#[test]
fn tls_covers_hosts() {
    let tls_wild = "  tls:\n  - hosts: [\"*.w.com\"]\n    secretName: x\n";
    let a = ing("", tls_wild, "a.w.com", "/", "Prefix", "s", "{number: 80}");
    let b = ing(
        "",
        "  tls:\n  - secretName: why\n",
        "b.com",
        "/",
        "Prefix",
        "s",
        "{number: 80}",
    );
    let c = ing("", "", "c.com", "/", "Prefix", "s", "{number: 80}");
    let m = model(&format!("{SVC}---\n{a}---\n{b}---\n{c}"));
    assert!(
        m.host_has_tls("a.w.com"),
        "wildcard TLS host covers the exact host"
    );
    assert!(
        m.host_has_tls("b.com"),
        "tls without hosts covers the Ingress's rule hosts: {:?}",
        m.problems
    );
    assert!(!m.host_has_tls("c.com"));
    assert!(!m.host_has_tls("unknown.com"));
}

#[test]
fn validation_problems() {
    let bad_host = ing("", "", "\"a.*.com\"", "/", "Prefix", "s", "{number: 80}");
    let relative = ing("", "", "r.com", "api", "Prefix", "s", "{number: 80}");
    let m = model(&format!("{SVC}---\n{bad_host}---\n{relative}"));
    let reasons: Vec<&str> = m.problems.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("invalid host"));
    assert!(reasons[1].contains("must start with `/`"));
    let bad_type = ing("", "", "t.com", "/", "Sometimes", "s", "{number: 80}");
    let m = model(&format!("{SVC}---\n{bad_type}"));
    assert!(
        m.problems[0].reason.contains("unknown pathType"),
        "{:?}",
        m.problems
    );
}

#[test]
fn canary_ingress_is_reported_and_ignored() {
    let main = ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}");
    let canary = ing(
        "  annotations:\n    nginx.ingress.kubernetes.io/canary: \"true\"\n    nginx.ingress.kubernetes.io/use-regex: \"true\"\n",
        "",
        "a.com",
        "/",
        "Prefix",
        "other",
        "{number: 80}",
    );
    let m = model(&format!("{SVC}---\n{main}---\n{canary}"));
    assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
    assert!(
        m.problems[0]
            .reason
            .contains("canary Ingresses are not supported yet")
    );
    let r = m.route("a.com", "/x").unwrap();
    assert!(
        matches!(r.route.path, PathMatch::Prefix(_)),
        "the canary did not switch the host to regex"
    );
}

#[test]
fn prefix_beats_implementation_specific_of_same_length() {
    let is = ing(
        "",
        "",
        "a.com",
        "/foo",
        "ImplementationSpecific",
        "s",
        "{number: 80}",
    );
    let prefix = ing("", "", "a.com", "/foo", "Prefix", "s", "{name: web}");
    let m = model(&format!("{SVC}---\n{is}---\n{prefix}"));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(
        m.route("a.com", "/foo/bar")
            .unwrap()
            .route
            .upstream
            .service_port,
        "web"
    );
    assert_eq!(
        m.route("a.com", "/foobar")
            .unwrap()
            .route
            .upstream
            .service_port,
        "80"
    );
}

#[test]
fn annotation_problems_point_at_their_line_and_unquoted_values_work() {
    let text = format!(
        "{SVC}---\n{}",
        ing(
            "  annotations:\n    ingress.kubernetes.io/ssl-redirect: false\n    nginx.ingress.kubernetes.io/proxy-body-size: 8mb\n",
            "",
            "a.com",
            "/",
            "Prefix",
            "s",
            "{number: 80}"
        )
    );
    let m = model(&text);
    assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
    let line = text
        .lines()
        .position(|l| l.contains("proxy-body-size"))
        .unwrap() as u32
        + 1;
    assert_eq!(m.problems[0].line, line);
    assert!(m.problems[0].to_string().starts_with(&format!(
        "t.yaml:{line}: nginx.ingress.kubernetes.io/proxy-body-size"
    )));
    let s = &m.route("a.com", "/").unwrap().route.settings;
    assert!(!s.ssl_redirect, "legacy prefix and unquoted boolean");
}

#[test]
fn list_kind_and_bom() {
    let list = format!(
        "\u{feff}apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {{name: s}}\n  spec: {{ports: [{{port: 80}}], clusterIP: 127.0.0.1}}\n---\n{}",
        ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}")
    );
    let m = model(&list);
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(
        m.route("a.com", "/").unwrap().route.upstream.endpoints,
        addrs(&["127.0.0.1:80"])
    );
}

#[test]
fn odd_requests_never_panic() {
    let rw = ing(
        "  annotations: {nginx.ingress.kubernetes.io/rewrite-target: \"/$1$2$9/x$\"}\n",
        "",
        "\"*.a.com\"",
        "/(.)(é?)",
        "ImplementationSpecific",
        "s",
        "{number: 80}",
    );
    let any = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: any}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
    let exact = ing("", "", "b.a.com", "/", "Prefix", "s", "{name: web}");
    let mut m = model(&format!("{SVC}---\n{rw}---\n{any}---\n{exact}"));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    let pieces = [
        "",
        "/",
        "é",
        "\u{0}",
        "[",
        "]",
        ":",
        ".",
        "a",
        "%2F",
        "?",
        "$",
        "..",
        "\u{10ffff}",
        "*",
        "x.a.com",
        "A.COM",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chosen = Vec::new();
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..5000 {
        let mut host = String::new();
        let mut path = String::new();
        for _ in 0..(next() % 6) {
            host.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        for _ in 0..(next() % 8) {
            path.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        if let Some(r) = m.route(&host, &path) {
            let _ = r.rewritten_path(&path);
            // A different path than the one matched must not panic either.
            let _ = r.rewritten_path("é");
        }
        let _ = m.certificate_for(&host);
        chosen.push((host.clone(), m.server_for(&host).map(|s| s.host.clone())));
    }
    // The index and the plain scan (hand-made models) agree.
    m.index = Default::default();
    for (host, server) in &chosen {
        assert_eq!(
            &m.server_for(host).map(|s| s.host.clone()),
            server,
            "{host:?}"
        );
    }
    m.build_index();
    let r = m.route("x.a.com", "/ééz").unwrap();
    assert_eq!(r.rewritten_path("/ééz"), "/éé/x$");
}

#[test]
fn problem_lines_point_at_the_field() {
    let first = ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}");
    let second = ing("", "", "a.com", "/", "Prefix", "s", "{number: 80}");
    let missing = ing("", "", "m.com", "/m", "Prefix", "zzz", "{number: 80}");
    let text = format!("{SVC}---\n{first}---\n{second}---\n{missing}");
    let m = model(&text);
    assert_eq!(m.problems.len(), 2, "{:?}", m.problems);
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("path: \"/\""))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        m.problems[0].line as usize, lines[1],
        "the duplicate path line, not apiVersion"
    );
    let svc_line = text.lines().position(|l| l.contains("name: zzz")).unwrap() + 1;
    assert_eq!(m.problems[1].line as usize, svc_line);
}
