#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Folder fixtures: v1 and legacy Ingresses, wildcard hosts, classes, regex/rewrite, endpoints,
//! a broken document among good ones, and `check`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::model::{HostMatch, Model, PathMatch};
use config::{LoadError, LoadOptions, check, load_dir};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

fn cluster() -> Model {
    load_dir(&fixture("cluster"), &LoadOptions::default()).unwrap()
}

#[test]
fn cluster_problems_are_only_the_missing_secrets() {
    let m = cluster();
    let reasons: Vec<String> = m.problems.iter().map(ToString::to_string).collect();
    assert_eq!(reasons.len(), 2, "{reasons:#?}");
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("not found; the default certificate is used"))
    );
    assert!(reasons[0].contains("cluster/shop.yaml:"), "{reasons:?}");
    assert!(reasons[1].contains("cluster/wildcard.yaml:"), "{reasons:?}");
}

#[test]
fn v1_ingress_with_endpoints_and_slices() {
    let m = cluster();
    let r = m.route("shop.example.com", "/cart").unwrap();
    assert_eq!(r.route.ingress.namespace, "web");
    assert_eq!(r.route.ingress.name, "shop");
    let up = &r.route.upstream;
    assert_eq!(up.name, "web-shop-http");
    // Endpoints and EndpointSlice merged, not-ready ones left out, named targetPort resolved.
    assert_eq!(
        up.endpoints,
        addrs(&["127.0.0.1:9001", "127.0.0.2:9001", "127.0.0.3:9001"])
    );
    assert_eq!(r.route.settings.body_size_limit, Some(8 << 20));
    assert_eq!(
        r.route.settings.affinity.as_ref().unwrap().cookie_name,
        "SHOP"
    );

    let admin = m.route("shop.example.com", "/admin").unwrap();
    assert!(matches!(admin.route.path, PathMatch::Exact(_)));
    assert_eq!(
        admin.route.upstream.endpoints,
        addrs(&["127.0.0.1:9101", "127.0.0.2:9101"])
    );
    // Exact does not match below it; the Prefix `/` does.
    assert_eq!(
        m.route("shop.example.com", "/admin/x")
            .unwrap()
            .route
            .upstream
            .name,
        "web-shop-http"
    );
    assert!(m.host_has_tls("shop.example.com:443"));
    // The other controller's Ingress for the same host is ignored.
    assert_eq!(
        m.route("shop.example.com", "/traefik")
            .unwrap()
            .route
            .upstream
            .name,
        "web-shop-http"
    );
}

#[test]
fn legacy_ingresses_regex_rewrite_and_standalone_endpoints() {
    let m = cluster();
    let r = m.route("api.example.com", "/v1/orders/42").unwrap();
    assert_eq!(r.rewritten_path("/v1/orders/42"), "/orders/42");
    assert_eq!(
        r.route.upstream.endpoints,
        addrs(&["127.0.0.1:9201", "[::1]:9202"])
    );
    // The v1beta1 Ingress of the same host became a case-insensitive regex (no rewrite).
    let d = m.route("api.example.com", "/docs/intro").unwrap();
    assert!(matches!(d.route.path, PathMatch::Regex { .. }));
    assert_eq!(d.rewritten_path("/docs/intro"), "/docs/intro");
    assert_eq!(d.route.upstream.service_port, "http");
    // spec.backend of the legacy Ingress: root fallback of its host, an ExternalName service.
    let f = m.route("api.example.com", "/elsewhere").unwrap();
    assert_eq!(f.route.upstream.service.name, "fallback");
    assert_eq!(
        f.route.upstream.external_name,
        Some(("fallback.internal.example".to_owned(), 8080))
    );
    assert!(f.route.upstream.endpoints.is_empty());
}

#[test]
fn wildcard_hosts_and_classes() {
    let m = cluster();
    let r = m.route("acme.tenants.example.com", "/").unwrap();
    assert_eq!(r.route.ingress.name, "tenants");
    assert!(m.route("a.b.tenants.example.com", "/").is_none());
    assert!(m.host_has_tls("acme.tenants.example.com"));
    // Class-less Ingress adopted into the catch-all server.
    assert_eq!(
        m.route("10.0.0.1:8080", "/health")
            .unwrap()
            .route
            .ingress
            .name,
        "classless"
    );
    assert!(m.route("10.0.0.1", "/healthz").is_none());
    assert!(
        m.servers
            .iter()
            .any(|s| s.host == HostMatch::Wildcard(".tenants.example.com".into()))
    );
}

