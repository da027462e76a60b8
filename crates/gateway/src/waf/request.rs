//! Phases 1-2 before the upstream, the transaction state, the security event and the audit
//! record (phases 3-5: `response.rs`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use config::model::RouteSettings;
use config::waf::{WafMode, WafSettings};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use telemetry::events::{Disposition, RuleMatch, SecurityEvent, category_from_tags};
use waf::{InterruptAction, Interruption, Transaction};

use super::audit::{AuditMessage, AuditRecord};
use super::{BodyLimitAction, BudgetAction, Waf};
use crate::body::ResponseBody;
use crate::event::AccessEvent;
use crate::headers::ConnInfo;
use crate::server::Gateway;

/// Longest matched value kept in an event (characters).
const DATA_MAX: usize = 200;

/// Outcome of the request phases.
pub enum ReqVerdict {
    /// Go on to the upstream with the request, the buffered start of its body (to send
    /// before the rest of `Incoming`), and the transaction when response phases follow.
    Pass(Request<Incoming>, Option<Bytes>, Option<Box<WafTx>>),
    /// Answer with this response (blocked, or a body that could not be read).
    Respond(Response<ResponseBody>),
}

/// A WAF transaction in flight (kept across the upstream exchange only when responses are
/// inspected).
pub struct WafTx {
    pub(super) waf: Arc<Waf>,
    mode: WafMode,
    /// CRS transaction (absent when `enable-owasp-core-rules: "false"`).
    base: Option<Transaction>,
    /// The snippet's own rules.
    snippet: Option<Transaction>,
    request_id: String,
    client_ip: Option<IpAddr>,
    host: Option<String>,
    method: String,
    uri: String,
    namespace: Option<String>,
    name: Option<String>,
    pub(super) client_addr: SocketAddr,
    pub(super) server_addr: SocketAddr,
    /// `1.1`, `2.0`, `1.0`.
    http_version: &'static str,
    started: time::OffsetDateTime,
    /// Kept for the audit log only (see [`super::audit::AuditParts`]).
    pub(super) audit: Option<Box<AuditCapture>>,
    /// A phase went over the time budget (fail open): the remaining phases are skipped.
    pub(super) skip: bool,
    /// Phases 3 and 4 run for this route ([`Waf::response_mode`]).
    pub(super) response_phases: bool,
    /// Phase 4 gets the response body for this route.
    pub(super) response_body: bool,
    /// The event and audit record are written (else `Drop` writes them).
    done: bool,
}

/// What the audit record needs beyond the engine's transactions.
#[derive(Default)]
pub(super) struct AuditCapture {
    pub(super) request_headers: Vec<(String, String)>,
    pub(super) request_body: Option<Bytes>,
    pub(super) response_headers: Vec<(String, String)>,
    pub(super) response_body: Option<Bytes>,
    pub(super) snippet: Option<Arc<Vec<seclang::ast::Directive>>>,
}

