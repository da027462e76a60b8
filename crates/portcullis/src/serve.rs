//! `portcullis serve`: load the manifests, start the listeners, reload on change, drain on exit.

use std::collections::HashSet;
use std::hash::{Hash as _, Hasher as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use config::model::{Model, Problem};
use gateway::admin::AdminState;
use gateway::tls::TlsManager;
use gateway::{CancellationToken, Gateway, GatewayOptions, TelemetrySink};
use telemetry::{AccessLog, Metrics, MetricsConfig};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::demo;
use crate::settings::Settings;

/// Ports of the built-in demo backends the bundled example's Endpoints point at.
const DEMO_BACKENDS: [(&str, &str); 2] =
    [("127.0.0.1:9001", "demo-1"), ("127.0.0.1:9002", "demo-2")];

/// How long file events are gathered before one reload (editors write files in several steps).
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(250);

/// Runs until SIGINT/SIGTERM, then drains in-flight requests.
pub(crate) async fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::for_serve(args)?;
    if args.demo {
        for (addr, name) in DEMO_BACKENDS {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("demo backend {name}: cannot listen on {addr}"))?;
            tokio::spawn(demo::serve(listener, Arc::from(name)));
        }
    }

    std::fs::create_dir_all(&settings.state_dir)
        .with_context(|| format!("state folder {}", settings.state_dir.display()))?;
    let mut model = config::load_dir(&settings.manifests, &settings.load)?;
    report_problems(&model.problems, &settings.manifests);

    let metrics = Arc::new(Metrics::new(MetricsConfig::default()).context("metrics registry")?);
    // ACME (issue #5): stored certificates are served at once; orders run in the background.
    let acme = acme::AcmeService::new(
        acme::AcmeOptions::new(&settings.state_dir),
        Some(metrics.registry()),
    );
    acme.apply(&mut model);
    let access_log = match &settings.access_log {
        Some(path) => {
            AccessLog::file(path).with_context(|| format!("access log {}", path.display()))?
        }
        None => AccessLog::stdout().context("access log on stdout")?,
    };
    let sink = Arc::new(TelemetrySink::new(
        access_log.clone(),
        Some(Arc::clone(&metrics)),
    ));

    let (tls, report) = TlsManager::with_model(&model).context("TLS configuration")?;
    for skipped in &report.skipped {
        tracing::warn!(?skipped, "certificate skipped");
    }
    metrics.config_reloaded(true, model_hash(&model));
    let waf_file = match &args.manifests.config {
        Some(path) => config::file::ConfigFile::load(path)?.waf,
        None => None,
    };
    let security = crate::waf_flags::security_sink(&args.waf, waf_file.as_ref(), &access_log)?;
    let waf = crate::waf_flags::build(&args.waf, waf_file.as_ref(), &security, &metrics)?;
    let global_limiter = global_limiter(&settings, &metrics)?;
    let options = GatewayOptions {
        waf,
        global_limiter,
        limits: gateway::LimitOptions {
            sinks: gateway::RejectSinks {
                events: Some(Arc::clone(&security)),
                metrics: Some(Arc::clone(&metrics)),
            },
            ..gateway::LimitOptions::default()
        },
        https_redirect_port: Some(settings.https.port()),
        ..GatewayOptions::default()
    };
    let gateway = Gateway::with_sink(Arc::new(model), options, sink);

    let http = bind(settings.http, "HTTP").await?;
    let https = bind(settings.https, "HTTPS").await?;
    let admin = bind(settings.admin, "admin").await?;
    tracing::info!(
        http = %settings.http, https = %settings.https, admin = %settings.admin,
        manifests = %settings.manifests.display(), "portcullis serving"
    );

    let shutdown = CancellationToken::new();
    let admin_state = AdminState::new(Arc::clone(&metrics));
    admin_state.set_ready(true);
    let mut tasks = tokio::task::JoinSet::new();
    {
        let (gw, token) = (Arc::clone(&gateway), shutdown.clone());
        tasks.spawn(async move {
            gw.serve_http(http, token)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    {
        let (gw, token, acceptor) = (Arc::clone(&gateway), shutdown.clone(), tls.acceptor());
        tasks.spawn(async move {
            gw.serve_https(https, acceptor, token)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    {
        let token = shutdown.clone();
        tasks.spawn(async move {
            gateway::admin::serve_admin(admin, admin_state, async move { token.cancelled().await })
                .await
                .map_err(anyhow::Error::from)
        });
    }
    acme.start(tls.clone(), gateway.acme_http01(), shutdown.clone());
    let _watcher = watch(
        &settings,
        Arc::clone(&gateway),
        tls,
        Arc::clone(&metrics),
        acme,
    )?;

    wait_for_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    shutdown.cancel();
    let mut code = ExitCode::SUCCESS;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "listener failed");
                code = ExitCode::FAILURE;
            }
            Err(e) => {
                tracing::error!(error = %e, "listener task panicked");
                code = ExitCode::FAILURE;
            }
        }
    }
    access_log.close();
    Ok(code)
}

/// The Redis global limiter when `--redis` is set (connects in the background).
fn global_limiter(
    settings: &Settings,
    metrics: &Metrics,
) -> anyhow::Result<Option<Arc<gateway::global_limit::GlobalLimiter>>> {
    let Some(url) = &settings.redis else {
        return Ok(None);
    };
    let limiter = Arc::new(
        gateway::global_limit::GlobalLimiter::new(url, settings.global_limit.clone())
            .context("--redis")?,
    );
    gateway::global_limit::GlobalLimitCollector::register(Arc::clone(&limiter), metrics.registry())
        .context("global limit metrics")?;
    tracing::info!(
        redis = limiter.url(),
        fail_open = limiter.fail_open(),
        timeout_ms = u64::try_from(limiter.options().timeout.as_millis()).unwrap_or(u64::MAX),
        "global rate limits counted in Redis"
    );
    Ok(Some(limiter))
}

async fn bind(addr: std::net::SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for {what} on {addr}"))
}

fn report_problems(problems: &[Problem], dir: &Path) {
    for p in problems {
        tracing::warn!(target: "portcullis::manifests", "{p}");
    }
    if !problems.is_empty() {
        tracing::warn!(
            "{}: {} problem(s); everything else is served",
            dir.display(),
            problems.len()
        );
    }
}

/// A stable fingerprint of a model for `nginx_ingress_controller_config_hash`.
fn model_hash(model: &Model) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", model.servers).hash(&mut h);
    model.certificates.len().hash(&mut h);
    h.finish()
}

