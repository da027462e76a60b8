//! End-to-end tests against a real Pebble (Debian package `pebble`, with
//! `pebble-challtestsrv` as its DNS server). Skipped with a message when Pebble is not
//! installed; `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acme::{AcmeOptions, AcmeService};
use base64::Engine as _;
use gateway::tls::TlsManager;
use gateway::{CancellationToken, Gateway, GatewayOptions};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

fn have_pebble() -> bool {
    let ok = ["pebble", "pebble-challtestsrv"].iter().all(|b| {
        Command::new("sh")
            .args(["-c", &format!("command -v {b}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ok {
        eprintln!("SKIPPED: `pebble` is not installed (apt-get install -y pebble)");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running Pebble + challtestsrv.
struct Pebble {
    _procs: Vec<Kill>,
    dir: PathBuf,
    acme_port: u16,
    mgmt_port: u16,
    /// PEM of the CA that signed Pebble's HTTPS certificate (the issuer's `caBundle`).
    https_ca_pem: String,
}

impl Pebble {
    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }
}

/// Waits until `port` accepts connections; `Err` with the reason when `child` exits first
/// (typically because another process took one of its ports) or after 30 s.
async fn wait_child_port(child: &mut Kill, port: u16, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if let Ok(Some(status)) = child.0.try_wait() {
            let err = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!(
                "exited with {status} before opening port {port}: {err}"
            ));
        }
        if Instant::now() >= deadline {
            let err = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("port {port} never opened: {err}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Starts Pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port`.
///
/// Its own four ports are picked free, but another test may take one between the pick and
/// Pebble's bind; Pebble then exits and the start is retried with new ports.
async fn start_pebble(dir: &Path, http_port: u16, tls_port: u16) -> Pebble {
    // Pebble's own HTTPS certificate: a throw-away CA and a leaf for 127.0.0.1 (the Debian
    // package ships no test certificates).
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pebble test https CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    std::fs::write(dir.join("pebble.crt"), leaf.pem()).unwrap();
    std::fs::write(dir.join("pebble.key"), leaf_key.serialize_pem()).unwrap();

    let mut failures = Vec::new();
    for _attempt in 0..5 {
        match try_start_pebble(dir, http_port, tls_port).await {
            Ok((procs, acme_port, mgmt_port)) => {
                return Pebble {
                    _procs: procs,
                    dir: dir.to_path_buf(),
                    acme_port,
                    mgmt_port,
                    https_ca_pem: ca_cert.pem(),
                };
            }
            Err(e) => failures.push(e),
        }
    }
    panic!("Pebble did not start: {failures:#?}");
}

/// One attempt of [`start_pebble`]: returns the processes and the ACME and management ports.
async fn try_start_pebble(
    dir: &Path,
    http_port: u16,
    tls_port: u16,
) -> Result<(Vec<Kill>, u16, u16), String> {
    let (acme_port, mgmt_port, dns_port, cts_mgmt) =
        (free_port(), free_port(), free_port(), free_port());
    let config = serde_json::json!({"pebble": {
        "listenAddress": format!("127.0.0.1:{acme_port}"),
        "managementListenAddress": format!("127.0.0.1:{mgmt_port}"),
        "certificate": dir.join("pebble.crt"),
        "privateKey": dir.join("pebble.key"),
        "httpPort": http_port,
        "tlsPort": tls_port,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false
    }});
    std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let cts = Command::new("pebble-challtestsrv")
        .args([
            "-dns01",
            &format!("127.0.0.1:{dns_port}"),
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-management",
            &format!("127.0.0.1:{cts_mgmt}"),
            "-defaultIPv4",
            "127.0.0.1",
            "-defaultIPv6",
            "",
        ])
        .stdout(log("challtestsrv.log"))
        .stderr(log("challtestsrv.err"))
        .spawn()
        .unwrap();
    let mut cts = Kill(cts);
    let pebble = Command::new("pebble")
        .args([
            "-config",
            dir.join("pebble.json").to_str().unwrap(),
            "-dnsserver",
            &format!("127.0.0.1:{dns_port}"),
        ])
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0")
        .stdout(log("pebble.log"))
        .stderr(log("pebble.err"))
        .spawn()
        .unwrap();
    let mut pebble = Kill(pebble);
    wait_child_port(&mut cts, cts_mgmt, &dir.join("challtestsrv.err"))
        .await
        .map_err(|e| format!("pebble-challtestsrv {e}"))?;
    for port in [acme_port, mgmt_port] {
        wait_child_port(&mut pebble, port, &dir.join("pebble.err"))
            .await
            .map_err(|e| format!("pebble {e}"))?;
    }
    if let Ok(Some(status)) = cts.0.try_wait() {
        return Err(format!("pebble-challtestsrv exited with {status}"));
    }
    Ok((vec![pebble, cts], acme_port, mgmt_port))
}

fn client_config(roots: &[CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth(),
    )
}

/// GET over HTTPS with HTTP/1.0; returns the body.
async fn https_get(port: u16, path: &str, ca_pem: &str) -> String {
    let roots: Vec<_> = CertificateDer::pem_slice_iter(ca_pem.as_bytes())
        .map(Result::unwrap)
        .collect();
    let conn = tokio_rustls::TlsConnector::from(client_config(&roots));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut tls = conn
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or(text)
}

/// The certificate chain the gateway presents for `host`, verified against `roots`
/// (`Err` when verification fails).
async fn served_chain(
    https: SocketAddr,
    host: &str,
    roots: &[CertificateDer<'static>],
) -> Result<Vec<CertificateDer<'static>>, String> {
    let conn = tokio_rustls::TlsConnector::from(client_config(roots));
    let tcp = TcpStream::connect(https).await.map_err(|e| e.to_string())?;
    let tls = conn
        .connect(ServerName::try_from(host.to_owned()).unwrap(), tcp)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tls
        .get_ref()
        .1
        .peer_certificates()
        .unwrap_or_default()
        .to_vec())
}

fn manifests(server: &str, ca_pem: &str, solver: &str, hosts: &[&str], extra_ann: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let host_list = hosts.join(", ");
    format!(
        r#"
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: pebble
spec:
  acme:
    server: {server}
    email: ops@example.com
    privateKeySecretRef:
      name: pebble-account
    caBundle: {ca}
    solvers:
    - {solver}: {{}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    cert-manager.io/cluster-issuer: pebble
{extra_ann}
spec:
  ingressClassName: nginx
  tls:
  - hosts: [{host_list}]
    secretName: web-tls
  rules:
  - host: {first}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: app
            port:
              number: 80
"#,
        first = hosts[0]
    )
}

struct Gw {
    https: SocketAddr,
    service: AcmeService,
    token: CancellationToken,
    tls: TlsManager,
    tokens: gateway::acme_http01::Http01Tokens,
}

fn a_tokens(g: &Gw) -> gateway::acme_http01::Http01Tokens {
    g.tokens.clone()
}

impl Drop for Gw {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

async fn start_gateway(http: TcpListener, https: TcpListener, yaml: &str, opts: AcmeOptions) -> Gw {
    start_gateway_with(http, https, yaml, opts, None).await
}

/// `tokens`: answer HTTP-01 from another gateway's token store (two managers on one state
/// folder, only one gateway on Pebble's validation port).
async fn start_gateway_with(
    http: TcpListener,
    https: TcpListener,
    yaml: &str,
    opts: AcmeOptions,
    tokens: Option<gateway::acme_http01::Http01Tokens>,
) -> Gw {
    let mut model = config::load_str("test.yaml", yaml, &config::LoadOptions::default());
    assert!(!model.acme.is_empty(), "{:?}", model.problems);
    let service = AcmeService::new(opts, None);
    service.apply(&mut model);
    let (tls, _) = TlsManager::with_model(&model).unwrap();
    let gw = Gateway::new(Arc::new(model), GatewayOptions::default());
    let token = CancellationToken::new();
    let https_addr = https.local_addr().unwrap();
    {
        let (gw, t) = (Arc::clone(&gw), token.clone());
        tokio::spawn(async move { gw.serve_http(http, t).await });
    }
    {
        let (gw, t, acc) = (Arc::clone(&gw), token.clone(), tls.acceptor());
        tokio::spawn(async move { gw.serve_https(https, acc, t).await });
    }
    let own = gw.acme_http01();
    service.start(
        tls.clone(),
        tokens.unwrap_or_else(|| own.clone()),
        token.clone(),
    );
    Gw {
        https: https_addr,
        service,
        token,
        tls,
        tokens: own,
    }
}

fn test_opts(dir: &Path) -> AcmeOptions {
    let mut o = AcmeOptions::new(dir);
    o.retry_base = Duration::from_millis(300);
    o.retry_max = Duration::from_secs(5);
    o.min_order_interval = Duration::from_secs(1);
    o.order_timeout = Duration::from_secs(30);
    o.lock_retry = Duration::from_millis(300);
    o.ari_min_poll = Duration::from_secs(1);
    o
}

async fn wait_issued(svc: &AcmeService, min_orders_ok: u64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let st = svc.status();
        if st
            .iter()
            .all(|s| s.not_after.is_some() && s.last_error.is_none())
            && svc.orders() >= min_orders_ok
        {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not issued in {limit:?}: {st:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

async fn pebble_root(p: &Pebble) -> Vec<CertificateDer<'static>> {
    let pem = https_get(p.mgmt_port, "/roots/0", &p.https_ca_pem).await;
    let roots: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(Result::unwrap)
        .collect();
    assert!(!roots.is_empty(), "no root from pebble: {pem}");
    roots
}

fn default_cert_served(chain: &[CertificateDer<'static>], tls: &TlsManager) -> bool {
    chain.first() == Some(tls.default_certificate())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_issue_serve_verify_restart_and_renew() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    let yaml = manifests(
        &p.directory(),
        &p.https_ca_pem,
        "http01",
        &["a.test", "www.a.test"],
        "",
    );
    let gw = start_gateway(http, https, &yaml, test_opts(&state)).await;
    let took = wait_issued(&gw.service, 1, Duration::from_secs(30)).await;
    eprintln!("MEASURED: HTTP-01 issuance (account + order + 2 authorizations) took {took:?}");
    let roots = pebble_root(&p).await;
    let chain = served_chain(gw.https, "www.a.test", &roots)
        .await
        .expect("served chain verifies against Pebble's root");
    assert!(chain.len() >= 2, "leaf + intermediate");
    let stored = state.join("certificates/shop/web-tls.yaml");
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(text.contains("kubernetes.io/tls"));
    assert!(text.contains("cert-manager.io/issuer-name"));
    assert!(
        state
            .join("accounts/clusterissuer-pebble-account.yaml")
            .exists()
    );
    let listed = acme::list(&state);
    assert_eq!(listed.len(), 1);
    assert!(acme::render_list(&listed).contains("a.test,www.a.test"));
    let leaf = chain[0].clone();
    assert_eq!(gw.service.orders(), 1);
    let _ = p.dir.clone();
    drop(gw);

    // Restart: the stored certificate is served at once, without a new order.
    let (http, https) = (bind().await, bind().await);
    // Pebble validates on fixed ports; the restarted gateway is not validated again.
    let gw = start_gateway(http, https, &yaml, test_opts(&state)).await;
    let chain = served_chain(gw.https, "a.test", &roots).await.unwrap();
    assert_eq!(chain[0], leaf, "stored certificate reused");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gw.service.orders(), 0, "no new order after restart");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_before_longer_than_lifetime_forces_renewal() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    // renew-before beyond the lifetime: every certificate is immediately due for renewal;
    // min_order_interval (1 s) keeps the pace.
    let yaml = manifests(
        &p.directory(),
        &p.https_ca_pem,
        "http01",
        &["r.test"],
        "    cert-manager.io/renew-before: 999999h",
    );
    let gw = start_gateway(http, https, &yaml, test_opts(&state)).await;
    wait_issued(&gw.service, 1, Duration::from_secs(30)).await;
    let roots = pebble_root(&p).await;
    let first = served_chain(gw.https, "r.test", &roots).await.unwrap()[0].clone();
    wait_issued(&gw.service, 2, Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = served_chain(gw.https, "r.test", &roots).await.unwrap()[0].clone();
        if now != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "renewed certificate never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_issuance() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    let yaml = manifests(
        &p.directory(),
        &p.https_ca_pem,
        "tlsAlpn01",
        &["b.test"],
        "",
    );
    let gw = start_gateway(http, https, &yaml, test_opts(&state)).await;
    let took = wait_issued(&gw.service, 1, Duration::from_secs(30)).await;
    eprintln!("MEASURED: TLS-ALPN-01 issuance took {took:?}");
    let roots = pebble_root(&p).await;
    served_chain(gw.https, "b.test", &roots)
        .await
        .expect("served chain verifies against Pebble's root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_ca_keeps_serving_default_and_backs_off() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (http, https) = (bind().await, bind().await);
    let dead = free_port();
    let pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    let yaml = manifests(
        &format!("https://127.0.0.1:{dead}/dir"),
        pem,
        "http01",
        &["c.test"],
        "",
    );
    // No caBundle parse problem matters: the CA is unreachable either way.
    let yaml = yaml.replace("    caBundle:", "    x-caBundle:");
    let gw = start_gateway(http, https, &yaml, test_opts(&state)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let st = gw.service.status();
    assert_eq!(st.len(), 1);
    assert!(st[0].failures >= 2, "retried: {st:?}");
    assert!(st[0].failures <= 5, "backed off, not hammering: {st:?}");
    assert!(st[0].last_error.is_some());
    assert!(st[0].next_attempt.is_some());
    // Still serving, with the default certificate (no verification: it is self-signed).
    let mut cfg = (*client_config(&[])).clone();
    cfg.dangerous()
        .set_certificate_verifier(Arc::new(AcceptAny));
    let conn = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = TcpStream::connect(gw.https).await.unwrap();
    let tls = conn
        .connect(ServerName::try_from("c.test").unwrap(), tcp)
        .await
        .unwrap();
    let chain = tls.get_ref().1.peer_certificates().unwrap().to_vec();
    assert!(default_cert_served(&chain, &gw.tls));
}

#[derive(Debug)]
struct AcceptAny;
impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_tls_verify_talks_to_pebble_without_ca_bundle() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    let yaml = manifests(&p.directory(), &p.https_ca_pem, "http01", &["s.test"], "")
        .replace("    caBundle:", "    x-caBundle:");
    // Without caBundle and without skipTLSVerify, Pebble's throw-away certificate is refused.
    let gw = start_gateway(
        bind().await,
        bind().await,
        &yaml,
        test_opts(&tmp.path().join("state-verify")),
    )
    .await;
    let start = Instant::now();
    loop {
        let st = gw.service.status();
        if let Some(e) = st[0].last_error.as_deref() {
            assert!(
                e.to_ascii_lowercase().contains("certificate"),
                "TLS verification error expected: {e}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{st:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(gw);
    // skipTLSVerify: true really skips verification.
    let yaml = yaml.replace("    solvers:", "    skipTLSVerify: true\n    solvers:");
    let gw = start_gateway(http, https, &yaml, test_opts(&tmp.path().join("state"))).await;
    let took = wait_issued(&gw.service, 1, Duration::from_secs(30)).await;
    eprintln!("MEASURED: HTTP-01 issuance with skipTLSVerify took {took:?}");
    let roots = pebble_root(&p).await;
    served_chain(gw.https, "s.test", &roots)
        .await
        .expect("served chain verifies against Pebble's root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_is_sent_as_not_after_with_enable_duration_feature() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    let yaml = manifests(
        &p.directory(),
        &p.https_ca_pem,
        "http01",
        &["d.test"],
        "    cert-manager.io/duration: 2h",
    )
    .replace(
        "    solvers:",
        "    enableDurationFeature: true\n    solvers:",
    );
    let gw = start_gateway(http, https, &yaml, test_opts(&tmp.path().join("state"))).await;
    wait_issued(&gw.service, 1, Duration::from_secs(30)).await;
    let st = gw.service.status().pop().unwrap();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let left = st.not_after.unwrap() - now;
    assert!(
        (7200 - 120..=7200 + 5).contains(&left),
        "Pebble issued for the requested 2h (default is 5 years): {left} s left"
    );
    // Renewal follows the issued lifetime (2/3 of it), not Pebble's default.
    let r = st.renewal_time.unwrap() - now;
    assert!((4800 - 300..=4800 + 5).contains(&r), "renewal in {r} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_on_one_state_dir_order_once() {
    if !have_pebble() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (http, https) = (bind().await, bind().await);
    let (hp, tp) = (
        http.local_addr().unwrap().port(),
        https.local_addr().unwrap().port(),
    );
    let p = start_pebble(tmp.path(), hp, tp).await;
    let yaml = manifests(&p.directory(), &p.https_ca_pem, "http01", &["l.test"], "");
    // Phase 1: another holder has the certificate's lock: no order, the default certificate
    // is served, and the manager keeps trying.
    let lock_path = state.join("locks/shop/l-tls.lock");
    let yaml = yaml.replace("secretName: web-tls", "secretName: l-tls");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock_path).unwrap();
    held.try_lock().unwrap();
    let a = start_gateway(http, https, &yaml, test_opts(&state)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(a.service.orders(), 0, "lock held elsewhere: no order");
    let st = a.service.status();
    assert!(
        st[0].not_after.is_none() && st[0].last_error.is_none(),
        "{st:?}"
    );
    drop(held);
    wait_issued(&a.service, 1, Duration::from_secs(30)).await;
    assert_eq!(a.service.orders(), 1);
    drop(a);

    // Phase 2: two managers on one fresh state folder start together; exactly one orders, the
    // other adopts the stored certificate once it gets the lock.
    let state2 = tmp.path().join("state2");
    let yaml2 = yaml.replace("l-tls", "l2-tls");
    let a = start_gateway(
        bind_port(hp).await,
        bind_port(tp).await,
        &yaml2,
        test_opts(&state2),
    )
    .await;
    let tokens = a_tokens(&a);
    let b = start_gateway_with(
        bind().await,
        bind().await,
        &yaml2,
        test_opts(&state2),
        Some(tokens),
    )
    .await;
    wait_issued(&a.service, 0, Duration::from_secs(30)).await;
    wait_issued(&b.service, 0, Duration::from_secs(30)).await;
    assert_eq!(
        a.service.orders() + b.service.orders(),
        1,
        "one order for the Secret across both managers"
    );
    let roots = pebble_root(&p).await;
    let ca = served_chain(a.https, "l.test", &roots).await.unwrap();
    let cb = served_chain(b.https, "l.test", &roots).await.unwrap();
    assert_eq!(ca[0], cb[0], "both serve the same certificate");
}

async fn bind_port(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return l,
            Err(e) => {
                assert!(Instant::now() < deadline, "rebind {port}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
