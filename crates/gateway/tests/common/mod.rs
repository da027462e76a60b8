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

// === WAF (tests/waf*.rs) ===

/// The OWASP CRS shared by the workspace (`../shared/crs`).
pub fn crs_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"))
}

/// The CRS compiled once per test binary and per (request body limit, response body access).
pub fn crs_rules(body_limit: u64, response_body: bool) -> Arc<waf::RuleSet> {
    type Cache = parking_lot::Mutex<std::collections::HashMap<(u64, bool), Arc<waf::RuleSet>>>;
    static RULES: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = RULES.get_or_init(Cache::default);
    let mut map = cache.lock();
    Arc::clone(map.entry((body_limit, response_body)).or_insert_with(|| {
        gateway::waf::profile::compile(&crs_dir(), body_limit, response_body).expect("CRS compiles")
    }))
}

/// Route settings from WAF annotations given by short name (no problems allowed).
pub fn waf_settings(pairs: &[(&str, &str)]) -> RouteSettings {
    let short: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (waf, problems) = config::waf::from_annotations(&short);
    assert!(problems.is_empty(), "{problems:?}");
    RouteSettings {
        waf,
        ..RouteSettings::default()
    }
}

/// WAF settings of an Ingress in block mode (CRS plus `SecRuleEngine On`).
pub fn waf_block() -> RouteSettings {
    waf_settings(&[
        ("enable-modsecurity", "true"),
        ("modsecurity-snippet", "SecRuleEngine On\n"),
    ])
}

/// WAF settings of an Ingress in the global (detect) mode.
pub fn waf_detect() -> RouteSettings {
    waf_settings(&[("enable-modsecurity", "true")])
}

/// Security events collected by a test sink, as JSON.
pub type Events = Arc<parking_lot::Mutex<Vec<serde_json::Value>>>;

/// A security sink that collects events into [`Events`].
pub fn event_sink() -> (Events, Arc<dyn telemetry::events::SecuritySink>) {
    let events: Events = Arc::default();
    let ev = Arc::clone(&events);
    let sink = Arc::new(move |e: &telemetry::events::SecurityEvent| {
        ev.lock().push(serde_json::to_value(e).unwrap());
    });
    (events, sink)
}

/// WAF options over the test CRS: detect mode and no time budget (debug builds on a loaded
/// machine are slow); `tune` changes the rest.
pub fn waf_options(tune: impl FnOnce(&mut gateway::waf::WafOptions)) -> gateway::waf::WafOptions {
    let mut o = gateway::waf::WafOptions::new(crs_dir());
    o.max_eval = None;
    tune(&mut o);
    o
}

/// A gateway with one host per `(name, settings)`, all routed (`/`) to `up`, and `waf`.
pub async fn start_waf(
    hosts: Vec<(&str, RouteSettings)>,
    up: &Arc<Upstream>,
    waf: gateway::waf::Waf,
) -> Running {
    let servers = hosts
        .into_iter()
        .map(|(h, s)| server(host(h), vec![route(prefix("/"), up, s)]))
        .collect();
    let opts = GatewayOptions {
        waf: Some(Arc::new(waf)),
        ..GatewayOptions::default()
    };
    start_with(model(servers), opts).await
}

/// A SQL injection query string (CRS 942100 at paranoia 1).
pub const SQLI: &str = "/?id=1%27%20OR%20%271%27%3D%271&user=x";

/// A raw HTTP/1.1 GET that closes the connection after the response.
pub fn get_req(host: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
}

/// A raw HTTP/1.1 POST with `body`.
pub fn post_req(host: &str, ctype: &str, body: &str) -> String {
    format!(
        "POST /submit HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\nAccept: */*\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The status code of a raw response.
pub fn status_of(resp: &str) -> &str {
    resp.split(' ').nth(1).unwrap_or("")
}

/// Sends a GET and returns (status, head, body bytes as received).
pub async fn fetch(addr: SocketAddr, host: &str, path: &str) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(get_req(host, path).as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("response within 20 s")
        .unwrap();
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap();
    (status, head, out[end + 4..].to_vec())
}

/// The events for `host`.
pub fn events_for(events: &Events, host: &str) -> Vec<serde_json::Value> {
    events
        .lock()
        .iter()
        .filter(|e| e["host"] == host)
        .cloned()
        .collect()
}

/// The rule ids of all events for `host`.
pub fn rule_ids(events: &Events, host: &str) -> Vec<u64> {
    events_for(events, host)
        .iter()
        .flat_map(|e| {
            e["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}
