//! `portcullis serve` WAF flags and the config file's `waf:` section -> [`gateway::waf::Waf`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use config::waf::{WafFile, WafMode};
use gateway::waf::audit::{AuditLog, AuditParts};
use gateway::waf::{BodyLimitAction, BudgetAction, Waf, WafOptions, profile};
use telemetry::events::{SecurityEvent, SecuritySink};
use telemetry::{AccessLog, Metrics};

/// WAF flags of `portcullis serve` (override the config file's `waf:` section).
#[derive(Debug, Clone, Args)]
pub(crate) struct WafArgs {
    /// WAF mode: off, detect (default; logs only) or block.
    #[arg(long = "waf", value_name = "MODE")]
    pub(crate) mode: Option<String>,
    /// OWASP CRS folder (default: the first of /usr/share/modsecurity-crs and other usual places).
    #[arg(long, value_name = "DIR")]
    pub(crate) crs: Option<PathBuf>,
    /// Blocking paranoia level 1-4 (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub(crate) paranoia: Option<u8>,
    /// Inbound anomaly score threshold (default 5).
    #[arg(long, value_name = "SCORE")]
    pub(crate) waf_inbound_threshold: Option<u32>,
    /// Outbound anomaly score threshold (default 4).
    #[arg(long, value_name = "SCORE")]
    pub(crate) waf_outbound_threshold: Option<u32>,
    /// Request body bytes buffered and inspected (default 1048576).
    #[arg(long, value_name = "BYTES")]
    pub(crate) waf_body_limit: Option<u64>,
    /// Over the body limit in block mode: reject (413, default) or process-partial.
    #[arg(long, value_name = "ACTION")]
    pub(crate) waf_body_limit_action: Option<String>,
    /// Inspect responses too: headers (phase 3) and text bodies up to 512 KiB (phase 4).
    #[arg(long)]
    pub(crate) waf_response_inspection: bool,
    /// Run the WAF for every Ingress that does not turn it off (not only annotated ones).
    #[arg(long)]
    pub(crate) waf_all_ingresses: bool,
    /// Write security events to this file (default: the access log stream).
    #[arg(long, value_name = "FILE")]
    pub(crate) security_log: Option<PathBuf>,
    /// Also write a ModSecurity-compatible JSON audit log (relevant transactions only).
    #[arg(long, value_name = "FILE")]
    pub(crate) waf_audit_log: Option<PathBuf>,
    /// Audit log parts, as SecAuditLogParts (default ABHZ; also C, E, F, I).
    #[arg(long, value_name = "PARTS")]
    pub(crate) waf_audit_log_parts: Option<String>,
    /// Engine time allowed per WAF phase, in milliseconds (default 50; 0: unbounded).
    #[arg(long, value_name = "MS")]
    pub(crate) waf_max_eval_ms: Option<u64>,
    /// Over that time in block mode: pass (fail open, default) or block (403).
    #[arg(long, value_name = "ACTION")]
    pub(crate) waf_budget_action: Option<String>,
}

/// Where security events go (WAF matches and limit rejections): `--security-log FILE` (or
/// `waf.security-log` in the config file), else the access log stream, one JSON line each.
pub(crate) fn security_sink(
    args: &WafArgs,
    file: Option<&WafFile>,
    access_log: &AccessLog,
) -> anyhow::Result<Arc<dyn SecuritySink>> {
    let path = args
        .security_log
        .as_ref()
        .or(file.and_then(|f| f.security_log.as_ref()));
    Ok(match path {
        Some(path) => Arc::new(
            AccessLog::file(path).with_context(|| format!("security log {}", path.display()))?,
        ),
        None => {
            let log = access_log.clone();
            Arc::new(move |e: &SecurityEvent| log.log_json(e))
        }
    })
}

