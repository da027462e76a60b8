//! Glue between the transaction and the multipart body processor (`body::multipart`):
//! ARGS_POST, FILES*, MULTIPART_PART_HEADERS, MULTIPART_NAME/FILENAME and the strict flags.

use crate::body::multipart::{self, Limits};
use crate::config::Config;
use crate::transaction::{FileInfo, TxData};
use crate::variables::MultipartFlag as F;

/// Processes a multipart body into `d`; returns the error message if parsing failed.
pub(crate) fn process(d: &mut TxData, cfg: &Config) -> Option<String> {
    let ct = d
        .req_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let m = multipart::parse(&ct, &d.req_body, &Limits::default());
    let limit = cfg.arguments_limit as usize;
    for (k, v) in &m.args {
        if limit > 0 && d.args_get.len() + d.args_post.len() >= limit {
            break;
        }
        d.args_post.push((k.clone(), v.clone()));
    }
    d.files = m
        .files
        .iter()
        .map(|f| FileInfo {
            field: f.name.clone(),
            filename: f.filename.clone(),
            size: usize::try_from(f.size).unwrap_or(usize::MAX),
            content: f.content.clone(),
        })
        .collect();
    d.files_combined_size = m.files_combined_size;
    d.multipart_part_headers = m.part_headers.clone();
    d.multipart_names = m.names.clone();
    d.multipart_filenames = m.filenames.clone();
    let f = &m.flags;
    d.multipart_flags = vec![
        (F::StrictError, i64::from(f.strict_error())),
        (F::UnmatchedBoundary, i64::from(f.unmatched_boundary)),
        (F::BoundaryQuoted, i64::from(f.boundary_quoted)),
        (F::BoundaryWhitespace, i64::from(f.boundary_whitespace)),
        (F::DataAfter, i64::from(f.data_after)),
        (F::DataBefore, i64::from(f.data_before)),
        (F::FileLimitExceeded, i64::from(f.file_limit_exceeded)),
        (F::HeaderFolding, i64::from(f.header_folding)),
        (F::InvalidHeaderFolding, i64::from(f.invalid_header_folding)),
        (F::InvalidPart, i64::from(f.invalid_part)),
        (F::InvalidQuoting, i64::from(f.invalid_quoting)),
        (F::LfLine, i64::from(f.lf_line)),
        (F::MissingSemicolon, i64::from(f.missing_semicolon)),
        (F::CrlfLfLines, i64::from(f.crlf_lf_lines())),
    ];
    m.reqbody_error_msg()
}
