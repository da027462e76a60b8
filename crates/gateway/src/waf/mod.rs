//! The WAF on the request path (issue #4).
//!
//! - [`WafOptions`] / [`Waf::new`]: the global settings and the CRS rule set, compiled ONCE
//!   ([`profile::compile`]) and shared as `Arc<waf::RuleSet>` by every Ingress.
//! - Per Ingress, [`config::waf::WafSettings`] (from annotations) becomes a cheap overlay on
//!   each transaction: engine mode, pre-seeded TX variables (thresholds, paranoia), removed
//!   rule ids / tags / targets, plus an optional small rule set compiled from the snippet's
//!   `SecRule` additions (compiled once per snippet and cached).
//! - [`Waf::inspect_request`] runs phases 1 and 2 before the upstream is contacted, buffering
//!   the body up to [`WafOptions::body_limit`] only when the WAF is on for the route.
//! - With response inspection on (globally, or for one Ingress by its snippet's
//!   `SecResponseBodyAccess On`, [`Waf::response_mode`]), phase 3 runs on the upstream's
//!   response head and phase 4 on its body when the type is one of `SecResponseBodyMimeType`:
//!   the body is buffered up to `SecResponseBodyLimit` (beyond it, the prefix is inspected
//!   and the rest streamed), so a block can still replace the response (`response.rs`).
//!   `gzip`, `deflate` and `br` bodies are decoded for inspection only (`decode.rs`; the
//!   decoded size counts against the limit); the client gets the upstream's bytes.
//!   Phase 5 (logging) runs last for every transaction.
//! - Every transaction with a logged match leaves one [`telemetry::events::SecurityEvent`]
//!   (joined to the access event by `request_id`) and updates [`WafMetrics`]; the optional
//!   [`audit::AuditLog`] writes ModSecurity-style JSON audit records.
//! - CPU budget: each phase's engine time is measured; over [`WafOptions::max_eval`] it is
//!   logged and counted (`portcullis_waf_budget_exceeded_total`), and the transaction either
//!   skips its remaining phases (fail open, [`BudgetAction::Pass`]) or, in block mode with
//!   [`BudgetAction::Block`], is answered with 403.

pub mod audit;
mod decode;
pub mod profile;
mod request;
mod response;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use config::waf::{WafMode, WafSettings};
use parking_lot::Mutex;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use seclang::ast::Directive;
use telemetry::events::SecuritySink;

pub use request::{ReqVerdict, WafTx};

/// Errors building the WAF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WafError {
    /// `--crs DIR` is not a CRS folder.
    #[error("{0}: not an OWASP CRS folder (expected rules/REQUEST-901-INITIALIZATION.conf)")]
    NotCrs(PathBuf),
    /// No CRS in the usual locations.
    #[error(
        "the WAF is on but no OWASP CRS was found in {locations}; pass --crs DIR, install Debian's modsecurity-crs, or use --waf off",
        locations = profile::CRS_LOCATIONS.join(", ")
    )]
    NoCrs,
    /// The rule text did not parse.
    #[error("CRS rules: {0}")]
    Parse(String),
    /// The rules did not compile.
    #[error("CRS rules: {0}")]
    Compile(String),
    /// Metrics registration failed.
    #[error("WAF metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// What to do with a request body larger than [`WafOptions::body_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyLimitAction {
    /// Block mode: answer 413 (detect mode always inspects the first part and forwards all).
    #[default]
    Reject,
    /// Inspect the first `body_limit` bytes and forward the whole body.
    ProcessPartial,
}

/// What happens when a WAF phase takes longer than [`WafOptions::max_eval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BudgetAction {
    /// Fail open: keep the phase's verdict, skip the transaction's remaining phases.
    #[default]
    Pass,
    /// Block mode only: answer 403 (detect mode always passes).
    Block,
}

impl BudgetAction {
    /// Parses `pass` / `block` (also `fail-open` / `fail-closed`).
    pub fn parse(v: &str) -> Option<BudgetAction> {
        match v.trim().to_ascii_lowercase().as_str() {
            "pass" | "fail-open" | "open" => Some(BudgetAction::Pass),
            "block" | "fail-closed" | "closed" | "deny" => Some(BudgetAction::Block),
            _ => None,
        }
    }
}

/// Default of [`WafOptions::max_eval`].
pub const DEFAULT_MAX_EVAL: Duration = Duration::from_millis(50);

