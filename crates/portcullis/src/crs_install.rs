//! `portcullis crs install [--version V] [--dir DEST] [--url URL] [--sha256 HEX]`: downloads
//! an OWASP CRS release, verifies it, and installs it where `serve` / `waf` look for it.
//!
//! Integrity: the CRS project publishes no checksum files, only detached OpenPGP signatures
//! (`.asc`) made with its signing key. `--sha256` pins the archive's digest (mirrors,
//! air-gapped installs, tests); without it the detached signature is checked against the
//! CRS signing key, whose fingerprint is pinned here (see [`crate::crs_verify`]).
//!
//! Extraction is defensive: only regular files and folders are written, every path must
//! stay below the destination (no absolute paths, no `..`), links and special files are
//! skipped, and sizes are capped. The tree is unpacked next to the destination and renamed
//! into place; on any failure nothing is left behind.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::cli::CrsInstallArgs;

/// The CRS version Portcullis is tested with (the default of `--version`).
pub(crate) const DEFAULT_VERSION: &str = "4.28.0";
/// Largest archive downloaded.
const MAX_ARCHIVE: usize = 64 << 20;
/// Largest total size unpacked.
const MAX_UNPACKED: u64 = 256 << 20;
/// Most entries unpacked.
const MAX_ENTRIES: usize = 20_000;
/// Redirects followed (GitHub's archive links redirect once).
const MAX_REDIRECTS: usize = 5;
/// Time allowed for one download.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// The official source archive of a CRS release (what the CRS signatures cover).
pub(crate) fn default_url(version: &str) -> String {
    format!("https://github.com/coreruleset/coreruleset/archive/refs/tags/v{version}.tar.gz")
}

/// The detached signature the CRS project publishes for [`default_url`].
pub(crate) fn default_signature_url(version: &str) -> String {
    format!(
        "https://github.com/coreruleset/coreruleset/releases/download/v{version}/coreruleset-{version}.tar.gz.asc"
    )
}

