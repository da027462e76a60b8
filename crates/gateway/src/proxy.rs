//! The request path: limits, routing, redirects, endpoint choice with retries, upstream
//! exchange, WebSocket tunnelling, response headers and the access event.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use config::model::{Affinity, BackendProtocol, PathMatch, RouteMatch, RouteSettings};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use crate::balance::{self, PickInput, UpstreamRuntime};
use crate::body::{BodyStats, Finish, RequestBody, ResponseBody};
use crate::event::AccessEvent;
use crate::headers::{self, Client, ConnInfo};
use crate::pool::{ConnectError, PoolKey, PooledConn, is_send_timeout};
use crate::router;
use crate::server::Gateway;

pub(crate) const ACME_PREFIX: &str = "/.well-known/acme-challenge/";

/// Per-request context carried to the response.
struct Ctx {
    /// Boxed from the start: the request future and the response body move it around.
    event: Box<AccessEvent>,
    start: Instant,
    head_bytes: u64,
    req_stats: Option<Arc<BodyStats>>,
    /// Body bytes the WAF buffered (sent before the rest).
    waf_body: Option<Bytes>,
    /// WAF transaction awaiting the response phases.
    waf_tx: Option<Box<crate::waf::WafTx>>,
    /// `limit-connections` slot, released when the response body is done.
    limit_guard: Option<crate::limits::ConnGuard>,
}

