//! WAF annotations -> [`WafSettings`] (issue #4).
//!
//! Read per Ingress: `enable-modsecurity`, `enable-owasp-core-rules`, `modsecurity-snippet`
//! (parsed with the SecLang parser only; directives that would change global state are
//! refused), `modsecurity-transaction-id`, and the lua-resty-waf set of older guides
//! (`lua-resty-waf: active|simulate|inactive`, `lua-resty-waf-score-threshold`; the other
//! `lua-resty-waf-*` keys are accepted with a warning). The gateway turns the result into a
//! cheap per-transaction overlay on the one shared CRS rule set.

use std::sync::Arc;

use seclang::ast::{DirectiveKind, Selector};

/// What the WAF does with a request (`--waf`, `SecRuleEngine`, `lua-resty-waf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WafMode {
    /// Not evaluated.
    Off,
    /// Evaluated and logged, never changes the response (`DetectionOnly`, `simulate`).
    #[default]
    Detect,
    /// Evaluated; a disruptive verdict blocks the request (`On`, `active`).
    Block,
}

impl WafMode {
    /// Parses `off|detect|block` (also the SecLang spellings `Off|DetectionOnly|On`).
    pub fn parse(v: &str) -> Option<WafMode> {
        match v.trim().to_ascii_lowercase().as_str() {
            "off" | "inactive" | "false" => Some(WafMode::Off),
            "detect" | "detectiononly" | "detection" | "simulate" => Some(WafMode::Detect),
            "block" | "on" | "active" | "true" => Some(WafMode::Block),
            _ => None,
        }
    }
}

/// The WAF settings of one Ingress. The default (no annotation) leaves the WAF off for the
/// Ingress.
#[derive(Debug, Clone, Default)]
pub struct WafSettings {
    /// `Some(true)`: the WAF runs for this Ingress; `Some(false)`: explicitly off; `None`: no
    /// WAF annotation.
    pub enabled: Option<bool>,
    /// Whether the OWASP CRS runs (default true when enabled; `enable-owasp-core-rules:
    /// "false"` keeps only the snippet's rules).
    pub core_rules: bool,
    /// Per-Ingress mode (`SecRuleEngine` in the snippet, `lua-resty-waf`); `None` = global.
    pub mode: Option<WafMode>,
    /// TX variables pre-seeded before phase 1 (`tx.inbound_anomaly_score_threshold`,
    /// `tx.blocking_paranoia_level`, ...), name without the `tx.` prefix.
    pub tx_vars: Vec<(String, String)>,
    /// Rule id ranges removed for this Ingress (`SecRuleRemoveById`).
    pub removed_ids: Vec<(u64, u64)>,
    /// Rule tags removed for this Ingress (`SecRuleRemoveByTag`).
    pub removed_tags: Vec<String>,
    /// Targets removed from rules (`SecRuleUpdateTargetById 942100 "!ARGS:password"`):
    /// (id ranges, target text such as `ARGS:password`).
    pub removed_targets: Vec<(Vec<(u64, u64)>, String)>,
    /// The snippet's own `SecRule` / `SecMarker` additions, parsed; compiled once by the
    /// gateway into a small rule set evaluated next to the CRS.
    pub snippet_rules: Option<Arc<Vec<seclang::ast::Directive>>>,
    /// `modsecurity-transaction-id` as written (the gateway uses the request id).
    pub transaction_id: Option<String>,
    /// The snippet's `SecResponseBodyAccess On|Off`: `Some(true)` runs response phases 3
    /// and 4 with the body for this Ingress even when response inspection is off globally;
    /// `Some(false)` keeps the body from phase 4; `None` follows the global setting.
    pub response_body_access: Option<bool>,
}

