#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Routing semantics: host selection, path ordering, regex hosts, rewrite, default backends.

use config::model::{HostMatch, Model, PathMatch};
use config::{LoadOptions, load_str};

fn model(yaml: &str) -> Model {
    load_str("test.yaml", yaml, &LoadOptions::default())
}

/// Which upstream service answers, or "-" for 404.
fn svc(m: &Model, host: &str, path: &str) -> String {
    m.route(host, path)
        .map_or_else(|| "-".into(), |r| r.route.upstream.service.name.clone())
}

const SERVICES: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  ports: [{port: 80, targetPort: 9001}]
  clusterIP: 127.0.0.1
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  ports: [{name: http, port: 80, targetPort: 9002}]
  clusterIP: 127.0.0.2
---
apiVersion: v1
kind: Service
metadata: {name: c}
spec:
  ports: [{port: 80}]
  clusterIP: 127.0.0.3
"#;

fn with_services(ingresses: &str) -> Model {
    model(&format!("{SERVICES}\n---\n{ingresses}"))
}

fn ingress(
    name: &str,
    host: Option<&str>,
    annotations: &str,
    paths: &[(&str, &str, &str)],
) -> String {
    let host = host.map_or(String::new(), |h| format!("host: \"{h}\"\n    "));
    let mut p = String::new();
    for (path, ty, svc) in paths {
        p.push_str(&format!(
            "      - path: \"{path}\"\n        pathType: {ty}\n        backend:\n          service: {{name: {svc}, port: {{number: 80}}}}\n"
        ));
    }
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\nspec:\n  rules:\n  - {host}http:\n      paths:\n{p}"
    )
}

#[test]
fn exact_before_prefix_longest_first() {
    let m = with_services(&ingress(
        "i",
        Some("example.com"),
        "",
        &[
            ("/", "Prefix", "a"),
            ("/api", "Prefix", "b"),
            ("/api", "Exact", "c"),
            ("/api/v2", "ImplementationSpecific", "c"),
        ],
    ));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(svc(&m, "example.com", "/api"), "c");
    assert_eq!(svc(&m, "example.com", "/api/"), "b");
    assert_eq!(svc(&m, "example.com", "/api/x"), "b");
    assert_eq!(svc(&m, "example.com", "/apix"), "a");
    assert_eq!(svc(&m, "example.com", "/api/v2"), "c");
    assert_eq!(
        svc(&m, "example.com", "/api/v2zzz"),
        "c",
        "ImplementationSpecific is a string prefix"
    );
    assert_eq!(svc(&m, "EXAMPLE.com:8080", "/"), "a");
    assert_eq!(svc(&m, "other.com", "/"), "-", "no catch-all server");
    let up = &m.route("example.com", "/").unwrap().route.upstream;
    assert_eq!(up.endpoints, vec!["127.0.0.1:80".parse().unwrap()]);
    assert_eq!(up.name, "default-a-80");
}

#[test]
fn hosts_exact_wildcard_catch_all() {
    let m = with_services(&format!(
        "{}\n---\n{}\n---\n{}\n---\n{}",
        ingress(
            "exact",
            Some("foo.example.com"),
            "",
            &[("/", "Prefix", "a")]
        ),
        ingress("wild", Some("*.example.com"), "", &[("/", "Prefix", "b")]),
        ingress(
            "deeper",
            Some("*.x.example.com"),
            "",
            &[("/", "Prefix", "a")]
        ),
        ingress("any", None, "", &[("/only", "Prefix", "c")]),
    ));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(svc(&m, "foo.example.com", "/"), "a");
    assert_eq!(svc(&m, "bar.example.com", "/"), "b");
    assert_eq!(svc(&m, "y.x.example.com", "/"), "a");
    assert_eq!(
        svc(&m, "a.b.example.com", "/only"),
        "c",
        "wildcard is one label"
    );
    assert_eq!(svc(&m, "example.com", "/only"), "c");
    assert_eq!(svc(&m, "bar.example.com", "/only"), "b");
    // A known host does not fall back to the catch-all server's paths (nginx server blocks).
    let m2 = with_services(&format!(
        "{}\n---\n{}",
        ingress(
            "exact",
            Some("foo.example.com"),
            "",
            &[("/api", "Prefix", "a")]
        ),
        ingress("any", None, "", &[("/", "Prefix", "c")]),
    ));
    assert_eq!(svc(&m2, "foo.example.com", "/other"), "-");
    assert_eq!(svc(&m2, "unknown", "/other"), "c");
    // Server order: exact, wildcards (longest first), catch-all.
    let hosts: Vec<_> = m.servers.iter().map(|s| s.host.clone()).collect();
    assert_eq!(
        hosts,
        vec![
            HostMatch::Exact("foo.example.com".into()),
            HostMatch::Wildcard(".x.example.com".into()),
            HostMatch::Wildcard(".example.com".into()),
            HostMatch::Any
        ]
    );
}

