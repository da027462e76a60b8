//! ModSecurity-compatible JSON audit log (`SecAuditLogFormat JSON`, serial, one object per
//! line), in the `{"transaction":{...}}` shape libmodsecurity 3 writes, for the tools that
//! read it.
//!
//! - Which transactions: RelevantOnly semantics, i.e. a logged rule match, or a final status
//!   matching `^(?:5|4(?!04))` (ModSecurity's recommended `SecAuditLogRelevantStatus`).
//! - Which parts ([`AuditParts`], `SecAuditLogParts`): A (transaction, request line,
//!   response status), B (request headers), C / I (request body as inspected), E (response
//!   body as inspected), F (response headers), H (producer and messages), Z (end). A and Z
//!   are always on.
//! - Written by a background thread ([`AuditLog::open`]): a request only formats its record
//!   and queues it; when the queue is full the record is dropped and counted, never waited
//!   for.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use seclang::ast::{Directive, DirectiveKind};

/// Records waiting for the writer thread before new ones are dropped.
const QUEUE: usize = 4096;
/// Longest operator parameter / matched value quoted in a message's `match`.
const QUOTE_MAX: usize = 256;
/// libmodsecurity's text for a rule without a known file.
const NO_FILE: &str = "<<reference missing or not informed>>";

/// Errors setting up the audit log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The file could not be opened for appending.
    #[error("WAF audit log {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The writer thread could not start.
    #[error("WAF audit log writer: {0}")]
    Thread(std::io::Error),
    /// `audit-log-parts` has a letter that is not a part.
    #[error("audit log parts `{parts}`: `{letter}` is not one of A B C E F H I Z")]
    Parts {
        /// The parts as written.
        parts: String,
        /// The offending character.
        letter: char,
    },
}

/// The parts of each record (`SecAuditLogParts`, default `ABHZ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditParts(u32);

impl AuditParts {
    /// Parses letters such as `ABCFHZ`. Parts this log does not write (D, G, J, K) are
    /// accepted and ignored; A and Z are always on.
    pub fn parse(text: &str) -> Result<AuditParts, AuditError> {
        let mut bits = 0u32;
        for c in text.trim().chars() {
            let u = c.to_ascii_uppercase();
            if !('A'..='K').contains(&u) && u != 'Z' {
                return Err(AuditError::Parts {
                    parts: text.to_owned(),
                    letter: c,
                });
            }
            bits |= Self::bit(u);
        }
        Ok(AuditParts(bits | Self::bit('A') | Self::bit('Z')))
    }

    fn bit(c: char) -> u32 {
        1u32 << ((c as u32).saturating_sub('A' as u32) % 26)
    }

    /// Whether part `c` is on.
    pub fn has(self, c: char) -> bool {
        self.0 & Self::bit(c.to_ascii_uppercase()) != 0
    }

    /// Request headers are kept for the record (part B).
    pub(crate) fn request_headers(self) -> bool {
        self.has('B')
    }

    /// The request body is kept for the record (part C or I).
    pub(crate) fn request_body(self) -> bool {
        self.has('C') || self.has('I')
    }

    /// The inspected response body is kept for the record (part E).
    pub(crate) fn response_body(self) -> bool {
        self.has('E')
    }
}

impl Default for AuditParts {
    fn default() -> Self {
        AuditParts(Self::bit('A') | Self::bit('B') | Self::bit('H') | Self::bit('Z'))
    }
}

/// What the audit record says about a rule, besides what the match carries.
#[derive(Debug, Clone)]
pub(crate) struct RuleMeta {
    file: Arc<str>,
    line: u32,
    operator: String,
    parameter: String,
    ver: String,
    rev: String,
    maturity: String,
    accuracy: String,
}

/// Rule id -> [`RuleMeta`], read from the parsed rule text.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex(HashMap<u64, RuleMeta>);

impl RuleIndex {
    /// Indexes the `SecRule` / `SecAction` directives that carry an `id`.
    pub(crate) fn from_directives(directives: &[Directive]) -> RuleIndex {
        let mut map = HashMap::new();
        for d in directives {
            if let Some((id, meta)) = rule_meta(d) {
                map.entry(id).or_insert(meta);
            }
        }
        RuleIndex(map)
    }