/// The `waf:` section of the config file (flags of `portcullis serve` override it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WafFile {
    /// `--waf`: `off`, `detect` (default) or `block`.
    pub mode: Option<String>,
    /// `--crs`: the CRS folder.
    pub crs: Option<std::path::PathBuf>,
    /// `--paranoia`: blocking paranoia level 1-4.
    pub paranoia: Option<u8>,
    /// `--waf-inbound-threshold` (CRS default 5).
    #[serde(alias = "inbound-threshold")]
    pub inbound_threshold: Option<u32>,
    /// `--waf-outbound-threshold` (CRS default 4).
    #[serde(alias = "outbound-threshold")]
    pub outbound_threshold: Option<u32>,
    /// `--waf-body-limit`: request body bytes inspected.
    #[serde(alias = "body-limit")]
    pub body_limit: Option<u64>,
    /// `--waf-body-limit-action`: `reject` or `process-partial`.
    #[serde(alias = "body-limit-action")]
    pub body_limit_action: Option<String>,
    /// `--waf-response-inspection`.
    #[serde(alias = "response-inspection")]
    pub response_inspection: Option<bool>,
    /// `--waf-all-ingresses`: run for every Ingress that does not turn it off.
    #[serde(alias = "all-ingresses")]
    pub all_ingresses: Option<bool>,
    /// `--security-log`: security events file (default: the access log stream).
    #[serde(alias = "security-log")]
    pub security_log: Option<std::path::PathBuf>,
    /// `--waf-audit-log`: ModSecurity-compatible JSON audit log file.
    #[serde(alias = "audit-log")]
    pub audit_log: Option<std::path::PathBuf>,
    /// `--waf-audit-log-parts`: `SecAuditLogParts` letters (default `ABHZ`).
    #[serde(alias = "audit-log-parts")]
    pub audit_log_parts: Option<String>,
    /// `--waf-max-eval-ms`: engine time allowed per phase (default 50; 0: unbounded).
    #[serde(alias = "max-eval-ms")]
    pub max_eval_ms: Option<u64>,
    /// `--waf-budget-action`: `pass` (fail open, default) or `block`.
    #[serde(alias = "budget-action")]
    pub budget_action: Option<String>,
}

/// Settings directives a snippet may not use: they change process-wide state.
fn refused_setting(name: &str) -> bool {
    !name.eq_ignore_ascii_case("SecRuleEngine")
        && !name.eq_ignore_ascii_case("SecResponseBodyAccess")
}

/// Go `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    crate::annotations::parse_bool(v)
}

/// Reads the WAF annotations. `get(name)` returns (full key, value) of an annotation;
/// `problem(full_key, reason)` records a problem.
pub(crate) fn parse<'a>(
    get: &dyn Fn(&str) -> Option<(&'a str, &'a str)>,
    problem: &mut dyn FnMut(&str, String),
) -> WafSettings {
    let mut s = WafSettings {
        core_rules: true,
        ..WafSettings::default()
    };
    let bool_ann = |name: &str, problem: &mut dyn FnMut(&str, String)| {
        get(name).and_then(|(key, v)| {
            let b = parse_bool(v);
            if b.is_none() {
                problem(key, format!("`{v}` is not a boolean (true/false)"));
            }
            b
        })
    };
    let modsec = bool_ann("enable-modsecurity", problem);
    let crs = bool_ann("enable-owasp-core-rules", problem);
    s.enabled = match (modsec, crs) {
        (Some(false), Some(true)) => {
            if let Some((key, _)) = get("enable-owasp-core-rules") {
                problem(
                    key,
                    "enable-owasp-core-rules is true but enable-modsecurity is false: the WAF stays off".into(),
                );
            }
            Some(false)
        }
        (Some(m), _) => Some(m),
        (None, Some(true)) => Some(true),
        (None, _) => None,
    };
    if crs == Some(false) {
        s.core_rules = false;
    }

    // lua-resty-waf (removed from ingress-nginx in 0.27): mapped onto the same engine.
    if let Some((key, v)) = get("lua-resty-waf") {
        let (on, mode) = match v.to_ascii_lowercase().as_str() {
            "active" => (true, WafMode::Block),
            "simulate" => (true, WafMode::Detect),
            "inactive" => (false, WafMode::Off),
            _ => {
                problem(
                    key,
                    format!("unknown lua-resty-waf mode `{v}` (active, simulate or inactive)"),
                );
                (false, WafMode::Off)
            }
        };
        if s.enabled.is_some_and(|e| e != on) {
            problem(
                key,
                format!(
                    "lua-resty-waf `{v}` contradicts enable-modsecurity; enable-modsecurity wins"
                ),
            );
        } else if on {
            s.enabled = Some(true);
            s.mode = Some(mode);
        } else if v.eq_ignore_ascii_case("inactive") {
            s.enabled = Some(false);
        }
    }
    if let Some((key, v)) = get("lua-resty-waf-score-threshold") {
        match v.parse::<u32>() {
            Ok(n) if (1..=10_000).contains(&n) => s
                .tx_vars
                .push(("inbound_anomaly_score_threshold".into(), n.to_string())),
            _ => problem(
                key,
                format!("`{v}` is not an anomaly score threshold (1-10000)"),
            ),
        }
    }
    for name in [
        "lua-resty-waf-debug",
        "lua-resty-waf-ignore-rulesets",
        "lua-resty-waf-extra-rules",
        "lua-resty-waf-allow-unknown-content-types",
        "lua-resty-waf-process-multipart-body",
    ] {
        if let Some((key, _)) = get(name) {
            problem(
                key,
                "accepted for compatibility and ignored: lua-resty-waf was removed from ingress-nginx; the CRS engine is used"
                    .into(),
            );
        }
    }

    if let Some((key, v)) = get("modsecurity-transaction-id") {
        if v != "$request_id" && v.starts_with('$') {
            problem(
                key,
                format!("`{v}`: only $request_id is supported; the request id is used"),
            );
        }
        s.transaction_id = Some(v.to_owned());
    }

    if let Some((key, text)) = get("modsecurity-snippet") {
        parse_snippet(&mut s, key, text, problem);
        if s.enabled == Some(false) {
            problem(
                key,
                "modsecurity-snippet is set but the WAF is off for this Ingress".into(),
            );
        }
    }
    if s.enabled.is_none()
        && !s.tx_vars.is_empty()
        && let Some((key, _)) = get("lua-resty-waf-score-threshold")
    {
        problem(
            key,
            "a score threshold is set but no annotation enables the WAF for this Ingress".into(),
        );
    }
    s
}