pub(super) fn header_pairs(h: &http::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

impl Drop for WafTx {
    fn drop(&mut self) {
        // A transaction abandoned before its response (no endpoint, client gone): the
        // matches it has are still reported.
        if !self.done {
            self.complete(None, None);
        }
    }
}

impl WafTx {
    pub(super) fn txs(&mut self) -> impl Iterator<Item = &mut Transaction> {
        self.base.iter_mut().chain(self.snippet.iter_mut())
    }

    /// The request id (also the transaction's `UNIQUE_ID`).
    pub(super) fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The method of the request.
    pub(super) fn method(&self) -> &str {
        &self.method
    }

    /// Accounts one phase's engine time against the budget. Over it: a warning, the
    /// metric, and either a 403 interruption (block mode with [`BudgetAction::Block`]) or
    /// `skip` (the transaction's remaining phases do not run).
    pub(super) fn over_budget(&mut self, phase: &'static str, d: Duration) -> Option<Interruption> {
        let budget = self.waf.opts.max_eval?;
        if d <= budget {
            return None;
        }
        let block =
            self.mode == WafMode::Block && self.waf.opts.budget_action == BudgetAction::Block;
        tracing::warn!(
            request_id = %self.request_id,
            phase,
            elapsed_ms = d.as_secs_f64() * 1000.0,
            budget_ms = budget.as_secs_f64() * 1000.0,
            action = if block { "block" } else { "pass" },
            "WAF phase over its time budget"
        );
        if let Some(m) = &self.waf.metrics {
            m.budget_exceeded.with_label_values(&[phase]).inc();
        }
        if block {
            return Some(Interruption {
                status: 403,
                rule_id: 0,
                action: InterruptAction::Deny,
            });
        }
        self.skip = true;
        None
    }

    /// Runs `f` over each transaction until one interrupts (block mode only).
    pub(super) fn run(
        &mut self,
        mut f: impl FnMut(&mut Transaction) -> Option<Interruption>,
    ) -> Option<Interruption> {
        let block = self.mode == WafMode::Block;
        let deadline = self.deadline();
        let mut out = None;
        for tx in self.txs() {
            tx.set_deadline(deadline);
            if let Some(i) = f(tx)
                && block
                && out.is_none()
            {
                out = Some(i);
                break;
            }
        }
        out
    }

    /// When the phase starting now must end: the engine stops between two rules past it
    /// (so a phase cannot run far beyond the budget), and [`WafTx::over_budget`] then sees
    /// the elapsed time over it.
    fn deadline(&self) -> Option<std::time::Instant> {
        self.waf
            .opts
            .max_eval
            .map(|b| std::time::Instant::now() + b)
    }

    pub(super) fn observe(&self, phase: &str, d: Duration) {
        if let Some(m) = &self.waf.metrics {
            m.latency
                .with_label_values(&[phase])
                .observe(d.as_secs_f64());
        }
    }

    /// Ends the transaction: phase 5 (unless the budget ran out), the security event and the
    /// audit record. `blocked_status`: the WAF's own answer; `final_status`: the status sent.
    pub(super) fn complete(&mut self, blocked_status: Option<u16>, final_status: Option<u16>) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.skip {
            let deadline = self.deadline();
            for tx in self.txs() {
                tx.set_deadline(deadline);
                tx.process_logging();
            }
        }
        if self
            .base
            .iter()
            .chain(self.snippet.iter())
            .any(Transaction::regex_limit_exceeded)
        {
            // A bounded fallback regex gave up: the verdict may be a false negative (rules
            // see MSC_PCRE_LIMITS_EXCEEDED).
            tracing::warn!(
                request_id = %self.request_id,
                "WAF regex limit hit: a rule could not decide"
            );
            if let Some(m) = &self.waf.metrics {
                m.budget_exceeded.with_label_values(&["regex_limit"]).inc();
            }
        }
        self.emit(blocked_status);
        self.write_audit(blocked_status.is_some(), final_status.or(blocked_status));
    }

    /// Writes the audit record when the transaction is relevant.
    fn write_audit(&mut self, interrupted: bool, status: Option<u16>) {
        let Some(log) = &self.waf.audit else {
            return;
        };
        let matched = self
            .base
            .iter()
            .chain(self.snippet.iter())
            .any(|tx| tx.matched_rules().iter().any(|m| m.logged));
        if !matched && !status.is_some_and(super::audit::relevant_status) {
            return;
        }
        let capture = self.audit.take().unwrap_or_default();
        let mut messages = Vec::new();
        if let Some(tx) = &self.base {
            for m in tx.matched_rules().iter().filter(|m| m.logged) {
                messages.push(AuditMessage {
                    rule: m,
                    snippet_meta: None,
                });
            }
        }
        if let Some(tx) = &self.snippet {
            for m in tx.matched_rules().iter().filter(|m| m.logged) {
                let meta = capture
                    .snippet
                    .as_deref()
                    .and_then(|d| super::audit::snippet_meta(d, m.id));
                messages.push(AuditMessage {
                    rule: m,
                    snippet_meta: meta,
                });
            }
        }
        let engine = match self.mode {
            WafMode::Block => "Enabled",
            WafMode::Detect => "DetectionOnly",
            WafMode::Off => "Disabled",
        };
        let record = AuditRecord {
            time: self.started,
            client: self.client_addr,
            server: self.server_addr,
            unique_id: &self.request_id,
            interrupted,
            method: &self.method,
            http_version: self.http_version,
            hostname: self.host.as_deref().unwrap_or(""),
            uri: &self.uri,
            request_headers: &capture.request_headers,
            request_body: capture.request_body.as_deref(),
            status,
            response_headers: &capture.response_headers,
            response_body: capture.response_body.as_deref(),
            engine,
            components: &self.waf.base.config().component_signatures,
            messages,
        };
        log.write(&record);
    }

    /// Writes the security event and counts it, when any rule was logged.
    fn emit(&self, blocked_status: Option<u16>) {
        let mut rules = Vec::new();
        for tx in self.base.iter().chain(self.snippet.iter()) {
            for m in tx.matched_rules().iter().filter(|m| m.logged) {
                rules.push(RuleMatch {
                    id: m.id,
                    message: (!m.msg.is_empty()).then(|| m.msg.clone()),
                    severity: m.severity.map(|s| severity_name(s).to_owned()),
                    paranoia_level: m
                        .tags
                        .iter()
                        .find_map(|t| t.strip_prefix("paranoia-level/"))
                        .and_then(|n| n.parse().ok()),
                    category: category_from_tags(&m.tags),
                    tags: m.tags.clone(),
                    variable: (!m.matched_var_name.is_empty()).then(|| m.matched_var_name.clone()),
                    data: (!m.data.is_empty()).then(|| truncate(&m.data)),
                });
            }
        }
        if rules.is_empty() && blocked_status.is_none() {
            return;
        }
        let action = if blocked_status.is_some() {
            Disposition::Blocked
        } else {
            Disposition::Detected
        };
        let ns = self.namespace.as_deref().unwrap_or("");
        let name = self.name.as_deref().unwrap_or("");
        if let Some(m) = &self.waf.metrics {
            m.requests
                .with_label_values(&[ns, name, action.as_str()])
                .inc();
            for r in &rules {
                m.rules
                    .with_label_values(&[ns, name, action.as_str(), &r.id.to_string(), r.category])
                    .inc();
            }
        }
        let Some(sink) = &self.waf.sink else {
            return;
        };
        let score = |key: &str| {
            self.base.as_ref().and_then(|tx| {
                tx.collection_value("TX", key)
                    .and_then(|v| String::from_utf8_lossy(&v).trim().parse::<i64>().ok())
            })
        };
        let event = SecurityEvent {
            kind: "security",
            time: time::OffsetDateTime::now_utc(),
            request_id: self.request_id.clone(),
            client_ip: self.client_ip,
            host: self.host.clone(),
            method: self.method.clone(),
            uri: self.uri.clone(),
            action,
            anomaly_score: score("blocking_inbound_anomaly_score"),
            outbound_anomaly_score: self
                .response_phases
                .then(|| score("blocking_outbound_anomaly_score"))
                .flatten(),
            status: blocked_status,
            rules,
            ingress_namespace: self.namespace.clone(),
            ingress_name: self.name.clone(),
            reason: None,
        };
        sink.record(&event);
    }
}