impl Gateway {
    /// Handles one request; never fails (errors become responses).
    pub(crate) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        conn: ConnInfo,
    ) -> Response<ResponseBody> {
        let start = Instant::now();
        let snap = self.snapshot();
        let global = &snap.model.global;
        let client = headers::resolve_client(&conn, req.headers(), global);
        let (host, raw_host) = headers::request_host(req.uri(), req.headers());
        let mut ctx = Ctx {
            event: Box::new(base_event(&req, &client, &host, &conn)),
            start,
            head_bytes: head_size(&req),
            req_stats: None,
            waf_body: None,
            waf_tx: None,
            limit_guard: None,
        };

        if let Some(status) = self.check_limits(&req) {
            return self.finish(status_response(status), ctx);
        }
        // ACME HTTP-01 (issue #5): answered before routing, redirects and the WAF.
        if client.scheme == "http"
            && let Some(key_auth) = self.acme_http01.answer(req.uri().path())
        {
            let mut resp = Response::new(ResponseBody::full(Bytes::from(key_auth)));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            return self.finish(resp, ctx);
        }
        let path = req.uri().path().to_owned();
        let lookup = router::route(&snap.model, &host, &path);
        let settings_owned;
        let (upstream, settings): (&Arc<config::model::Upstream>, &RouteSettings) =
            match &lookup.matched {
                Some(m) => {
                    ctx.event.ingress_namespace = Some(m.route.ingress.namespace.clone());
                    ctx.event.ingress_name = Some(m.route.ingress.name.clone());
                    ctx.event.route_path = Some(m.route.path.source().to_owned());
                    (&m.route.upstream, &m.route.settings)
                }
                None => match &snap.model.default_backend {
                    Some(up) => {
                        settings_owned = RouteSettings::default();
                        (up, &settings_owned)
                    }
                    None => return self.finish(status_response(StatusCode::NOT_FOUND), ctx),
                },
            };
        ctx.event.service = Some(upstream.service.name.clone());
        // Abuse control (issue #6): lists, connections, rpm, rps.
        let route = lookup.matched.as_ref().map(|m| &*m.route);
        if let Some(resp) = self.check_abuse(
            &global.limits,
            route,
            client.ip,
            req.headers(),
            &path,
            &mut ctx.event,
            &mut ctx.limit_guard,
        ) {
            return self.finish(resp, ctx);
        }

        // Redirects.
        let acme = path.starts_with(ACME_PREFIX);
        let host_tls = lookup.host_tls;
        if !acme
            && client.scheme == "http"
            && ((host_tls && settings.ssl_redirect) || settings.force_ssl_redirect)
        {
            let location = self.https_location(&host, req.uri());
            return self.finish(redirect(StatusCode::PERMANENT_REDIRECT, &location), ctx);
        }
        if let Some(root) = &settings.app_root
            && path == "/"
            && !acme
        {
            let location = format!(
                "{}://{}{}",
                client.scheme,
                raw_host.as_deref().unwrap_or(&host),
                root
            );
            return self.finish(redirect(StatusCode::FOUND, &location), ctx);
        }

        // Body size limit announced up front.
        if let (Some(limit), Some(len)) = (settings.body_size_limit, content_length(req.headers()))
            && len > limit
        {
            let resp = self.reject(
                crate::limits::RejectReason::BodySize,
                StatusCode::PAYLOAD_TOO_LARGE,
                &mut ctx.event,
            );
            return self.finish(resp, ctx);
        }

        // Cross-replica rate limit in Redis (crate::global_limit).
        if let Some(resp) = self
            .global_limit(
                settings.global_limit.as_ref(),
                crate::global_limit::KeyInput {
                    uri: req.uri(),
                    headers: req.headers(),
                    client: client.ip,
                    host: &host,
                },
                crate::global_limit::reject_status(settings, &global.limits),
                &mut ctx.event,
            )
            .await
        {
            return self.finish(resp, ctx);
        }

        // WAF phases 1-2 (crate::waf), before any upstream is contacted.
        let req = match self.waf_request(req, settings, &conn, &mut ctx.event).await {
            crate::waf::ReqVerdict::Pass(req, body, tx) => {
                (ctx.waf_body, ctx.waf_tx) = (body, tx);
                req
            }
            crate::waf::ReqVerdict::Respond(resp) => return self.finish(resp, ctx),
        };

        let Some(rt) = snap.upstream(upstream).cloned() else {
            return self.finish(status_response(StatusCode::BAD_GATEWAY), ctx);
        };
        if rt.endpoints.is_empty() && upstream.external_name.is_none() {
            return self.finish(status_response(StatusCode::SERVICE_UNAVAILABLE), ctx);
        }

        let hsts = conn.tls && host_tls && global.hsts;
        let mut resp = self
            .forward(
                req,
                &conn,
                &client,
                raw_host,
                &host,
                lookup.matched.as_ref(),
                settings,
                &rt,
                &mut ctx,
            )
            .await;
        if let Some(tx) = ctx.waf_tx.take() {
            resp = tx.finish_response(resp).await;
        }
        if hsts {
            let mut v = format!("max-age={}", global.hsts_max_age);
            if global.hsts_include_subdomains {
                v.push_str("; includeSubDomains");
            }
            if global.hsts_preload {
                v.push_str("; preload");
            }
            if let Ok(v) = HeaderValue::try_from(v) {
                resp.headers_mut()
                    .insert(header::STRICT_TRANSPORT_SECURITY, v);
            }
        }
        self.finish(resp, ctx)
    }

    fn check_limits(&self, req: &Request<Incoming>) -> Option<StatusCode> {
        let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
        if uri_len > self.options.max_uri_len {
            return Some(StatusCode::URI_TOO_LONG);
        }
        let head: usize = req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len().saturating_add(v.len()).saturating_add(4))
            .fold(0usize, usize::saturating_add);
        if head > self.options.max_header_bytes || req.headers().len() > self.options.max_headers {
            return Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        let hosts = req.headers().get_all(header::HOST).iter().count();
        if hosts > 1 || (req.version() == Version::HTTP_11 && hosts == 0) {
            return Some(StatusCode::BAD_REQUEST);
        }
        None
    }

    fn https_location(&self, host: &str, uri: &Uri) -> String {
        let pq = uri.path_and_query().map_or("/", |p| p.as_str());
        match self.options.https_redirect_port {
            Some(port) if port != 443 => format!("https://{host}:{port}{pq}"),
            _ => format!("https://{host}{pq}"),
        }
    }

    fn finish(&self, mut resp: Response<ResponseBody>, ctx: Ctx) -> Response<ResponseBody> {
        let mut event = ctx.event;
        event.status = resp.status().as_u16();
        let out_head = resp
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len().saturating_add(v.len()).saturating_add(4))
            .fold(19usize, usize::saturating_add);
        resp.body_mut().set_finish(Finish {
            event,
            start: ctx.start,
            sink: Arc::clone(&self.sink),
            req_stats: ctx.req_stats,
            head_bytes: ctx.head_bytes,
            out_head_bytes: u64::try_from(out_head).unwrap_or(u64::MAX),
            limit_guard: ctx.limit_guard,
        });
        resp
    }

    /// Sends the request upstream with endpoint choice, affinity and retries.
    #[allow(clippy::too_many_arguments)]
    async fn forward(
        &self,
        mut req: Request<Incoming>,
        conn: &ConnInfo,
        client: &Client,
        raw_host: Option<String>,
        host: &str,
        route: Option<&RouteMatch>,
        settings: &RouteSettings,
        rt: &Arc<UpstreamRuntime>,
        ctx: &mut Ctx,
    ) -> Response<ResponseBody> {
        let websocket = is_websocket(&req);
        let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut req));

        // Endpoint preferences that need the original request.
        let now_ms = self.now_ms();
        let hash_key = match &settings.load_balance {
            config::model::LoadBalance::Hash(expr) => Some(balance::hash_key(
                expr,
                req.uri(),
                req.headers(),
                client.ip,
                host,
            )),
            _ => None,
        };
        let pinned = settings.affinity.as_ref().and_then(|a| {
            balance::cookie(req.headers(), &a.cookie_name)
                .and_then(|v| rt.by_cookie(v))
                .filter(|&i| !rt.ejected(i, now_ms))
        });

        // Build the upstream request.
        let (mut parts, body) = req.into_parts();
        let Some(upstream_uri) = upstream_uri(&parts.uri, route, settings) else {
            return status_response(StatusCode::BAD_REQUEST);
        };
        headers::strip_hop_by_hop(&mut parts.headers);
        if websocket {
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            parts
                .headers
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        if !parts.headers.contains_key(header::HOST)
            && let Some(v) = raw_host
                .as_deref()
                .and_then(|h| HeaderValue::from_str(h).ok())
        {
            parts.headers.insert(header::HOST, v);
        }
        ctx.event.request_id =
            headers::set_forwarded(&mut parts.headers, conn, client, raw_host.as_deref());
        let stats = Arc::new(BodyStats::default());
        ctx.req_stats = Some(Arc::clone(&stats));
        let waf_body = ctx.waf_body.take();
        let has_body = !http_body::Body::is_end_stream(&body) || waf_body.is_some();
        let body = RequestBody::new(Some(body), settings.body_size_limit, Arc::clone(&stats))
            .with_prefix(waf_body);
        let mut upstream_req = Request::from_parts(parts, body);
        *upstream_req.uri_mut() = upstream_uri;
        *upstream_req.version_mut() = Version::HTTP_11;

        // Choose an endpoint and connect, retrying connect failures elsewhere.
        let tls = settings.backend_protocol == BackendProtocol::Https;
        let tries = settings.next_upstream_tries.max(1);
        let input = PickInput {
            lb: &settings.load_balance,
            hash_key: hash_key.as_deref(),
        };
        let mut excluded: Vec<usize> = Vec::new();
        let mut last_error: Option<ConnectError> = None;
        let mut failed_pinned = false;
        let mut external: Option<Vec<SocketAddr>> = None;
        let mut attempt = 0u32;
        let (pooled, chosen) = loop {
            if attempt >= tries {
                let status = match last_error {
                    Some(ConnectError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                return status_response(status);
            }
            attempt += 1;
            let (chosen, addr) = if let Some((name, port)) = &rt.upstream.external_name {
                if external.is_none() {
                    external = Some(resolve(name, *port).await);
                }
                let addrs = external.as_deref().unwrap_or(&[]);
                let Some(addr) = addrs
                    .get(usize::try_from(attempt - 1).unwrap_or(0) % addrs.len().max(1))
                    .copied()
                else {
                    return status_response(StatusCode::BAD_GATEWAY);
                };
                (None, addr)
            } else {
                let pick = if attempt == 1 && pinned.is_some() {
                    pinned
                } else {
                    let now = if attempt == 1 { now_ms } else { self.now_ms() };
                    rt.pick(&input, &excluded, now)
                };
                let Some(i) = pick else {
                    break_err(&mut last_error);
                    attempt = tries;
                    continue;
                };
                let Some(ep) = rt.endpoints.get(i) else {
                    attempt = tries;
                    continue;
                };
                (Some(i), ep.addr)
            };
            ctx.event.upstream_addr = Some(match ctx.event.upstream_addr.take() {
                Some(prev) => format!("{prev}, {addr}"),
                None => match chosen.and_then(|i| rt.endpoints.get(i)) {
                    Some(ep) => ep.addr_text.clone(),
                    None => headers::socket_addr_string(addr),
                },
            });
            let key = PoolKey { addr, tls };
            let connect_start = Instant::now();
            match self.pool.get(&key, settings.connect_timeout).await {
                Ok(p) => {
                    ctx.event.upstream_connect_ms =
                        Some(connect_start.elapsed().as_secs_f64() * 1000.0);
                    break (p, chosen);
                }
                Err(e) => {
                    tracing::debug!(%addr, error = %e, "upstream connect failed");
                    if let Some(i) = chosen {
                        if let Some(ep) = rt.endpoints.get(i) {
                            ep.record_failure(&self.options.health, self.now_ms());
                        }
                        if Some(i) == pinned {
                            failed_pinned = true;
                        }
                        excluded.push(i);
                    }
                    last_error = Some(e);
                }
            }
        };

        // Exchange.
        let endpoint = chosen.and_then(|i| rt.endpoints.get(i)).cloned();
        let _inflight = endpoint.as_ref().map(|e| e.start());
        let sent_at = Instant::now();
        let PooledConn {
            key,
            mut sender,
            mut send_timer,
        } = pooled;
        send_timer.set(settings.send_timeout);
        let read_timeout = settings.read_timeout;
        let mut result = exchange(&mut sender, upstream_req, &stats, has_body, read_timeout).await;
        if let Ok(Err(e)) = &mut result
            && let Some(unsent) = e.take_message()
        {
            // The pooled connection died before the request was written (keep-alive race):
            // nothing reached the upstream, so one fresh connection is safe for any method.
            tracing::debug!(error = %e.error(), "stale upstream connection; reconnecting");
            match self.pool.connect(&key, settings.connect_timeout).await {
                Ok(fresh) => {
                    (sender, send_timer) = (fresh.sender, fresh.send_timer);
                    send_timer.set(settings.send_timeout);
                    result = exchange(&mut sender, unsent, &stats, has_body, read_timeout).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "upstream reconnect failed");
                    return status_response(StatusCode::BAD_GATEWAY);
                }
            }
        }
        let mut resp = match result {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                if stats.too_large.load(Ordering::Relaxed) {
                    return self.reject(
                        crate::limits::RejectReason::BodySize,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &mut ctx.event,
                    );
                }
                if is_send_timeout(e.error()) {
                    // The upstream stopped reading the request (`proxy-send-timeout`).
                    tracing::debug!("upstream send timeout");
                    if let Some(ep) = &endpoint {
                        ep.record_failure(&self.options.health, self.now_ms());
                    }
                    return status_response(StatusCode::GATEWAY_TIMEOUT);
                }
                tracing::debug!(error = %e.error(), "upstream exchange failed");
                return status_response(StatusCode::BAD_GATEWAY);
            }
            Err(_) => {
                if let Some(ep) = &endpoint {
                    ep.record_failure(&self.options.health, self.now_ms());
                }
                return status_response(StatusCode::GATEWAY_TIMEOUT);
            }
        };
        let latency = sent_at.elapsed();
        if let Some(ep) = &endpoint {
            ep.record_success(latency);
        }
        ctx.event.upstream_status = Some(resp.status().as_u16());
        ctx.event.upstream_latency_ms = Some(latency.as_secs_f64() * 1000.0);

        // Affinity cookie.
        let set_cookie = match (&settings.affinity, chosen) {
            (Some(aff), Some(i)) => {
                let repin = pinned.is_none() || (failed_pinned && aff.change_on_failure);
                if repin {
                    rt.endpoints
                        .get(i)
                        .and_then(|e| affinity_cookie(aff, &e.cookie_id, route))
                } else {
                    None
                }
            }
            _ => None,
        };

        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            let Some(client_upgrade) = client_upgrade else {
                return status_response(StatusCode::BAD_GATEWAY);
            };
            let upstream_upgrade = hyper::upgrade::on(&mut resp);
            tokio::spawn(tunnel(client_upgrade, upstream_upgrade));
            let (parts, _) = resp.into_parts();
            let mut out = Response::from_parts(parts, ResponseBody::empty());
            if let Some(c) = set_cookie {
                out.headers_mut().append(header::SET_COOKIE, c);
            }
            return out;
        }

        let (mut parts, body) = resp.into_parts();
        headers::strip_hop_by_hop(&mut parts.headers);
        if let Some(c) = set_cookie {
            parts.headers.append(header::SET_COOKIE, c);
        }
        parts.version = Version::HTTP_11;
        let body = ResponseBody::upstream(
            body,
            Some((
                Arc::clone(&self.pool),
                PooledConn {
                    key,
                    sender,
                    send_timer,
                },
            )),
            settings.read_timeout,
        );
        Response::from_parts(parts, body)
    }
}

