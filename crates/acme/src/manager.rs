//! The manager task: decides what to order and when, installs the results.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use config::certmanager::{AcmeCertificate, AcmeIssuer, IssuerKind};
use config::model::{Certificate, Model, ObjectRef};
use gateway::CancellationToken;
use gateway::acme_http01::Http01Tokens;
use gateway::tls::TlsManager;
use parking_lot::Mutex;
use rand::Rng as _;
use tokio::sync::Notify;

use instant_acme::CertificateIdentifier;

use crate::http::AcmeHttp;
use crate::metrics::CertMetrics;
use crate::store::{CertStatus, SecretFile, Store};
use crate::{AcmeError, AcmeOptions};
use crate::{ari, issue, lock};

type Key = (String, String);

/// A certificate held (stored and/or freshly issued).
#[derive(Debug, Clone)]
struct Held {
    cert: Arc<Certificate>,
    not_before: i64,
    not_after: i64,
    /// RFC 9773 CertID of the leaf (none without an Authority Key Identifier).
    cert_id: Option<CertificateIdentifier<'static>>,
}

/// What ACME Renewal Information said about one held certificate.
#[derive(Debug, Clone)]
struct AriState {
    /// CertID it is about.
    id: String,
    /// The last valid suggested window.
    window: Option<ari::Window>,
    /// The renewal instant picked inside `window`.
    chosen: Option<i64>,
    /// When to fetch again (`Retry-After`).
    next_poll: i64,
}

/// The directory facts of one ACME server, cached.
#[derive(Clone)]
struct DirInfo {
    http: AcmeHttp,
    renewal_info: Option<String>,
    next_check: i64,
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
    ari: Option<AriState>,
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
    dirs: Mutex<BTreeMap<String, DirInfo>>,
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

/// When to renew `h`: the instant picked inside the ARI window when the server gave one for
/// this very certificate (and no later than `renew-before` when that is set), else
/// [`renewal_time`].
fn renew_at(d: &AcmeCertificate, h: &Held, ari: Option<&AriState>) -> i64 {
    let base = renewal_time(h.not_before, h.not_after, d.renew_before);
    let id = h.cert_id.as_ref().map(ToString::to_string);
    let chosen = ari
        .filter(|a| id.as_deref() == Some(a.id.as_str()))
        .and_then(|a| a.chosen);
    match chosen {
        Some(c) if d.renew_before.is_some() => c.min(base),
        Some(c) => c,
        None => base,
    }
}

/// The order `notAfter` for `d`: `now + duration` when the issuer enables the duration
/// feature.
pub(crate) fn requested_not_after(d: &AcmeCertificate, now: i64) -> Option<String> {
    if !d.issuer.enable_duration_feature {
        return None;
    }
    let at = now.saturating_add(secs(d.duration?));
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Timeout of directory and renewalInfo GETs.
const GET_TIMEOUT: Duration = Duration::from_secs(10);

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
    let cert_id = ari::cert_id(chain.first()?.as_ref());
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
        cert_id,
    })
}