#[test]
fn merge_ingresses_of_a_host_and_regex_spreads() {
    let m = with_services(&format!(
        "{}\n---\n{}\n---\n{}",
        ingress(
            "rw",
            Some("h.com"),
            "nginx.ingress.kubernetes.io/rewrite-target: /$2",
            &[("/something(/|$)(.*)", "ImplementationSpecific", "a")]
        ),
        ingress("plain", Some("h.com"), "", &[("/Static", "Prefix", "b")]),
        ingress("other", Some("o.com"), "", &[("/Static", "Prefix", "b")]),
    ));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    let s = m
        .servers
        .iter()
        .find(|s| s.host == HostMatch::Exact("h.com".into()))
        .unwrap();
    assert_eq!(s.routes.len(), 2);
    assert!(
        s.routes
            .iter()
            .all(|r| matches!(r.path, PathMatch::Regex { .. }))
    );
    // The plain Ingress of the same host became a case-insensitive regex prefix.
    assert_eq!(svc(&m, "h.com", "/static/x"), "b");
    assert_eq!(svc(&m, "h.com", "/STATICs"), "b");
    assert_eq!(
        svc(&m, "o.com", "/static"),
        "-",
        "other hosts keep Prefix semantics"
    );

    let r = m.route("h.com", "/something/new").unwrap();
    assert_eq!(r.rewritten_path("/something/new"), "/new");
    let r = m.route("h.com", "/something").unwrap();
    assert_eq!(r.rewritten_path("/something"), "/");
    let r = m.route("h.com", "/SOMETHING/a/b?q=1").unwrap();
    assert_eq!(r.rewritten_path("/SOMETHING/a/b"), "/a/b");
    // Without rewrite-target, the path is unchanged.
    let r = m.route("h.com", "/static/x").unwrap();
    assert_eq!(r.rewritten_path("/static/x"), "/static/x");
}

#[test]
fn regex_order_is_descending_length_first_match() {
    let m = with_services(&ingress(
        "re",
        Some("r.com"),
        "nginx.ingress.kubernetes.io/use-regex: \"true\"",
        &[
            ("/a.*", "ImplementationSpecific", "a"),
            ("/abc/[0-9]+", "ImplementationSpecific", "b"),
            ("/", "Prefix", "c"),
        ],
    ));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(svc(&m, "r.com", "/abc/12"), "b");
    assert_eq!(svc(&m, "r.com", "/abc/x"), "a");
    assert_eq!(svc(&m, "r.com", "/zzz"), "c");
}

#[test]
fn invalid_regex_is_a_problem_and_skipped() {
    let text = format!(
        "{SERVICES}\n---\n{}",
        ingress(
            "re",
            Some("r.com"),
            "nginx.ingress.kubernetes.io/use-regex: \"true\"",
            &[
                ("/(unclosed", "ImplementationSpecific", "a"),
                ("/ok", "Prefix", "b")
            ],
        )
    );
    let m = model(&text);
    let expected = text.lines().position(|l| l.contains("/(unclosed")).unwrap() + 1;
    assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
    assert!(
        m.problems[0].reason.contains("invalid regex"),
        "{}",
        m.problems[0]
    );
    assert_eq!(
        m.problems[0].line as usize, expected,
        "points at the path line"
    );
    assert_eq!(svc(&m, "r.com", "/ok"), "b");
}

#[test]
fn duplicate_path_first_wins() {
    let m = with_services(&format!(
        "{}\n---\n{}",
        ingress("first", Some("d.com"), "", &[("/x", "Prefix", "a")]),
        ingress(
            "second",
            Some("d.com"),
            "",
            &[("/x", "Prefix", "b"), ("/y", "Prefix", "b")]
        ),
    ));
    assert_eq!(m.problems.len(), 1);
    assert!(
        m.problems[0]
            .reason
            .contains("already defined by Ingress default/first")
    );
    assert_eq!(svc(&m, "d.com", "/x"), "a");
    assert_eq!(svc(&m, "d.com", "/y"), "b");
}

#[test]
fn default_backends() {
    let only_default = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: def}\nspec:\n  defaultBackend:\n    service: {name: c, port: {number: 80}}\n";
    let with_rules = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: dr}\nspec:\n  defaultBackend:\n    service: {name: b, port: {name: http}}\n  rules:\n  - host: r.com\n    http:\n      paths:\n      - {path: /api, pathType: Prefix, backend: {service: {name: a, port: {number: 80}}}}\n";
    let m = with_services(&format!("{only_default}\n---\n{with_rules}"));
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(svc(&m, "r.com", "/api"), "a");
    assert_eq!(
        svc(&m, "r.com", "/other"),
        "b",
        "host's root falls to its Ingress default backend"
    );
    assert_eq!(
        svc(&m, "x.com", "/anything"),
        "c",
        "catch-all default backend"
    );
    assert_eq!(m.default_backend.as_ref().unwrap().service.name, "c");
}
