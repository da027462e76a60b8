//! The optional YAML config file of `portcullis serve --config FILE`.
//!
//! Every key is optional; command-line flags win over the file, the file wins over the
//! defaults. Relative paths in the file (`manifests`, `state_dir`, `access_log`) are relative
//! to the folder holding the file (resolved by [`ConfigFile::load`]). Keys are snake_case; the kebab-case spelling of ingress-nginx's ConfigMap
//! (`use-forwarded-headers`, `hsts-max-age`, ...) is accepted too. Unknown keys are an error.
//!
//! ```yaml
//! manifests: ./k8s
//! http: 0.0.0.0:8080
//! https: 0.0.0.0:8443
//! admin: 127.0.0.1:10254
//! state_dir: /var/lib/portcullis
//! access_log: /var/log/portcullis/access.log
//! ingress_class: nginx
//! annotations_prefix: nginx.ingress.kubernetes.io
//! hsts: true
//! hsts_max_age: 31536000
//! hsts_include_subdomains: true
//! hsts_preload: false
//! use_forwarded_headers: false
//! proxy_real_ip_cidr: [10.0.0.0/8, 192.168.0.0/16]
//! use_proxy_protocol: false
//! block_cidrs: [192.0.2.0/24, "2001:db8:bad::/48"]
//! block_user_agents: ["BadBot/1.0", "~*python-requests"]
//! limit_req_status_code: 429
//! limit_conn_status_code: 503
//! whitelist_source_range: 10.0.0.0/8
//! denylist_source_range: 198.51.100.0/24
//! redis: redis://127.0.0.1:6379/0
//! global_rate_limit_fail_open: true
//! global_rate_limit_timeout_ms: 5
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::model::GlobalSettings;