fn valid_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Runs `crs install`.
pub(crate) async fn run(args: &CrsInstallArgs) -> anyhow::Result<ExitCode> {
    let version = args.version.as_str();
    if !valid_version(version) {
        bail!("--version `{version}` is not a release number such as {DEFAULT_VERSION}");
    }
    let dest = match &args.dir {
        Some(d) => d.clone(),
        None => gateway::waf::profile::crs_install_dir(),
    };
    let url = args.url.clone().unwrap_or_else(|| default_url(version));
    eprintln!("downloading {url}");
    let started = std::time::Instant::now();
    let archive = download(&url).await?;
    let took = started.elapsed();
    let digest = sha256_hex(&archive);
    match &args.sha256 {
        Some(want) => {
            let want = want.trim().to_ascii_lowercase();
            if want != digest {
                bail!(
                    "checksum mismatch for {url}: expected sha256 {want}, got {digest}; nothing installed"
                );
            }
            eprintln!("sha256 {digest} matches --sha256");
        }
        None => {
            let sig_url = args
                .signature_url
                .clone()
                .unwrap_or_else(|| default_signature_url(version));
            eprintln!("verifying the OpenPGP signature {sig_url}");
            let signature = download(&sig_url).await?;
            let key = match &args.signing_key {
                Some(path) => std::fs::read(path)
                    .with_context(|| format!("--signing-key {}", path.display()))?,
                None => {
                    let key_url = args
                        .signing_key_url
                        .clone()
                        .unwrap_or_else(|| crate::crs_verify::KEY_URL.to_owned());
                    download(&key_url).await?
                }
            };
            let fingerprint = args
                .signing_key_fingerprint
                .clone()
                .unwrap_or_else(|| crate::crs_verify::FINGERPRINT.to_owned());
            let signer = crate::crs_verify::verify(&archive, &signature, &key, &fingerprint)
                .with_context(|| format!("signature of {url}; nothing installed"))?;
            eprintln!("good signature by {signer}");
        }
    }
    let files = install(&archive, &dest)?;
    println!(
        "CRS {version} installed in {} ({files} files, {} bytes downloaded in {:.1} s, sha256 {digest})",
        dest.display(),
        archive.len(),
        took.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// GET with redirects, a size cap and a timeout. `http://` is allowed (mirrors, tests): the
/// content is verified either way.
async fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .try_with_platform_verifier()
        .map_err(|e| anyhow!("TLS trust store: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let fut = async {
        let mut current = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let uri: http::Uri = current
                .parse()
                .with_context(|| format!("URL `{current}`"))?;
            let req = http::Request::get(uri.clone())
                .header(http::header::USER_AGENT, "portcullis-crs-install")
                .body(Empty::new())
                .context("request")?;
            let rsp = client
                .request(req)
                .await
                .map_err(|e| anyhow!("GET {current}: {}", error_chain(&e)))?;
            let status = rsp.status();
            if status.is_redirection() {
                let loc = rsp
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| anyhow!("GET {current}: HTTP {status} without Location"))?;
                current = resolve(&uri, loc)?;
                continue;
            }
            if !status.is_success() {
                bail!("GET {current}: HTTP {status}");
            }
            let mut body = rsp.into_body();
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| anyhow!("GET {current}: {e}"))?;
                if let Some(d) = frame.data_ref() {
                    if out.len().saturating_add(d.len()) > MAX_ARCHIVE {
                        bail!("GET {current}: larger than {MAX_ARCHIVE} bytes; refused");
                    }
                    out.extend_from_slice(d);
                }
            }
            return Ok(out);
        }
        bail!("GET {url}: more than {MAX_REDIRECTS} redirects")
    };
    tokio::time::timeout(DOWNLOAD_TIMEOUT, fut)
        .await
        .map_err(|_| anyhow!("GET {url}: timed out after {DOWNLOAD_TIMEOUT:?}"))?
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// A redirect target: absolute, or a path on the same origin.
fn resolve(base: &http::Uri, location: &str) -> anyhow::Result<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Ok(location.to_owned());
    }
    if !location.starts_with('/') {
        bail!("unsupported redirect `{location}`");
    }
    let scheme = base.scheme_str().unwrap_or("https");
    let auth = base
        .authority()
        .ok_or_else(|| anyhow!("redirect from a URL without host"))?;
    Ok(format!("{scheme}://{auth}{location}"))
}

/// A sibling of `dest` named after it (same file system, so the final rename is atomic).
fn sibling(dest: &Path, tag: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "crs".into());
    dest.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Unpacks `archive` and puts it at `dest`; returns the number of files written. On error
