//! Per-request transactions: the request/response data, the collections, and the phase driver.
//!
//! Phase order is enforced with run-time guards: each `process_*` call first runs any earlier
//! phase that has not run yet (so a caller that skips `process_request_body` for a GET still
//! gets phase 2), and a phase never runs twice. Once a disruptive action interrupts, later
//! phases (except logging) do not run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::actions::BodyProcessor;
use crate::body;
use crate::config::{BodyLimitAction, EngineMode};
use crate::ruleset::RuleSet;
use crate::util;
use crate::variables::{Exclusion, MultipartFlag};

/// How a transaction was interrupted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterruptAction {
    /// Respond with `status`.
    Deny,
    /// Close the connection.
    Drop,
    /// Redirect to the URL (status 302 unless the rule says otherwise).
    Redirect(String),
}

/// A verdict: the request must not proceed normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// HTTP status to answer with.
    pub status: u16,
    /// The rule that interrupted (0 for body-limit rejections).
    pub rule_id: u64,
    /// What to do.
    pub action: InterruptAction,
}

/// A rule that matched, in match order. For rules that are not logged (`nolog`,
/// `noauditlog`), `msg`, `data` and `tags` are left empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRule {
    /// Rule id.
    pub id: u64,
    /// Phase it ran in.
    pub phase: u8,
    /// Expanded `msg`.
    pub msg: String,
    /// Expanded `logdata`.
    pub data: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Severity 0-7.
    pub severity: Option<u8>,
    /// `MATCHED_VAR_NAME` of the last match (`ARGS:foo`).
    pub matched_var_name: String,
    /// `MATCHED_VAR` of the last match.
    pub matched_var: Vec<u8>,
    /// False for `nolog` rules (absent from ModSecurity's error log).
    pub logged: bool,
    /// Whether the rule's effective action is disruptive (deny, drop, redirect).
    pub disruptive: bool,
}

/// An uploaded file seen by the multipart processor.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileInfo {
    pub field: Vec<u8>,
    pub filename: Vec<u8>,
    pub size: usize,
    pub content: Vec<u8>,
}

pub(crate) use crate::collection::Collection;

/// Which rules a run-time target removal applies to.
#[derive(Debug, Clone)]
pub(crate) enum RuleMatch {
    Ids(Vec<(u64, u64)>),
    Tag(String),
    Msg(String),
}

/// Everything rules can read, plus run-time state.
#[derive(Debug, Default)]
pub(crate) struct TxData {
    pub unique_id: String,
    pub remote_addr: String,
    pub remote_port: String,
    pub server_addr: String,
    pub server_port: String,
    pub server_name: Vec<u8>,
    pub method: Vec<u8>,
    pub uri_raw: Vec<u8>,
    pub uri: Vec<u8>,
    pub filename: Vec<u8>,
    pub basename: Vec<u8>,
    pub query: Vec<u8>,
    pub protocol: Vec<u8>,
    pub request_line: Vec<u8>,
    pub args_get: Vec<(Vec<u8>, Vec<u8>)>,
    pub args_post: Vec<(Vec<u8>, Vec<u8>)>,
    pub req_headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub cookies: Vec<(Vec<u8>, Vec<u8>)>,
    pub auth_type: Vec<u8>,
    pub req_body: Vec<u8>,
    pub req_body_var: bool,
    pub full_request: Vec<u8>,
    pub files: Vec<FileInfo>,
    pub multipart_part_headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub multipart_flags: Vec<(MultipartFlag, i64)>,
    pub multipart_names: Vec<Vec<u8>>,
    pub multipart_filenames: Vec<Vec<u8>>,
    pub files_combined_size: u64,
    pub reqbody_error: Option<bool>,
    pub reqbody_error_msg: Vec<u8>,
    pub reqbody_processor: Option<BodyProcessor>,
    pub urlencoded_error: bool,
    pub xml: Option<body::xml::XmlDoc>,
    pub inbound_data_error: bool,
    pub outbound_data_error: bool,
    pub status: Option<u16>,
    pub resp_protocol: Vec<u8>,
    pub resp_headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub resp_body: Vec<u8>,
    pub resp_body_var: bool,
    pub resp_content_type: Vec<u8>,
    /// TX, IP, SESSION, USER, GLOBAL, RESOURCE, ENV in that order.
    pub cols: [Collection; 7],
    pub matched_var: Vec<u8>,
    pub matched_var_name: String,
    /// MATCHED_VARS: the first `matched_vars_len` entries (the rest are spare buffers kept
    /// for reuse, so a match costs no allocation once a few rules have run).
    pub matched_vars: Vec<(String, Vec<u8>)>,
    pub matched_vars_len: usize,
    pub highest_severity: Option<u8>,
    pub started: Option<Instant>,
    pub epoch: u64,
    /// An operator could not decide (regex backtrack limit, failed deferred compilation).
    pub regex_limit_exceeded: bool,
}