    fn get(&self, id: u64) -> Option<&RuleMeta> {
        self.0.get(&id)
    }
}

/// The metadata of one directive, when it is a rule with an id.
fn rule_meta(d: &Directive) -> Option<(u64, RuleMeta)> {
    let (actions, operator, parameter) = match &d.kind {
        DirectiveKind::Rule(r) => (
            &r.actions,
            operator_name(&r.operator.name),
            r.operator.argument.clone(),
        ),
        DirectiveKind::Action(a) => (a, "Unconditional".to_owned(), String::new()),
        _ => return None,
    };
    let value = |name: &str| {
        actions
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .and_then(|a| a.value.clone())
    };
    let id = value("id")?.trim().parse::<u64>().ok()?;
    Some((
        id,
        RuleMeta {
            file: Arc::clone(&d.span.file),
            line: d.span.line,
            operator,
            parameter: clip(&parameter),
            ver: value("ver").unwrap_or_default(),
            rev: value("rev").unwrap_or_default(),
            maturity: value("maturity").unwrap_or_else(|| "0".to_owned()),
            accuracy: value("accuracy").unwrap_or_else(|| "0".to_owned()),
        },
    ))
}

/// libmodsecurity's operator spelling: the name with a capital first letter (`Rx`, `Pm`).
fn operator_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Rx".to_owned(),
    }
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        Some((i, _)) => s.get(..i).unwrap_or_default().to_owned(),
        None => s.to_owned(),
    }
}

/// The audit log: formats records and hands them to a writer thread.
pub struct AuditLog {
    parts: AuditParts,
    queue: SyncSender<String>,
    dropped: AtomicU64,
    server_id: String,
    pub(crate) index: RuleIndex,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("parts", &self.parts)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens `path` for appending and starts the writer thread (it ends when the log is
    /// dropped). Rule files and lines come from the rule index the [`super::Waf`] builds.
    pub fn open(path: &Path, parts: AuditParts) -> Result<AuditLog, AuditError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let (queue, rx) = std::sync::mpsc::sync_channel::<String>(QUEUE);
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("waf-audit-log".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::new(file);
                let mut failing = false;
                while let Ok(first) = rx.recv() {
                    let mut res = out.write_all(first.as_bytes());
                    while let Ok(next) = rx.try_recv() {
                        res = res.and_then(|()| out.write_all(next.as_bytes()));
                    }
                    res = res.and_then(|()| out.flush());
                    match res {
                        Err(e) if !failing => {
                            tracing::warn!(file = %shown, error = %e, "WAF audit log write failed");
                            failing = true;
                        }
                        Err(_) => {}
                        Ok(()) => failing = false,
                    }
                }
            })
            .map_err(AuditError::Thread)?;
        Ok(AuditLog {
            parts,
            queue,
            dropped: AtomicU64::new(0),
            server_id: server_id(),
            index: RuleIndex::default(),
        })
    }

    /// The parts written.
    pub fn parts(&self) -> AuditParts {
        self.parts
    }

    /// Records dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn send(&self, line: String) {
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!("WAF audit log writer is behind; records are dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// `SecAuditLogRelevantStatus "^(?:5|4(?!04))"`.
pub(crate) fn relevant_status(status: u16) -> bool {
    (500..600).contains(&status) || ((400..500).contains(&status) && status != 404)
}

/// A stable id of this host (libmodsecurity: a SHA-1 hex digest).
fn server_id() -> String {
    use sha1::Digest as _;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let digest = sha1::Sha1::digest(format!("portcullis:{}", host.trim()).as_bytes());
    digest.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One rule match as the record shows it.
pub(crate) struct AuditMessage<'a> {
    pub(crate) rule: &'a waf::MatchedRule,
    /// Metadata of a snippet rule (looked up in the snippet's directives).
    pub(crate) snippet_meta: Option<RuleMeta>,
}

/// Everything one record needs.
pub(crate) struct AuditRecord<'a> {
    pub(crate) time: time::OffsetDateTime,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub(crate) unique_id: &'a str,
    pub(crate) interrupted: bool,
    pub(crate) method: &'a str,
    pub(crate) http_version: &'a str,
    pub(crate) hostname: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) request_headers: &'a [(String, String)],
    pub(crate) request_body: Option<&'a [u8]>,
    pub(crate) status: Option<u16>,
    pub(crate) response_headers: &'a [(String, String)],
    pub(crate) response_body: Option<&'a [u8]>,
    pub(crate) engine: &'a str,
    pub(crate) components: &'a [String],
    pub(crate) messages: Vec<AuditMessage<'a>>,
}

