//! `portcullis waf eval` and `portcullis waf regression`.

use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::Context as _;
use waf_ftw::http::{self, Parsed};

use crate::cli::{WafEvalArgs, WafRegressionArgs};

/// Request body inspection limit of `waf eval` (ModSecurity's recommended 13 MB).
const EVAL_BODY_LIMIT: u64 = 13_107_200;

/// Reads one raw HTTP/1.1 request on stdin; prints `{"blocked","status","anomaly_score","rules"}`.
pub(crate) fn eval(args: &WafEvalArgs) -> anyhow::Result<ExitCode> {
    let crs = std::fs::canonicalize(&args.crs)
        .with_context(|| format!("CRS folder {}", args.crs.display()))?;
    // The same shared rule set the gateway compiles (recommended base settings in blocking
    // mode, CRS setup and rules); the paranoia level is seeded per transaction, as CRS 901
    // only sets it when unset.
    let rules = gateway::waf::profile::compile(&crs, EVAL_BODY_LIMIT, false)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

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
            if let Some(pl) = args.paranoia {
                gateway::waf::profile::seed_paranoia(&mut tx, pl);
            }
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
