//! The [`Waf`] implementation over the real engine (`waf::RuleSet`), configured as CRS CI.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::Response;
use crate::config::{OverlayLoader, main_conf_path};
use crate::http::HttpRequest;
use crate::runner::{Evaluation, LogEntry, Waf};

/// Errors preparing the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration or rules did not parse.
    #[error("parse: {0}")]
    Parse(String),
    /// The rules did not compile.
    #[error("compile: {0}")]
    Compile(String),
}

/// The engine loaded with CRS and the CI configuration, in DetectionOnly.
pub struct EngineWaf {
    rules: Arc<waf::RuleSet>,
    counter: AtomicU64,
}

impl EngineWaf {
    /// Parse and compile the CI configuration for the CRS checkout at `crs_dir`.
    pub fn load(crs_dir: &Path) -> Result<Self, EngineError> {
        let loader = OverlayLoader::new(crs_dir);
        let directives = seclang::parse_file(&main_conf_path(), &loader)
            .map_err(|e| EngineError::Parse(e.to_string()))?;
        let mut rules = waf::RuleSet::compile(&directives, &loader)
            .map_err(|e| EngineError::Compile(e.to_string()))?;
        rules.set_engine_mode(waf::EngineMode::DetectionOnly);
        Ok(EngineWaf {
            rules: Arc::new(rules),
            counter: AtomicU64::new(0),
        })
    }
}

impl Waf for EngineWaf {
    fn evaluate(&self, req: &HttpRequest, resp: &Response) -> Evaluation {
        let mut tx = self.rules.transaction();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        tx.set_id(&format!("ftw-{n}"));
        tx.process_connection(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
        );
        tx.process_uri(&req.method, &req.uri, &req.protocol);
        for (k, v) in &req.headers {
            tx.add_request_header(k, v);
        }
        let mut interruption = tx.process_request_headers();
        if interruption.is_none() {
            tx.append_request_body(&req.body);
            interruption = tx.process_request_body();
        }
        if interruption.is_none() {
            for (k, v) in &resp.headers {
                tx.add_response_header(k, v);
            }
            // ModSecurity-nginx passes the protocol in this form.
            interruption = tx.process_response_headers(resp.status, b"HTTP 1.1");
        }
        if interruption.is_none() {
            tx.append_response_body(&resp.body);
            interruption = tx.process_response_body();
        }
        tx.process_logging();
        let logged = tx
            .matched_rules()
            .iter()
            .filter(|m| m.logged)
            .map(|m| LogEntry {
                id: m.id,
                msg: m.msg.clone(),
                data: m.data.clone(),
                severity: m.severity,
                tags: m.tags.clone(),
                matched_var_name: m.matched_var_name.clone(),
                matched_var: m.matched_var.clone(),
            })
            .collect();
        Evaluation {
            logged,
            interrupted: interruption.map(|i| i.status),
        }
    }
}