/// nothing new is left on disk.
pub(crate) fn install(archive: &[u8], dest: &Path) -> anyhow::Result<usize> {
    if dest.exists() && !gateway::waf::profile::is_crs_dir(dest) {
        let empty = std::fs::read_dir(dest)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            bail!(
                "{} exists and is not a CRS folder; refusing to replace it",
                dest.display()
            );
        }
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let tmp = sibling(dest, "new");
    let _ = std::fs::remove_dir_all(&tmp);
    let result = unpack(archive, &tmp).and_then(|files| {
        if !gateway::waf::profile::is_crs_dir(&tmp) {
            bail!("the archive holds no CRS (no rules/REQUEST-901-INITIALIZATION.conf)");
        }
        setup_conf(&tmp, dest)?;
        swap_into_place(&tmp, dest)?;
        Ok(files)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// `crs-setup.conf`: kept from the previous install when there is one, else copied from
/// the shipped example.
fn setup_conf(new: &Path, old: &Path) -> anyhow::Result<()> {
    let target = new.join("crs-setup.conf");
    if target.exists() {
        return Ok(());
    }
    let previous = old.join("crs-setup.conf");
    let source = if previous.is_file() {
        previous
    } else {
        new.join("crs-setup.conf.example")
    };
    if source.is_file() {
        std::fs::copy(&source, &target).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

fn swap_into_place(tmp: &Path, dest: &Path) -> anyhow::Result<()> {
    if !dest.exists() {
        return std::fs::rename(tmp, dest)
            .with_context(|| format!("moving the new CRS to {}", dest.display()));
    }
    let old = sibling(dest, "old");
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(dest, &old).with_context(|| format!("moving {} aside", dest.display()))?;
    if let Err(e) = std::fs::rename(tmp, dest) {
        // Put the previous install back.
        let _ = std::fs::rename(&old, dest);
        return Err(e).with_context(|| format!("moving the new CRS to {}", dest.display()));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The path of an archive entry below the top folder (`coreruleset-4.28.0/rules/x.conf` ->
/// `rules/x.conf`); `Err` for absolute paths and `..`.
fn entry_path(raw: &Path, top: &mut Option<std::ffi::OsString>) -> anyhow::Result<Option<PathBuf>> {
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                bail!(
                    "unsafe path `{}` in the archive (absolute or `..`); refused",
                    raw.display()
                );
            }
        }
    }
    let Some((first, rest)) = parts.split_first() else {
        return Ok(None);
    };
    match top.as_ref() {
        Some(t) if t != first => bail!(
            "archive entry `{}` is outside the top folder `{}`; refused",
            raw.display(),
            t.to_string_lossy()
        ),
        Some(_) => {}
        None => *top = Some(first.clone()),
    }
    Ok((!rest.is_empty()).then(|| rest.iter().collect()))
}

/// Unpacks a `.tar.gz` into the new folder `into`.
fn unpack(archive: &[u8], into: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(into).with_context(|| format!("creating {}", into.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut top = None;
    let (mut files, mut entries, mut total) = (0usize, 0usize, 0u64);
    for entry in tar.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        entries += 1;
        if entries > MAX_ENTRIES {
            bail!("more than {MAX_ENTRIES} entries in the archive; refused");
        }
        let raw = entry.path().context("archive entry name")?.into_owned();
        let Some(rel) = entry_path(&raw, &mut top)? else {
            continue;
        };
        let target = into.join(&rel);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?;
            continue;
        }
        if !kind.is_file() {
            // Links, devices, FIFOs, PAX/GNU metadata: never written.
            if !(kind.is_pax_global_extensions() || kind.is_pax_local_extensions()) {
                tracing::debug!(entry = %raw.display(), ?kind, "archive entry skipped");
            }
            continue;
        }
        let size = entry.header().size().context("archive entry size")?;
        total = total.saturating_add(size);
        if total > MAX_UNPACKED {
            bail!("the archive unpacks to more than {MAX_UNPACKED} bytes; refused");
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut data = Vec::new();
        entry
            .by_ref()
            .take(size)
            .read_to_end(&mut data)
            .with_context(|| format!("reading {}", raw.display()))?;
        std::fs::write(&target, &data).with_context(|| format!("writing {}", target.display()))?;
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entry_paths_strip_the_top_folder_and_refuse_escapes() {
        let mut top = None;
        assert_eq!(
            entry_path(Path::new("coreruleset-4.28.0/rules/a.conf"), &mut top).unwrap(),
            Some(PathBuf::from("rules/a.conf"))
        );
        assert_eq!(
            entry_path(Path::new("coreruleset-4.28.0/"), &mut top).unwrap(),
            None
        );
        assert!(entry_path(Path::new("coreruleset-4.28.0/../x"), &mut top).is_err());
        assert!(entry_path(Path::new("/etc/passwd"), &mut top).is_err());
        assert!(entry_path(Path::new("other/rules/a.conf"), &mut top).is_err());
    }

    #[test]
    fn versions_and_redirects() {
        assert!(valid_version("4.28.0"));
        assert!(!valid_version("4.28"));
        assert!(!valid_version("4.28.0/../../x"));
        let base: http::Uri = "https://github.com/a/b".parse().unwrap();
        assert_eq!(resolve(&base, "/c/d").unwrap(), "https://github.com/c/d");
        assert_eq!(
            resolve(&base, "https://codeload.example/x").unwrap(),
            "https://codeload.example/x"
        );
        assert!(resolve(&base, "x").is_err());
    }
}