/// Cache key of an issuer's directory (same server, same TLS policy).
fn dir_key(issuer: &AcmeIssuer) -> String {
    format!(
        "{}|{}|{}",
        issuer.display_name(),
        issuer.server,
        issuer.skip_tls_verify
    )
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
                dirs: Mutex::new(BTreeMap::new()),
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
                    renewal_time: h.map(|h| renew_at(d, h, s.ari.as_ref())),
                    ari_window_start: s.ari.as_ref().and_then(|a| a.window).map(|w| w.start),
                    ari_window_end: s.ari.as_ref().and_then(|a| a.window).map(|w| w.end),
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
                if let Some(next_poll) = self.refresh_ari(d, h).await {
                    wake = wake.min(next_poll);
                }
                let ari_state = self
                    .inner
                    .sched
                    .lock()
                    .get(&key)
                    .and_then(|s| s.ari.clone());
                let r = renew_at(d, h, ari_state.as_ref());
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
            // One orderer per Secret across processes sharing the state folder.
            let lock = match lock::try_lock(&self.inner.store, &d.namespace, &d.secret_name) {
                Ok(Some(l)) => {
                    tracing::debug!(lock = %l.path().display(), "certificate lock taken");
                    Some(l)
                }
                Ok(None) => {
                    let mut s = sched;
                    s.next_attempt = now().saturating_add(secs(self.inner.opts.lock_retry).max(1));
                    tracing::info!(
                        secret = %format!("{}/{}", d.namespace, d.secret_name),
                        retry_in_s = self.inner.opts.lock_retry.as_secs_f64(),
                        "another Portcullis holds the lock of this certificate in the state folder; not ordering, trying later"
                    );
                    wake = wake.min(s.next_attempt);
                    self.inner.sched.lock().insert(key, s);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take the certificate lock; ordering without it");
                    None
                }
            };
            // Another process may have renewed it while we waited for the lock.
            if let Some(h) = self.adopt_stored(d, usable) {
                let r = renewal_time(h.not_before, h.not_after, d.renew_before);
                tracing::info!(
                    secret = %format!("{}/{}", d.namespace, d.secret_name),
                    "certificate stored by another Portcullis on this state folder adopted; no order"
                );
                if let Some(m) = &self.inner.metrics {
                    m.set(d, true, Some(h.not_after), Some(r));
                }
                self.inner.held.lock().insert(key.clone(), h);
                self.install();
                let mut s = sched;
                s.failures = 0;
                s.next_attempt = 0;
                s.last_error = None;
                s.ari = None;
                self.inner.sched.lock().insert(key, s);
                wake = wake.min(now().saturating_add(1));
                continue;
            }
            let replaces = match usable.and_then(|h| h.cert_id.clone()) {
                Some(id) if self.ari_offered(&d.issuer) => Some(id),
                _ => None,
            };
            let opts = issue::OrderOptions {
                prefer_alpn: sched.http01_failed,
                replaces,
                not_after: requested_not_after(d, now()),
            };
            let started = std::time::Instant::now();
            let result = self.order_one(d, &opts).await;
            drop(lock);
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
                    // A new certificate: ask ARI about it right away (RFC 9773 section 4.3).
                    s.ari = None;
                    wake = wake
                        .min(r.max(now().saturating_add(secs(self.inner.opts.min_order_interval))));
                    if self.ari_offered(&d.issuer) {
                        wake = wake.min(now().saturating_add(1));
                    }
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
        opts: &issue::OrderOptions,
    ) -> Result<(Held, &'static str), AcmeError> {
        let Some((tls, http01)) = self.inner.runtime.get() else {
            return Err(AcmeError::Challenge("manager not started".into()));
        };
        self.inner.orders.fetch_add(1, Ordering::Relaxed);
        let fut = async {
            let session = issue::account(&d.issuer, &self.inner.store).await?;
            issue::order(&session, d, http01, tls, opts).await
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
        if let Some(want) = &opts.not_after {
            tracing::info!(
                secret = %format!("{}/{}", d.namespace, d.secret_name),
                requested_not_after = %want, issued_lifetime_s = na.saturating_sub(nb),
                "duration sent as the order's notAfter; renewal follows the issued lifetime"
            );
        }
        let cert_id = chain.first().and_then(|c| ari::cert_id(c.as_ref()));
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
                cert_id,
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

    /// A stored certificate for `d` newer than `current` and not yet due (written by another
    /// process sharing the state folder).
    fn adopt_stored(&self, d: &AcmeCertificate, current: Option<&Held>) -> Option<Held> {
        let path = self
            .inner
            .store
            .certificate_path(&d.namespace, &d.secret_name);
        let h = held_from_secret(&self.inner.store.read_secret(&path)?)?;
        let t = now();
        let newer = current.is_none_or(|c| h.not_after > c.not_after);
        (newer
            && h.not_after > t
            && same_hosts(&h.cert.hosts, &d.hosts)
            && renewal_time(h.not_before, h.not_after, d.renew_before) > t)
            .then_some(h)
    }

    /// Whether the issuer's directory is known to offer `renewalInfo`.
    fn ari_offered(&self, issuer: &AcmeIssuer) -> bool {
        self.inner
            .dirs
            .lock()
            .get(&dir_key(issuer))
            .is_some_and(|d| d.renewal_info.is_some())
    }

    /// The issuer's client and `renewalInfo` URL (directory fetched at most daily; after a
    /// failure, again after the retry delay).
    async fn renewal_info(&self, issuer: &AcmeIssuer) -> Option<(AcmeHttp, String)> {
        let key = dir_key(issuer);
        let t = now();
        let cached = self.inner.dirs.lock().get(&key).cloned();
        if let Some(c) = &cached
            && c.next_check > t
        {
            return Some((c.http.clone(), c.renewal_info.clone()?));
        }
        let http = match cached {
            Some(c) => c.http,
            None => match AcmeHttp::new(issuer) {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(issuer = %issuer.display_name(), error = %e, "ACME HTTP client");
                    return None;
                }
            },
        };
        let retry = secs(self.inner.opts.retry_max.min(ari::DEFAULT_POLL)).max(1);
        let (renewal_info, next_check) = match ari::directory_renewal_info(
            &http,
            &issuer.server,
            GET_TIMEOUT,
        )
        .await
        {
            Ok(u) => (u, t.saturating_add(24 * 3600)),
            Err(e) => {
                tracing::warn!(issuer = %issuer.display_name(), error = %e, "ACME directory unreadable; renewal falls back to the 2/3 rule");
                (None, t.saturating_add(retry))
            }
        };
        self.inner.dirs.lock().insert(
            key,
            DirInfo {
                http: http.clone(),
                renewal_info: renewal_info.clone(),
                next_check,
            },
        );
        Some((http, renewal_info?))
    }

    /// Fetches ACME Renewal Information for `h` when it is due; returns when to poll again
    /// (`None` when the server offers no ARI or `h` has no CertID).
    async fn refresh_ari(&self, d: &AcmeCertificate, h: &Held) -> Option<i64> {
        let id = h.cert_id.as_ref()?;
        let ids = id.to_string();
        let key = (d.namespace.clone(), d.secret_name.clone());
        let t = now();
        let cur = self
            .inner
            .sched
            .lock()
            .get(&key)
            .and_then(|s| s.ari.clone())
            .filter(|a| a.id == ids);
        if let Some(a) = &cur
            && a.next_poll > t
        {
            return Some(a.next_poll);
        }
        let (http, url) = self.renewal_info(&d.issuer).await?;
        let started = std::time::Instant::now();
        let min_poll = self.inner.opts.ari_min_poll;
        let state = match ari::fetch(&http, &url, id, min_poll, t, GET_TIMEOUT).await {
            Ok(ans) => {
                let same = cur.as_ref().filter(|a| a.window == Some(ans.window));
                let chosen = same
                    .and_then(|a| a.chosen)
                    .unwrap_or_else(|| ans.window.pick());
                tracing::info!(
                    secret = %format!("{}/{}", d.namespace, d.secret_name),
                    window_start = ans.window.start, window_end = ans.window.end,
                    renew_at = chosen, poll_in_s = ans.poll_after.as_secs(),
                    explanation = ans.explanation.as_deref().unwrap_or("-"),
                    elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "ACME renewal information"
                );
                AriState {
                    id: ids,
                    window: Some(ans.window),
                    chosen: Some(chosen),
                    next_poll: t.saturating_add(secs(ans.poll_after).max(1)),
                }
            }
            Err(e) => {
                let retry = self
                    .inner
                    .opts
                    .retry_max
                    .min(ari::DEFAULT_POLL)
                    .max(min_poll);
                tracing::warn!(
                    secret = %format!("{}/{}", d.namespace, d.secret_name),
                    error = %e, retry_in_s = retry.as_secs(),
                    "ACME renewal information unavailable; keeping the previous schedule"
                );
                AriState {
                    id: ids,
                    window: cur.as_ref().and_then(|a| a.window),
                    chosen: cur.as_ref().and_then(|a| a.chosen),
                    next_poll: t.saturating_add(secs(retry).max(1)),
                }
            }
        };
        let next = state.next_poll;
        self.inner.sched.lock().entry(key).or_default().ari = Some(state);
        Some(next)
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