/// Sends `req` and waits for the response head. `proxy-read-timeout` starts once the request
/// body has been handed over (at once without a body), as nginx starts its read timer after
/// the request is sent; stalls while sending are bounded by the connection's send timer.
async fn exchange(
    sender: &mut hyper::client::conn::http1::SendRequest<RequestBody>,
    req: Request<RequestBody>,
    stats: &BodyStats,
    has_body: bool,
    read_timeout: std::time::Duration,
) -> Result<
    Result<Response<Incoming>, hyper::client::conn::TrySendError<Request<RequestBody>>>,
    tokio::time::error::Elapsed,
> {
    let fut = sender.try_send_request(req);
    tokio::pin!(fut);
    if has_body {
        tokio::select! {
            r = &mut fut => return Ok(r),
            () = stats.sent.notified() => {}
        }
    }
    tokio::time::timeout(read_timeout, fut).await
}

/// The origin-form URI sent upstream: the request's path (rewritten by `rewrite-target`)
/// and query. Without a rewrite the request's own path and query are reused as they are
/// (shared, not copied or parsed again) when the URI is already in origin form.
fn upstream_uri(uri: &Uri, route: Option<&RouteMatch>, settings: &RouteSettings) -> Option<Uri> {
    let rewrite = route.filter(|_| settings.rewrite_target.is_some());
    if rewrite.is_none()
        && uri.scheme().is_none()
        && uri.authority().is_none()
        && let Some(pq) = uri.path_and_query()
        && pq.as_str().starts_with('/')
    {
        return Some(Uri::from(pq.clone()));
    }
    let mut path = uri.path().to_owned();
    if let Some(m) = rewrite {
        path = m.rewritten_path(&path);
    }
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    pq.parse().ok()
}