/// Global WAF settings (`--waf`, `--crs`, `--paranoia`, thresholds, ...).
#[derive(Debug, Clone)]
pub struct WafOptions {
    /// Global mode; `Off` disables the WAF whatever the annotations say.
    pub mode: WafMode,
    /// The CRS folder (see [`profile::find_crs`]).
    pub crs_dir: PathBuf,
    /// Blocking paranoia level 1-4 (CRS default 1).
    pub paranoia: u8,
    /// Inbound anomaly score threshold (CRS default 5).
    pub inbound_threshold: u32,
    /// Outbound anomaly score threshold (CRS default 4).
    pub outbound_threshold: u32,
    /// Request body bytes buffered and inspected (default 1 MiB).
    pub body_limit: u64,
    /// What to do beyond `body_limit`.
    pub body_limit_action: BodyLimitAction,
    /// Run phases 3 and 4 (response headers and body) for WAF-enabled routes.
    pub response_inspection: bool,
    /// Engine time allowed per phase (`waf.max-eval-ms`, default 50 ms); `None`: unbounded.
    pub max_eval: Option<Duration>,
    /// What to do when a phase goes over `max_eval`.
    pub budget_action: BudgetAction,
    /// Apply the WAF to every Ingress that does not turn it off, not only annotated ones.
    pub all_ingresses: bool,
}

impl WafOptions {
    /// Defaults (detect, PL1, 5/4, 1 MiB, reject, no response inspection) for `crs_dir`.
    pub fn new(crs_dir: PathBuf) -> Self {
        Self {
            mode: WafMode::Detect,
            crs_dir,
            paranoia: 1,
            inbound_threshold: 5,
            outbound_threshold: 4,
            body_limit: 1024 * 1024,
            body_limit_action: BodyLimitAction::Reject,
            response_inspection: false,
            max_eval: Some(DEFAULT_MAX_EVAL),
            budget_action: BudgetAction::Pass,
            all_ingresses: false,
        }
    }
}

/// Prometheus series of the WAF.
#[derive(Debug, Clone)]
pub struct WafMetrics {
    /// `portcullis_waf_requests_total{namespace,ingress,action}`: transactions with matches.
    pub requests: IntCounterVec,
    /// `portcullis_waf_rule_matches_total{namespace,ingress,action,rule_id,category}`.
    pub rules: IntCounterVec,
    /// `portcullis_waf_evaluation_seconds{phase}`: CPU time in the engine per request.
    pub latency: HistogramVec,
    /// `portcullis_waf_budget_exceeded_total{phase}`: phases over [`WafOptions::max_eval`],
    /// and `phase="regex_limit"` for transactions where a bounded fallback regex gave up.
    pub budget_exceeded: IntCounterVec,
}

impl WafMetrics {
    /// Creates and registers the series in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "portcullis_waf_requests_total",
                "Requests with WAF rule matches, by Ingress and action (blocked/detected)",
            ),
            &["namespace", "ingress", "action"],
        )?;
        let rules = IntCounterVec::new(
            Opts::new(
                "portcullis_waf_rule_matches_total",
                "Logged WAF rule matches by Ingress, action, rule id and category",
            ),
            &["namespace", "ingress", "action", "rule_id", "category"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "portcullis_waf_evaluation_seconds",
                "Time spent evaluating WAF rules per request",
            )
            .buckets(vec![
                0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01,
                0.025, 0.05, 0.1,
            ]),
            &["phase"],
        )?;
        let budget_exceeded = IntCounterVec::new(
            Opts::new(
                "portcullis_waf_budget_exceeded_total",
                "WAF phases that took longer than the per-phase time budget (waf.max-eval-ms)",
            ),
            &["phase"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(budget_exceeded.clone()))?;
        registry.register(Box::new(rules.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            requests,
            rules,
            latency,
            budget_exceeded,
        })
    }
}

type SnippetCache = HashMap<usize, (Weak<Vec<Directive>>, Option<Arc<waf::RuleSet>>)>;

/// The WAF: global options, the shared CRS rule set, snippet rule sets, event sink, metrics.
pub struct Waf {
    pub(crate) opts: WafOptions,
    pub(crate) base: Arc<waf::RuleSet>,
    /// Snippet rule sets, keyed by the address of the parsed snippet (checked by `Weak`).
    snippets: Mutex<SnippetCache>,
    pub(crate) sink: Option<Arc<dyn SecuritySink>>,
    pub(crate) metrics: Option<WafMetrics>,
    pub(crate) audit: Option<audit::AuditLog>,
}

impl std::fmt::Debug for Waf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waf")
            .field("opts", &self.opts)
            .field("rules", &self.base.rule_count())
            .finish_non_exhaustive()
    }
}

impl Waf {
    /// Compiles the CRS at `opts.crs_dir` (once; a few seconds of CPU).
    pub fn new(opts: WafOptions) -> Result<Self, WafError> {
        let base = profile::compile(&opts.crs_dir, opts.body_limit, opts.response_inspection)?;
        Ok(Self::with_rules(opts, base))
    }

