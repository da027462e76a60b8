//! Effective settings: command-line flags over the optional config file over the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use config::LoadOptions;
use config::file::ConfigFile;

use crate::cli::{ManifestArgs, ServeArgs};

/// Everything `serve` and `check` need, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The manifests folder.
    pub(crate) manifests: PathBuf,
    /// How manifests are read (class, annotation prefix, global settings).
    pub(crate) load: LoadOptions,
    /// Plain HTTP listener.
    pub(crate) http: SocketAddr,
    /// HTTPS listener.
    pub(crate) https: SocketAddr,
    /// Admin listener (loopback by default).
    pub(crate) admin: SocketAddr,
    /// State folder.
    pub(crate) state_dir: PathBuf,
    /// Access log file; `None` = stdout.
    pub(crate) access_log: Option<PathBuf>,
    /// Redis URL for global rate limits (`--redis`, `redis:`); `None` = off.
    pub(crate) redis: Option<String>,
    /// `global-rate-limit-fail-open` (default true) and the Redis call timeout.
    pub(crate) global_limit: gateway::global_limit::GlobalOptions,
}

const DEFAULT_HTTP: &str = "0.0.0.0:8080";
const DEFAULT_HTTPS: &str = "0.0.0.0:8443";
const DEFAULT_ADMIN: &str = "127.0.0.1:10254";

impl Settings {
    /// Settings for `check` (listener fields keep their defaults).
    pub(crate) fn for_check(args: &ManifestArgs) -> anyhow::Result<Self> {
        let file = read_file(args)?;
        Self::merge(args, &file, None)
    }

    /// Settings for `serve`.
    pub(crate) fn for_serve(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = read_file(&args.manifests)?;
        Self::merge(&args.manifests, &file, Some(args))
    }

    fn merge(
        m: &ManifestArgs,
        file: &ConfigFile,
        serve: Option<&ServeArgs>,
    ) -> anyhow::Result<Self> {
        let mut load = file.load_options();
        if let Some(class) = &m.ingress_class {
            load.ingress_class.clone_from(class);
        }
        if let Some(prefix) = &m.annotations_prefix {
            load.annotations_prefix.clone_from(prefix);
        }
        let manifests = m
            .manifests
            .clone()
            .or_else(|| file.manifests.clone())
            .context(
                "no manifests folder: pass --manifests DIR (or set `manifests:` in --config)",
            )?;
        let addr = |flag: Option<SocketAddr>,
                    from_file: Option<SocketAddr>,
                    default: &str|
         -> anyhow::Result<SocketAddr> {
            match flag.or(from_file) {
                Some(a) => Ok(a),
                None => default
                    .parse()
                    .with_context(|| format!("default address {default}")),
            }
        };
        Ok(Self {
            manifests,
            load,
            http: addr(serve.and_then(|s| s.http), file.http, DEFAULT_HTTP)?,
            https: addr(serve.and_then(|s| s.https), file.https, DEFAULT_HTTPS)?,
            admin: addr(serve.and_then(|s| s.admin), file.admin, DEFAULT_ADMIN)?,
            state_dir: serve
                .and_then(|s| s.state_dir.clone())
                .or_else(|| file.state_dir.clone())
                .unwrap_or_else(|| PathBuf::from("portcullis-state")),
            access_log: serve
                .and_then(|s| s.access_log.clone())
                .or_else(|| file.access_log.clone()),
            redis: serve
                .and_then(|s| s.redis.clone())
                .or_else(|| file.redis.clone()),
            global_limit: global_limit_options(file),
        })
    }
}

fn global_limit_options(file: &ConfigFile) -> gateway::global_limit::GlobalOptions {
    let d = gateway::global_limit::GlobalOptions::default();
    gateway::global_limit::GlobalOptions {
        fail_open: file.global_rate_limit_fail_open.unwrap_or(d.fail_open),
        timeout: file
            .global_rate_limit_timeout_ms
            .map_or(d.timeout, |ms| std::time::Duration::from_millis(ms.max(1))),
        ..d
    }
}

fn read_file(args: &ManifestArgs) -> anyhow::Result<ConfigFile> {
    match &args.config {
        Some(path) => Ok(ConfigFile::load(path)?),
        None => Ok(ConfigFile::default()),
    }
}
