//! Helpers shared by the end-to-end tests of the `portcullis` binary.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Polls `f` every 50 ms until it holds; panics after `limit`.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("condition not reached within {limit:?}");
}

/// A Service `app` whose endpoint is `backend` and an Ingress `app` routing `host` to it, with
/// `annotations` (name, value) on the Ingress.
pub fn manifest(host: &str, backend: SocketAddr, annotations: &[(&str, &str)]) -> String {
    let mut ann = String::new();
    if !annotations.is_empty() {
        ann.push_str("  annotations:\n");
        for (k, v) in annotations {
            ann.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: default
  annotations:
    portcullis.dev/endpoints: "{backend}"
spec:
  ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: default
{ann}spec:
  ingressClassName: nginx
  rules:
    - host: {host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: app
                port:
                  number: 80
"#
    )
}
