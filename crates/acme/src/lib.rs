//! Automatic HTTPS over ACME (issue #5): obtains, stores, serves and renews the certificates
//! described by [`config::model::Model::acme`] (cert-manager style issuers and annotations).
//!
//! Use from the binary:
//! 1. [`AcmeService::new`] (reads what `--state-dir` holds; never talks to the CA);
//! 2. [`AcmeService::apply`] on every model before `TlsManager::update` / `Gateway::swap`
//!    (adds the stored certificates, records what is wanted, wakes the worker);
//! 3. [`AcmeService::start`] once the listeners are bound, with the `TlsManager` and the
//!    gateway's HTTP-01 token store ([`gateway::Gateway::acme_http01`]).
//!
//! Until a certificate exists the gateway keeps serving its self-signed default certificate;
//! startup never waits for the CA.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ari;
mod http;
mod issue;
mod lock;
mod manager;
mod metrics;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use manager::AcmeService;
pub use store::{CertStatus, Store};

/// Errors of the ACME manager (per certificate; never fatal for the gateway).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcmeError {
    /// The ACME server answered with an error or could not be reached.
    #[error("ACME: {0}")]
    Acme(#[from] instant_acme::Error),
    /// An authorization failed or no usable challenge was offered.
    #[error("challenge: {0}")]
    Challenge(String),
    /// Key or CSR generation failed.
    #[error("key/CSR: {0}")]
    Key(String),
    /// Reading or writing the state folder failed.
    #[error("state folder: {0}")]
    Store(String),
    /// The issued certificate could not be used.
    #[error("certificate: {0}")]
    Certificate(String),
}

/// Tunables of the manager (tests shorten them).
#[derive(Debug, Clone)]
pub struct AcmeOptions {
    /// The state folder (`--state-dir`).
    pub state_dir: PathBuf,
    /// First retry delay after a failure; doubles per failure (with +-20 % jitter).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Shortest time between two orders for the same certificate (never hammer the CA).
    pub min_order_interval: Duration,
    /// How long one order may take (challenges + finalization).
    pub order_timeout: Duration,
    /// When another process holds a certificate's lock in the state folder, try again after
    /// this long.
    pub lock_retry: Duration,
    /// Shortest ACME Renewal Information re-poll honoured from `Retry-After`.
    pub ari_min_poll: Duration,
}

impl AcmeOptions {
    /// Defaults: retries from 30 s up to 1 h, at most one order per certificate per minute,
    /// orders time out after 2 minutes, a busy certificate lock is retried after 30 s, ARI is
    /// polled at most once a minute.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            state_dir: state_dir.to_path_buf(),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            min_order_interval: Duration::from_secs(60),
            order_timeout: Duration::from_secs(120),
            lock_retry: Duration::from_secs(30),
            ari_min_poll: Duration::from_secs(60),
        }
    }
}

/// Lists the certificates stored under `state_dir` with their status (for
/// `portcullis certs`).
pub fn list(state_dir: &Path) -> Vec<CertStatus> {
    let store = Store::new(state_dir);
    let mut status = store.read_status();
    for s in store.certificates() {
        if status
            .iter()
            .any(|c| c.namespace == s.namespace && c.secret_name == s.name)
        {
            continue;
        }
        let ann = |k: &str| s.annotations.get(k).cloned();
        let not_after = s
            .data
            .get("tls.crt")
            .and_then(|pem| issue::parse_chain(pem).ok())
            .and_then(|chain| chain.first().and_then(|c| issue::validity(c.as_ref())))
            .map(|(_, na)| na);
        status.push(CertStatus {
            namespace: s.namespace.clone(),
            secret_name: s.name.clone(),
            hosts: ann("cert-manager.io/alt-names")
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            issuer: format!(
                "{}/{}",
                ann("cert-manager.io/issuer-kind").unwrap_or_default(),
                ann("cert-manager.io/issuer-name").unwrap_or_default()
            ),
            not_after,
            ..CertStatus::default()
        });
    }
    status
}

/// Renders [`list`] as a table.
pub fn render_list(status: &[CertStatus]) -> String {
    let ts = |t: Option<i64>| {
        t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| "-".into())
    };
    let mut out = String::from("SECRET\tHOSTS\tISSUER\tNOT AFTER\tRENEWAL\tLAST ERROR\n");
    for s in status {
        out.push_str(&format!(
            "{}/{}\t{}\t{}\t{}\t{}\t{}\n",
            s.namespace,
            s.secret_name,
            s.hosts.join(","),
            s.issuer,
            ts(s.not_after),
            ts(s.renewal_time),
            s.last_error.as_deref().unwrap_or("-")
        ));
    }
    out
}