/// Reads the WAF settings from annotations given by short name (`enable-modsecurity`, ...,
/// prefix already removed). Returns the settings and the problems (`key: reason`). For tests
/// and tools; manifests go through [`crate::load_dir`].
pub fn from_annotations(
    short: &std::collections::BTreeMap<String, String>,
) -> (WafSettings, Vec<String>) {
    let get = |name: &str| {
        short
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v.trim()))
    };
    let mut problems = Vec::new();
    let s = parse(&get, &mut |k, r| problems.push(format!("{k}: {r}")));
    (s, problems)
}

fn ranges(ids: &[seclang::ast::IdRange]) -> Vec<(u64, u64)> {
    ids.iter().map(|r| (r.start, r.end)).collect()
}

/// Parses `modsecurity-snippet` text into the overlay parts.
fn parse_snippet(
    s: &mut WafSettings,
    key: &str,
    text: &str,
    problem: &mut dyn FnMut(&str, String),
) {
    // ingress-nginx guides include the CRS from the snippet: that is what enable-owasp-core-rules
    // means here, so it is accepted without reading any file.
    let mut cleaned = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim_start();
        if (t.starts_with("Include ") || t.starts_with("IncludeOptional "))
            && (t.contains("owasp-modsecurity-crs") || t.contains("modsecurity-crs"))
        {
            cleaned.push('\n');
            continue;
        }
        cleaned.push_str(line);
        cleaned.push('\n');
    }
    let file = "modsecurity-snippet";
    let parsed = seclang::parse_with_recovery(
        &cleaned,
        file,
        &seclang::Options::default(),
        &seclang::loader::MemLoader::new(),
    );
    let clean = parsed.errors.is_empty();
    for e in &parsed.errors {
        problem(
            key,
            format!("{}", e)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let mut rules = Vec::new();
    for d in parsed.directives {
        let line = d.span.line;
        match &d.kind {
            DirectiveKind::Setting { name, args } if name.eq_ignore_ascii_case("SecRuleEngine") => {
                match args.first().and_then(|a| WafMode::parse(a)) {
                    Some(m) => {
                        if s.mode.is_some_and(|prev| prev != m) {
                            problem(
                                key,
                                format!(
                                    "{file}:{line}: SecRuleEngine contradicts lua-resty-waf; the snippet wins"
                                ),
                            );
                        }
                        s.mode = Some(m);
                        if m == WafMode::Off {
                            s.enabled = Some(false);
                        }
                    }
                    None => problem(
                        key,
                        format!("{file}:{line}: SecRuleEngine takes On, Off or DetectionOnly"),
                    ),
                }
            }
            DirectiveKind::Setting { name, args }
                if name.eq_ignore_ascii_case("SecResponseBodyAccess") =>
            {
                match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
                    Some("on") => s.response_body_access = Some(true),
                    Some("off") => s.response_body_access = Some(false),
                    _ => problem(
                        key,
                        format!("{file}:{line}: SecResponseBodyAccess takes On or Off"),
                    ),
                }
            }
            DirectiveKind::Setting { name, .. } if refused_setting(name) => problem(
                key,
                format!(
                    "{file}:{line}: {name} is not allowed in a snippet (it would change global state); ignored"
                ),
            ),
            DirectiveKind::Setting { .. } => {}
            DirectiveKind::RemoveById(ids) => s.removed_ids.extend(ranges(ids)),
            DirectiveKind::RemoveByTag(tag) => s.removed_tags.push(tag.clone()),
            DirectiveKind::UpdateTargetById {
                ids,
                targets,
                replaced: None,
            } if targets.iter().all(|t| t.negated && !t.count) => {
                for t in targets {
                    let target = match &t.selector {
                        None => t.name.clone(),
                        Some(Selector::Key(k)) => format!("{}:{k}", t.name),
                        Some(Selector::Regex(r)) => format!("{}:/{r}/", t.name),
                        #[allow(unreachable_patterns)]
                        Some(_) => t.name.clone(),
                    };
                    s.removed_targets.push((ranges(ids), target));
                }
            }
            DirectiveKind::Action(actions) => {
                let mut seeded = false;
                for a in actions {
                    if a.name.eq_ignore_ascii_case("setvar")
                        && let Some(v) = &a.value
                        && let Some((name, value)) = v.split_once('=')
                        && let Some(var) = name
                            .strip_prefix("tx.")
                            .or_else(|| name.strip_prefix("TX."))
                    {
                        s.tx_vars.push((var.to_owned(), value.to_owned()));
                        seeded = true;
                    }
                }
                if !seeded {
                    problem(
                        key,
                        format!(
                            "{file}:{line}: SecAction without setvar:tx.* has no effect per Ingress; ignored"
                        ),
                    );
                }
            }
            DirectiveKind::Rule(_) | DirectiveKind::Marker(_) => rules.push(d),
            _ => problem(
                key,
                format!("{file}:{line}: this directive is not supported per Ingress; ignored"),
            ),
        }
    }
    if !rules.is_empty() {
        if clean {
            s.snippet_rules = Some(Arc::new(rules));
        } else {
            problem(
                key,
                "the snippet's SecRule additions are not applied because the snippet has errors"
                    .into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;

    use super::*;

    fn run(pairs: &[(&str, &str)]) -> (WafSettings, Vec<String>) {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let get = |name: &str| {
            map.get_key_value(name)
                .map(|(k, v)| (k.as_str(), v.as_str()))
        };
        let mut problems = Vec::new();
        let s = parse(&get, &mut |k, r| problems.push(format!("{k}: {r}")));
        (s, problems)
    }

    #[test]
    fn one_annotation_enables() {
        let (s, p) = run(&[("enable-modsecurity", "true")]);
        assert_eq!(s.enabled, Some(true));
        assert!(s.core_rules);
        assert!(p.is_empty(), "{p:?}");
        let (s, _) = run(&[]);
        assert_eq!(s.enabled, None);
    }

    #[test]
    fn lua_resty_waf_maps() {
        let (s, p) = run(&[
            ("lua-resty-waf", "active"),
            ("lua-resty-waf-score-threshold", "10"),
            ("lua-resty-waf-debug", "true"),
        ]);
        assert_eq!(s.enabled, Some(true));
        assert_eq!(s.mode, Some(WafMode::Block));
        assert_eq!(
            s.tx_vars,
            vec![(
                "inbound_anomaly_score_threshold".to_owned(),
                "10".to_owned()
            )]
        );
        assert_eq!(p.len(), 1, "{p:?}");
        let (_, p) = run(&[("enable-modsecurity", "false"), ("lua-resty-waf", "active")]);
        assert!(p.iter().any(|p| p.contains("contradicts")), "{p:?}");
    }

    #[test]
    fn snippet_parts() {
        let snippet = "SecRuleEngine On\n\
            Include /etc/nginx/owasp-modsecurity-crs/nginx-modsecurity.conf\n\
            SecRuleRemoveById 942100 920000-920999\n\
            SecRuleRemoveByTag attack-xss\n\
            SecRuleUpdateTargetById 942100 \"!ARGS:password\"\n\
            SecAction \"id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=2\"\n\
            SecRule ARGS:x \"@streq evil\" \"id:10001,phase:1,deny,status:403,msg:'x'\"\n";
        let (s, p) = run(&[
            ("enable-modsecurity", "true"),
            ("modsecurity-snippet", snippet),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.mode, Some(WafMode::Block));
        assert_eq!(s.removed_ids, vec![(942100, 942100), (920000, 920999)]);
        assert_eq!(s.removed_tags, vec!["attack-xss".to_owned()]);
        assert_eq!(
            s.removed_targets,
            vec![(vec![(942100, 942100)], "ARGS:password".to_owned())]
        );
        assert_eq!(
            s.tx_vars,
            vec![("blocking_paranoia_level".to_owned(), "2".to_owned())]
        );
        assert_eq!(s.snippet_rules.as_ref().map(|r| r.len()), Some(1));
        assert_eq!(s.response_body_access, None);
    }

    #[test]
    fn snippet_response_body_access() {
        let on = "SecResponseBodyAccess On\nSecRule RESPONSE_BODY \"@contains secret-token\" \"id:9001,phase:4,deny,status:403\"\n";
        let (s, p) = run(&[("enable-modsecurity", "true"), ("modsecurity-snippet", on)]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.response_body_access, Some(true));
        let (s, p) = run(&[
            ("enable-modsecurity", "true"),
            ("modsecurity-snippet", "SecResponseBodyAccess Off\n"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.response_body_access, Some(false));
        let (s, p) = run(&[
            ("enable-modsecurity", "true"),
            (
                "modsecurity-snippet",
                "SecResponseBodyAccess maybe\nSecResponseBodyLimit 1\n",
            ),
        ]);
        assert_eq!(s.response_body_access, None);
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn file_section_audit_and_budget() {
        let f = crate::file::ConfigFile::parse(
            "waf:\n  mode: block\n  response-inspection: true\n  audit-log: /var/log/audit.json\n  \
             audit-log-parts: ABCFHZ\n  max-eval-ms: 20\n  budget-action: block\n",
        )
        .unwrap();
        let w = f.waf.unwrap();
        assert_eq!(w.response_inspection, Some(true));
        assert_eq!(
            w.audit_log.as_deref(),
            Some(std::path::Path::new("/var/log/audit.json"))
        );
        assert_eq!(w.audit_log_parts.as_deref(), Some("ABCFHZ"));
        assert_eq!(w.max_eval_ms, Some(20));
        assert_eq!(w.budget_action.as_deref(), Some("block"));
        let w = crate::file::ConfigFile::parse("waf:\n  audit_log: a.json\n  max_eval_ms: 0\n")
            .unwrap()
            .waf
            .unwrap();
        assert_eq!(w.max_eval_ms, Some(0));
        assert!(crate::file::ConfigFile::parse("waf:\n  audit-logs: x\n").is_err());
    }

    #[test]
    fn snippet_refuses_global_state() {
        let snippet = "SecAuditLog /tmp/x\nInclude /etc/passwd\nSecRuleEngine On\n";
        let (s, p) = run(&[
            ("enable-modsecurity", "true"),
            ("modsecurity-snippet", snippet),
        ]);
        assert_eq!(s.mode, Some(WafMode::Block));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|p| p.contains("SecAuditLog")), "{p:?}");
    }
}
