//! `portcullis waf eval` and `portcullis waf regression`.

use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use seclang::loader::FsLoader;
use waf_ftw::http::{self, Parsed};

use crate::cli::{WafEvalArgs, WafRegressionArgs};

/// The rule text `waf eval` loads: ModSecurity's recommended base settings in blocking mode
/// with response inspection off, then the CRS at its defaults (anomaly thresholds 5/4) with the
/// chosen paranoia level — the same setup as an nginx + ModSecurity + CRS deployment.
fn eval_config(crs: &Path, paranoia: Option<u8>) -> String {
    let crs = crs.display();
    let mut text = String::from(waf_ftw::config::BASE_CONF);
    text.push_str("SecRuleEngine On\nSecResponseBodyAccess Off\n");
    text.push_str(&format!("Include {crs}/crs-setup.conf.example\n"));
    if let Some(pl) = paranoia {
        text.push_str(&format!(
            "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level={pl}\"\n"
        ));
    }
    text.push_str(&format!(
        "IncludeOptional {crs}/rules/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf.example\n"
    ));
    text.push_str(&format!("Include {crs}/rules/*.conf\n"));
    text.push_str(&format!(
        "IncludeOptional {crs}/rules/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf.example\n"
    ));
    text
}

/// Reads one raw HTTP/1.1 request on stdin; prints `{"blocked","status","anomaly_score","rules"}`.
pub(crate) fn eval(args: &WafEvalArgs) -> anyhow::Result<ExitCode> {
    let crs = std::fs::canonicalize(&args.crs)
        .with_context(|| format!("CRS folder {}", args.crs.display()))?;
    let text = eval_config(&crs, args.paranoia);
    let options = seclang::Options::with_includes();
    let directives = seclang::parse_with(&text, "<waf eval>", &options, &FsLoader)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rules =
        waf::RuleSet::compile(&directives, &FsLoader).map_err(|e| anyhow::anyhow!("{e}"))?;
    rules.set_engine_mode(waf::EngineMode::On);
    let rules = Arc::new(rules);

    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .context("reading the request from stdin")?;
    let verdict = match http::parse(&raw) {
        Parsed::Rejected(status) => serde_json::json!({
            "blocked": true, "status": status, "anomaly_score": 0, "rules": [],
            "error": "the request is not valid HTTP/1.1 and is refused before the WAF",
        }),
        Parsed::Accepted(req) => {
            let mut tx = rules.transaction();
            tx.process_connection(
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 80),
            );
            tx.process_uri(&req.method, &req.uri, &req.protocol);
            for (name, value) in &req.headers {
                tx.add_request_header(name, value);
            }
            let mut interruption = tx.process_request_headers();
            if interruption.is_none() {
                tx.append_request_body(&req.body);
                interruption = tx.process_request_body();
            }
            let score = tx.anomaly_score();
            tx.process_logging();
            let ids: Vec<u64> = tx
                .matched_rules()
                .iter()
                .filter(|m| m.logged)
                .map(|m| m.id)
                .collect();
            serde_json::json!({
                "blocked": interruption.is_some(),
                "status": interruption.as_ref().map_or(200, |i| i.status),
                "anomaly_score": score,
                "rules": ids,
            })
        }
    };
    println!("{verdict}");
    Ok(ExitCode::SUCCESS)
}

/// Runs the CRS regression suite in-process; prints each failure and the summary line.
pub(crate) fn regression(args: &WafRegressionArgs) -> anyhow::Result<ExitCode> {
    let options = waf_ftw::Options {
        filter: args.filter.clone(),
        overrides: args.overrides.clone(),
    };
    let report = waf_ftw::try_run(&args.crs, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    for result in &report.results {
        match &result.outcome {
            waf_ftw::Outcome::Fail(why) => println!("FAIL {}: {why}", result.id),
            waf_ftw::Outcome::Skip(why) => println!("SKIP {}: {why}", result.id),
            waf_ftw::Outcome::Pass => {}
        }
    }
    println!("{}", report.summary_line());
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
