//! Real TLS handshakes against `gateway::tls` over 127.0.0.1 sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use config::model::{Certificate, Model, ObjectRef};
use gateway::tls::{DEFAULT_CERT_CN, TlsInfo, TlsManager};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

const T: Duration = Duration::from_secs(5);

/// Trusts exactly the certificates it is given (by DER), with real signature checks.
#[derive(Debug)]
struct TrustThese {
    certs: Vec<Vec<u8>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for TrustThese {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .certs
            .iter()
            .any(|c| c.as_slice() == end_entity.as_ref())
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("untrusted certificate".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn cert_for(hosts: &[&str]) -> Certificate {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params =
        rcgen::CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .unwrap();
    let c = params.self_signed(&kp).unwrap();
    Certificate {
        secret: ObjectRef {
            namespace: "default".into(),
            name: format!("tls-{}", hosts[0].replace('*', "star")),
        },
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        chain: vec![c.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(kp.serialize_der())),
    }
}

fn model(certs: &[&Certificate]) -> Model {
    Model {
        certificates: certs
            .iter()
            .map(|c| {
                Arc::new(Certificate {
                    secret: c.secret.clone(),
                    hosts: c.hosts.clone(),
                    chain: c.chain.clone(),
                    key: c.key.clone_key(),
                })
            })
            .collect(),
        ..Model::default()
    }
}

/// A TLS server on 127.0.0.1 that reports each handshake's [`TlsInfo`] (or error).
async fn serve(
    manager: TlsManager,
) -> (SocketAddr, mpsc::UnboundedReceiver<Result<TlsInfo, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = manager.acceptor();
            let tx = tx.clone();
            tokio::spawn(async move {
                match timeout(T, acceptor.accept(tcp)).await {
                    Ok(Ok(mut tls)) => {
                        let info = TlsInfo::from_stream(&tls);
                        let _ = tx.send(Ok(info));
                        let _ = tls.write_all(b"hello").await;
                        let _ = tls.shutdown().await;
                    }
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                    Err(_) => {
                        let _ = tx.send(Err("timeout".into()));
                    }
                }
            });
        }
    });
    (addr, rx)
}

struct Client {
    trusted: Vec<Vec<u8>>,
    alpn: Vec<Vec<u8>>,
    versions: Vec<&'static rustls::SupportedProtocolVersion>,
}

impl Client {
    fn new(trusted: Vec<Vec<u8>>) -> Self {
        Self {
            trusted,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
        }
    }

    /// Handshakes with `sni` and returns the leaf certificate the server presented and
    /// the ALPN protocol.
    async fn connect(
        &self,
        addr: SocketAddr,
        sni: &str,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&self.versions)
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustThese {
                certs: self.trusted.clone(),
                provider,
            }))
            .with_no_client_auth();
        cfg.alpn_protocols = self.alpn.clone();
        // No session cache: every connection does a full handshake and sees the current cert.
        cfg.resumption = rustls::client::Resumption::disabled();
        let connector = TlsConnector::from(Arc::new(cfg));
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
        let mut tls = timeout(T, connector.connect(name, tcp))
            .await
            .map_err(|_| "timeout".to_string())?
            .map_err(|e| e.to_string())?;
        let (_, conn) = tls.get_ref();
        let leaf = conn.peer_certificates().unwrap()[0].to_vec();
        let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
        let mut buf = Vec::new();
        let _ = timeout(T, tls.read_to_end(&mut buf)).await;
        assert_eq!(buf, b"hello");
        Ok((leaf, alpn))
    }
}

async fn next_info(
    rx: &mut mpsc::UnboundedReceiver<Result<TlsInfo, String>>,
) -> Result<TlsInfo, String> {
    timeout(T, rx.recv()).await.unwrap().unwrap()
}