/// Run-time state changed by `ctl:` and flow actions.
#[derive(Debug, Default)]
pub(crate) struct TxState {
    pub engine: Option<EngineMode>,
    pub body_processor: Option<BodyProcessor>,
    pub request_body_access: Option<bool>,
    pub response_body_access: Option<bool>,
    pub force_body_variable: bool,
    pub request_body_limit: Option<u64>,
    pub removed_ids: Vec<(u64, u64)>,
    pub removed_tags: Vec<String>,
    pub removed_msgs: Vec<String>,
    pub removed_targets: Vec<(RuleMatch, Exclusion)>,
    /// `allow` (all phases) seen.
    pub allow_all: bool,
    /// `allow:request` seen.
    pub allow_request: bool,
    pub phases_done: u8,
    pub body_limit_exceeded: bool,
    /// Evaluation stops once this instant has passed ([`Transaction::set_deadline`]).
    pub deadline: Option<Instant>,
    /// The deadline stopped evaluation (the rest of that phase and every later one).
    pub deadline_exceeded: bool,
}

/// Room made for matched rules up front: CRS v4 records 80-90 per benign request at PL1
/// (paranoia-level skips and setup rules, most unlogged), and growing the vector there cost
/// more than this one allocation.
const MATCHED_CAPACITY: usize = 96;

/// Room made in TX up front (CRS v4 sets about 100 variables per request).
const TX_CAPACITY: usize = 128;

/// Parts a finished transaction leaves for the next one on the same thread: its TX
/// collection (emptied, its buffers kept) and its scratch space (screen summaries, match
/// records, the transformation cache). CRS sets ~100 TX variables per request; reused
/// buffers spare ~300 allocations and the screen's zeroed tables per request.
type Recycled = (Collection, crate::eval::Scratch);

/// Parts kept per thread at most (a thread evaluates one transaction at a time; a few more
/// cover transactions dropped on another thread than the one that made them).
const MAX_RECYCLED: usize = 4;

