//! ACME Renewal Information (RFC 9773) through the manager, against a real loopback HTTP
//! server that serves an ACME directory with `renewalInfo` and the renewalInfo resource
//! (Debian's Pebble 2.4.0 does not offer ARI). The server only answers those two
//! resources: an order attempt fails at account registration, which is enough to see that
//! ARI triggered it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use acme::store::{SecretFile, Store};
use acme::{AcmeOptions, AcmeService};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use gateway::CancellationToken;
use gateway::acme_http01::Http01Tokens;
use gateway::tls::TlsManager;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[derive(Default)]
struct Seen {
    /// Paths of renewalInfo GETs.
    ari: Vec<String>,
    /// Every request line.
    all: Vec<String>,
}

/// Serves `/dir` and `/ari/<certid>` (window from `window`, `Retry-After: 1`); 404 else.
async fn serve(listener: TcpListener, window: Arc<Mutex<(i64, i64)>>, seen: Arc<Mutex<Seen>>) {
    let base = format!("http://{}", listener.local_addr().unwrap());
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let (base, window, seen) = (base.clone(), Arc::clone(&window), Arc::clone(&seen));
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            let line = head.lines().next().unwrap_or("").to_owned();
            let path = line.split(' ').nth(1).unwrap_or("").to_owned();
            seen.lock().all.push(line.clone());
            let (status, extra, body) = if path == "/dir" {
                let dir = serde_json::json!({
                    "newNonce": format!("{base}/nonce"),
                    "newAccount": format!("{base}/account"),
                    "newOrder": format!("{base}/order"),
                    "renewalInfo": format!("{base}/ari"),
                });
                ("200 OK", String::new(), dir.to_string())
            } else if let Some(id) = path.strip_prefix("/ari/") {
                seen.lock().ari.push(id.to_owned());
                let (s, e) = *window.lock();
                let body = serde_json::json!({
                    "suggestedWindow": {"start": rfc3339(s), "end": rfc3339(e)},
                    "explanationURL": "https://ca.test/why"
                });
                ("200 OK", "Retry-After: 1\r\n".to_owned(), body.to_string())
            } else {
                ("404 Not Found", String::new(), String::new())
            };
            let rsp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(rsp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

/// A CA with a fixed key identifier and a leaf with a fixed serial, valid 90 days.
fn stored_certificate(state: &std::path::Path) -> String {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let aki = vec![0xA1, 0xB2, 0xC3, 0xD4, 0xE5];
    ca.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(aki.clone());
    let issuer = rcgen::Issuer::new(ca, rcgen::KeyPair::generate().unwrap());
    let mut leaf = rcgen::CertificateParams::new(vec!["ari.test".to_owned()]).unwrap();
    let serial = vec![0x01, 0x23, 0x45, 0x67, 0x89];
    leaf.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    leaf.use_authority_key_identifier_extension = true;
    let t = time::OffsetDateTime::now_utc();
    leaf.not_before = t - time::Duration::days(1);
    leaf.not_after = t + time::Duration::days(89);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let mut s = SecretFile {
        namespace: "shop".into(),
        name: "web-tls".into(),
        type_: "kubernetes.io/tls".into(),
        ..SecretFile::default()
    };
    s.annotations
        .insert("cert-manager.io/alt-names".into(), "ari.test".into());
    s.data.insert("tls.crt".into(), cert.pem().into_bytes());
    s.data
        .insert("tls.key".into(), key.serialize_pem().into_bytes());
    let store = Store::new(state);
    store
        .write(&store.certificate_path("shop", "web-tls"), &s.to_yaml())
        .unwrap();
    format!("{}.{}", B64URL.encode(&aki), B64URL.encode(&serial))
}

fn manifests(server: &str) -> String {
    format!(
        r#"
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: ari-ca
spec:
  acme:
    server: {server}
    privateKeySecretRef:
      name: ari-account
    solvers:
    - http01: {{}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    cert-manager.io/cluster-issuer: ari-ca
spec:
  ingressClassName: nginx
  tls:
  - hosts: [ari.test]
    secretName: web-tls
  rules:
  - host: ari.test
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

async fn until<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return (v, start.elapsed());
        }
        assert!(start.elapsed() < limit, "condition not met in {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ari_window_schedules_renewal_and_retry_after_paces_polls() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let expected_id = stored_certificate(&state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let t0 = now();
    let window = Arc::new(Mutex::new((t0 + 1000, t0 + 2000)));
    let seen = Arc::new(Mutex::new(Seen::default()));
    tokio::spawn(serve(listener, Arc::clone(&window), Arc::clone(&seen)));

    let mut model = config::load_str(
        "t.yaml",
        &manifests(&format!("http://{addr}/dir")),
        &config::LoadOptions::default(),
    );
    assert_eq!(model.acme.len(), 1, "{:?}", model.problems);
    let mut opts = AcmeOptions::new(&state);
    opts.retry_base = Duration::from_millis(300);
    opts.retry_max = Duration::from_secs(5);
    opts.min_order_interval = Duration::from_secs(1);
    opts.lock_retry = Duration::from_millis(300);
    opts.ari_min_poll = Duration::from_secs(1);
    let svc = AcmeService::new(opts, None);
    svc.apply(&mut model);
    let (tls, _) = TlsManager::with_model(&model).unwrap();
    let token = CancellationToken::new();
    let _guard = token.clone().drop_guard();
    svc.start(tls, Http01Tokens::default(), token.clone());

    // 1. The window is fetched for the stored certificate's CertID and the renewal time is
    //    picked inside it; nothing is ordered.
    let (st, took) = until(Duration::from_secs(10), || {
        let st = svc.status().pop()?;
        st.ari_window_start.is_some().then_some(st)
    })
    .await;
    eprintln!("MEASURED: ARI (directory + renewalInfo) fetched {took:?} after start");
    assert_eq!(st.ari_window_start, Some(t0 + 1000));
    assert_eq!(st.ari_window_end, Some(t0 + 2000));
    let r = st.renewal_time.unwrap();
    assert!((t0 + 1000..t0 + 2000).contains(&r), "{r} in window");
    assert_eq!(seen.lock().ari.first(), Some(&expected_id));
    assert_eq!(svc.orders(), 0);

    // 2. Retry-After: 1 paces the re-polls (about one per second, never a burst); the
    //    unchanged window keeps the picked time.
    let before = seen.lock().ari.len();
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let polls = seen.lock().ari.len() - before;
    assert!((2..=4).contains(&polls), "{polls} polls in 3.2 s");
    assert_eq!(
        svc.status()[0].renewal_time,
        Some(r),
        "same window, same pick"
    );
    assert_eq!(svc.orders(), 0);

    // 3. The CA moves the window into the past (e.g. a revocation incident): at the next
    //    poll the manager renews at once (the order fails here: the server has no
    //    newAccount, which is fine).
    *window.lock() = (t0 - 100, t0 - 50);
    let ((), took) = until(Duration::from_secs(10), || {
        (svc.orders() >= 1).then_some(())
    })
    .await;
    eprintln!("renewal attempted {took:?} after the window moved");
    let st = svc.status().pop().unwrap();
    assert_eq!(st.ari_window_end, Some(t0 - 50));
    assert!(st.renewal_time.unwrap() < t0, "{st:?}");
    // Still served meanwhile: the stored certificate.
    assert!(st.not_after.is_some());
    let all = seen.lock().all.clone();
    assert!(
        all.iter()
            .all(|l| l.starts_with("GET ") || l.starts_with("HEAD ") || l.starts_with("POST ")),
        "{all:?}"
    );
}