/// Looks a snippet rule up in the snippet's parsed directives.
pub(crate) fn snippet_meta(directives: &[Directive], id: u64) -> Option<RuleMeta> {
    directives
        .iter()
        .filter_map(rule_meta)
        .find_map(|(i, m)| (i == id).then_some(m))
}

impl AuditLog {
    /// Formats and queues a record.
    pub(crate) fn write(&self, r: &AuditRecord<'_>) {
        let line = self.format(r);
        self.send(line);
    }

    fn format(&self, r: &AuditRecord<'_>) -> String {
        let p = self.parts;
        let mut o = String::with_capacity(1024);
        o.push_str("{\"transaction\":{");
        kv_str(&mut o, "client_ip", &r.client.ip().to_string());
        o.push(',');
        kv_str(&mut o, "time_stamp", &ctime(r.time));
        o.push(',');
        kv_str(&mut o, "server_id", &self.server_id);
        let _ = write!(o, ",\"client_port\":{},", r.client.port());
        kv_str(&mut o, "host_ip", &r.server.ip().to_string());
        let _ = write!(o, ",\"host_port\":{},", r.server.port());
        kv_str(&mut o, "unique_id", r.unique_id);
        let _ = write!(o, ",\"is_interrupted\":{}", r.interrupted);
        o.push_str(",\"request\":{");
        kv_str(&mut o, "method", r.method);
        o.push(',');
        kv_str(&mut o, "http_version", r.http_version);
        o.push(',');
        kv_str(&mut o, "hostname", r.hostname);
        o.push(',');
        kv_str(&mut o, "uri", r.uri);
        if p.request_body()
            && let Some(b) = r.request_body
        {
            o.push(',');
            kv_str(&mut o, "body", &String::from_utf8_lossy(b));
        }
        if p.request_headers() {
            o.push_str(",\"headers\":");
            headers(&mut o, r.request_headers);
        }
        o.push_str("},\"response\":{");
        let mut first = true;
        if p.response_body()
            && let Some(b) = r.response_body
        {
            kv_str(&mut o, "body", &String::from_utf8_lossy(b));
            first = false;
        }
        if let Some(s) = r.status {
            if !first {
                o.push(',');
            }
            let _ = write!(o, "\"http_code\":{s}");
            first = false;
        }
        if p.has('F') {
            if !first {
                o.push(',');
            }
            o.push_str("\"headers\":");
            headers(&mut o, r.response_headers);
        }
        o.push('}');
        if p.has('H') {
            o.push_str(",\"producer\":{");
            kv_str(
                &mut o,
                "modsecurity",
                concat!(
                    "Portcullis WAF v",
                    env!("CARGO_PKG_VERSION"),
                    " (ModSecurity v3 compatible)"
                ),
            );
            o.push(',');
            kv_str(
                &mut o,
                "connector",
                concat!("portcullis v", env!("CARGO_PKG_VERSION")),
            );
            o.push(',');
            kv_str(&mut o, "secrules_engine", r.engine);
            o.push_str(",\"components\":[");
            for (i, c) in r.components.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                json_str(&mut o, c);
            }
            o.push_str("]},\"messages\":[");
            for (i, m) in r.messages.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                let meta = m.snippet_meta.as_ref().or(self.index.get(m.rule.id));
                message(&mut o, m.rule, meta);
            }
            o.push(']');
        }
        o.push_str("}}\n");
        o
    }
}