/// The config file. `None` = not set in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `--manifests`: the folder of Kubernetes manifests.
    pub manifests: Option<PathBuf>,
    /// `--http`: plain HTTP listener address (default `0.0.0.0:8080`).
    pub http: Option<SocketAddr>,
    /// `--https`: TLS listener address (default `0.0.0.0:8443`).
    pub https: Option<SocketAddr>,
    /// `--admin`: metrics and health listener (default `127.0.0.1:10254`).
    pub admin: Option<SocketAddr>,
    /// `--state-dir`: where generated state (certificates, ...) is kept.
    #[serde(alias = "state-dir")]
    pub state_dir: Option<PathBuf>,
    /// `--access-log`: access log file (default stdout).
    #[serde(alias = "access-log")]
    pub access_log: Option<PathBuf>,
    /// `--ingress-class` (default `nginx`).
    #[serde(alias = "ingress-class")]
    pub ingress_class: Option<String>,
    /// `--annotations-prefix` (default `nginx.ingress.kubernetes.io`).
    #[serde(alias = "annotations-prefix")]
    pub annotations_prefix: Option<String>,
    /// `--demo`: also start the built-in demo backends.
    pub demo: Option<bool>,
    /// ConfigMap `hsts`.
    pub hsts: Option<bool>,
    /// ConfigMap `hsts-max-age` (seconds).
    #[serde(alias = "hsts-max-age")]
    pub hsts_max_age: Option<u64>,
    /// ConfigMap `hsts-include-subdomains`.
    #[serde(alias = "hsts-include-subdomains")]
    pub hsts_include_subdomains: Option<bool>,
    /// ConfigMap `hsts-preload`.
    #[serde(alias = "hsts-preload")]
    pub hsts_preload: Option<bool>,
    /// ConfigMap `use-forwarded-headers`.
    #[serde(alias = "use-forwarded-headers")]
    pub use_forwarded_headers: Option<bool>,
    /// ConfigMap `proxy-real-ip-cidr`: a list, or one comma-separated string.
    #[serde(alias = "proxy-real-ip-cidr", default, deserialize_with = "cidrs")]
    pub proxy_real_ip_cidr: Option<Vec<IpNet>>,
    /// ConfigMap `use-proxy-protocol`.
    #[serde(alias = "use-proxy-protocol")]
    pub use_proxy_protocol: Option<bool>,
    /// WAF settings (issue #4).
    pub waf: Option<crate::waf::WafFile>,
    /// ConfigMap `block-cidrs`: clients refused (403) on every Ingress; list or CSV.
    #[serde(alias = "block-cidrs", default, deserialize_with = "cidrs")]
    pub block_cidrs: Option<Vec<IpNet>>,
    /// ConfigMap `block-user-agents`: `exact`, `~regex` or `~*regex`; list or CSV.
    #[serde(alias = "block-user-agents", default, deserialize_with = "user_agents")]
    pub block_user_agents: Option<Vec<String>>,
    /// ConfigMap `limit-req-status-code` (400-599, default 503).
    #[serde(alias = "limit-req-status-code", default, deserialize_with = "status")]
    pub limit_req_status_code: Option<u16>,
    /// ConfigMap `limit-conn-status-code` (400-599, default 503).
    #[serde(alias = "limit-conn-status-code", default, deserialize_with = "status")]
    pub limit_conn_status_code: Option<u16>,
    /// ConfigMap `whitelist-source-range` (also `allowlist-source-range`): default allowlist
    /// of every Ingress without its own annotation.
    #[serde(
        alias = "whitelist-source-range",
        alias = "allowlist-source-range",
        alias = "allowlist_source_range",
        default,
        deserialize_with = "cidrs"
    )]
    pub whitelist_source_range: Option<Vec<IpNet>>,
    /// ConfigMap `denylist-source-range`: default denylist of every Ingress without its own
    /// annotation.
    #[serde(alias = "denylist-source-range", default, deserialize_with = "cidrs")]
    pub denylist_source_range: Option<Vec<IpNet>>,
    /// `--redis`: Redis URL counting `global-rate-limit` across replicas (issue #6).
    pub redis: Option<String>,
    /// `global-rate-limit-fail-open` (default true): let requests pass while Redis is
    /// unreachable; `false` rejects them.
    #[serde(alias = "global-rate-limit-fail-open")]
    pub global_rate_limit_fail_open: Option<bool>,
    /// `global-rate-limit-timeout-ms` (default 5): bound on one Redis round trip.
    #[serde(alias = "global-rate-limit-timeout-ms")]
    pub global_rate_limit_timeout_ms: Option<u64>,
}

fn user_agents<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Agents {
        One(String),
        Many(Vec<String>),
    }
    let items: Vec<String> = match Option::<Agents>::deserialize(d)? {
        None => return Ok(None),
        Some(Agents::One(s)) => s.split(',').map(|s| s.trim().to_owned()).collect(),
        Some(Agents::Many(v)) => v,
    };
    crate::limits::UserAgentBlocklist::parse(&items).map_err(serde::de::Error::custom)?;
    Ok(Some(items))
}

fn status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    match Option::<u16>::deserialize(d)? {
        Some(code) if !crate::limits::valid_status(code) => Err(serde::de::Error::custom(format!(
            "{code} is not an HTTP status 400-599"
        ))),
        other => Ok(other),
    }
}

fn cidrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<IpNet>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cidrs {
        One(String),
        Many(Vec<String>),
    }
    let items = match Option::<Cidrs>::deserialize(d)? {
        None => return Ok(None),
        Some(Cidrs::One(s)) => s.split(',').map(|s| s.trim().to_owned()).collect(),
        Some(Cidrs::Many(v)) => v,
    };
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_cidr(s.trim()).map_err(serde::de::Error::custom))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A CIDR, or a bare address meaning a single host.
fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not a CIDR (e.g. 10.0.0.0/8)"))
}

