//! `multipart/form-data` request bodies with libmodsecurity v3 semantics.
//!
//! The parser follows v3's line machine: input is cut into lines (or 4096-byte chunks for
//! longer lines); a line starting with `--boundary` is a boundary; before a part's empty line
//! lines are part headers, after it part data. Every strict-validation flag CRS 920/922 look at
//! is reported in [`Flags`]; problems that v3 reports through `REQBODY_ERROR` are in
//! [`Multipart::error`] (the text after `Multipart parsing error: `).
//!
//! v3 quirks kept on purpose (CRS tests are calibrated on them):
//! - in form-data values the line breaks between lines are dropped (`a\r\nb` reads `ab`);
//! - a part header error does not stop parsing (the error message is kept, the last one wins);
//! - `filename*=` is not understood (invalid Content-Disposition);
//! - when the final boundary is missing no argument or file is reported at all;
//! - (3.0.15) a boundary line that comes before the current part's first data line is not a
//!   boundary: it sets `MULTIPART_INVALID_PART` and is read as a header or data line.
//!
//! Behaviour was checked against libmodsecurity 3.0.15 on the cases of the table tests.
//!
//! Files are never written anywhere; their content is kept in memory ([`FilePart::content`]),
//! so memory is bounded by the body size.

/// After this many identical results for the same Content-Disposition value, reuse it.
const CD_REPARSE_LIMIT: u32 = 8;

/// v3's line buffer size: longer lines are processed in chunks of this size.
pub const BUF_SIZE: usize = 4096;

/// Limits and options (`SecUploadFileLimit`, `SecUploadKeepFiles` / `SecTmpSaveUploadedFiles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of file parts extracted (`SecUploadFileLimit`, 0 = unlimited).
    pub upload_file_limit: usize,
    /// Whether files would be extracted to disk (`SecUploadKeepFiles On` or
    /// `SecTmpSaveUploadedFiles On`); v3 only enforces the file limit in that case.
    pub extract_files: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            upload_file_limit: 100,
            extract_files: false,
        }
    }
}

/// Strict-validation flags, one per `MULTIPART_*` variable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// A fatal parse error (part of `MULTIPART_STRICT_ERROR`).
    pub error: bool,
    /// `MULTIPART_BOUNDARY_QUOTED`.
    pub boundary_quoted: bool,
    /// `MULTIPART_BOUNDARY_WHITESPACE`.
    pub boundary_whitespace: bool,
    /// `MULTIPART_DATA_BEFORE`.
    pub data_before: bool,
    /// `MULTIPART_DATA_AFTER`.
    pub data_after: bool,
    /// `MULTIPART_HEADER_FOLDING`.
    pub header_folding: bool,
    /// `MULTIPART_LF_LINE`.
    pub lf_line: bool,
    /// A CRLF line was seen (with `lf_line`: `MULTIPART_CRLF_LF_LINES`).
    pub crlf_line: bool,
    /// `MULTIPART_MISSING_SEMICOLON`.
    pub missing_semicolon: bool,
    /// `MULTIPART_INVALID_QUOTING`.
    pub invalid_quoting: bool,
    /// `MULTIPART_INVALID_PART`.
    pub invalid_part: bool,
    /// `MULTIPART_INVALID_HEADER_FOLDING`.
    pub invalid_header_folding: bool,
    /// `MULTIPART_FILE_LIMIT_EXCEEDED`.
    pub file_limit_exceeded: bool,
    /// `MULTIPART_UNMATCHED_BOUNDARY`: 0, 1 (something looked like a boundary but was not),
    /// or 2 (a later boundary matched after one was opened).
    pub unmatched_boundary: u8,
}

impl Flags {
    /// `MULTIPART_CRLF_LF_LINES`: both line ending styles were used.
    pub fn crlf_lf_lines(&self) -> bool {
        self.crlf_line && self.lf_line
    }

    /// `MULTIPART_STRICT_ERROR`: the OR of the strict flags, as v3 computes it (the unmatched
    /// boundary and CRLF/LF mix are not part of it).
    pub fn strict_error(&self) -> bool {
        self.error
            || self.boundary_quoted
            || self.boundary_whitespace
            || self.data_before
            || self.data_after
            || self.header_folding
            || self.lf_line
            || self.missing_semicolon
            || self.invalid_quoting
            || self.invalid_part
            || self.invalid_header_folding
            || self.file_limit_exceeded
    }
}