#[test]
fn other_ingress_class_option() {
    let opts = LoadOptions {
        ingress_class: "traefik".into(),
        ..LoadOptions::default()
    };
    let m = load_dir(&fixture("cluster"), &opts).unwrap();
    // `traefik` Ingress is now ours (its Service is missing: reported); `nginx` ones are not,
    // but `public` still maps to ingress-nginx's controller.
    assert!(
        m.problems
            .iter()
            .any(|p| p.reason.contains("Service web/missing not found"))
    );
    assert!(m.route("shop.example.com", "/cart").is_none());
    assert!(m.route("shop.example.com", "/traefik").is_some());
    assert!(m.route("x.tenants.example.com", "/").is_some());
}

#[test]
fn broken_document_among_good_ones() {
    let m = load_dir(&fixture("broken"), &LoadOptions::default()).unwrap();
    let shown: Vec<String> = m.problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 4, "{shown:#?}");
    let file = fixture("broken/manifests.yaml").display().to_string();
    let text = std::fs::read_to_string(fixture("broken/manifests.yaml")).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    assert!(m.problems.iter().all(|p| p.file == file));
    // The YAML error points into the broken document.
    assert!(
        m.problems[0].reason.starts_with("invalid YAML"),
        "{shown:?}"
    );
    assert!((10..=14).contains(&m.problems[0].line), "{shown:?}");
    assert!(m.problems[1].reason.contains("rules"), "{shown:?}");
    assert_eq!(m.problems[1].line, line_of("name: bad-type") - 3);
    assert_eq!(m.problems[2].line, line_of("configuration-snippet"));
    assert!(m.problems[2].reason.contains("snippets are not supported"));
    assert_eq!(m.problems[3].line, line_of("proxy-read-timeout"));
    // The good objects serve; the snippet Ingress serves without its snippet.
    assert!(m.route("good.example.com", "/").is_some());
    let snip = m.route("snip.example.com", "/").unwrap();
    assert_eq!(snip.route.settings.read_timeout.as_secs(), 60);
    assert_eq!(
        check(&fixture("broken"), &LoadOptions::default()),
        m.problems
    );
}

#[test]
fn check_reports_unreadable_folder() {
    let missing = fixture("does-not-exist");
    assert!(matches!(
        load_dir(&missing, &LoadOptions::default()),
        Err(LoadError::Unreadable { .. })
    ));
    let problems = check(&missing, &LoadOptions::default());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .contains("does-not-exist:0: cannot read manifests")
    );
}

#[test]
fn folder_walk_is_recursive_sorted_and_skips_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let svc = |name: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  ports: [{{port: 80}}]\n  clusterIP: {ip}\n"
        )
    };
    let ing = |name: &str, svc: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\nspec:\n  rules:\n  - host: h.com\n    http:\n      paths:\n      - {{path: /, pathType: Prefix, backend: {{service: {{name: {svc}, port: {{number: 80}}}}}}}}\n"
        )
    };
    std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("b/c/svc.yml"), svc("one", "127.0.0.1")).unwrap();
    std::fs::write(dir.path().join("b/svc2.yaml"), svc("two", "127.0.0.2")).unwrap();
    // Sorted order: a.yaml before b/...: its Ingress defines `/` first and wins.
    std::fs::write(dir.path().join("a.yaml"), ing("first", "two")).unwrap();
    std::fs::write(dir.path().join("z.yaml"), ing("second", "one")).unwrap();
    std::fs::write(dir.path().join(".hidden.yaml"), "kind: [broken").unwrap();
    std::fs::write(dir.path().join(".git/x.yaml"), "kind: [broken").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "kind: [broken").unwrap();
    let m = load_dir(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
    assert!(m.problems[0].file.ends_with("z.yaml"));
    assert!(
        m.problems[0]
            .reason
            .contains("already defined by Ingress default/first")
    );
    assert_eq!(
        m.route("h.com", "/").unwrap().route.upstream.endpoints,
        addrs(&["127.0.0.2:80"])
    );
    // A single file is accepted too.
    let single = load_dir(&dir.path().join("b/c/svc.yml"), &LoadOptions::default()).unwrap();
    assert!(single.problems.is_empty());
}

#[test]
fn bundled_examples_load_cleanly() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    if !examples.is_dir() {
        return;
    }
    let m = load_dir(&examples, &LoadOptions::default()).unwrap();
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    let r = m.route("shop.localhost", "/api/orders/42").unwrap();
    assert_eq!(r.rewritten_path("/api/orders/42"), "/orders/42");
    assert!(!r.route.upstream.endpoints.is_empty());
    assert!(m.route("shop.localhost:8080", "/").is_some());
}