/// Why the config file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Invalid YAML, an unknown key or a bad value.
    #[error("{}:{line}: {reason}", path.display())]
    Invalid {
        /// The path given.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u32,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigFile {
    /// Reads and validates the file; relative paths in it are made relative to its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = Self::parse(&text).map_err(|(line, reason)| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            reason,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        for p in [
            &mut file.manifests,
            &mut file.state_dir,
            &mut file.access_log,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(file)
    }

    /// Parses file contents; on error returns (line, reason).
    pub fn parse(text: &str) -> Result<Self, (u32, String)> {
        if text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---"
        }) {
            return Ok(Self::default());
        }
        serde_saphyr::from_str::<Option<Self>>(text)
            .map(Option::unwrap_or_default)
            .map_err(|e| {
                let line = e
                    .location()
                    .and_then(|l| u32::try_from(l.line()).ok())
                    .unwrap_or(0);
                (line, crate::yaml::clean_message(&e.to_string()))
            })
    }

    /// The global settings: file values over [`GlobalSettings::default`].
    pub fn global_settings(&self) -> GlobalSettings {
        let d = GlobalSettings::default();
        GlobalSettings {
            hsts: self.hsts.unwrap_or(d.hsts),
            hsts_max_age: self.hsts_max_age.unwrap_or(d.hsts_max_age),
            hsts_include_subdomains: self
                .hsts_include_subdomains
                .unwrap_or(d.hsts_include_subdomains),
            hsts_preload: self.hsts_preload.unwrap_or(d.hsts_preload),
            use_forwarded_headers: self
                .use_forwarded_headers
                .unwrap_or(d.use_forwarded_headers),
            proxy_real_ip_cidr: self
                .proxy_real_ip_cidr
                .clone()
                .unwrap_or(d.proxy_real_ip_cidr),
            use_proxy_protocol: self.use_proxy_protocol.unwrap_or(d.use_proxy_protocol),
            limits: self.global_limits(),
        }
    }

    /// The abuse-control globals: file values over [`crate::limits::GlobalLimits::default`].
    pub fn global_limits(&self) -> crate::limits::GlobalLimits {
        use crate::limits::{CidrList, GlobalLimits, UserAgentBlocklist};
        let d = GlobalLimits::default();
        let list = |v: &Option<Vec<IpNet>>| v.clone().map(CidrList::new);
        GlobalLimits {
            block_cidrs: list(&self.block_cidrs).unwrap_or(d.block_cidrs),
            // Validated when the file was read.
            block_user_agents: self
                .block_user_agents
                .as_deref()
                .and_then(|a| UserAgentBlocklist::parse(a).ok())
                .unwrap_or(d.block_user_agents),
            req_status_code: self.limit_req_status_code.unwrap_or(d.req_status_code),
            conn_status_code: self.limit_conn_status_code.unwrap_or(d.conn_status_code),
            allowlist: list(&self.whitelist_source_range),
            denylist: list(&self.denylist_source_range),
        }
    }

    /// [`crate::LoadOptions`] from the file (defaults where unset).
    pub fn load_options(&self) -> crate::LoadOptions {
        let d = crate::LoadOptions::default();
        crate::LoadOptions {
            ingress_class: self.ingress_class.clone().unwrap_or(d.ingress_class),
            annotations_prefix: self
                .annotations_prefix
                .clone()
                .unwrap_or(d.annotations_prefix),
            global: self.global_settings(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let f = ConfigFile::parse(
            "manifests: ./k8s\nhttp: 127.0.0.1:8080\nstate-dir: /tmp/s\nhsts_max_age: 60\n\
             proxy-real-ip-cidr: 10.0.0.0/8, 192.168.1.1\nuse_proxy_protocol: true\n",
        )
        .unwrap();
        assert_eq!(f.manifests.as_deref(), Some(Path::new("./k8s")));
        assert_eq!(f.http, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(f.state_dir.as_deref(), Some(Path::new("/tmp/s")));
        let g = f.global_settings();
        assert_eq!(g.hsts_max_age, 60);
        assert!(g.hsts);
        assert!(g.use_proxy_protocol);
        assert_eq!(g.proxy_real_ip_cidr.len(), 2);
        assert_eq!(g.proxy_real_ip_cidr[1].to_string(), "192.168.1.1/32");
    }

    #[test]
    fn global_limit_options() {
        let f = ConfigFile::parse(
            "redis: redis://10.0.0.5:6379/2\nglobal-rate-limit-fail-open: false\n\
             global_rate_limit_timeout_ms: 20\n",
        )
        .unwrap();
        assert_eq!(f.redis.as_deref(), Some("redis://10.0.0.5:6379/2"));
        assert_eq!(f.global_rate_limit_fail_open, Some(false));
        assert_eq!(f.global_rate_limit_timeout_ms, Some(20));
    }

    #[test]
    fn list_of_cidrs_and_empty() {
        let f = ConfigFile::parse("proxy_real_ip_cidr:\n  - 10.0.0.0/8\n  - ::1\n").unwrap();
        assert_eq!(f.proxy_real_ip_cidr.unwrap().len(), 2);
        assert_eq!(
            ConfigFile::parse("# nothing\n").unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn abuse_globals() {
        let f = ConfigFile::parse(
            "block-cidrs: 192.0.2.0/24, 2001:db8::1\nblock_user_agents: [\"BadBot\", \"~*curl\"]\n\
             limit-req-status-code: 429\nallowlist-source-range: [10.0.0.0/8]\n\
             denylist_source_range: 198.51.100.7\n",
        )
        .unwrap();
        let g = f.global_settings().limits;
        assert!(g.block_cidrs.contains("2001:db8::1".parse().unwrap()));
        assert!(g.block_user_agents.blocks(Some(b"CURL/8")));
        assert_eq!(g.req_status_code, 429);
        assert_eq!(g.conn_status_code, 503);
        assert!(g.allowlist.unwrap().contains("10.9.9.9".parse().unwrap()));
        assert!(
            g.denylist
                .unwrap()
                .contains("198.51.100.7".parse().unwrap())
        );
        let d = ConfigFile::default().global_limits();
        assert_eq!(d.req_status_code, 503);
        assert!(d.allowlist.is_none() && d.block_cidrs.is_empty());

        let (line, reason) =
            ConfigFile::parse("hsts: true\nblock_user_agents: \"~(oops\"\n").unwrap_err();
        assert_eq!(line, 2, "{reason}");
        let (line, reason) = ConfigFile::parse("limit_req_status_code: 200\n").unwrap_err();
        assert_eq!(line, 1, "{reason}");
        assert!(ConfigFile::parse("block_cidrs: [10.0.0.0/99]\n").is_err());
    }

    #[test]
    fn unknown_key_has_line() {
        let (line, reason) = ConfigFile::parse("http: 0.0.0.0:80\n\nlisten: x\n").unwrap_err();
        assert_eq!(line, 3, "{reason}");
        assert!(reason.contains("listen"), "{reason}");
        let (line, _) = ConfigFile::parse("hsts: true\nhttp: nope\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(ConfigFile::parse("proxy_real_ip_cidr: [banana]\n").is_err());
    }

    #[test]
    fn load_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, "manifests: k8s\nstate_dir: /abs\ndemo: true\n").unwrap();
        let f = ConfigFile::load(&p).unwrap();
        assert_eq!(f.manifests, Some(dir.path().join("k8s")));
        assert_eq!(f.state_dir.as_deref(), Some(Path::new("/abs")));
        assert_eq!(f.demo, Some(true));
    }

    #[test]
    fn load_reports_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, "bogus: 1\n").unwrap();
        let e = ConfigFile::load(&p).unwrap_err().to_string();
        assert!(e.contains("c.yaml:1:"), "{e}");
        assert!(ConfigFile::load(&dir.path().join("missing.yaml")).is_err());
    }
}