fn message(o: &mut String, m: &waf::MatchedRule, meta: Option<&RuleMeta>) {
    o.push('{');
    kv_str(o, "message", &m.msg);
    o.push_str(",\"details\":{");
    let (operator, parameter) = meta.map_or(("Rx", ""), |m| (&m.operator, &m.parameter));
    let value = clip(&String::from_utf8_lossy(&m.matched_var));
    let matched = if m.matched_var_name.is_empty() {
        String::new()
    } else {
        format!(
            "Matched \"Operator `{operator}' with parameter `{parameter}' against variable `{}' (Value: `{value}' )",
            m.matched_var_name
        )
    };
    kv_str(o, "match", &matched);
    o.push(',');
    kv_str(o, "reference", "");
    o.push(',');
    kv_str(o, "ruleId", &m.id.to_string());
    o.push(',');
    kv_str(o, "file", meta.map_or(NO_FILE, |m| &m.file));
    o.push(',');
    kv_str(
        o,
        "lineNumber",
        &meta.map_or_else(|| "0".to_owned(), |m| m.line.to_string()),
    );
    o.push(',');
    kv_str(o, "data", &m.data);
    o.push(',');
    kv_str(o, "severity", &m.severity.unwrap_or(0).to_string());
    o.push(',');
    kv_str(o, "ver", meta.map_or("", |m| &m.ver));
    o.push(',');
    kv_str(o, "rev", meta.map_or("", |m| &m.rev));
    o.push_str(",\"tags\":[");
    for (i, t) in m.tags.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_str(o, t);
    }
    o.push_str("],");
    kv_str(o, "maturity", meta.map_or("0", |m| &m.maturity));
    o.push(',');
    kv_str(o, "accuracy", meta.map_or("0", |m| &m.accuracy));
    o.push_str("}}");
}

/// Headers as one object, in order (a repeated name is a repeated key, as libmodsecurity
/// writes it).
fn headers(o: &mut String, h: &[(String, String)]) {
    o.push('{');
    for (i, (n, v)) in h.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        kv_str(o, n, v);
    }
    o.push('}');
}

fn kv_str(o: &mut String, k: &str, v: &str) {
    json_str(o, k);
    o.push(':');
    json_str(o, v);
}

/// A JSON string literal.
fn json_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
}

/// `Sat Nov 28 18:36:13 2026`, as libmodsecurity's `time_stamp` (UTC here).
fn ctime(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] [year]"
    );
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn parts_parse() {
        let p = AuditParts::parse("bh").unwrap();
        assert!(p.has('A') && p.has('B') && p.has('H') && p.has('Z'));
        assert!(!p.has('C') && !p.has('E'));
        assert!(AuditParts::parse("ABX").is_err());
        assert_eq!(AuditParts::default(), AuditParts::parse("ABHZ").unwrap());
    }

    #[test]
    fn relevant() {
        assert!(relevant_status(403));
        assert!(relevant_status(502));
        assert!(!relevant_status(404));
        assert!(!relevant_status(200));
        assert!(!relevant_status(302));
    }

    #[test]
    fn strings_escape() {
        let mut o = String::new();
        json_str(&mut o, "a\"b\\c\n\u{1}é");
        assert_eq!(o, "\"a\\\"b\\\\c\\n\\u0001é\"");
        let v: serde_json::Value = serde_json::from_str(&o).unwrap();
        assert_eq!(v, "a\"b\\c\n\u{1}é");
    }

    #[test]
    fn index_reads_rules() {
        let text = "SecRule ARGS \"@rx foo\" \"id:1001,phase:2,deny,ver:'V1',rev:'3',maturity:'9',accuracy:'8'\"\nSecAction \"id:1002,phase:1,pass,nolog\"\n";
        let d = seclang::parse_with(
            text,
            "x.conf",
            &seclang::Options::default(),
            &seclang::loader::MemLoader::new(),
        )
        .unwrap();
        let idx = RuleIndex::from_directives(&d);
        let m = idx.get(1001).unwrap();
        assert_eq!((m.line, m.operator.as_str()), (1, "Rx"));
        assert_eq!(m.parameter, "foo");
        assert_eq!((m.ver.as_str(), m.rev.as_str()), ("V1", "3"));
        assert_eq!(idx.get(1002).unwrap().line, 2);
    }
}
