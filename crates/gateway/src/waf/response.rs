//! Phases 3 and 4 on the upstream response (when response inspection is on), then phase 5,
//! the security event and the audit record.
//!
//! The response body is read only when phase 4 can use it: a status with a body, not a
//! `HEAD` request, a `Content-Type` in `SecResponseBodyMimeType` and no `Content-Encoding`
//! (compressed bodies are not decoded, as ModSecurity does by default). It is read up to
//! `SecResponseBodyLimit` (ProcessPartial: the prefix is inspected, the rest streams), and
//! the frames read are sent first afterwards, so the client gets the body unchanged unless
//! phase 4 blocks; every other response streams as before.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt as _;
use waf::Interruption;

use super::request::{WafTx, block_response};
use crate::body::ResponseBody;

impl WafTx {
    /// Runs the response phases (when on), phase 5, and writes the event and audit record.
    /// Returns the response to send: the upstream's, or the block page.
    pub(crate) async fn finish_response(
        mut self: Box<Self>,
        resp: Response<ResponseBody>,
    ) -> Response<ResponseBody> {
        let inspect = self.waf.opts.response_inspection
            && !self.skip
            && resp.status() != StatusCode::SWITCHING_PROTOCOLS;
        let (resp, blocked) = if inspect {
            self.response_phases(resp).await
        } else {
            (resp, None)
        };
        let status = resp.status().as_u16();
        if let Some(a) = self.audit.as_mut() {
            a.response_headers = super::request::header_pairs(resp.headers());
        }
        self.complete(blocked, Some(status));
        resp
    }

    /// Phases 3 and 4. Returns the response and, when the WAF blocked, its status.
    async fn response_phases(
        &mut self,
        resp: Response<ResponseBody>,
    ) -> (Response<ResponseBody>, Option<u16>) {
        let mut engine = Duration::ZERO;
        let t0 = Instant::now();
        let status = resp.status().as_u16();
        let interruption = self.run(|tx| {
            for (n, v) in resp.headers() {
                tx.add_response_header(n.as_str().as_bytes(), v.as_bytes());
            }
            tx.process_response_headers(status, b"HTTP/1.1")
        });
        let phase = t0.elapsed();
        engine = engine.saturating_add(phase);
        let budget = self.over_budget("response_headers", phase);
        if let Some(i) = interruption.or(budget) {
            return self.blocked(&i, engine);
        }
        if self.skip {
            self.observe("response", engine);
            return (resp, None);
        }

        let (parts, mut body) = resp.into_parts();
        let mut frames: Vec<Frame<Bytes>> = Vec::new();
        if self.body_inspected(&parts) {
            let limit =
                usize::try_from(self.waf.base.config().response_body_limit).unwrap_or(usize::MAX);
            let mut seen = 0usize;
            while seen <= limit {
                match body.frame().await {
                    None => break,
                    Some(Ok(f)) => {
                        if let Some(d) = f.data_ref() {
                            seen = seen.saturating_add(d.len());
                        }
                        frames.push(f);
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "upstream response body failed during WAF inspection");
                        self.observe("response", engine);
                        return (crate::proxy::status_response(StatusCode::BAD_GATEWAY), None);
                    }
                }
            }
            if let Some(a) = self.audit.as_mut()
                && self
                    .waf
                    .audit
                    .as_ref()
                    .is_some_and(|l| l.parts().response_body())
            {
                a.response_body = Some(prefix_bytes(&frames, limit));
            }
        }
        let t1 = Instant::now();
        let interruption = self.run(|tx| {
            for d in frames.iter().filter_map(Frame::data_ref) {
                tx.append_response_body(d);
            }
            tx.process_response_body()
        });
        let phase = t1.elapsed();
        engine = engine.saturating_add(phase);
        let budget = self.over_budget("response_body", phase);
        if let Some(i) = interruption.or(budget) {
            return self.blocked(&i, engine);
        }
        self.observe("response", engine);
        let body = if frames.is_empty() {
            body
        } else {
            body.with_pending(frames)
        };
        (Response::from_parts(parts, body), None)
    }

    fn blocked(
        &mut self,
        i: &Interruption,
        engine: Duration,
    ) -> (Response<ResponseBody>, Option<u16>) {
        self.observe("response", engine);
        let r = block_response(i, self.request_id());
        let status = r.status().as_u16();
        (r, Some(status))
    }

    /// Whether phase 4 gets this response's body.
    fn body_inspected(&self, parts: &http::response::Parts) -> bool {
        let config = self.waf.base.config();
        if !config.response_body_access
            || self.method().eq_ignore_ascii_case("HEAD")
            || parts.status.is_informational()
            || parts.status == StatusCode::NO_CONTENT
            || parts.status == StatusCode::NOT_MODIFIED
        {
            return false;
        }
        if let Some(enc) = parts.headers.get(header::CONTENT_ENCODING)
            && !enc.as_bytes().eq_ignore_ascii_case(b"identity")
        {
            tracing::debug!(
                request_id = %self.request_id(),
                "compressed response body not inspected by the WAF"
            );
            return false;
        }
        let ct = parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| {
                let v = String::from_utf8_lossy(v.as_bytes());
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let types = &config.response_body_mime_types;
        types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(&ct))
    }
}

/// The first `limit` bytes of the data frames (what the engine inspected).
fn prefix_bytes(frames: &[Frame<Bytes>], limit: usize) -> Bytes {
    let mut out = bytes::BytesMut::new();
    for d in frames.iter().filter_map(Frame::data_ref) {
        let room = limit.saturating_sub(out.len());
        if room == 0 {
            break;
        }
        out.extend_from_slice(d.get(..room.min(d.len())).unwrap_or_default());
    }
    out.freeze()
}
