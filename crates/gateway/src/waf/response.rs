//! Phases 3 and 4 on the upstream response (when the route inspects responses), then phase
//! 5, the security event and the audit record.
//!
//! The response body is read only when phase 4 can use it: a status with a body, not a
//! `HEAD` request, a `Content-Type` in `SecResponseBodyMimeType`, and no `Content-Encoding`
//! or one the WAF decodes (`gzip`, `deflate`, `br`, see `decode.rs`; others are not
//! inspected). It is read up to `SecResponseBodyLimit` (ProcessPartial: the prefix is
//! inspected, the rest streams; for a compressed body the limit applies to the decoded
//! bytes, and decoding stops there), and the frames read are sent first afterwards, so the
//! client gets the upstream's bytes unchanged unless phase 4 blocks; every other response
//! streams as before.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt as _;
use waf::Interruption;

use super::decode::{self, DecodeState, Decoder, Plan};
use super::request::{WafTx, block_response};
use crate::body::ResponseBody;

impl WafTx {
    /// Runs the response phases (when on), phase 5, and writes the event and audit record.
    /// Returns the response to send: the upstream's, or the block page.
    pub(crate) async fn finish_response(
        mut self: Box<Self>,
        resp: Response<ResponseBody>,
    ) -> Response<ResponseBody> {
        let inspect =
            self.response_phases && !self.skip && resp.status() != StatusCode::SWITCHING_PROTOCOLS;
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
        let plan = self.body_plan(resp.status(), resp.headers());
        // A body decoded for phase 4 is what the rules see, so they see no Content-Encoding
        // either (CRS 95x skip compressed bodies on that header).
        let decoded = matches!(plan, Some(Plan::Decode(_)));
        let interruption = self.run(|tx| {
            for (n, v) in resp.headers() {
                if decoded && n == header::CONTENT_ENCODING {
                    continue;
                }
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
        let mut decoder = None;
        if let Some(plan) = plan {
            let limit =
                usize::try_from(self.waf.base.config().response_body_limit).unwrap_or(usize::MAX);
            if let Plan::Decode(codings) = &plan {
                decoder = Some(Decoder::new(codings, limit));
            }
            // Compressed or not, at most `limit` (plus one frame) raw bytes are held back.
            let mut seen = 0usize;
            while seen <= limit {
                match body.frame().await {
                    None => break,
                    Some(Ok(f)) => {
                        if let Some(d) = f.data_ref() {
                            seen = seen.saturating_add(d.len());
                            if let Some(dec) = decoder.as_mut() {
                                dec.push(d);
                            }
                        }
                        frames.push(f);
                        if decoder.as_ref().is_some_and(|d| !d.wants_more()) {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "upstream response body failed during WAF inspection");
                        self.observe("response", engine);
                        return (crate::proxy::status_response(StatusCode::BAD_GATEWAY), None);
                    }
                }
            }
            if let Some(dec) = &decoder {
                self.log_decoding(dec, &plan, seen);
            }
            if let Some(a) = self.audit.as_mut()
                && self
                    .waf
                    .audit
                    .as_ref()
                    .is_some_and(|l| l.parts().response_body())
            {
                a.response_body = Some(match &decoder {
                    Some(d) => Bytes::copy_from_slice(
                        d.output()
                            .get(..limit.min(d.output().len()))
                            .unwrap_or_default(),
                    ),
                    None => prefix_bytes(&frames, limit),
                });
            }
        }
        let t1 = Instant::now();
        let interruption = self.run(|tx| {
            match &decoder {
                Some(d) => tx.append_response_body(d.output()),
                None => {
                    for d in frames.iter().filter_map(Frame::data_ref) {
                        tx.append_response_body(d);
                    }
                }
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

    /// How phase 4 gets this response's body: `None` when it gets none (no body access for
    /// the route, no body, a type outside `SecResponseBodyMimeType`, a coding the WAF does
    /// not decode), else as is or decoded.
    fn body_plan(&self, status: StatusCode, headers: &http::HeaderMap) -> Option<Plan> {
        let config = self.waf.base.config();
        if !self.response_body
            || self.method().eq_ignore_ascii_case("HEAD")
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return None;
        }
        let ct = headers
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
        if !(types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(&ct))) {
            return None;
        }
        match decode::plan(headers) {
            Plan::Unsupported(coding) => {
                tracing::debug!(
                    request_id = %self.request_id(),
                    coding,
                    "response body not inspected by the WAF: content coding not decoded"
                );
                None
            }
            plan => Some(plan),
        }
    }

    /// A debug line when a compressed body could not be decoded to its end (not at the limit).
    fn log_decoding(&self, dec: &Decoder, plan: &Plan, raw: usize) {
        match dec.state() {
            DecodeState::Failed(e) => tracing::debug!(
                request_id = %self.request_id(),
                ?plan,
                error = %e,
                decoded = dec.output().len(),
                "corrupt compressed response body: inspected up to the error"
            ),
            DecodeState::Running if !dec.complete() && raw > 0 => tracing::debug!(
                request_id = %self.request_id(),
                ?plan,
                decoded = dec.output().len(),
                "compressed response body ends early or exceeds the raw limit: inspected as decoded"
            ),
            _ => {}
        }
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
