//! Shared helpers for gateway integration tests: echo backends, model builders, clients.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use config::model::{
    GlobalSettings, HostMatch, Model, ObjectRef, PathMatch, Route, RouteSettings, Server, Upstream,
};
use futures_util::{SinkExt, StreamExt};
use gateway::{CancellationToken, Gateway, GatewayOptions};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// A running echo backend.
pub struct Backend {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    pub stop: CancellationToken,
}

impl Backend {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// An echo backend named `id` answering after `delay`.
pub async fn backend_with(id: &str, delay: Duration) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let (h, s, id) = (Arc::clone(&hits), stop.clone(), id.to_owned());
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                () = s.cancelled() => return,
                a = listener.accept() => a.unwrap(),
            };
            let (h, id, s2) = (Arc::clone(&h), id.clone(), s.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let (h, id) = (Arc::clone(&h), id.clone());
                    async move {
                        h.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, Infallible>(echo(req, &id, delay).await)
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades();
                tokio::select! {
                    _ = conn => {}
                    () = s2.cancelled() => {}
                }
            });
        }
    });
    Backend { addr, hits, stop }
}

/// An echo backend answering at once.
pub async fn backend(id: &str) -> Backend {
    backend_with(id, Duration::ZERO).await
}

async fn echo(mut req: Request<Incoming>, id: &str, delay: Duration) -> Response<Full<Bytes>> {
    if req
        .headers()
        .get("upgrade")
        .is_some_and(|v| v == "websocket")
    {
        let key = req
            .headers()
            .get("sec-websocket-key")
            .unwrap()
            .as_bytes()
            .to_vec();
        let on = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            let io = TokioIo::new(on.await.unwrap());
            let mut ws =
                tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.unwrap();
                }
            }
        });
        return Response::builder()
            .status(101)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-accept", derive_accept_key(&key))
            .body(Full::new(Bytes::new()))
            .unwrap();
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let mut headers = BTreeMap::new();
    for (n, v) in req.headers() {
        headers.insert(
            n.to_string(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        );
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().len())
        .unwrap_or(0);
    let json = serde_json::json!({
        "id": id, "method": method, "uri": uri, "headers": headers, "body_len": body,
    });
    Response::builder()
        .header("x-backend", id)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json.to_string())))
        .unwrap()
}

// === model builders ===

pub fn upstream(name: &str, endpoints: Vec<SocketAddr>) -> Arc<Upstream> {
    Arc::new(Upstream {
        name: format!("default-{name}-80"),
        service: ObjectRef {
            namespace: "default".into(),
            name: name.into(),
        },
        service_port: "80".into(),
        endpoints,
        external_name: None,
    })
}

pub fn prefix(p: &str) -> PathMatch {
    PathMatch::Prefix(p.into())
}

pub fn exact(p: &str) -> PathMatch {
    PathMatch::Exact(p.into())
}

pub fn regex(p: &str) -> PathMatch {
    PathMatch::Regex {
        source: p.into(),
        regex: regex::Regex::new(&format!("(?i)^(?:{p})")).unwrap(),
    }
}

pub fn route(path: PathMatch, up: &Arc<Upstream>, settings: RouteSettings) -> Arc<Route> {
    Arc::new(Route {
        ingress: ObjectRef {
            namespace: "default".into(),
            name: "ing".into(),
        },
        path,
        upstream: Arc::clone(up),
        settings: Arc::new(settings),
    })
}

pub fn server(host: HostMatch, routes: Vec<Arc<Route>>) -> Server {
    Server {
        host,
        routes,
        tls: false,
    }
}

pub fn host(h: &str) -> HostMatch {
    match h.strip_prefix('*') {
        Some(s) => HostMatch::Wildcard(s.into()),
        None if h.is_empty() => HostMatch::Any,
        None => HostMatch::Exact(h.into()),
    }
}

pub fn model(servers: Vec<Server>) -> Arc<Model> {
    Arc::new(Model {
        servers,
        global: GlobalSettings::default(),
        ..Model::default()
    })
}

/// One catch-all route `/` to `up` with `settings`.
pub fn simple(up: &Arc<Upstream>, settings: RouteSettings) -> Arc<Model> {
    model(vec![server(
        HostMatch::Any,
        vec![route(prefix("/"), up, settings)],
    )])
}

// === gateway ===

pub struct Running {
    pub gw: Arc<Gateway>,
    pub addr: SocketAddr,
    pub stop: CancellationToken,
    pub task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn start(model: Arc<Model>) -> Running {
    start_with(model, GatewayOptions::default()).await
}

pub async fn start_with(model: Arc<Model>, opts: GatewayOptions) -> Running {
    let gw = Gateway::new(model, opts);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let (g, s) = (Arc::clone(&gw), stop.clone());
    let task = tokio::spawn(async move {
        g.serve_http(listener, s).await.unwrap();
    });
    Running {
        gw,
        addr,
        stop,
        task: Some(task),
    }
}

// === client ===

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn backend(&self) -> String {
        self.headers
            .get("x-backend")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.json()["headers"][name].as_str().map(str::to_owned)
    }
}

pub async fn send(c: &Client<HttpConnector, Full<Bytes>>, req: Request<Full<Bytes>>) -> Reply {
    let resp = tokio::time::timeout(Duration::from_secs(10), c.request(req))
        .await
        .unwrap()
        .unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub async fn get(addr: SocketAddr, host: &str, path: &str) -> Reply {
    let req = Request::get(format!("http://{addr}{path}"))
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(&client(), req).await
}

/// Sends raw bytes and returns everything read until the peer closes (or 5 s).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A 127.0.0.1 port with nothing listening.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// Serves the echo handler on an existing listener until the token is cancelled.
pub fn serve_echo_on(listener: TcpListener, id: &str) -> CancellationToken {
    let stop = CancellationToken::new();
    let (s, id) = (stop.clone(), id.to_owned());
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                () = s.cancelled() => return,
                a = listener.accept() => a.unwrap(),
            };
            let id = id.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let id = id.clone();
                    async move { Ok::<_, Infallible>(echo(req, &id, Duration::ZERO).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    stop
}

pub async fn start_with_sink(
    model: Arc<Model>,
    opts: GatewayOptions,
    sink: impl gateway::AccessSink,
) -> Running {
    let gw = Gateway::with_sink(model, opts, Arc::new(sink));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let (g, s) = (Arc::clone(&gw), stop.clone());
    let task = tokio::spawn(async move {
        g.serve_http(listener, s).await.unwrap();
    });
    Running {
        gw,
        addr,
        stop,
        task: Some(task),
    }
}