#[tokio::test]
async fn sni_picks_exact_wildcard_and_default() {
    let a = cert_for(&["a.example.com"]);
    let w = cert_for(&["*.example.com"]);
    let (m, report) = TlsManager::with_model(&model(&[&a, &w])).unwrap();
    assert_eq!(report.hosts, 2);
    let default = m.default_certificate().to_vec();
    let (addr, mut rx) = serve(m).await;
    let client = Client::new(vec![
        a.chain[0].to_vec(),
        w.chain[0].to_vec(),
        default.clone(),
    ]);

    let (leaf, _) = client.connect(addr, "a.example.com").await.unwrap();
    assert_eq!(leaf, a.chain[0].to_vec());
    assert_eq!(
        next_info(&mut rx).await.unwrap().sni.as_deref(),
        Some("a.example.com")
    );

    let (leaf, _) = client.connect(addr, "zzz.example.com").await.unwrap();
    assert_eq!(leaf, w.chain[0].to_vec());
    next_info(&mut rx).await.unwrap();

    let (leaf, _) = client.connect(addr, "unknown.test").await.unwrap();
    assert_eq!(leaf, default);
    next_info(&mut rx).await.unwrap();

    // Two labels below the wildcard: not covered, default certificate.
    let (leaf, _) = client.connect(addr, "x.y.example.com").await.unwrap();
    assert_eq!(leaf, default);
    let needle = DEFAULT_CERT_CN.as_bytes();
    assert!(leaf.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn alpn_h2_and_http11_and_versions() {
    let m = TlsManager::new().unwrap();
    let default = m.default_certificate().to_vec();
    let (addr, mut rx) = serve(m).await;

    let client = Client::new(vec![default.clone()]);
    let (_, alpn) = client.connect(addr, "any.test").await.unwrap();
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    let info = next_info(&mut rx).await.unwrap();
    assert!(info.is_h2());
    assert_eq!(info.version, Some("TLSv1.3"));

    let mut c11 = Client::new(vec![default.clone()]);
    c11.alpn = vec![b"http/1.1".to_vec()];
    let (_, alpn) = c11.connect(addr, "any.test").await.unwrap();
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    next_info(&mut rx).await.unwrap();

    let mut c12 = Client::new(vec![default]);
    c12.versions = vec![&rustls::version::TLS12];
    c12.alpn = vec![];
    let (_, alpn) = c12.connect(addr, "any.test").await.unwrap();
    assert_eq!(alpn, None);
    let info = next_info(&mut rx).await.unwrap();
    assert_eq!(info.version, Some("TLSv1.2"));
}

fn ext(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A hand-made TLS 1.1 ClientHello (rustls cannot speak 1.1, so neither can its client).
/// It offers suites, groups and signature schemes rustls supports, so the protocol
/// version is the only reason to refuse it.
fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02]; // client_version TLS 1.1, no supported_versions
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    // ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA
    body.extend_from_slice(&[0x00, 0x06, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x2f]);
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut exts = Vec::new();
    let name = b"a.test";
    let mut sni = Vec::new();
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    ext(&mut exts, 0x0000, &sni);
    ext(&mut exts, 0x000a, &[0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]); // x25519, P-256
    ext(&mut exts, 0x000b, &[0x01, 0x00]); // uncompressed points
    ext(&mut exts, 0x000d, &[0x00, 0x04, 0x04, 0x03, 0x08, 0x04]); // ecdsa_p256, rsa_pss
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[tokio::test]
async fn tls11_is_refused() {
    let m = TlsManager::new().unwrap();
    let (addr, mut rx) = serve(m).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&tls11_client_hello()).await.unwrap();
    let mut buf = Vec::new();
    let _ = timeout(T, tcp.read_to_end(&mut buf)).await.unwrap();
    // Either a fatal alert record (0x15) or a plain close; never a ServerHello (0x16).
    assert!(buf.is_empty() || buf[0] == 0x15, "got {buf:02x?}");
    if buf.len() >= 7 {
        assert_eq!(buf[5], 2, "fatal alert");
        // rustls answers handshake_failure (40) or protocol_version (70).
        assert!(matches!(buf[6], 40 | 70), "alert {}", buf[6]);
    }
    let err = next_info(&mut rx).await.unwrap_err();
    eprintln!("server saw: {err}");
    assert!(
        err.contains("Tls12NotOffered") || err.contains("ersion"),
        "refused for the version: {err}"
    );
}

#[tokio::test]
async fn certificate_hot_swap_is_seen_by_new_connections() {
    let m = TlsManager::new().unwrap();
    let default = m.default_certificate().to_vec();
    let (addr, _rx) = serve(m.clone()).await;
    let first = cert_for(&["swap.example.com"]);
    let second = cert_for(&["swap.example.com"]);
    let client = Client::new(vec![
        default.clone(),
        first.chain[0].to_vec(),
        second.chain[0].to_vec(),
    ]);

    let (leaf, _) = client.connect(addr, "swap.example.com").await.unwrap();
    assert_eq!(leaf, default);

    m.update(&model(&[&first]));
    let (leaf, _) = client.connect(addr, "swap.example.com").await.unwrap();
    assert_eq!(leaf, first.chain[0].to_vec());

    m.update(&model(&[&second]));
    let (leaf, _) = client.connect(addr, "swap.example.com").await.unwrap();
    assert_eq!(leaf, second.chain[0].to_vec());

    m.update(&Model::default());
    let (leaf, _) = client.connect(addr, "swap.example.com").await.unwrap();
    assert_eq!(leaf, default);
}

#[tokio::test]
async fn acme_tls_alpn_uses_only_challenge_certificates() {
    let m = TlsManager::new().unwrap();
    let (addr, mut rx) = serve(m.clone()).await;
    let challenge = cert_for(&["acme.example.com"]);
    let mut client = Client::new(vec![challenge.chain[0].to_vec()]);
    client.alpn = vec![b"acme-tls/1".to_vec()];

    // No challenge registered: the handshake fails.
    assert!(client.connect(addr, "acme.example.com").await.is_err());
    assert!(next_info(&mut rx).await.is_err());

    let provider = rustls::crypto::ring::default_provider();
    let key = rustls::sign::CertifiedKey::from_der(
        challenge.chain.clone(),
        challenge.key.clone_key(),
        &provider,
    )
    .unwrap();
    m.set_acme_challenge("acme.example.com", Arc::new(key));
    let (leaf, alpn) = client.connect(addr, "acme.example.com").await.unwrap();
    assert_eq!(leaf, challenge.chain[0].to_vec());
    assert_eq!(alpn.as_deref(), Some(&b"acme-tls/1"[..]));
    assert!(next_info(&mut rx).await.unwrap().is_acme_challenge());

    m.remove_acme_challenge("acme.example.com");
    assert!(client.connect(addr, "acme.example.com").await.is_err());
}

#[tokio::test]
async fn garbage_instead_of_client_hello_is_rejected() {
    let m = TlsManager::new().unwrap();
    let (addr, mut rx) = serve(m).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = timeout(T, tcp.read_to_end(&mut buf)).await;
    assert!(next_info(&mut rx).await.is_err());
}

#[tokio::test]
async fn handshakes_during_repeated_swaps_never_fail() {
    let m = TlsManager::new().unwrap();
    let (addr, _rx) = serve(m.clone()).await;
    let certs: Vec<Certificate> = (0..4).map(|_| cert_for(&["busy.example.com"])).collect();
    let trusted: Vec<Vec<u8>> = certs.iter().map(|c| c.chain[0].to_vec()).collect();
    let client = Arc::new(Client::new(trusted.clone()));
    let swapper = {
        let m = m.clone();
        let models: Vec<Model> = certs.iter().map(|c| model(&[c])).collect();
        tokio::spawn(async move {
            for i in 0..40 {
                m.update(&models[i % models.len()]);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    m.update(&model(&[&certs[0]]));
    let mut handshakes = Vec::new();
    for _ in 0..40 {
        let client = Arc::clone(&client);
        handshakes.push(tokio::spawn(async move {
            client.connect(addr, "busy.example.com").await
        }));
    }
    for h in handshakes {
        let (leaf, _) = h.await.unwrap().unwrap();
        assert!(trusted.contains(&leaf));
    }
    swapper.await.unwrap();
}
