//! The WAF configuration the CRS regression suite runs with in CRS CI: the
//! owasp/modsecurity-crs nginx image's ModSecurity settings, `crs-setup.conf.example`, the CI
//! environment (`tests/docker-compose.yml`) and the rules.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use seclang::loader::{FileLoader, FsLoader};

/// Virtual directory holding the harness's own configuration files.
pub const VIRTUAL_DIR: &str = "/portcullis-ftw";

/// The image's ModSecurity settings (recommended `modsecurity.conf` + the image's override
/// file, with the CI environment: DetectionOnly, response body access for the CI MIME types).
pub const BASE_CONF: &str = r#"# ModSecurity settings of the owasp/modsecurity-crs nginx image under CRS CI.
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
    "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
    "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecRule &ARGS "@ge 1000" \
    "id:'200007',phase:2,t:none,log,deny,status:400,msg:'Failed to fully parse request body due to large argument count',severity:2"
SecRule REQBODY_ERROR "!@eq 0" \
    "id:'200002',phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:'200003',phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation: PE %{REQBODY_PROCESSOR_ERROR}, BQ %{MULTIPART_BOUNDARY_QUOTED}, BW %{MULTIPART_BOUNDARY_WHITESPACE}, DB %{MULTIPART_DATA_BEFORE}, DA %{MULTIPART_DATA_AFTER}, HF %{MULTIPART_HEADER_FOLDING}, LF %{MULTIPART_LF_LINE}, SM %{MULTIPART_MISSING_SEMICOLON}, IQ %{MULTIPART_INVALID_QUOTING}, IP %{MULTIPART_INVALID_PART}, IH %{MULTIPART_INVALID_HEADER_FOLDING}, FL %{MULTIPART_FILE_LIMIT_EXCEEDED}'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \
    "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecRule TX:/^MSC_/ "!@streq 0" \
    "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecResponseBodyLimit 1048576
SecResponseBodyLimitAction ProcessPartial
SecArgumentSeparator &
SecCookieFormat 0
"#;

/// The CRS CI environment of `tests/docker-compose.yml`, as the image turns it into rules
/// after `crs-setup.conf` (BLOCKING_PARANOIA 4, ARG_LENGTH 400, TOTAL_ARG_LENGTH 6400,
/// MAX_FILE_SIZE 64100, COMBINED_FILE_SIZES 65535, CRS_ENABLE_TEST_MARKER 1).
pub const CI_SETTINGS_CONF: &str = r#"# CRS CI environment (tests/docker-compose.yml).
SecAction "id:900005,phase:1,pass,nolog,t:none,\
    setvar:tx.blocking_paranoia_level=4,\
    setvar:tx.arg_length=400,\
    setvar:tx.total_arg_length=6400,\
    setvar:tx.max_file_size=64100,\
    setvar:tx.combined_file_sizes=65535"
SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" \
    "id:999999,phase:1,pass,t:none,log,msg:'X-CRS-Test %{MATCHED_VAR}',ctl:ruleRemoveById=1-999999"
"#;

/// The top-level file, including everything in the image's order.
pub fn main_conf(crs_dir: &Path) -> String {
    let crs = crs_dir.display();
    format!(
        "Include {VIRTUAL_DIR}/modsecurity.conf\n\
         Include {crs}/crs-setup.conf.example\n\
         Include {VIRTUAL_DIR}/ci-settings.conf\n\
         Include {crs}/rules/*.conf\n"
    )
}

/// Path of the top-level virtual file.
pub fn main_conf_path() -> PathBuf {
    Path::new(VIRTUAL_DIR).join("main.conf")
}

/// A loader serving the harness's virtual files and the real file system for the rest.
#[derive(Debug, Clone)]
pub struct OverlayLoader {
    files: HashMap<PathBuf, Vec<u8>>,
}

impl OverlayLoader {
    /// The loader for a CRS checkout at `crs_dir`.
    pub fn new(crs_dir: &Path) -> Self {
        let mut files = HashMap::new();
        files.insert(main_conf_path(), main_conf(crs_dir).into_bytes());
        files.insert(
            Path::new(VIRTUAL_DIR).join("modsecurity.conf"),
            BASE_CONF.as_bytes().to_vec(),
        );
        files.insert(
            Path::new(VIRTUAL_DIR).join("ci-settings.conf"),
            CI_SETTINGS_CONF.as_bytes().to_vec(),
        );
        OverlayLoader { files }
    }
}

impl FileLoader for OverlayLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.files.get(path) {
            Some(v) => Ok(v.clone()),
            None => FsLoader.read(path),
        }
    }

    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        if self.files.contains_key(pattern) {
            return Ok(vec![pattern.to_path_buf()]);
        }
        FsLoader.glob(pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_config_parses() {
        let crs = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"));
        if !crs.exists() {
            return;
        }
        let loader = OverlayLoader::new(&crs);
        let dirs = seclang::parse_file(&main_conf_path(), &loader).unwrap();
        assert!(dirs.len() > 500, "{} directives", dirs.len());
    }
}