    /// A WAF over an already compiled rule set (tests, reloads that keep the rules).
    pub fn with_rules(opts: WafOptions, base: Arc<waf::RuleSet>) -> Self {
        Self {
            opts,
            base,
            snippets: Mutex::new(HashMap::new()),
            sink: None,
            metrics: None,
            audit: None,
        }
    }

    /// Sends security events to `sink` (e.g. the access log's [`telemetry::AccessLog`]).
    pub fn with_sink(mut self, sink: Arc<dyn SecuritySink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Registers and feeds the WAF metrics.
    pub fn with_metrics(mut self, registry: &Registry) -> Result<Self, WafError> {
        self.metrics = Some(WafMetrics::register(registry)?);
        Ok(self)
    }

    /// Writes the JSON audit log. Rule files and lines for its messages are read from the
    /// CRS at [`WafOptions::crs_dir`] (parsed again, not compiled).
    pub fn with_audit_log(mut self, mut log: audit::AuditLog) -> Result<Self, WafError> {
        let text = profile::rule_text(
            &self.opts.crs_dir,
            self.opts.body_limit,
            self.opts.response_inspection,
        );
        let directives = seclang::parse_with(
            &text,
            "<portcullis waf>",
            &seclang::Options::with_includes(),
            &seclang::loader::FsLoader,
        )
        .map_err(|e| WafError::Parse(e.to_string()))?;
        log.index = audit::RuleIndex::from_directives(&directives);
        self.audit = Some(log);
        Ok(self)
    }

    /// The audit log, when one is written.
    pub fn audit_log(&self) -> Option<&audit::AuditLog> {
        self.audit.as_ref()
    }

    /// The shared compiled rule set.
    pub fn rules(&self) -> &Arc<waf::RuleSet> {
        &self.base
    }

    /// The global options.
    pub fn options(&self) -> &WafOptions {
        &self.opts
    }

    /// The mode in force for a route: `Off` unless the global mode is on and the route
    /// enables the WAF (or `all_ingresses` and the route does not turn it off).
    pub fn mode_for(&self, s: &WafSettings) -> WafMode {
        if self.opts.mode == WafMode::Off {
            return WafMode::Off;
        }
        let on = match s.enabled {
            Some(e) => e,
            None => self.opts.all_ingresses,
        };
        if !on {
            return WafMode::Off;
        }
        s.mode.unwrap_or(self.opts.mode)
    }

    /// Whether phases 3 and 4 run for a route, and whether phase 4 gets the response body:
    /// the global `response_inspection`, overridden per Ingress by the snippet's
    /// `SecResponseBodyAccess On` (phases 3 and 4 with the body, even when the global
    /// switch is off) or `Off` (phases 3 and 4 still run when on globally, without the body).
    pub fn response_mode(&self, s: &WafSettings) -> (bool, bool) {
        let global = self.opts.response_inspection;
        match s.response_body_access {
            Some(true) => (true, true),
            Some(false) => (global, false),
            None => (global, global),
        }
    }

    /// The compiled snippet rule set of a route (compiled on first use, then cached).
    pub(crate) fn snippet_rules(&self, s: &WafSettings) -> Option<Arc<waf::RuleSet>> {
        let parsed = s.snippet_rules.as_ref()?;
        let key = Arc::as_ptr(parsed) as usize;
        let mut cache = self.snippets.lock();
        if let Some((weak, rs)) = cache.get(&key)
            && weak.upgrade().is_some_and(|p| Arc::ptr_eq(&p, parsed))
        {
            return rs.clone();
        }
        // The snippet's rules run with the same body handling as the CRS (request and
        // response body access, limits, MIME types); without it they would never see
        // RESPONSE_BODY or a parsed request body.
        let directives = match profile::snippet_prelude(self.opts.body_limit) {
            Ok(mut d) => {
                d.extend(parsed.iter().cloned());
                d
            }
            Err(e) => {
                tracing::warn!(error = %e, "snippet engine settings do not parse");
                parsed.to_vec()
            }
        };
        let compiled = match waf::RuleSet::compile(&directives, &seclang::loader::MemLoader::new())
        {
            Ok(mut rs) => {
                rs.set_engine_mode(waf::EngineMode::On);
                Some(Arc::new(rs))
            }
            Err(e) => {
                tracing::warn!(error = %e, "modsecurity-snippet rules do not compile; ignored");
                None
            }
        };
        cache.retain(|_, (w, _)| w.strong_count() > 0);
        cache.insert(key, (Arc::downgrade(parsed), compiled.clone()));
        compiled
    }
}