/// One uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePart {
    /// The part's `name` (`FILES_NAMES`, key of `FILES_SIZES`).
    pub name: Vec<u8>,
    /// The `filename` (`FILES`).
    pub filename: Vec<u8>,
    /// Size as v3 counts it (`FILES_SIZES`).
    pub size: u64,
    /// The file's bytes (line breaks kept).
    pub content: Vec<u8>,
}

/// Result of parsing a multipart body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multipart {
    /// The boundary found in the Content-Type (empty if none).
    pub boundary: Vec<u8>,
    /// Form fields (`ARGS_POST`), in order.
    pub args: Vec<(Vec<u8>, Vec<u8>)>,
    /// File parts (`FILES*`), in order.
    pub files: Vec<FilePart>,
    /// `MULTIPART_PART_HEADERS`: `(part name, "Header-Name: value")` for every header of every
    /// named part.
    pub part_headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// `MULTIPART_NAME`: every `name` parameter seen.
    pub names: Vec<Vec<u8>>,
    /// `MULTIPART_FILENAME`: every `filename` parameter seen.
    pub filenames: Vec<Vec<u8>>,
    /// `FILES_COMBINED_SIZE`.
    pub files_combined_size: u64,
    /// Bytes that are not file content (for `SecRequestBodyNoFilesLimit`).
    pub no_files_length: u64,
    /// Strict-validation flags.
    pub flags: Flags,
    /// The error for `REQBODY_ERROR_MSG` (without the `Multipart parsing error: ` prefix).
    pub error: Option<String>,
}

impl Multipart {
    /// `REQBODY_ERROR_MSG` text as v3 writes it, if there was an error.
    pub fn reqbody_error_msg(&self) -> Option<String> {
        self.error
            .as_ref()
            .map(|e| format!("Multipart parsing error: {e}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartType {
    Unknown,
    FormData,
    File,
}

#[derive(Debug, Clone)]
struct PartBuild {
    kind: PartType,
    name: Vec<u8>,
    filename: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    last_header: Option<usize>,
    value: Vec<u8>,
    content: Vec<u8>,
    size: u64,
    has_file: bool,
    /// Last Content-Disposition parsed, its result and how often in a row it gave it.
    cd_memo: Option<(Vec<u8>, i32, u32)>,
}

impl PartBuild {
    fn new() -> Self {
        PartBuild {
            kind: PartType::Unknown,
            name: Vec::new(),
            filename: Vec::new(),
            headers: Vec::new(),
            last_header: None,
            value: Vec::new(),
            content: Vec::new(),
            size: 0,
            has_file: false,
            cd_memo: None,
        }
    }

    fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// C `isspace`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Byte at `i`, or 0 past the end (the C string terminator).
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// C `strlen`: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|b| *b == 0) {
        Some(n) => s.get(..n).unwrap_or_default(),
        None => s,
    }
}

/// C `strncmp(s + from, needle, needle.len()) == 0` on a NUL-terminated buffer.
fn c_starts_with(s: &[u8], from: usize, needle: &[u8]) -> bool {
    let hay = c_str(s.get(from..).unwrap_or_default());
    hay.starts_with(needle)
}

/// Remove trailing CR / LF characters.
fn chomp(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rposition(|b| *b != b'\n' && *b != b'\r')
        .map_or(0, |i| i + 1);
    s.get(..n).unwrap_or_default()
}

fn count_boundary_params(s: &[u8]) -> usize {
    let lower = s.to_ascii_lowercase();
    let mut count = 0;
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(lower.get(from..).unwrap_or_default(), b"boundary") {
        from += pos + 8;
        if lower.get(from..).unwrap_or_default().contains(&b'=') {
            count += 1;
        }
    }
    count
}

fn boundary_chars_valid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric() || (c == b' ' && i + 1 < b.len()) || b"'()+_,-./:=?".contains(&c)
    })
}

fn is_token_char(c: u8) -> bool {
    c > 32 && c < 127 && !b"()<>@,;:\\\"/[]?=".contains(&c)
}

/// How the previous line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    None,
    Lf,
    Crlf,
}

struct Parser<'a> {
    limits: &'a Limits,
    out: Multipart,
    boundary: Vec<u8>,
    buf: Vec<u8>,
    buf_contains_line: bool,
    mpp: Option<PartBuild>,
    headers_done: bool,
    part_has_data: bool,
    prev_line_end: LineEnd,
    names_budget: usize,
    reserve: Vec<u8>,
    seen_data: bool,
    is_complete: bool,
    boundary_count: usize,
    nfiles: usize,
    parts: Vec<PartBuild>,
}