thread_local! {
    static RECYCLED: std::cell::RefCell<Vec<Recycled>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty TX collection and scratch space, recycled when this thread has some.
fn recycled() -> Recycled {
    let parts = RECYCLED
        .try_with(|r| r.try_borrow_mut().ok().and_then(|mut v| v.pop()))
        .ok()
        .flatten();
    match parts {
        Some((col, mut scratch)) => {
            // Nothing of the previous transaction may show: the collection was cleared
            // when it was put back, and the scratch starts a new phase (cache emptied,
            // screen summaries invalidated).
            scratch.new_phase();
            (col, scratch)
        }
        None => (
            Collection::with_capacity(TX_CAPACITY),
            crate::eval::Scratch::default(),
        ),
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let Some(col) = self.data.cols.first_mut() else {
            return;
        };
        let mut col = std::mem::take(col);
        col.clear();
        let scratch = std::mem::take(&mut self.scratch);
        let _ = RECYCLED.try_with(|r| {
            if let Ok(mut v) = r.try_borrow_mut()
                && v.len() < MAX_RECYCLED
            {
                v.push((col, scratch));
            }
        });
    }
}

/// One request's evaluation: created by [`RuleSet::transaction`].
#[derive(Debug)]
pub struct Transaction {
    pub(crate) rs: Arc<RuleSet>,
    pub(crate) data: TxData,
    pub(crate) state: TxState,
    pub(crate) matched: Vec<MatchedRule>,
    pub(crate) interruption: Option<Interruption>,
    pub(crate) scratch: crate::eval::Scratch,
}

impl Transaction {
    pub(crate) fn new(rs: Arc<RuleSet>) -> Transaction {
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut data = TxData {
            started: Some(Instant::now()),
            epoch,
            ..TxData::default()
        };
        let (tx_col, scratch) = recycled();
        data.cols[0] = tx_col;
        let matched = Vec::with_capacity(MATCHED_CAPACITY.min(rs.rules.len()));
        Transaction {
            rs,
            data,
            state: TxState::default(),
            matched,
            interruption: None,
            scratch,
        }
    }

    /// Sets `UNIQUE_ID`.
    pub fn set_id(&mut self, id: &str) {
        self.data.unique_id = id.to_owned();
    }

    /// Sets REMOTE_ADDR/PORT and SERVER_ADDR/PORT.
    pub fn process_connection(&mut self, client: SocketAddr, server: SocketAddr) {
        self.data.remote_addr = client.ip().to_string();
        self.data.remote_port = client.port().to_string();
        self.data.server_addr = server.ip().to_string();
        self.data.server_port = server.port().to_string();
    }

    /// Sets the request line: `method` (`GET`), `uri` (`/a?b=c`), `protocol` (`HTTP/1.1`).
    pub fn process_uri(&mut self, method: &[u8], uri: &[u8], protocol: &[u8]) {
        let d = &mut self.data;
        d.method = method.to_vec();
        d.uri_raw = uri.to_vec();
        d.protocol = protocol.to_vec();
        let mut line = Vec::with_capacity(method.len() + uri.len() + protocol.len() + 2);
        line.extend_from_slice(method);
        line.push(b' ');
        line.extend_from_slice(uri);
        line.push(b' ');
        line.extend_from_slice(protocol);
        d.request_line = line;
        let decoded = util::uri_decode(uri).into_owned();
        let path_end = decoded
            .iter()
            .position(|b| *b == b'?')
            .unwrap_or(decoded.len());
        d.filename = decoded.get(..path_end).unwrap_or_default().to_vec();
        d.basename = match d.filename.iter().rposition(|b| *b == b'/' || *b == b'\\') {
            Some(p) => d.filename.get(p + 1..).unwrap_or_default().to_vec(),
            None => Vec::new(),
        };
        d.uri = strip_authority(&decoded).to_vec();
        d.query = match uri.iter().position(|b| *b == b'?') {
            Some(p) => uri.get(p + 1..).unwrap_or_default().to_vec(),
            None => Vec::new(),
        };
        if !d.query.is_empty() {
            let parsed =
                body::urlencoded::parse_checked(&d.query, self.rs.config.argument_separator);
            d.urlencoded_error |= parsed.invalid_encoding;
            let limit = self.rs.config.arguments_limit as usize;
            for (k, v) in parsed.args {
                if limit > 0 && d.args_get.len() >= limit {
                    break;
                }
                d.args_get.push((k.into_owned(), v.into_owned()));
            }
        }
    }

    /// Adds a request header.
    pub fn add_request_header(&mut self, name: &[u8], value: &[u8]) {
        let d = &mut self.data;
        if name.eq_ignore_ascii_case(b"cookie") {
            d.cookies.extend(util::parse_cookies(value));
        } else if name.eq_ignore_ascii_case(b"authorization") {
            d.auth_type = value
                .split(|b| *b == b' ')
                .next()
                .unwrap_or_default()
                .to_vec();
        } else if name.eq_ignore_ascii_case(b"host") {
            d.server_name = value
                .split(|b| *b == b':')
                .next()
                .unwrap_or_default()
                .to_vec();
        } else if name.eq_ignore_ascii_case(b"content-type") {
            let l = value.to_ascii_lowercase();
            if l.starts_with(b"multipart/form-data") {
                d.reqbody_processor = Some(BodyProcessor::Multipart);
            } else if l.starts_with(b"application/x-www-form-urlencoded") {
                d.reqbody_processor = Some(BodyProcessor::UrlEncoded);
            }
        }
        d.req_headers.push((name.to_vec(), value.to_vec()));
    }

    /// Runs phase 1 (request headers).
    pub fn process_request_headers(&mut self) -> Option<Interruption> {
        self.run_until(1);
        self.interruption.clone()
    }

    /// Buffers request body bytes, up to `SecRequestBodyLimit`.
    pub fn append_request_body(&mut self, chunk: &[u8]) {
        let limit = self
            .state
            .request_body_limit
            .unwrap_or(self.rs.config.request_body_limit);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let room = limit.saturating_sub(self.data.req_body.len());
        if chunk.len() > room {
            self.data.inbound_data_error = true;
            self.state.body_limit_exceeded = true;
            self.data
                .req_body
                .extend_from_slice(chunk.get(..room).unwrap_or_default());
        } else {
            self.data.req_body.extend_from_slice(chunk);
        }
    }

    /// Runs the body processor and phase 2 (request body).
    pub fn process_request_body(&mut self) -> Option<Interruption> {
        self.run_until(2);
        self.interruption.clone()
    }

    /// Adds a response header.
    pub fn add_response_header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"content-type") {
            self.data.resp_content_type = value
                .split(|b| *b == b';')
                .next()
                .unwrap_or_default()
                .to_vec();
        }
        self.data.resp_headers.push((name.to_vec(), value.to_vec()));
    }

    /// Runs phase 3 (response headers).
    pub fn process_response_headers(
        &mut self,
        status: u16,
        protocol: &[u8],
    ) -> Option<Interruption> {
        self.data.status = Some(status);
        self.data.resp_protocol = protocol.to_vec();
        self.run_until(3);
        self.interruption.clone()
    }

    /// Buffers response body bytes (only for the configured MIME types), up to the limit.
    pub fn append_response_body(&mut self, chunk: &[u8]) {
        if !self.response_body_inspected() {
            return;
        }
        let limit = usize::try_from(self.rs.config.response_body_limit).unwrap_or(usize::MAX);
        let room = limit.saturating_sub(self.data.resp_body.len());
        if chunk.len() > room {
            self.data.outbound_data_error = true;
            self.data
                .resp_body
                .extend_from_slice(chunk.get(..room).unwrap_or_default());
        } else {
            self.data.resp_body.extend_from_slice(chunk);
        }
    }

    /// Runs phase 4 (response body).
    pub fn process_response_body(&mut self) -> Option<Interruption> {
        self.run_until(4);
        self.interruption.clone()
    }

    /// Runs phase 5 (logging). Always runs, even after an interruption.
    pub fn process_logging(&mut self) {
        self.run_until(5);
    }

    /// Whether some `@rx` evaluation of this transaction could not decide and reported no
    /// match instead: a backtracking fallback pattern hit its backtrack limit, or a pattern
    /// whose compilation is deferred failed to compile. The gateway should log it (the
    /// verdict may be a false negative). Rules see it as `MSC_PCRE_LIMITS_EXCEEDED` = 1.
    pub fn regex_limit_exceeded(&self) -> bool {
        self.data.regex_limit_exceeded
    }

    /// Rules that matched, in match order.
    pub fn matched_rules(&self) -> &[MatchedRule] {
        &self.matched
    }

    /// The interruption, if any.
    pub fn interruption(&self) -> Option<&Interruption> {
        self.interruption.as_ref()
    }

    /// `TX:blocking_inbound_anomaly_score` (CRS), 0 if unset or not a number.
    pub fn anomaly_score(&self) -> i64 {
        self.collection_value("TX", "blocking_inbound_anomaly_score")
            .and_then(|v| {
                std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// A value of a writable collection (TX, IP, SESSION, USER, GLOBAL, RESOURCE, ENV).
    pub fn collection_value(&self, collection: &str, key: &str) -> Option<Vec<u8>> {
        let idx = collection_index(collection)?;
        self.data
            .cols
            .get(idx)?
            .get(&key.to_ascii_lowercase())
            .map(|(_, v)| v.clone())
    }

    /// Overrides the engine mode for this transaction only (e.g. one shared CRS rule set,
    /// DetectionOnly for some routes and On for others). `ctl:ruleEngine` may still change it.
    pub fn set_engine_mode(&mut self, mode: EngineMode) {
        self.state.engine = Some(mode);
    }

    /// Bounds the engine's time: once `at` has passed, evaluation stops between two rules
    /// (checked every few rules, so it may run a few rules past it) and no later phase
    /// runs; [`Transaction::deadline_exceeded`] then tells. The verdict so far stands: a
    /// block already decided still blocks, and what was not evaluated did not match. The
    /// caller decides whether such a request passes (fail open) or is refused.
    pub fn set_deadline(&mut self, at: Option<Instant>) {
        self.state.deadline = at;
    }

    /// Whether the deadline stopped evaluation (see [`Transaction::set_deadline`]).
    pub fn deadline_exceeded(&self) -> bool {
        self.state.deadline_exceeded
    }

    /// The engine mode in force for this transaction (after `ctl:ruleEngine`).
    pub fn engine_mode(&self) -> EngineMode {
        self.state.engine.unwrap_or(self.rs.config.engine)
    }

    fn response_body_inspected(&self) -> bool {
        let access = self
            .state
            .response_body_access
            .unwrap_or(self.rs.config.response_body_access);
        if !access {
            return false;
        }
        let types = &self.rs.config.response_body_mime_types;
        let ct = String::from_utf8_lossy(&self.data.resp_content_type)
            .trim()
            .to_ascii_lowercase();
        types.is_empty() || types.contains(&ct)
    }

    /// Runs every phase up to and including `phase` that has not run yet.
    fn run_until(&mut self, phase: u8) {
        while self.state.phases_done < phase {
            let p = self.state.phases_done + 1;
            self.state.phases_done = p;
            if self.state.deadline_exceeded {
                continue;
            }
            if self.interruption.is_some() && p != 5 {
                continue;
            }
            match p {
                2 => self.prepare_request_body(),
                4 => self.prepare_response_body(),
                _ => {}
            }
            if self.interruption.is_some() && p != 5 {
                continue;
            }
            if self.engine_mode() == EngineMode::Off {
                continue;
            }
            if self.state.allow_all && p != 5 {
                continue;
            }
            if self.state.allow_request && p <= 2 {
                continue;
            }
            if self.state.deadline.is_some_and(|at| Instant::now() >= at) {
                self.state.deadline_exceeded = true;
                continue;
            }
            self.scratch.new_phase();
            crate::eval::run_phase(self, p);
        }
    }

    fn prepare_request_body(&mut self) {
        if self.state.body_limit_exceeded
            && self.rs.config.request_body_limit_action == BodyLimitAction::Reject
            && self.engine_mode() == EngineMode::On
        {
            self.interruption = Some(Interruption {
                status: 403, // libmodsecurity v3 answers 403 for `SecRequestBodyLimitAction Reject`.
                rule_id: 0,
                action: InterruptAction::Deny,
            });
            return;
        }
        let access = self
            .state
            .request_body_access
            .unwrap_or(self.rs.config.request_body_access);
        if !access {
            return;
        }
        if let Some(p) = self.state.body_processor {
            self.data.reqbody_processor = Some(p);
        }
        let d = &mut self.data;
        let cfg = &self.rs.config;
        let mut error: Option<String> = None;
        match d.reqbody_processor {
            Some(BodyProcessor::UrlEncoded) => {
                let parsed = body::urlencoded::parse_checked(&d.req_body, cfg.argument_separator);
                d.urlencoded_error |= parsed.invalid_encoding;
                let limit = cfg.arguments_limit as usize;
                for (k, v) in parsed.args {
                    if limit > 0 && d.args_get.len() + d.args_post.len() >= limit {
                        break;
                    }
                    d.args_post.push((k.into_owned(), v.into_owned()));
                }
            }
            Some(BodyProcessor::Json) if !d.req_body.is_empty() => {
                // v3 keeps the arguments found before a parse error.
                let (args, err) =
                    body::json::parse_partial(&d.req_body, cfg.json_depth_limit as usize);
                let limit = cfg.arguments_limit as usize;
                for arg in args {
                    if limit > 0 && d.args_get.len() + d.args_post.len() >= limit {
                        break;
                    }
                    d.args_post.push(arg);
                }
                error = err.map(|e| e.to_string());
            }
            Some(BodyProcessor::Json) => {}
            Some(BodyProcessor::Xml) => match body::xml::parse(&d.req_body) {
                Ok(doc) => d.xml = Some(doc),
                Err(e) => error = Some(e.to_string()),
            },
            Some(BodyProcessor::Multipart) => {
                error = crate::multipart_glue::process(d, cfg);
            }
            None => {}
        }
        d.reqbody_error = Some(error.is_some());
        if let Some(msg) = error {
            d.reqbody_error_msg = msg.into_bytes();
        }
        d.req_body_var = true;
        let mut full = Vec::new();
        for (k, v) in &d.req_headers {
            full.extend_from_slice(k);
            full.extend_from_slice(b": ");
            full.extend_from_slice(v);
            full.push(b'\n');
        }
        full.extend_from_slice(b"\n\n");
        full.extend_from_slice(&d.req_body);
        d.full_request = full;
    }

    fn prepare_response_body(&mut self) {
        if self.response_body_inspected() {
            self.data.resp_body_var = true;
        }
    }
}

/// Index of a writable collection in [`TxData::cols`].
pub(crate) fn collection_index(name: &str) -> Option<usize> {
    ["TX", "IP", "SESSION", "USER", "GLOBAL", "RESOURCE", "ENV"]
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
}

/// For absolute-form URIs (`http://host/path`), the path part; otherwise the input.
fn strip_authority(uri: &[u8]) -> &[u8] {
    if uri.first().is_none_or(|b| *b == b'/') {
        return uri;
    }
    let Some(colon) = uri.iter().position(|b| *b == b':') else {
        return uri;
    };
    let rest = uri.get(colon + 1..).unwrap_or_default();
    if !rest.starts_with(b"//") {
        return uri;
    }
    let after = rest.get(2..).unwrap_or_default();
    match after.iter().position(|b| *b == b'/') {
        Some(p) => after.get(p..).unwrap_or(uri),
        None => uri,
    }
}