fn severity_name(s: u8) -> &'static str {
    match s {
        0 => "EMERGENCY",
        1 => "ALERT",
        2 => "CRITICAL",
        3 => "ERROR",
        4 => "WARNING",
        5 => "NOTICE",
        6 => "INFO",
        _ => "DEBUG",
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(DATA_MAX) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// The response for a disruptive verdict: the rule's status (403 by default) with the
/// request id in a small body.
pub(super) fn block_response(i: &Interruption, request_id: &str) -> Response<ResponseBody> {
    let status = match i.action {
        InterruptAction::Redirect(_) => StatusCode::FOUND,
        _ => StatusCode::from_u16(i.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::FORBIDDEN),
    };
    let text = format!(
        "{} {}\nrequest id: {request_id}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut resp = Response::new(ResponseBody::full(Bytes::from(text)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(header::HeaderName::from_static("x-request-id"), v);
    }
    match &i.action {
        InterruptAction::Redirect(url) => {
            if let Ok(v) = HeaderValue::from_str(url) {
                h.insert(header::LOCATION, v);
            }
        }
        InterruptAction::Drop => {
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        InterruptAction::Deny => {}
    }
    resp
}

impl Waf {
    fn start(
        &self,
        rs: &Arc<waf::RuleSet>,
        s: &WafSettings,
        mode: WafMode,
        id: &str,
        base: bool,
    ) -> Transaction {
        let mut tx = rs.transaction();
        tx.set_id(id);
        if mode == WafMode::Detect {
            tx.set_engine_mode_override(waf::EngineMode::DetectionOnly);
        }
        if base {
            super::profile::seed_paranoia(&mut tx, self.opts.paranoia);
            tx.set_tx_var(
                "inbound_anomaly_score_threshold",
                &self.opts.inbound_threshold.to_string(),
            );
            tx.set_tx_var(
                "outbound_anomaly_score_threshold",
                &self.opts.outbound_threshold.to_string(),
            );
            for (k, v) in &s.tx_vars {
                tx.set_tx_var(k, v);
            }
            if self.response_mode(s).1 && !rs.config().response_body_access {
                // The route reads response bodies but the shared rule set was compiled
                // without: base rule 200010 turns body access on for this transaction.
                tx.set_tx_var(super::profile::RESPONSE_BODY_VAR, "1");
            }
            for (a, b) in &s.removed_ids {
                tx.remove_rule_range(*a, *b);
            }
            for t in &s.removed_tags {
                tx.remove_rule_tag(t);
            }
            for (ids, target) in &s.removed_targets {
                if let Err(e) = tx.remove_rule_target(ids, target) {
                    tracing::debug!(error = %e, target, "modsecurity-snippet target ignored");
                }
            }
        }
        tx
    }
}

impl Gateway {
    /// WAF phases 1 and 2 for a routed request (no-op when the WAF is off for the route).
    pub(crate) async fn waf_request(
        &self,
        mut req: Request<Incoming>,
        settings: &RouteSettings,
        conn: &ConnInfo,
        event: &mut AccessEvent,
    ) -> ReqVerdict {
        let Some(waf) = self.options.waf.clone() else {
            return ReqVerdict::Pass(req, None, None);
        };
        let s = &settings.waf;
        let mode = waf.mode_for(s);
        if mode == WafMode::Off {
            return ReqVerdict::Pass(req, None, None);
        }
        // The request id is fixed now so that a blocked request's event and response carry it.
        let id = match req.headers().get("x-request-id") {
            Some(v) if !v.is_empty() => v.clone(),
            _ => crate::headers::new_request_id(),
        };
        let request_id = String::from_utf8_lossy(id.as_bytes()).into_owned();
        event.request_id.clone_from(&request_id);

        let snippet_rs = waf.snippet_rules(s);
        let (response_phases, response_body) = waf.response_mode(s);
        let client_addr =
            SocketAddr::new(event.client_ip.unwrap_or(conn.peer.ip()), conn.peer.port());
        let (protocol, http_version): (&[u8], &'static str) = match req.version() {
            Version::HTTP_2 => (b"HTTP/2.0", "2.0"),
            Version::HTTP_10 => (b"HTTP/1.0", "1.0"),
            _ => (b"HTTP/1.1", "1.1"),
        };
        let audit_parts = waf.audit.as_ref().map(|a| a.parts());
        let mut wtx = Box::new(WafTx {
            waf: Arc::clone(&waf),
            mode,
            base: s
                .core_rules
                .then(|| waf.start(&waf.base, s, mode, &request_id, true)),
            snippet: snippet_rs.map(|rs| waf.start(&rs, s, mode, &request_id, false)),
            request_id: request_id.clone(),
            client_ip: event.client_ip,
            host: event.host.clone(),
            method: req.method().as_str().to_owned(),
            uri: req
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            namespace: event.ingress_namespace.clone(),
            name: event.ingress_name.clone(),
            client_addr,
            server_addr: conn.local,
            http_version,
            started: time::OffsetDateTime::now_utc(),
            audit: audit_parts.map(|p| {
                Box::new(AuditCapture {
                    request_headers: if p.request_headers() {
                        header_pairs(req.headers())
                    } else {
                        Vec::new()
                    },
                    snippet: s.snippet_rules.clone(),
                    ..AuditCapture::default()
                })
            }),
            skip: false,
            response_phases,
            response_body,
            done: false,
        });
        let t0 = std::time::Instant::now();
        let uri = wtx.uri.clone();
        let has_host = req.headers().contains_key(header::HOST);
        let authority = req.uri().authority().map(|a| a.as_str().to_owned());
        let interruption = wtx.run(|tx| {
            tx.process_connection(client_addr, conn.local);
            tx.process_uri(req.method().as_str().as_bytes(), uri.as_bytes(), protocol);
            if !has_host && let Some(a) = &authority {
                tx.add_request_header(b"Host", a.as_bytes());
            }
            for (n, v) in req.headers() {
                tx.add_request_header(n.as_str().as_bytes(), v.as_bytes());
            }
            tx.process_request_headers()
        });
        let mut elapsed = t0.elapsed();
        let budget = wtx.over_budget("request_headers", elapsed);
        let interruption = interruption.or(budget);
        if let Some(i) = interruption {
            return wtx.respond(&i, elapsed);
        }
        if !req.headers().contains_key("x-request-id") {
            req.headers_mut()
                .insert(header::HeaderName::from_static("x-request-id"), id);
        }
        // Response phases (and the audit record's final status) need the transaction later.
        let keep = response_phases || waf.audit.is_some();
        if wtx.skip {
            // Over budget in phase 1 (fail open): the body streams uninspected.
            wtx.observe("request", elapsed);
            return ReqVerdict::Pass(req, None, keep.then_some(wtx));
        }

        // Body: buffered up to the WAF limit, only now that the WAF is on for the route.
        let mut prefix = None;
        if !http_body::Body::is_end_stream(req.body()) {
            let limit = usize::try_from(waf.opts.body_limit).unwrap_or(usize::MAX);
            let mut buf = BytesMut::new();
            let wait = settings.send_timeout;
            let read = tokio::time::timeout(wait, async {
                while buf.len() <= limit {
                    match req.body_mut().frame().await {
                        None => break,
                        Some(Err(e)) => return Err(e),
                        Some(Ok(f)) => {
                            if let Ok(d) = f.into_data() {
                                buf.extend_from_slice(&d);
                            }
                        }
                    }
                }
                Ok(())
            })
            .await;
            match read {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "request body read failed");
                    return ReqVerdict::Respond(crate::proxy::status_response(
                        StatusCode::BAD_REQUEST,
                    ));
                }
                Err(_) => {
                    return ReqVerdict::Respond(crate::proxy::status_response(
                        StatusCode::REQUEST_TIMEOUT,
                    ));
                }
            }
            let over = buf.len() > limit;
            if over
                && mode == WafMode::Block
                && waf.opts.body_limit_action == BodyLimitAction::Reject
            {
                let i = Interruption {
                    status: 413,
                    rule_id: 0,
                    action: InterruptAction::Deny,
                };
                return wtx.respond(&i, elapsed);
            }
            let body = buf.freeze();
            let inspected = body.slice(..body.len().min(limit));
            if let Some(a) = wtx.audit.as_mut()
                && audit_parts.is_some_and(|p| p.request_body())
            {
                a.request_body = Some(inspected.clone());
            }
            let t1 = std::time::Instant::now();
            let interruption = wtx.run(|tx| {
                tx.append_request_body(&inspected);
                tx.process_request_body()
            });
            let phase = t1.elapsed();
            elapsed = elapsed.saturating_add(phase);
            let budget = wtx.over_budget("request_body", phase);
            let interruption = interruption.or(budget);
            if let Some(i) = interruption {
                return wtx.respond(&i, elapsed);
            }
            prefix = Some(body);
        } else {
            let t1 = std::time::Instant::now();
            let interruption = wtx.run(Transaction::process_request_body);
            let phase = t1.elapsed();
            elapsed = elapsed.saturating_add(phase);
            let budget = wtx.over_budget("request_body", phase);
            let interruption = interruption.or(budget);
            if let Some(i) = interruption {
                return wtx.respond(&i, elapsed);
            }
        }
        wtx.observe("request", elapsed);
        if keep {
            return ReqVerdict::Pass(req, prefix, Some(wtx));
        }
        wtx.complete(None, None);
        ReqVerdict::Pass(req, prefix, None)
    }
}

impl WafTx {
    /// Ends a blocked transaction: its response, event and audit record.
    fn respond(mut self: Box<Self>, i: &Interruption, elapsed: Duration) -> ReqVerdict {
        self.observe("request", elapsed);
        let r = block_response(i, &self.request_id);
        let status = r.status().as_u16();
        if let Some(a) = self.audit.as_mut() {
            a.response_headers = header_pairs(r.headers());
        }
        self.complete(Some(status), Some(status));
        ReqVerdict::Respond(r)
    }
}