impl Parser<'_> {
    /// MULTIPART_NAME / MULTIPART_FILENAME record every parse of a Content-Disposition, which
    /// a part stuck in its header block repeats at each empty line: cap what they keep.
    fn take_budget(&mut self, n: usize) -> bool {
        if n > self.names_budget {
            return false;
        }
        self.names_budget -= n;
        true
    }

    fn set_error(&mut self, msg: impl Into<String>) {
        self.out.error = Some(msg.into());
    }

    fn fatal(&mut self, msg: impl Into<String>) {
        self.out.flags.error = true;
        self.set_error(msg);
    }

    /// Boundary extraction from the Content-Type (`init`). Returns false to skip the body.
    fn init(&mut self, ct: &[u8]) -> bool {
        if ct.is_empty() {
            self.fatal("Multipart: Content-Type header not available.");
            return false;
        }
        if ct.len() > 1024 {
            self.fatal("Multipart: Invalid boundary in C-T (length).");
            return false;
        }
        if ct.len() < 19
            || !ct
                .get(..19)
                .unwrap_or_default()
                .eq_ignore_ascii_case(b"multipart/form-data")
        {
            self.fatal("Multipart: Invalid MIME type.");
            return false;
        }
        if count_boundary_params(ct) > 1 {
            self.fatal("Multipart: Multiple boundary parameters in C-T.");
            return false;
        }
        let ct_c = c_str(ct);
        let Some(bpos) = memchr::memmem::find(ct_c, b"boundary") else {
            self.out.flags.error = true;
            if count_boundary_params(ct) > 0 {
                self.set_error("Multipart: Invalid boundary in C-T (case sensitivity).");
            } else {
                self.set_error("Multipart: Boundary not found in C-T.");
            }
            return false;
        };
        let mut seen_semicolon = false;
        for &c in ct_c.get(19..bpos).unwrap_or_default() {
            if !is_space(c) {
                if !seen_semicolon && c == b';' {
                    seen_semicolon = true;
                } else {
                    self.fatal("Multipart: Invalid boundary in C-T (malformed).");
                    return false;
                }
            }
        }
        if !seen_semicolon {
            self.out.flags.missing_semicolon = true;
        }
        let after_name = bpos + 8;
        let Some(eq) = ct_c
            .get(after_name..)
            .unwrap_or_default()
            .iter()
            .position(|b| *b == b'=')
            .map(|p| p + after_name)
        else {
            self.fatal("Multipart: Invalid boundary in C-T (malformed).");
            return false;
        };
        for &c in ct_c.get(after_name..eq).unwrap_or_default() {
            if is_space(c) {
                self.out.flags.boundary_whitespace = true;
            } else {
                self.fatal("Multipart: Invalid boundary in C-T (parameter name).");
                return false;
            }
        }
        let b = ct_c.get(eq + 1..).unwrap_or_default();
        if b.first().is_some_and(|c| is_space(*c)) {
            self.out.flags.boundary_whitespace = true;
        }
        let len = b.len();
        if len >= 2 && b.first() == Some(&b'"') && b.last() == Some(&b'"') {
            self.boundary = b.get(1..len - 1).unwrap_or_default().to_vec();
            if self.boundary.is_empty() {
                // v3 gives up on the body here without reporting an error.
                return false;
            }
            self.out.flags.boundary_quoted = true;
        } else {
            if b.first() == Some(&b'"') || (len >= 2 && b.last() == Some(&b'"')) {
                self.fatal("Multipart: Invalid boundary in C-T (quote).");
                return false;
            }
            // libmodsecurity 3.0.15 ends an unquoted boundary at the first ';'.
            let end = b.iter().position(|c| *c == b';').unwrap_or(b.len());
            self.boundary = b.get(..end).unwrap_or_default().to_vec();
            if self.boundary.is_empty() {
                return false;
            }
        }
        if count_boundary_params(&self.boundary) != 0 {
            self.fatal("Multipart: Invalid boundary in C-T (content).");
            return false;
        }
        if !boundary_chars_valid(&self.boundary) {
            self.fatal("Multipart: Invalid boundary in C-T (characters).");
            return false;
        }
        true
    }

    /// Parse the `Content-Disposition` value into the current part (v3 return codes).
    fn parse_content_disposition(&mut self, value: &[u8]) -> i32 {
        let v = c_str(value);
        if !v.starts_with(b"form-data") {
            return -1;
        }
        let mut p = 9;
        while matches!(at(v, p), b'\t' | b' ') {
            p += 1;
        }
        if at(v, p) == 0 {
            return 1;
        }
        if at(v, p) != b';' {
            return -2;
        }
        p += 1;
        while at(v, p) != 0 {
            while matches!(at(v, p), b'\t' | b' ') {
                p += 1;
            }
            if at(v, p) == 0 {
                return -3;
            }
            let start = p;
            while !matches!(at(v, p), 0 | b'=' | b'\t' | b' ') {
                p += 1;
            }
            if at(v, p) == 0 {
                return -4;
            }
            let name = v.get(start..p).unwrap_or_default().to_vec();
            while matches!(at(v, p), b'\t' | b' ') {
                p += 1;
            }
            if at(v, p) == 0 {
                return -5;
            }
            if at(v, p) != b'=' {
                return -13;
            }
            p += 1;
            while matches!(at(v, p), b'\t' | b' ') {
                p += 1;
            }
            if at(v, p) == 0 {
                return -6;
            }
            let mut val = Vec::new();
            let quote = at(v, p);
            if quote == b'"' || quote == b'\'' {
                if quote == b'\'' {
                    self.out.flags.invalid_quoting = true;
                }
                p += 1;
                if at(v, p) == 0 {
                    return -7;
                }
                let mut closed = false;
                while at(v, p) != 0 {
                    if at(v, p) == b'\\' {
                        if at(v, p + 1) == 0 {
                            return -8;
                        }
                        if at(v, p + 1) == quote || at(v, p + 1) == b'\\' {
                            p += 1;
                        }
                    } else if at(v, p) == quote {
                        closed = true;
                        break;
                    }
                    val.push(at(v, p));
                    p += 1;
                }
                if !closed {
                    // libmodsecurity 3.0.15 rejects an unterminated quoted value.
                    self.out.flags.invalid_quoting = true;
                    return -10;
                }
                p += 1;
            } else {
                let start = p;
                while at(v, p) != 0 && is_token_char(at(v, p)) {
                    p += 1;
                }
                val = v.get(start..p).unwrap_or_default().to_vec();
            }
            if self.mpp.is_none() {
                return -1;
            }
            let is_name = match name.as_slice() {
                b"name" => true,
                b"filename" => false,
                _ => return -11,
            };
            if val.contains(&b'\'') {
                self.out.flags.invalid_quoting = true;
            }
            if self.take_budget(val.len()) {
                if is_name {
                    self.out.names.push(val.clone());
                } else {
                    self.out.filenames.push(val.clone());
                }
            }
            let Some(mpp) = self.mpp.as_mut() else {
                return -1;
            };
            let slot = if is_name {
                &mut mpp.name
            } else {
                &mut mpp.filename
            };
            if !slot.is_empty() {
                return if is_name { -14 } else { -15 };
            }
            *slot = val;
            if at(v, p) != 0 {
                while matches!(at(v, p), b'\t' | b' ') {
                    p += 1;
                }
                if at(v, p) == 0 {
                    return 1;
                }
                if at(v, p) != b';' {
                    if p > 0 && matches!(at(v, p - 1), b'\'' | b'"') {
                        self.out.flags.invalid_quoting = true;
                    }
                    return -12;
                }
                p += 1;
            }
        }
        1
    }

    fn process_part_header(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.part_header_line(&buf);
        self.buf = buf;
    }

    fn part_header_line(&mut self, buf: &[u8]) {
        let len = buf.len();
        if buf.contains(&0) {
            self.set_error("Multipart: Nul byte in part headers.");
            return;
        }
        self.out.no_files_length = self.out.no_files_length.saturating_add(len as u64);
        if len > 1 && at(buf, len - 2) == b'\r' {
            self.out.flags.crlf_line = true;
        } else {
            self.out.flags.lf_line = true;
        }
        if buf == b"\r\n" || buf == b"\n" {
            let Some(cd) = self
                .mpp
                .as_ref()
                .and_then(|m| m.header(b"Content-Disposition"))
                .map(<[u8]>::to_vec)
            else {
                self.set_error("Multipart: Part missing Content-Disposition header.");
                return;
            };
            // A part stuck in its header block re-parses the same header at every empty
            // line; past a few times the (stable) result is reused to bound the work.
            let rc = match self.mpp.as_ref().and_then(|m| m.cd_memo.clone()) {
                Some((seen, rc, n)) if seen == cd && n >= CD_REPARSE_LIMIT => rc,
                memo => {
                    let rc = self.parse_content_disposition(&cd);
                    let n = match memo {
                        Some((seen, prev, n)) if seen == cd && prev == rc => n + 1,
                        _ => 1,
                    };
                    if let Some(m) = self.mpp.as_mut() {
                        m.cd_memo = Some((cd.clone(), rc, n));
                    }
                    rc
                }
            };
            if rc < 0 {
                self.set_error(format!(
                    "Multipart: Invalid Content-Disposition header ({rc}): {}",
                    String::from_utf8_lossy(&cd)
                ));
                return;
            }
            let Some(mpp) = self.mpp.as_mut() else { return };
            if mpp.name.is_empty() {
                self.set_error("Multipart: Content-Disposition header missing name field.");
                return;
            }
            if !mpp.filename.is_empty() {
                if memchr::memmem::find(&cd, b"filename=").is_none() {
                    self.set_error("Multipart: Invalid Content-Disposition header (filename).");
                    return;
                }
                mpp.kind = PartType::File;
            } else {
                mpp.kind = PartType::FormData;
            }
            self.headers_done = true;
            mpp.last_header = None;
            return;
        }
        if is_space(at(buf, 0)) {
            self.out.flags.header_folding = true;
            let mut i = 0;
            while is_space(at(buf, i)) {
                if !matches!(at(buf, i), b'\t' | b' ') {
                    self.out.flags.invalid_header_folding = true;
                }
                i += 1;
            }
            let Some(mpp) = self.mpp.as_mut() else { return };
            let Some(idx) = mpp.last_header else {
                self.set_error("Multipart: Invalid part header (folding error).");
                return;
            };
            let more = chomp(buf.get(i..).unwrap_or_default());
            if let Some((_, v)) = mpp.headers.get_mut(idx) {
                v.push(b' ');
                v.extend_from_slice(more);
                if v.len() > BUF_SIZE {
                    self.set_error("Multipart: Part header too long.");
                }
            }
            return;
        }
        let Some(colon) = buf.iter().position(|b| *b == b':') else {
            self.set_error(format!(
                "Multipart: Invalid part header (colon missing): {}",
                String::from_utf8_lossy(buf)
            ));
            return;
        };
        if colon == 0 {
            self.set_error("Multipart: Invalid part header (header name missing).");
            return;
        }
        let name = buf.get(..colon).unwrap_or_default().to_vec();
        if name.iter().any(|c| *c <= 32 || *c >= 127) {
            // libmodsecurity 3.0.15 rejects control, space and non-ASCII bytes in names.
            self.set_error("Multipart: Invalid part header (contains invalid character).");
            return;
        }
        let mut i = colon + 1;
        while matches!(at(buf, i), b'\t' | b' ') {
            i += 1;
        }
        let value = chomp(buf.get(i..).unwrap_or_default()).to_vec();
        let Some(mpp) = self.mpp.as_mut() else { return };
        if mpp.header(&name).is_some() {
            // v3 rejects the duplicate without an error message.
            return;
        }
        mpp.headers.push((name, value));
        mpp.last_header = Some(mpp.headers.len() - 1);
    }

    fn process_part_data(&mut self) {
        self.part_has_data = true;
        let mut data = std::mem::take(&mut self.buf);
        let mut new_reserve = Vec::new();
        if data.last() == Some(&b'\n') {
            let keep = if data.len() >= 2 && at(&data, data.len() - 2) == b'\r' {
                2
            } else {
                1
            };
            new_reserve = data.split_off(data.len() - keep);
        }
        let limits = self.limits;
        let reserve = std::mem::take(&mut self.reserve);
        if let Some(mpp) = self.mpp.as_mut() {
            let added = (data.len() + reserve.len()) as u64;
            match mpp.kind {
                PartType::File => {
                    let mut extract = limits.extract_files;
                    if extract
                        && limits.upload_file_limit != 0
                        && self.nfiles >= limits.upload_file_limit
                    {
                        if !self.out.flags.file_limit_exceeded {
                            self.out.flags.file_limit_exceeded = true;
                            self.out.error = Some(format!(
                                "Multipart: Upload file limit exceeded {}. Use SecUploadFileLimit to change the limit.",
                                limits.upload_file_limit
                            ));
                        }
                        extract = false;
                    }
                    if extract && !mpp.has_file {
                        mpp.has_file = true;
                        self.nfiles += 1;
                    }
                    mpp.size = mpp.size.saturating_add(added);
                    mpp.content.extend_from_slice(&reserve);
                    mpp.content.extend_from_slice(&data);
                }
                PartType::FormData | PartType::Unknown => {
                    self.out.no_files_length = self.out.no_files_length.saturating_add(added);
                    // v3 drops the reserved line break here (it overwrites it).
                    mpp.value.extend_from_slice(&data);
                }
            }
        }
        self.reserve = new_reserve;
        data.clear();
        self.buf = data;
    }

    fn process_boundary(&mut self, last: bool) {
        if let Some(mpp) = self.mpp.take() {
            if mpp.name.is_empty() {
                self.out.flags.invalid_part = true;
            } else {
                self.parts.push(mpp);
            }
        }
        if !last {
            self.mpp = Some(PartBuild::new());
            self.headers_done = false;
            self.part_has_data = false;
            self.reserve.clear();
        }
    }

    /// Handle one line (or chunk) in `self.buf`. Returns false to stop processing.
    fn line(&mut self, chunk_full: bool, c: u8) -> bool {
        let blen = self.boundary.len();
        let slen = c_str(&self.buf).len();
        let mut processed_as_boundary = false;
        let len = self.buf.len();
        let this_line_end = if self.buf.last() != Some(&b'\n') {
            LineEnd::None
        } else if len > 1 && at(&self.buf, len - 2) == b'\r' {
            LineEnd::Crlf
        } else {
            LineEnd::Lf
        };
        if self.buf_contains_line
            && slen > 3
            && at(&self.buf, 0) == b'-'
            && at(&self.buf, 1) == b'-'
            && slen >= blen + 2
            && c_starts_with(&self.buf, 2, &self.boundary)
        {
            // libmodsecurity 3.0.15: a bare LF before a boundary line counts as an LF line.
            if self.prev_line_end == LineEnd::Lf {
                self.out.flags.lf_line = true;
            }
        }
        if self.buf_contains_line
            && slen > 3
            && at(&self.buf, 0) == b'-'
            && at(&self.buf, 1) == b'-'
        {
            if slen >= blen + 2
                && c_starts_with(&self.buf, 2, &self.boundary)
                && self.mpp.is_some()
                && !(self.headers_done && self.part_has_data)
            {
                // libmodsecurity 3.0.15: a boundary line before the current part has any data
                // line is not a boundary; it marks the part invalid and is read as content.
                self.out.flags.invalid_part = true;
            } else if slen >= blen + 2 && c_starts_with(&self.buf, 2, &self.boundary) {
                if self.boundary_count > 0 {
                    self.out.flags.unmatched_boundary = 2;
                }
                let mut end = 2 + blen;
                let is_final = at(&self.buf, end) == b'-' && at(&self.buf, end + 1) == b'-';
                if is_final {
                    end += 2;
                    if self.is_complete {
                        self.fatal("Multipart: Invalid boundary (final duplicate).");
                        return false;
                    }
                }
                let crlf = at(&self.buf, end) == b'\r'
                    && at(&self.buf, end + 1) == b'\n'
                    && at(&self.buf, end + 2) == 0;
                let lf = at(&self.buf, end) == b'\n' && at(&self.buf, end + 1) == 0;
                if crlf || lf {
                    if lf {
                        self.out.flags.lf_line = true;
                    } else {
                        self.out.flags.crlf_line = true;
                    }
                    self.process_boundary(is_final);
                    if is_final {
                        self.is_complete = true;
                    }
                    processed_as_boundary = true;
                    self.boundary_count += 1;
                } else {
                    let shown = String::from_utf8_lossy(c_str(&self.buf)).into_owned();
                    self.fatal(format!("Multipart: Invalid boundary: {shown}"));
                    return false;
                }
            } else {
                if self.out.flags.boundary_quoted
                    && slen >= blen + 3
                    && at(&self.buf, 2) == b'"'
                    && c_starts_with(&self.buf, 3, &self.boundary)
                {
                    self.fatal("Multipart: Invalid boundary (quotes).");
                    return false;
                }
                let mut p = 2;
                while is_space(at(&self.buf, p)) {
                    p += 1;
                }
                if p != 2 && c_starts_with(&self.buf, p, &self.boundary) {
                    self.fatal("Multipart: Invalid boundary (whitespace).");
                    return false;
                }
                self.out.flags.unmatched_boundary = 1;
            }
        } else if self.buf_contains_line {
            let len = self.buf.len();
            for i in 0..len {
                if at(&self.buf, i) == b'-'
                    && i + 1 < len
                    && at(&self.buf, i + 1) == b'-'
                    && c_starts_with(&self.buf, i + 2, &self.boundary)
                {
                    self.out.flags.unmatched_boundary = 1;
                    break;
                }
            }
        }
        if !processed_as_boundary {
            if self.mpp.is_none() {
                self.out.flags.data_before = true;
            } else if !self.headers_done {
                if chunk_full {
                    self.fatal(format!(
                        "Multipart: Part header line over {BUF_SIZE} bytes long"
                    ));
                    return false;
                }
                self.process_part_header();
            } else {
                self.process_part_data();
            }
        }
        self.buf.clear();
        self.buf_contains_line = c == b'\n';
        self.prev_line_end = this_line_end;
        true
    }

    fn process(&mut self, body: &[u8]) {
        if body.is_empty() {
            return;
        }
        self.seen_data = true;
        let mut i = 0;
        while let Some(&c) = body.get(i) {
            let room = BUF_SIZE - self.buf.len();
            let hold_cr = c == b'\r' && room == 1;
            if !hold_cr {
                self.buf.push(c);
                i += 1;
            }
            let full = self.buf.len() >= BUF_SIZE;
            if (c == b'\n' || full || hold_cr) && !self.line(full || hold_cr, c) {
                return;
            }
            if self.is_complete && i < body.len() {
                self.out.flags.data_after = true;
                return;
            }
        }
    }

    fn complete(&mut self) {
        if self.seen_data && !self.is_complete {
            if self.boundary_count > 0 {
                let b = &self.buf;
                let blen = self.boundary.len();
                if self.buf_contains_line
                    && b.len() == 4 + blen
                    && b.starts_with(b"--")
                    && c_starts_with(b, 2, &self.boundary)
                    && at(b, 2 + blen) == b'-'
                    && at(b, 3 + blen) == b'-'
                {
                    if self.prev_line_end == LineEnd::Lf {
                        self.out.flags.lf_line = true;
                    }
                    self.process_boundary(true);
                    self.is_complete = true;
                }
                if !self.is_complete {
                    self.set_error("Multipart: Final boundary missing.");
                    return;
                }
            } else {
                self.set_error("Multipart: No boundaries found in payload.");
                return;
            }
        }
        for part in std::mem::take(&mut self.parts) {
            for (h, v) in &part.headers {
                let mut line = h.clone();
                line.extend_from_slice(b": ");
                line.extend_from_slice(v);
                self.out.part_headers.push((part.name.clone(), line));
            }
            if part.kind == PartType::File {
                self.out.files_combined_size =
                    self.out.files_combined_size.saturating_add(part.size);
                self.out.files.push(FilePart {
                    name: part.name,
                    filename: part.filename,
                    size: part.size,
                    content: part.content,
                });
            } else {
                self.out.args.push((part.name, part.value));
            }
        }
    }
}

/// Parse a multipart body given the request's `Content-Type` value.
pub fn parse(content_type: &[u8], body: &[u8], limits: &Limits) -> Multipart {
    let mut p = Parser {
        limits,
        out: Multipart::default(),
        boundary: Vec::new(),
        buf: Vec::with_capacity(BUF_SIZE),
        buf_contains_line: true,
        mpp: None,
        headers_done: false,
        part_has_data: false,
        prev_line_end: LineEnd::None,
        names_budget: body.len().saturating_mul(2).max(1 << 16),
        reserve: Vec::new(),
        seen_data: false,
        is_complete: false,
        boundary_count: 0,
        nfiles: 0,
        parts: Vec::new(),
    };
    if p.init(content_type) {
        p.process(body);
    }
    p.complete();
    p.out.boundary = std::mem::take(&mut p.boundary);
    p.out
}

#[cfg(test)]
#[path = "multipart_oracle_cases.rs"]
mod oracle_cases;

#[cfg(test)]
#[path = "multipart_tests.rs"]
mod tests;