fn break_err(last: &mut Option<ConnectError>) {
    if last.is_none() {
        *last = Some(ConnectError::Io(std::io::Error::other(
            "no endpoint available",
        )));
    }
}

async fn resolve(name: &str, port: u16) -> Vec<SocketAddr> {
    match tokio::net::lookup_host((name, port)).await {
        Ok(addrs) => addrs.collect(),
        Err(e) => {
            tracing::debug!(name, error = %e, "ExternalName lookup failed");
            Vec::new()
        }
    }
}

async fn tunnel(client: hyper::upgrade::OnUpgrade, upstream: hyper::upgrade::OnUpgrade) {
    let (c, u) = match tokio::try_join!(client, upstream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade failed");
            return;
        }
    };
    let mut c = TokioIo::new(c);
    let mut u = TokioIo::new(u);
    if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut u).await {
        tracing::debug!(error = %e, "tunnel ended");
    }
}

fn is_websocket<B>(req: &Request<B>) -> bool {
    if req.version() != Version::HTTP_11 || req.method() != Method::GET {
        return false;
    }
    let has_token = |name: header::HeaderName, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has_token(header::CONNECTION, "upgrade") && has_token(header::UPGRADE, "websocket")
}

fn affinity_cookie(aff: &Affinity, id: &str, route: Option<&RouteMatch>) -> Option<HeaderValue> {
    let path = aff
        .path
        .clone()
        .unwrap_or_else(|| match route.map(|r| &r.route.path) {
            Some(
                PathMatch::Exact(p) | PathMatch::Prefix(p) | PathMatch::ImplementationSpecific(p),
            ) => p.clone(),
            _ => "/".to_owned(),
        });
    let mut v = format!("{}={}; Path={}", aff.cookie_name, id, path);
    if let Some(d) = &aff.domain {
        v.push_str("; Domain=");
        v.push_str(d);
    }
    if let Some(secs) = aff.expires {
        let when = time::OffsetDateTime::now_utc()
            + time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2).min(1 << 40));
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        if let Ok(s) = when.format(&fmt) {
            v.push_str("; Expires=");
            v.push_str(&s);
        }
    }
    if let Some(secs) = aff.max_age {
        v.push_str(&format!("; Max-Age={secs}"));
    }
    if let Some(s) = &aff.samesite {
        v.push_str("; SameSite=");
        v.push_str(s);
    }
    if aff.secure {
        v.push_str("; Secure");
    }
    v.push_str("; HttpOnly");
    HeaderValue::try_from(v).ok()
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
}