/// Watches the manifests folder; each burst of changes builds a new model and swaps it in.
/// A change that introduces new problems (a broken document, a bad annotation) is rejected
/// as a whole and the running model keeps serving, so a half-saved file never takes routes
/// down.
fn watch(
    settings: &Settings,
    gateway: Arc<Gateway>,
    tls: TlsManager,
    metrics: Arc<Metrics>,
    acme: acme::AcmeService,
) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            // The receiver lives as long as the process; a send error only happens at exit.
            let _ = tx.send(());
        }
    })
    .context("file watcher")?;
    watcher
        .watch(&settings.manifests, notify::RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", settings.manifests.display()))?;
    let dir = settings.manifests.clone();
    let load = settings.load.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Gather the rest of the burst.
            tokio::time::sleep(RELOAD_DEBOUNCE).await;
            while rx.try_recv().is_ok() {}
            let known: HashSet<(String, u32, String)> = gateway
                .model()
                .problems
                .iter()
                .map(|p| (p.file.clone(), p.line, p.reason.clone()))
                .collect();
            let (dir, load) = (dir.clone(), load.clone());
            let loaded = tokio::task::spawn_blocking(move || config::load_dir(&dir, &load)).await;
            let mut model = match loaded {
                Ok(Ok(model)) => model,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "reload failed; keeping the running configuration");
                    metrics.config_reloaded(false, 0);
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "reload task failed; keeping the running configuration");
                    metrics.config_reloaded(false, 0);
                    continue;
                }
            };
            let new: Vec<&Problem> = model
                .problems
                .iter()
                .filter(|p| !known.contains(&(p.file.clone(), p.line, p.reason.clone())))
                .collect();
            if !new.is_empty() {
                for p in &new {
                    tracing::error!(target: "portcullis::manifests", "{p}");
                }
                tracing::error!("change rejected; the running configuration keeps serving");
                metrics.config_reloaded(false, model_hash(&model));
                continue;
            }
            acme.apply(&mut model);
            let report = tls.update(&model);
            for skipped in &report.skipped {
                tracing::warn!(?skipped, "certificate skipped");
            }
            metrics.config_reloaded(true, model_hash(&model));
            gateway.swap(Arc::new(model));
            tracing::info!("configuration reloaded");
        }
    });
    Ok(watcher)
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
