//! The shared WAF rule text: ModSecurity's recommended base settings (as the CRS project's
//! nginx image uses them), then the CRS setup and rules. Compiled once per process and
//! shared by every Ingress; per-Ingress and global choices (paranoia level, thresholds) are
//! TX variables seeded per transaction, since CRS 901 only sets them when they are unset.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seclang::loader::FsLoader;

use super::WafError;

/// Usual CRS install locations, tried in order when `--crs` is not given.
pub const CRS_LOCATIONS: [&str; 6] = [
    "/usr/share/modsecurity-crs",
    "/etc/modsecurity/crs",
    "/usr/local/share/modsecurity-crs",
    "/etc/nginx/owasp-modsecurity-crs",
    "/opt/owasp-crs",
    "/usr/share/owasp-modsecurity-crs",
];

/// Where `portcullis crs install` puts the CRS by default: `/var/lib/portcullis/crs` when
/// running as root, else `$XDG_DATA_HOME/portcullis/crs` or `~/.local/share/portcullis/crs`.
pub fn crs_install_dir() -> PathBuf {
    let system = PathBuf::from("/var/lib/portcullis/crs");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            return system;
        }
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("portcullis/crs");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => PathBuf::from(h).join(".local/share/portcullis/crs"),
        None => system,
    }
}

/// Whether `dir` looks like a CRS folder (`rules/REQUEST-901-INITIALIZATION.conf`).
pub fn is_crs_dir(dir: &Path) -> bool {
    dir.join("rules")
        .join("REQUEST-901-INITIALIZATION.conf")
        .is_file()
}

/// The CRS folder: `explicit` when given (it must be a CRS folder), else the first of
/// [`crs_install_dir`] (`portcullis crs install`) and the usual locations that is one.
pub fn find_crs(explicit: Option<&Path>) -> Result<PathBuf, WafError> {
    if let Some(dir) = explicit {
        if is_crs_dir(dir) {
            return Ok(dir.to_path_buf());
        }
        return Err(WafError::NotCrs(dir.to_path_buf()));
    }
    std::iter::once(crs_install_dir())
        .chain(CRS_LOCATIONS.iter().map(PathBuf::from))
        .find(|d| is_crs_dir(d))
        .ok_or(WafError::NoCrs)
}

