#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use config::model::{BackendProtocol, RouteSettings};
use gateway::tls::TlsManager;
use gateway::{CancellationToken, Gateway, GatewayOptions};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};

async fn tls_connect(
    addr: std::net::SocketAddr,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(gateway::insecure::AcceptAnyServerCert::new(
            provider,
        )))
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(ServerName::try_from("tls.test").unwrap(), tcp)
        .await
        .unwrap()
}

async fn start_https(
    model: Arc<config::model::Model>,
) -> (Arc<Gateway>, std::net::SocketAddr, CancellationToken) {
    let gw = Gateway::new(model, GatewayOptions::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let tls = TlsManager::new().unwrap();
    let (g, s) = (Arc::clone(&gw), stop.clone());
    tokio::spawn(async move { g.serve_https(listener, tls.acceptor(), s).await.unwrap() });
    (gw, addr, stop)
}

fn tls_model(
    up: &Arc<config::model::Upstream>,
    settings: RouteSettings,
) -> Arc<config::model::Model> {
    let mut s = server(host("tls.test"), vec![route(prefix("/"), up, settings)]);
    s.tls = true;
    model(vec![s])
}

#[tokio::test]
async fn h2_and_h1_over_tls_with_hsts() {
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let (_gw, addr, stop) = start_https(tls_model(&up, RouteSettings::default())).await;

    // HTTP/2 by ALPN; no ssl-redirect on HTTPS; HSTS added.
    let io = tls_connect(addr, &[b"h2"]).await;
    assert_eq!(io.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("https://tls.test/x?y=1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["uri"], "/x?y=1");
    assert_eq!(json["headers"]["host"], "tls.test");
    assert_eq!(json["headers"]["x-forwarded-proto"], "https");

    // HTTP/1.1 by ALPN.
    let io = tls_connect(addr, &[b"http/1.1"]).await;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/h1")
        .header("host", "tls.test")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("strict-transport-security"));
    stop.cancel();
}

#[tokio::test]
async fn backend_protocol_https() {
    // A TLS echo backend using a generated self-signed certificate.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = listener.local_addr().unwrap();
    let acceptor = TlsManager::new().unwrap().acceptor();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(
                    |req: http::Request<hyper::body::Incoming>| async move {
                        let host = req.headers().get("host").cloned();
                        let mut resp =
                            http::Response::new(Full::new(Bytes::from_static(b"secure")));
                        if let Some(h) = host {
                            resp.headers_mut().insert("x-seen-host", h);
                        }
                        Ok::<_, Infallible>(resp)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    let up = upstream("s", vec![backend_addr]);
    let settings = RouteSettings {
        backend_protocol: BackendProtocol::Https,
        ..RouteSettings::default()
    };
    let gw = start(simple(&up, settings)).await;
    for _ in 0..3 {
        let r = get(gw.addr, "b.test", "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "secure");
        assert_eq!(r.headers["x-seen-host"], "b.test");
    }
}
