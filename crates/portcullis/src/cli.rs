//! Command-line interface. The flag names are a contract other tools depend on (issue #2, #3).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Portcullis: a secure ingress gateway (Kubernetes Ingress reverse proxy, TLS, WAF) in one binary.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the Ingresses found in a folder of Kubernetes manifests.
    Serve(ServeArgs),
    /// Validate a folder of manifests without serving; prints `file:line: reason` per problem.
    Check(CheckArgs),
    /// WAF tools: evaluate a request, run the CRS regression suite.
    #[command(subcommand)]
    Waf(WafCommand),
    /// OWASP CRS tools: install a release.
    #[command(subcommand)]
    Crs(CrsCommand),
    /// List the ACME certificates kept in the state folder (hosts, issuer, expiry, renewal, last error).
    Certs(CertsArgs),
    /// Run a small demo HTTP backend that echoes what it receives (for the bundled example).
    DemoBackend(DemoBackendArgs),
}

/// Options shared by `serve` and `check` that shape how manifests are read.
#[derive(Debug, Args, Clone)]
pub(crate) struct ManifestArgs {
    /// Folder of Kubernetes YAML manifests (read recursively).
    #[arg(long, value_name = "DIR")]
    pub(crate) manifests: Option<PathBuf>,
    /// Optional YAML config file; command-line flags override its values.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Ingress class served (`spec.ingressClassName` / `kubernetes.io/ingress.class`). Default `nginx`.
    #[arg(long, value_name = "NAME")]
    pub(crate) ingress_class: Option<String>,
    /// Annotation prefix. Default `nginx.ingress.kubernetes.io`.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) annotations_prefix: Option<String>,
}

/// `portcullis serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Manifest options.
    #[command(flatten)]
    pub(crate) manifests: ManifestArgs,
    /// Plain HTTP listener. Default `0.0.0.0:8080`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) http: Option<SocketAddr>,
    /// HTTPS listener. Default `0.0.0.0:8443`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) https: Option<SocketAddr>,
    /// Admin listener (metrics, health). Default `127.0.0.1:10254` (loopback only).
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin: Option<SocketAddr>,
    /// Folder for state (certificates, ACME accounts). Default `./portcullis-state`.
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Write the JSON access log to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) access_log: Option<PathBuf>,
    /// Also start the built-in demo backends the bundled example points at (127.0.0.1:9001, :9002).
    #[arg(long)]
    pub(crate) demo: bool,
    /// WAF options.
    #[command(flatten)]
    pub(crate) waf: Box<crate::waf_flags::WafArgs>,
    /// Redis counting `global-rate-limit` across replicas, e.g. `redis://127.0.0.1:6379/0`.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
}

/// `portcullis check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Manifest options.
    #[command(flatten)]
    pub(crate) manifests: ManifestArgs,
}

/// `portcullis certs`.
#[derive(Debug, Args)]
pub(crate) struct CertsArgs {
    /// Folder for state (certificates, ACME accounts). Default `./portcullis-state`.
    #[arg(long, value_name = "DIR", default_value = "portcullis-state")]
    pub(crate) state_dir: PathBuf,
}

/// `portcullis crs ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum CrsCommand {
    /// Download an official OWASP CRS release, verify it (OpenPGP signature, or --sha256) and
    /// install it where `serve` and `waf` find it.
    Install(CrsInstallArgs),
}

/// `portcullis crs install`.
#[derive(Debug, Args)]
pub(crate) struct CrsInstallArgs {
    /// CRS release to install.
    #[arg(long, value_name = "V", default_value = crate::crs_install::DEFAULT_VERSION)]
    pub(crate) version: String,
    /// Destination folder (default: /var/lib/portcullis/crs as root, else
    /// $XDG_DATA_HOME/portcullis/crs or ~/.local/share/portcullis/crs).
    #[arg(long, value_name = "DEST")]
    pub(crate) dir: Option<PathBuf>,
    /// Archive URL (a mirror); default: the release's source archive on GitHub.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// Expected SHA-256 of the archive (hex); replaces the OpenPGP signature check.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha256: Option<String>,
    /// Detached signature URL (default: the `.asc` the CRS project publishes with the release).
    #[arg(long, value_name = "URL")]
    pub(crate) signature_url: Option<String>,
    /// Signing key file (armored or binary OpenPGP public key) instead of downloading it.
    #[arg(long, value_name = "FILE")]
    pub(crate) signing_key: Option<PathBuf>,
    /// Signing key URL (default: https://coreruleset.org/security.asc).
    #[arg(long, value_name = "URL")]
    pub(crate) signing_key_url: Option<String>,
    /// Fingerprint the signing key must have (default: the CRS key,
    /// 36006F0E0BA167832158821138EEACA1AB8A6E72; change only for a key rotation).
    #[arg(long, value_name = "HEX")]
    pub(crate) signing_key_fingerprint: Option<String>,
}

/// `portcullis waf ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum WafCommand {
    /// Read one raw HTTP/1.1 request on stdin and print the CRS verdict as JSON.
    Eval(WafEvalArgs),
    /// Run the CRS go-ftw regression suite in-process.
    Regression(WafRegressionArgs),
}

/// `portcullis waf eval`.
#[derive(Debug, Args)]
pub(crate) struct WafEvalArgs {
    /// CRS folder (with `crs-setup.conf.example` and `rules/`).
    #[arg(long, value_name = "DIR")]
    pub(crate) crs: PathBuf,
    /// Paranoia level 1-4 (default: CRS default, 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub(crate) paranoia: Option<u8>,
}

/// `portcullis waf regression`.
#[derive(Debug, Args)]
pub(crate) struct WafRegressionArgs {
    /// CRS folder (with `crs-setup.conf.example`, `rules/` and `tests/regression/tests`).
    #[arg(long, value_name = "DIR")]
    pub(crate) crs: PathBuf,
    /// Only run tests whose rule id starts with this prefix.
    #[arg(long, value_name = "RULE_ID_PREFIX")]
    pub(crate) filter: Option<String>,
    /// go-ftw overrides file (default: the CRS's nginx overrides).
    #[arg(long, value_name = "FILE")]
    pub(crate) overrides: Option<PathBuf>,
}

/// `portcullis demo-backend`.
#[derive(Debug, Args)]
pub(crate) struct DemoBackendArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001")]
    pub(crate) listen: SocketAddr,
    /// Name reported in responses.
    #[arg(long, default_value = "demo")]
    pub(crate) name: String,
}
