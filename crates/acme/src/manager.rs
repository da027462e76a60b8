//! The manager task: decides what to order and when, installs the results.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use config::certmanager::{AcmeCertificate, IssuerKind};
use config::model::{Certificate, Model, ObjectRef};
use gateway::CancellationToken;
use gateway::acme_http01::Http01Tokens;
use gateway::tls::TlsManager;
use parking_lot::Mutex;
use rand::Rng as _;
use tokio::sync::Notify;

use crate::issue;
use crate::metrics::CertMetrics;
use crate::store::{CertStatus, SecretFile, Store};
use crate::{AcmeError, AcmeOptions};

type Key = (String, String);

/// A certificate held (stored and/or freshly issued).
#[derive(Debug, Clone)]
struct Held {
    cert: Arc<Certificate>,
    not_before: i64,
    not_after: i64,
}

/// Per-certificate scheduling state.
#[derive(Debug, Default, Clone)]
struct Sched {
    failures: u32,
    next_attempt: i64,
    last_order: Option<i64>,
    last_error: Option<String>,
    http01_failed: bool,
    orders: u32,
}

struct Inner {
    opts: AcmeOptions,
    store: Store,
    desired: Mutex<Vec<AcmeCertificate>>,
    base: Mutex<Vec<Arc<Certificate>>>,
    held: Mutex<BTreeMap<Key, Held>>,
    sched: Mutex<BTreeMap<Key, Sched>>,
    wake: Notify,
    metrics: Option<CertMetrics>,
    orders: AtomicU64,
    runtime: OnceLock<(TlsManager, Http01Tokens)>,
}

/// The ACME certificate manager (cheap to clone; one per process).
#[derive(Clone)]
pub struct AcmeService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AcmeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeService")
            .field("state_dir", &self.inner.opts.state_dir)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// When renewal of a certificate valid `[nb, na]` starts: `renew_before` ahead of expiry,
/// else at 2/3 of the lifetime.
pub(crate) fn renewal_time(nb: i64, na: i64, renew_before: Option<Duration>) -> i64 {
    let life = na.saturating_sub(nb).max(0);
    match renew_before {
        Some(rb) => na.saturating_sub(secs(rb)).max(nb),
        None => nb.saturating_add(life / 3 * 2),
    }
}

/// Exponential back-off with +-20 % jitter: `base * 2^(failures-1)`, capped at `max`.
pub(crate) fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let d = base.saturating_mul(1u32 << exp).min(max);
    let jitter: f64 = rand::rng().random_range(0.8..1.2);
    d.mul_f64(jitter)
}

fn held_from_secret(s: &SecretFile) -> Option<Held> {
    if s.type_ != "kubernetes.io/tls" {
        return None;
    }
    let chain = issue::parse_chain(s.data.get("tls.crt")?).ok()?;
    let key = issue::parse_key(s.data.get("tls.key")?).ok()?;
    let (nb, na) = issue::validity(chain.first()?.as_ref())?;
    let hosts = s
        .annotations
        .get("cert-manager.io/alt-names")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    Some(Held {
        cert: Arc::new(Certificate {
            secret: ObjectRef {
                namespace: s.namespace.clone(),
                name: s.name.clone(),
            },
            hosts,
            chain,
            key,
        }),
        not_before: nb,
        not_after: na,
    })
}