/// Builds the WAF (compiling the CRS once), or `None` for `--waf off`.
pub(crate) fn build(
    args: &WafArgs,
    file: Option<&WafFile>,
    security: &Arc<dyn SecuritySink>,
    metrics: &Metrics,
) -> anyhow::Result<Option<Arc<Waf>>> {
    let empty = WafFile::default();
    let file = file.unwrap_or(&empty);
    let mode_text = args.mode.clone().or_else(|| file.mode.clone());
    let mode = match mode_text.as_deref() {
        None => WafMode::Detect,
        Some(m) => WafMode::parse(m)
            .with_context(|| format!("--waf `{m}`: expected off, detect or block"))?,
    };
    if mode == WafMode::Off {
        return Ok(None);
    }
    let explicit_crs = args.crs.as_deref().or(file.crs.as_deref());
    let crs = match profile::find_crs(explicit_crs) {
        Ok(dir) => dir,
        // Default mode with no CRS installed anywhere: serve without the WAF, loudly.
        Err(e) if mode_text.is_none() && explicit_crs.is_none() => {
            tracing::warn!(error = %e, "no OWASP CRS found: the WAF is off (pass --crs DIR or --waf off)");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let mut opts = WafOptions::new(crs);
    opts.mode = mode;
    if let Some(p) = args.paranoia.or(file.paranoia) {
        anyhow::ensure!((1..=4).contains(&p), "paranoia level {p}: expected 1-4");
        opts.paranoia = p;
    }
    if let Some(t) = args.waf_inbound_threshold.or(file.inbound_threshold) {
        opts.inbound_threshold = t;
    }
    if let Some(t) = args.waf_outbound_threshold.or(file.outbound_threshold) {
        opts.outbound_threshold = t;
    }
    if let Some(b) = args.waf_body_limit.or(file.body_limit) {
        opts.body_limit = b;
    }
    match args
        .waf_body_limit_action
        .as_deref()
        .or(file.body_limit_action.as_deref())
    {
        None | Some("reject") => {}
        Some("process-partial" | "ProcessPartial") => {
            opts.body_limit_action = BodyLimitAction::ProcessPartial;
        }
        Some(other) => {
            anyhow::bail!("WAF body limit action `{other}`: expected reject or process-partial")
        }
    }
    opts.response_inspection =
        args.waf_response_inspection || file.response_inspection.unwrap_or(false);
    opts.all_ingresses = args.waf_all_ingresses || file.all_ingresses.unwrap_or(false);
    if let Some(ms) = args.waf_max_eval_ms.or(file.max_eval_ms) {
        opts.max_eval = (ms > 0).then(|| std::time::Duration::from_millis(ms));
    }
    if let Some(a) = args
        .waf_budget_action
        .as_deref()
        .or(file.budget_action.as_deref())
    {
        opts.budget_action = BudgetAction::parse(a)
            .with_context(|| format!("WAF budget action `{a}`: expected pass or block"))?;
    }
    let audit = match args.waf_audit_log.as_ref().or(file.audit_log.as_ref()) {
        Some(path) => {
            let parts = match args
                .waf_audit_log_parts
                .as_deref()
                .or(file.audit_log_parts.as_deref())
            {
                Some(p) => AuditParts::parse(p)?,
                None => AuditParts::default(),
            };
            Some(AuditLog::open(path, parts)?)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let crs_dir = opts.crs_dir.clone();
    let defaulted = mode_text.is_none() && explicit_crs.is_none();
    let waf = match Waf::new(opts) {
        Ok(waf) => waf,
        // Default mode with a CRS found in a usual place that does not load (e.g. Debian's CRS
        // 3.3, whose few lookaround regexes need the fallback engine of issue #4): serve without
        // the WAF, loudly, rather than refusing to start.
        Err(e) if defaulted => {
            tracing::warn!(error = %e, crs = %crs_dir.display(), "the OWASP CRS found does not load: the WAF is off (pass --crs DIR or --waf off)");
            return Ok(None);
        }
        Err(e) => return Err(anyhow::Error::new(e).context("loading the OWASP CRS")),
    };
    tracing::info!(
        crs = %crs_dir.display(),
        rules = waf.rules().rule_count(),
        ms = started.elapsed().as_millis() as u64,
        "WAF rules compiled (shared by every Ingress)"
    );
    // The engine builds each regex on first use; build them all now on a side thread so no
    // early request pays for it (and none runs into the per-phase time budget). Requests
    // that arrive first still work: a pattern is compiled once, by whoever needs it first.
    let rules = Arc::clone(waf.rules());
    let spawned = std::thread::Builder::new()
        .name("waf-precompile".into())
        .spawn(move || {
            let t0 = std::time::Instant::now();
            rules.precompile();
            tracing::debug!(
                ms = t0.elapsed().as_millis() as u64,
                "WAF regexes precompiled"
            );
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "WAF regexes will compile on first use");
    }
    let waf = waf.with_metrics(metrics.registry())?;
    let waf = match audit {
        Some(log) => waf.with_audit_log(log)?,
        None => waf,
    };
    let waf = waf.with_sink(Arc::clone(security));
    Ok(Some(Arc::new(waf)))
}
