//! Glue between the transaction and the multipart body processor.
//!
//! Until `waf::body::multipart` lands, multipart bodies are recognised (REQBODY_PROCESSOR is
//! MULTIPART) but not split into ARGS_POST / FILES.

use crate::config::Config;
use crate::transaction::TxData;

/// Processes a multipart body into `d`; returns the error message if parsing failed.
pub(crate) fn process(d: &mut TxData, cfg: &Config) -> Option<String> {
    let _ = (d, cfg);
    None
}