fn head_size<B>(req: &Request<B>) -> u64 {
    let line = req
        .uri()
        .path_and_query()
        .map_or(1, |p| p.as_str().len())
        .saturating_add(req.method().as_str().len())
        .saturating_add(12);
    let headers: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len().saturating_add(v.len()).saturating_add(4))
        .fold(0, usize::saturating_add);
    u64::try_from(line.saturating_add(headers).saturating_add(2)).unwrap_or(u64::MAX)
}

fn base_event<B>(req: &Request<B>, client: &Client, host: &str, conn: &ConnInfo) -> AccessEvent {
    let header = |n: header::HeaderName| {
        req.headers()
            .get(n)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut ev = AccessEvent::new(time::OffsetDateTime::now_utc());
    ev.client_ip = Some(client.ip);
    ev.method = req.method().as_str().to_owned();
    ev.host = (!host.is_empty()).then(|| host.to_owned());
    ev.path = req.uri().path().to_owned();
    ev.query = req.uri().query().map(str::to_owned);
    ev.protocol = protocol(req.version()).to_owned();
    ev.tls_version = conn.tls_version.map(str::to_owned);
    ev.user_agent = header(header::USER_AGENT);
    ev.referer = header(header::REFERER);
    ev
}

/// The `Debug` text of `v` (`HTTP/1.1`), without `fmt`.
fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/?",
    }
}

/// A short generated response for `status`.
pub(crate) fn status_response(status: StatusCode) -> Response<ResponseBody> {
    let text = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut resp = Response::new(ResponseBody::full(Bytes::from(text)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::URI_TOO_LONG
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    ) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn redirect(status: StatusCode, location: &str) -> Response<ResponseBody> {
    let mut resp = status_response(status);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}