/// The setup file of a CRS folder: `crs-setup.conf`, else the shipped example, else
/// Debian's `/etc/modsecurity/crs/crs-setup.conf`.
fn setup_file(crs: &Path) -> Option<PathBuf> {
    [
        crs.join("crs-setup.conf"),
        crs.join("crs-setup.conf.example"),
        PathBuf::from("/etc/modsecurity/crs/crs-setup.conf"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// TX variable seeded to `1` for a transaction whose route reads response bodies while the
/// shared rule set was compiled without response body access (base rule 200010 then turns
/// it on with `ctl:responseBodyAccess=On`).
pub const RESPONSE_BODY_VAR: &str = "portcullis_response_body_access";

/// Engine settings shared by the CRS rule set and snippet rule sets: body access, limits,
/// `SecResponseBodyMimeType`, and the rules picking the JSON and XML body processors.
fn engine_settings(body_limit: u64, response_body: bool) -> String {
    let resp = if response_body { "On" } else { "Off" };
    format!(
        "SecRequestBodyAccess On\n\
         SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" \"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n\
         SecRule REQUEST_HEADERS:Content-Type \"^application/json\" \"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n\
         SecRequestBodyLimit {body_limit}\n\
         SecRequestBodyNoFilesLimit {body_limit}\n\
         SecRequestBodyLimitAction ProcessPartial\n\
         SecRequestBodyJsonDepthLimit 512\n\
         SecArgumentsLimit 1000\n\
         SecResponseBodyAccess {resp}\n\
         SecResponseBodyMimeType text/plain text/html text/xml\n\
         SecResponseBodyLimit {RESPONSE_BODY_LIMIT}\n\
         SecResponseBodyLimitAction ProcessPartial\n\
         SecArgumentSeparator &\n\
         SecCookieFormat 0\n"
    )
}

/// `SecResponseBodyLimit`: response body bytes inspected (decoded bytes for compressed
/// bodies).
pub const RESPONSE_BODY_LIMIT: u64 = 524_288;

/// The full rule text: base engine settings, CRS setup, CRS rules. `body_limit` is the
/// request body inspection limit (bytes); `response_body` turns response body access on.
pub fn rule_text(crs: &Path, body_limit: u64, response_body: bool) -> String {
    let crs_s = crs.display();
    let mut t = String::from("SecRuleEngine On\n");
    t.push_str(&engine_settings(body_limit, response_body));
    t.push_str(&format!(
        "SecRule &ARGS \"@ge 1000\" \"id:200007,phase:2,t:none,log,deny,status:400,msg:'Failed to fully parse request body due to large argument count',severity:2\"\n\
         SecRule REQBODY_ERROR \"!@eq 0\" \"id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{{reqbody_error_msg}}',severity:2\"\n\
         SecRule MULTIPART_STRICT_ERROR \"!@eq 0\" \"id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'\"\n\
         SecRule MULTIPART_UNMATCHED_BOUNDARY \"@eq 1\" \"id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'\"\n\
         SecRule TX:/^MSC_/ \"!@streq 0\" \"id:200005,phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{{MATCHED_VAR_NAME}}'\"\n\
         SecRule TX:{RESPONSE_BODY_VAR} \"@streq 1\" \"id:200010,phase:1,t:none,pass,nolog,ctl:responseBodyAccess=On\"\n"
    ));
    if let Some(setup) = setup_file(crs) {
        t.push_str(&format!("Include {}\n", setup.display()));
    }
    t.push_str(&format!(
        "IncludeOptional {crs_s}/rules/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf\n\
         Include {crs_s}/rules/*.conf\n"
    ));
    t
}

/// The settings a snippet's own rule set is compiled with, before its `SecRule`s: the same
/// request and response body handling as the CRS rule set, with response body access on
/// (the gateway feeds the body only to routes that inspect it).
pub fn snippet_prelude(body_limit: u64) -> Result<Vec<seclang::ast::Directive>, WafError> {
    seclang::parse_with(
        &engine_settings(body_limit, true),
        "<portcullis snippet settings>",
        &seclang::Options::default(),
        &seclang::loader::MemLoader::new(),
    )
    .map_err(|e| WafError::Parse(e.to_string()))
}

/// Parses and compiles the shared rule set (seconds of CPU: call once).
pub fn compile(
    crs: &Path,
    body_limit: u64,
    response_body: bool,
) -> Result<Arc<waf::RuleSet>, WafError> {
    let text = rule_text(crs, body_limit, response_body);
    let directives = seclang::parse_with(
        &text,
        "<portcullis waf>",
        &seclang::Options::with_includes(),
        &FsLoader,
    )
    .map_err(|e| WafError::Parse(e.to_string()))?;
    let mut rules = waf::RuleSet::compile(&directives, &FsLoader)
        .map_err(|e| WafError::Compile(e.to_string()))?;
    rules.set_engine_mode(waf::EngineMode::On);
    Ok(Arc::new(rules))
}

/// Seeds the paranoia level into a transaction, as `crs-setup.conf`'s rule 900000 would:
/// `tx.blocking_paranoia_level` for CRS 4 and `tx.paranoia_level`, its name in CRS 3.x
/// (CRS 4 never reads the old name, so setting both serves either release).
pub fn seed_paranoia(tx: &mut waf::Transaction, level: u8) {
    let level = level.to_string();
    tx.set_tx_var("blocking_paranoia_level", &level);
    tx.set_tx_var("paranoia_level", &level);
}
