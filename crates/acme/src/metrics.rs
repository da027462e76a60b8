//! cert-manager's certificate metrics, registered on the gateway's Prometheus registry so
//! cert-manager's Grafana panels work unchanged.

use config::certmanager::{AcmeCertificate, IssuerKind};
use prometheus::{GaugeVec, IntCounterVec, Opts};

const LABELS: [&str; 5] = [
    "name",
    "namespace",
    "issuer_name",
    "issuer_kind",
    "issuer_group",
];

/// The certificate gauges and the order failure counter.
#[derive(Debug, Clone)]
pub(crate) struct CertMetrics {
    expiration: GaugeVec,
    renewal: GaugeVec,
    ready: GaugeVec,
    failures: IntCounterVec,
}

fn labels(c: &AcmeCertificate) -> [String; 5] {
    [
        c.secret_name.clone(),
        c.namespace.clone(),
        c.issuer.name.clone(),
        match c.issuer.kind {
            IssuerKind::ClusterIssuer => "ClusterIssuer".into(),
            IssuerKind::Issuer => "Issuer".into(),
        },
        "cert-manager.io".into(),
    ]
}

impl CertMetrics {
    /// Registers the metrics (a second registration on the same registry is tolerated).
    pub(crate) fn register(registry: Option<&prometheus::Registry>) -> Option<Self> {
        let g = |name: &str, help: &str, extra: &[&str]| {
            let mut l: Vec<&str> = LABELS.to_vec();
            l.extend_from_slice(extra);
            GaugeVec::new(Opts::new(name, help), &l).ok()
        };
        let m = Self {
            expiration: g(
                "certmanager_certificate_expiration_timestamp_seconds",
                "The date after which the certificate expires, Unix seconds.",
                &[],
            )?,
            renewal: g(
                "certmanager_certificate_renewal_timestamp_seconds",
                "The time after which the certificate will be renewed, Unix seconds.",
                &[],
            )?,
            ready: g(
                "certmanager_certificate_ready_status",
                "The ready status of the certificate.",
                &["condition"],
            )?,
            failures: IntCounterVec::new(
                Opts::new(
                    "portcullis_acme_order_failures_total",
                    "Failed ACME orders (issuance or renewal).",
                ),
                &LABELS,
            )
            .ok()?,
        };
        if let Some(r) = registry {
            for c in [
                Box::new(m.expiration.clone()) as Box<dyn prometheus::core::Collector>,
                Box::new(m.renewal.clone()),
                Box::new(m.ready.clone()),
                Box::new(m.failures.clone()),
            ] {
                if let Err(e) = r.register(c) {
                    tracing::warn!(error = %e, "ACME metrics registration");
                }
            }
        }
        Some(m)
    }

    pub(crate) fn set(
        &self,
        c: &AcmeCertificate,
        ready: bool,
        not_after: Option<i64>,
        renew_at: Option<i64>,
    ) {
        let l = labels(c);
        let l: Vec<&str> = l.iter().map(String::as_str).collect();
        if let Some(t) = not_after {
            self.expiration.with_label_values(&l).set(t as f64);
        }
        if let Some(t) = renew_at {
            self.renewal.with_label_values(&l).set(t as f64);
        }
        for (cond, on) in [("True", ready), ("False", !ready), ("Unknown", false)] {
            let mut lc = l.clone();
            lc.push(cond);
            self.ready
                .with_label_values(&lc)
                .set(if on { 1.0 } else { 0.0 });
        }
    }

    pub(crate) fn failed(&self, c: &AcmeCertificate) {
        let l = labels(c);
        let l: Vec<&str> = l.iter().map(String::as_str).collect();
        self.failures.with_label_values(&l).inc();
    }
}
