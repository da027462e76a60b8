#![allow(clippy::unwrap_used, clippy::expect_used)]
//! End to end from ordinary Kubernetes YAML: `config::load_dir` -> `Gateway`.
mod common;

use std::sync::Arc;

use common::*;

#[tokio::test]
async fn ingress_yaml_routes_rewrites_and_balances() {
    let a = backend("a").await;
    let b = backend("b").await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  ports: [{{name: http, port: 80}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: web, namespace: shop}}
subsets:
  - addresses: [{{ip: 127.0.0.1}}]
    ports: [{{name: http, port: {pa}}}]
  - addresses: [{{ip: 127.0.0.1}}]
    ports: [{{name: http, port: {pb}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    nginx.ingress.kubernetes.io/proxy-body-size: "10"
spec:
  ingressClassName: nginx
  rules:
    - host: shop.test
      http:
        paths:
          - path: /api(/|$)(.*)
            pathType: ImplementationSpecific
            backend: {{service: {{name: web, port: {{number: 80}}}}}}
"#,
        pa = a.addr.port(),
        pb = b.addr.port()
    );
    std::fs::write(dir.path().join("shop.yaml"), yaml).unwrap();
    let model = config::load_dir(dir.path(), &config::LoadOptions::default()).unwrap();
    assert!(model.problems.is_empty(), "{:?}", model.problems);
    let gw = start(Arc::new(model)).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        let r = get(gw.addr, "shop.test", "/api/items?id=7").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["uri"], "/items?id=7");
        seen.insert(r.backend());
    }
    assert_eq!(seen.len(), 2, "round robin over both endpoints");
    assert_eq!(get(gw.addr, "shop.test", "/other").await.status, 404);
    let req = http::Request::post(format!("http://{}/api/x", gw.addr))
        .header("host", "shop.test")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"more than ten bytes",
        )))
        .unwrap();
    assert_eq!(send(&client(), req).await.status, 413);
}