fn same_hosts(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

impl AcmeService {
    /// Reads the stored certificates under `opts.state_dir` (no network). `registry`: where
    /// to register cert-manager's metrics (the gateway's `Metrics::registry()`).
    pub fn new(opts: AcmeOptions, registry: Option<&prometheus::Registry>) -> Self {
        let store = Store::new(&opts.state_dir);
        let mut held = BTreeMap::new();
        for s in store.certificates() {
            match held_from_secret(&s) {
                Some(h) if h.not_after > now() => {
                    held.insert((s.namespace.clone(), s.name.clone()), h);
                }
                _ => {
                    tracing::warn!(secret = %format!("{}/{}", s.namespace, s.name), "stored certificate unusable or expired; it will be ordered again")
                }
            }
        }
        tracing::info!(stored = held.len(), dir = %opts.state_dir.display(), "ACME state loaded");
        Self {
            inner: Arc::new(Inner {
                store,
                desired: Mutex::new(Vec::new()),
                base: Mutex::new(Vec::new()),
                held: Mutex::new(held),
                sched: Mutex::new(BTreeMap::new()),
                wake: Notify::new(),
                metrics: CertMetrics::register(registry),
                orders: AtomicU64::new(0),
                runtime: OnceLock::new(),
                opts,
            }),
        }
    }

    /// Records `model.acme` as the wanted certificates and adds the valid held ones to
    /// `model.certificates` (replacing a manifest Secret of the same name). Call on every
    /// model before `TlsManager::update`.
    pub fn apply(&self, model: &mut Model) {
        *self.inner.base.lock() = model.certificates.clone();
        *self.inner.desired.lock() = model.acme.clone();
        let certs = self.served(&model.certificates, &model.acme);
        model.certificates = certs;
        self.inner.wake.notify_one();
    }

    fn served(
        &self,
        base: &[Arc<Certificate>],
        desired: &[AcmeCertificate],
    ) -> Vec<Arc<Certificate>> {
        let held = self.inner.held.lock();
        let t = now();
        let mut acme: Vec<Arc<Certificate>> = Vec::new();
        for d in desired {
            if let Some(h) = held.get(&(d.namespace.clone(), d.secret_name.clone()))
                && h.not_after > t
                && same_hosts(&h.cert.hosts, &d.hosts)
            {
                acme.push(Arc::clone(&h.cert));
            }
        }
        let mut out: Vec<Arc<Certificate>> = base
            .iter()
            .filter(|c| !acme.iter().any(|a| a.secret == c.secret))
            .cloned()
            .collect();
        out.extend(acme);
        out
    }

    /// Number of ACME orders placed by this process.
    pub fn orders(&self) -> u64 {
        self.inner.orders.load(Ordering::Relaxed)
    }

    /// Status of every wanted certificate (as `portcullis certs` shows it).
    pub fn status(&self) -> Vec<CertStatus> {
        let desired = self.inner.desired.lock().clone();
        let held = self.inner.held.lock();
        let sched = self.inner.sched.lock();
        desired
            .iter()
            .map(|d| {
                let key = (d.namespace.clone(), d.secret_name.clone());
                let h = held.get(&key);
                let s = sched.get(&key).cloned().unwrap_or_default();
                CertStatus {
                    namespace: d.namespace.clone(),
                    secret_name: d.secret_name.clone(),
                    hosts: d.hosts.clone(),
                    issuer: d.issuer.display_name(),
                    not_after: h.map(|h| h.not_after),
                    renewal_time: h
                        .map(|h| renewal_time(h.not_before, h.not_after, d.renew_before)),
                    last_error: s.last_error,
                    failures: s.failures,
                    next_attempt: (s.failures > 0).then_some(s.next_attempt),
                    orders: s.orders,
                }
            })
            .collect()
    }

    /// Starts the manager task. Never blocks on the CA.
    pub fn start(
        &self,
        tls: TlsManager,
        http01: Http01Tokens,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let _ = self.inner.runtime.set((tls, http01));
        let me = self.clone();
        tokio::spawn(async move { me.run(shutdown).await })
    }

    async fn run(self, shutdown: CancellationToken) {
        loop {
            let wake_at = self.pass().await;
            if let Err(e) = self.inner.store.write_status(&self.status()) {
                tracing::warn!(error = %e, "cannot write ACME status");
            }
            let wait = Duration::from_secs(u64::try_from((wake_at - now()).max(1)).unwrap_or(1))
                .min(Duration::from_secs(3600));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// One pass over the wanted certificates; returns when to look again.
    async fn pass(&self) -> i64 {
        let desired = self.inner.desired.lock().clone();
        let mut wake = now().saturating_add(3600);
        for d in &desired {
            let key = (d.namespace.clone(), d.secret_name.clone());
            let t = now();
            let held = self.inner.held.lock().get(&key).cloned();
            let usable = held
                .as_ref()
                .filter(|h| h.not_after > t && same_hosts(&h.cert.hosts, &d.hosts));
            if let Some(h) = usable {
                let r = renewal_time(h.not_before, h.not_after, d.renew_before);
                if let Some(m) = &self.inner.metrics {
                    m.set(d, true, Some(h.not_after), Some(r));
                }
                if r > t {
                    wake = wake.min(r);
                    continue;
                }
            }
            let sched = self
                .inner
                .sched
                .lock()
                .get(&key)
                .cloned()
                .unwrap_or_default();
            let mut not_before = sched.next_attempt;
            if let Some(last) = sched.last_order {
                not_before =
                    not_before.max(last.saturating_add(secs(self.inner.opts.min_order_interval)));
            }
            if not_before > t {
                wake = wake.min(not_before);
                continue;
            }
            let renewing = usable.is_some();
            let started = std::time::Instant::now();
            let result = self.order_one(d, sched.http01_failed).await;
            let mut s = sched;
            s.last_order = Some(now());
            s.orders = s.orders.saturating_add(1);
            match result {
                Ok((h, challenge)) => {
                    let r = renewal_time(h.not_before, h.not_after, d.renew_before);
                    tracing::info!(
                        secret = %format!("{}/{}", d.namespace, d.secret_name),
                        hosts = ?d.hosts, issuer = %d.issuer.display_name(), challenge,
                        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        renewal = renewing, "certificate issued"
                    );
                    if let Some(m) = &self.inner.metrics {
                        m.set(d, true, Some(h.not_after), Some(r));
                    }
                    self.inner.held.lock().insert(key.clone(), h);
                    self.install();
                    s.failures = 0;
                    s.next_attempt = 0;
                    s.last_error = None;
                    s.http01_failed = false;
                    wake = wake
                        .min(r.max(now().saturating_add(secs(self.inner.opts.min_order_interval))));
                }
                Err(e) => {
                    s.failures = s.failures.saturating_add(1);
                    s.http01_failed = !s.http01_failed;
                    let delay = backoff(
                        s.failures,
                        self.inner.opts.retry_base,
                        self.inner.opts.retry_max,
                    );
                    s.next_attempt = now().saturating_add(secs(delay).max(1));
                    tracing::error!(
                        secret = %format!("{}/{}", d.namespace, d.secret_name),
                        hosts = ?d.hosts, issuer = %d.issuer.display_name(), error = %e,
                        failures = s.failures, retry_in_s = delay.as_secs_f64(),
                        still_serving = if renewing { "the previous certificate" } else { "the default certificate" },
                        "ACME order FAILED"
                    );
                    if let Some(m) = &self.inner.metrics {
                        m.failed(d);
                        if !renewing {
                            m.set(d, false, None, None);
                        }
                    }
                    s.last_error = Some(e.to_string());
                    wake = wake.min(s.next_attempt);
                }
            }
            self.inner.sched.lock().insert(key, s);
        }
        wake
    }

    async fn order_one(
        &self,
        d: &AcmeCertificate,
        prefer_alpn: bool,
    ) -> Result<(Held, &'static str), AcmeError> {
        let Some((tls, http01)) = self.inner.runtime.get() else {
            return Err(AcmeError::Challenge("manager not started".into()));
        };
        self.inner.orders.fetch_add(1, Ordering::Relaxed);
        let fut = async {
            let account = issue::account(&d.issuer, &self.inner.store).await?;
            issue::order(&account, d, http01, tls, prefer_alpn).await
        };
        let issued = tokio::time::timeout(self.inner.opts.order_timeout, fut)
            .await
            .map_err(|_| AcmeError::Challenge("order timed out".into()))??;
        let chain = issue::parse_chain(issued.chain_pem.as_bytes())?;
        let key = issue::parse_key(issued.key_pem.as_bytes())?;
        // Check the key matches before storing.
        issue::certified_key(chain.clone(), key.clone_key())?;
        let (nb, na) = chain
            .first()
            .and_then(|c| issue::validity(c.as_ref()))
            .ok_or_else(|| AcmeError::Certificate("unreadable validity".into()))?;
        self.write_secret(d, &issued)?;
        Ok((
            Held {
                cert: Arc::new(Certificate {
                    secret: ObjectRef {
                        namespace: d.namespace.clone(),
                        name: d.secret_name.clone(),
                    },
                    hosts: d.hosts.clone(),
                    chain,
                    key,
                }),
                not_before: nb,
                not_after: na,
            },
            issued.challenge,
        ))
    }

    fn write_secret(&self, d: &AcmeCertificate, issued: &issue::Issued) -> Result<(), AcmeError> {
        let mut s = SecretFile {
            namespace: d.namespace.clone(),
            name: d.secret_name.clone(),
            type_: "kubernetes.io/tls".into(),
            ..SecretFile::default()
        };
        let a = &mut s.annotations;
        a.insert("cert-manager.io/alt-names".into(), d.hosts.join(","));
        a.insert(
            "cert-manager.io/certificate-name".into(),
            d.secret_name.clone(),
        );
        a.insert(
            "cert-manager.io/common-name".into(),
            d.common_name
                .clone()
                .unwrap_or_else(|| d.hosts.first().cloned().unwrap_or_default()),
        );
        a.insert(
            "cert-manager.io/issuer-group".into(),
            "cert-manager.io".into(),
        );
        a.insert(
            "cert-manager.io/issuer-kind".into(),
            match d.issuer.kind {
                IssuerKind::ClusterIssuer => "ClusterIssuer".into(),
                IssuerKind::Issuer => "Issuer".into(),
            },
        );
        a.insert("cert-manager.io/issuer-name".into(), d.issuer.name.clone());
        a.insert("cert-manager.io/ip-sans".into(), String::new());
        a.insert("cert-manager.io/uri-sans".into(), String::new());
        s.data
            .insert("tls.crt".into(), issued.chain_pem.clone().into_bytes());
        s.data
            .insert("tls.key".into(), issued.key_pem.clone().into_bytes());
        let path = self
            .inner
            .store
            .certificate_path(&d.namespace, &d.secret_name);
        self.inner.store.write(&path, &s.to_yaml())
    }

    /// Hot-swaps the served certificates: the model's plus the held ACME ones.
    fn install(&self) {
        let Some((tls, _)) = self.inner.runtime.get() else {
            return;
        };
        let base = self.inner.base.lock().clone();
        let desired = self.inner.desired.lock().clone();
        let model = Model {
            certificates: self.served(&base, &desired),
            ..Model::default()
        };
        let report = tls.update(&model);
        for s in &report.skipped {
            tracing::error!(?s, "ACME certificate rejected by the TLS manager");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_at_two_thirds_or_renew_before() {
        assert_eq!(renewal_time(0, 90, None), 60);
        assert_eq!(renewal_time(0, 90, Some(Duration::from_secs(10))), 80);
        assert_eq!(renewal_time(0, 90, Some(Duration::from_secs(1000))), 0);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Duration::from_secs(10);
        let m = Duration::from_secs(100);
        let d1 = backoff(1, b, m).as_secs_f64();
        let d3 = backoff(3, b, m).as_secs_f64();
        let d9 = backoff(9, b, m).as_secs_f64();
        assert!((8.0..=12.0).contains(&d1), "{d1}");
        assert!((32.0..=48.0).contains(&d3), "{d3}");
        assert!((80.0..=120.0).contains(&d9), "{d9}");
    }
}
