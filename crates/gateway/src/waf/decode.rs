//! Content-Encoding decoding of response bodies, for phase 4 inspection only.
//!
//! The client always receives the upstream's bytes as they came; this module only turns a
//! copy of the compressed prefix into the text the rules see. Supported codings: `gzip`
//! (also `x-gzip`, multi-member streams), `deflate` (zlib-wrapped or raw, detected from the
//! first two bytes, as browsers accept both) and `br`. Stacked codings (`gzip, br`) are
//! decoded in reverse order of the header, up to [`MAX_LAYERS`].
//!
//! Bounds: the decoded output stops at the inspection limit (plus one byte, so the engine can
//! tell the body was longer); an intermediate layer of a stacked coding stops at twice the
//! limit; a gzip header is at most [`MAX_GZIP_HEADER`] bytes; brotli's large-window extension
//! is refused (standard windows only, at most 16 MiB). A corrupt stream keeps what was
//! decoded before the error. Nothing here can panic on input bytes.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::{Decompress, FlushDecompress, Status};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

/// Most codings decoded in one `Content-Encoding` list; longer lists are not inspected.
pub(super) const MAX_LAYERS: usize = 3;

/// Longest gzip member header accepted (optional name, comment and extra field included).
pub(super) const MAX_GZIP_HEADER: usize = 64 * 1024;

/// Output produced per step of an intermediate layer.
const STEP: usize = 16 * 1024;

/// One content coding the WAF can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    /// `gzip`, `x-gzip`.
    Gzip,
    /// `deflate` (zlib or raw).
    Deflate,
    /// `br`.
    Brotli,
}

/// What a response's `Content-Encoding` means for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// No coding (absent, empty or only `identity`): inspect the bytes as they are.
    Identity,
    /// Decode with these codings, in this order (the reverse of the header's).
    Decode(Vec<Coding>),
    /// A coding the WAF does not decode (named), or too many layers: not inspected.
    Unsupported(String),
}

/// Reads every `Content-Encoding` header of a response.
pub(super) fn plan(headers: &HeaderMap) -> Plan {
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for token in text.split(',') {
            let token = token.trim();
            if token.is_empty() || token.eq_ignore_ascii_case("identity") {
                continue;
            }
            let coding =
                if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
                    Coding::Gzip
                } else if token.eq_ignore_ascii_case("deflate") {
                    Coding::Deflate
                } else if token.eq_ignore_ascii_case("br") {
                    Coding::Brotli
                } else {
                    return Plan::Unsupported(token.to_ascii_lowercase());
                };
            codings.push(coding);
        }
    }
    if codings.is_empty() {
        return Plan::Identity;
    }
    if codings.len() > MAX_LAYERS {
        return Plan::Unsupported(format!("{} stacked codings", codings.len()));
    }
    codings.reverse();
    Plan::Decode(codings)
}

/// Why decoding stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(super) enum DecodeError {
    /// Not a gzip member header (magic or method).
    #[error("not a gzip stream")]
    GzipMagic,
    /// A gzip header longer than [`MAX_GZIP_HEADER`].
    #[error("gzip header longer than {MAX_GZIP_HEADER} bytes")]
    GzipHeaderTooLong,
    /// The deflate data is invalid.
    #[error("invalid deflate data: {0}")]
    Deflate(String),
    /// The brotli data is invalid.
    #[error("invalid brotli data")]
    Brotli,
}

/// Where a decoder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DecodeState {
    /// Wants more input.
    Running,
    /// The decoded output reached the limit: the rest is not decoded (ProcessPartial).
    Full,
    /// The (innermost) stream ended; anything after it is ignored.
    Ended,
    /// The stream is corrupt; the output holds what was decoded before the error.
    Failed(DecodeError),
}

/// An incremental, bounded decoder over a stack of codings.
pub(super) struct Decoder {
    stages: Vec<Stage>,
    out: Vec<u8>,
    /// Most output bytes kept.
    cap: usize,
    state: DecodeState,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("decoded", &self.out.len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder for `codings` (in decoding order) that keeps at most `limit + 1` bytes.
    pub(super) fn new(codings: &[Coding], limit: usize) -> Self {
        let mid_cap = limit.saturating_mul(2).max(STEP);
        let n = codings.len();
        let stages = codings
            .iter()
            .enumerate()
            .map(|(i, c)| Stage {
                kind: StageKind::new(*c),
                produced: 0,
                // The last stage writes the final output, bounded by `cap`.
                max: if i + 1 == n { usize::MAX } else { mid_cap },
            })
            .collect();
        Self {
            stages,
            out: Vec::new(),
            cap: limit.saturating_add(1),
            state: DecodeState::Running,
        }
    }

    /// Decodes one more chunk of the encoded body (ignored once the decoder stopped).
    pub(super) fn push(&mut self, chunk: &[u8]) {
        if self.state != DecodeState::Running || chunk.is_empty() {
            return;
        }
        self.state = match run(&mut self.stages, chunk, &mut self.out, self.cap) {
            Ok(Flow::More) => DecodeState::Running,
            Ok(Flow::Full) => DecodeState::Full,
            Ok(Flow::Ended) => DecodeState::Ended,
            Err(e) => DecodeState::Failed(e),
        };
    }

    /// Whether more input is useful.
    pub(super) fn wants_more(&self) -> bool {
        self.state == DecodeState::Running
    }

    /// Where the decoder stands.
    pub(super) fn state(&self) -> &DecodeState {
        &self.state
    }

    /// Whether every layer is at a clean end (no truncated stream).
    pub(super) fn complete(&self) -> bool {
        self.state == DecodeState::Ended || self.stages.iter().all(|s| s.kind.at_boundary())
    }

    /// The decoded bytes so far.
    pub(super) fn output(&self) -> &[u8] {
        &self.out
    }
}

/// How a run over the stages ended.
enum Flow {
    /// All input consumed; more may follow.
    More,
    /// The output (or an intermediate layer) reached its bound.
    Full,
    /// A stream ended.
    Ended,
}

struct Stage {
    kind: StageKind,
    /// Bytes this stage produced so far (intermediate stages are bounded by `max`).
    produced: usize,
    max: usize,
}

/// Feeds `input` through `stages` into `out` (at most `cap` bytes long).
fn run(
    stages: &mut [Stage],
    input: &[u8],
    out: &mut Vec<u8>,
    cap: usize,
) -> Result<Flow, DecodeError> {
    let Some((first, rest)) = stages.split_first_mut() else {
        let room = cap.saturating_sub(out.len());
        let take = room.min(input.len());
        out.extend_from_slice(input.get(..take).unwrap_or_default());
        return Ok(if take < input.len() {
            Flow::Full
        } else {
            Flow::More
        });
    };
    if rest.is_empty() {
        // The last layer writes the output directly.
        let (used, ended) = first.kind.feed(input, out, cap)?;
        if ended {
            return Ok(Flow::Ended);
        }
        if used < input.len() || out.len() >= cap {
            return Ok(Flow::Full);
        }
        return Ok(Flow::More);
    }
    let mut pos = 0usize;
    let mut mid = Vec::with_capacity(STEP);
    loop {
        mid.clear();
        let room = STEP.min(first.max.saturating_sub(first.produced));
        if room == 0 {
            return Ok(Flow::Full);
        }
        let (used, ended) =
            first
                .kind
                .feed(input.get(pos..).unwrap_or_default(), &mut mid, room)?;
        pos = pos.saturating_add(used);
        first.produced = first.produced.saturating_add(mid.len());
        match run(rest, &mid, out, cap)? {
            Flow::More => {}
            other => return Ok(other),
        }
        if ended {
            return Ok(Flow::Ended);
        }
        // Done with this input once it is consumed and the layer had no more to give.
        if pos >= input.len() && mid.len() < room {
            return Ok(Flow::More);
        }
        if used == 0 && mid.is_empty() {
            // No progress possible (should not happen); stop rather than spin.
            return Ok(Flow::More);
        }
    }
}

enum StageKind {
    Gzip(Box<Gzip>),
    Deflate(Box<Deflate>),
    Brotli(Box<Brotli>),
}

impl StageKind {
    fn new(c: Coding) -> Self {
        match c {
            Coding::Gzip => StageKind::Gzip(Box::new(Gzip::new())),
            Coding::Deflate => StageKind::Deflate(Box::new(Deflate::new())),
            Coding::Brotli => StageKind::Brotli(Box::new(Brotli::new())),
        }
    }

    /// Decodes from `input` into `out` until the input is used, `out` is `cap` long, or the
    /// stream ends. Returns (input bytes used, stream ended).
    fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(usize, bool), DecodeError> {
        match self {
            StageKind::Gzip(g) => g.feed(input, out, cap),
            StageKind::Deflate(d) => d.feed(input, out, cap),
            StageKind::Brotli(b) => b.feed(input, out, cap),
        }
    }

    /// Whether the stream could end here (between gzip members, after a deflate or brotli
    /// stream end).
    fn at_boundary(&self) -> bool {
        match self {
            StageKind::Gzip(g) => {
                g.members > 0 && matches!(g.part, GzipPart::Header(ref h) if h.is_empty())
            }
            StageKind::Deflate(d) => d.ended,
            StageKind::Brotli(b) => b.ended,
        }
    }
}

/// Runs `z` over `input` into `out` (up to `cap` bytes). Returns (used, stream end).
fn inflate(
    z: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    cap: usize,
) -> Result<(usize, bool), DecodeError> {
    let mut buf = vec![0u8; STEP];
    let mut pos = 0usize;
    loop {
        let want = STEP.min(cap.saturating_sub(out.len()));
        if want == 0 {
            return Ok((pos, false));
        }
        let (in0, out0) = (z.total_in(), z.total_out());
        let rest = input.get(pos..).unwrap_or_default();
        let out_buf = buf.get_mut(..want).unwrap_or_default();
        let status = z
            .decompress(rest, out_buf, FlushDecompress::None)
            .map_err(|e| DecodeError::Deflate(e.to_string()))?;
        let used = usize::try_from(z.total_in().saturating_sub(in0)).unwrap_or(0);
        let made = usize::try_from(z.total_out().saturating_sub(out0)).unwrap_or(0);
        pos = pos.saturating_add(used).min(input.len());
        out.extend_from_slice(buf.get(..made).unwrap_or_default());
        if status == Status::StreamEnd {
            return Ok((pos, true));
        }
        if used == 0 && made == 0 {
            return Ok((pos, false));
        }
    }
}

/// `deflate`: zlib-wrapped (RFC 1950, what the standard says) or raw (RFC 1951, what some
/// servers send), told apart by the zlib header check.
struct Deflate {
    z: Option<Decompress>,
    /// The first bytes, kept until the wrapper is known and then fed first.
    head: Vec<u8>,
    ended: bool,
}

impl Deflate {
    fn new() -> Self {
        Self {
            z: None,
            head: Vec::with_capacity(2),
            ended: false,
        }
    }

    fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(usize, bool), DecodeError> {
        if self.ended {
            return Ok((input.len(), true));
        }
        let mut used = 0usize;
        if self.z.is_none() {
            let take = 2usize.saturating_sub(self.head.len()).min(input.len());
            self.head
                .extend_from_slice(input.get(..take).unwrap_or_default());
            used = take;
            if self.head.len() < 2 {
                return Ok((used, false));
            }
            self.z = Some(Decompress::new(is_zlib(&self.head)));
        }
        let Some(z) = self.z.as_mut() else {
            return Ok((used, false));
        };
        if !self.head.is_empty() {
            let head = std::mem::take(&mut self.head);
            let (n, ended) = inflate(z, &head, out, cap)?;
            if ended {
                self.ended = true;
                return Ok((input.len(), true));
            }
            if n < head.len() {
                // Output full: keep the rest of the head for the next call.
                self.head = head.get(n..).unwrap_or_default().to_vec();
                return Ok((used, false));
            }
        }
        let (n, ended) = inflate(z, input.get(used..).unwrap_or_default(), out, cap)?;
        self.ended = ended;
        Ok((used.saturating_add(n), ended))
    }
}

/// Whether two bytes start a zlib stream (method 8, window <= 32 KiB, header checksum).
fn is_zlib(head: &[u8]) -> bool {
    match (head.first(), head.get(1)) {
        (Some(&cmf), Some(&flg)) => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
        }
        _ => false,
    }
}

enum GzipPart {
    /// Collecting a member header.
    Header(Vec<u8>),
    /// Inside the member's deflate data.
    Body(Decompress),
    /// Skipping the CRC32 and size trailer (bytes left).
    Trailer(usize),
    /// Trailing bytes that are not another member: ignored.
    Done,
}

/// `gzip` (RFC 1952), one or more members.
struct Gzip {
    part: GzipPart,
    /// Members fully read.
    members: usize,
}

impl Gzip {
    fn new() -> Self {
        Self {
            part: GzipPart::Header(Vec::new()),
            members: 0,
        }
    }

    fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(usize, bool), DecodeError> {
        let mut pos = 0usize;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            match &mut self.part {
                GzipPart::Done => return Ok((input.len(), true)),
                GzipPart::Header(h) => {
                    if rest.is_empty() {
                        return Ok((pos, false));
                    }
                    if self.members > 0 && h.is_empty() && rest.first() != Some(&0x1f) {
                        // Not another member: the stream ended with the last one.
                        self.part = GzipPart::Done;
                        return Ok((input.len(), true));
                    }
                    let before = h.len();
                    let take = MAX_GZIP_HEADER.saturating_sub(before).min(rest.len());
                    h.extend_from_slice(rest.get(..take).unwrap_or_default());
                    match gzip_header_len(h)? {
                        Some(len) => {
                            pos = pos.saturating_add(len.saturating_sub(before));
                            self.part = GzipPart::Body(Decompress::new(false));
                        }
                        None if h.len() >= MAX_GZIP_HEADER => {
                            return Err(DecodeError::GzipHeaderTooLong);
                        }
                        None => return Ok((pos.saturating_add(take), false)),
                    }
                }
                GzipPart::Body(z) => {
                    let (n, ended) = inflate(z, rest, out, cap)?;
                    pos = pos.saturating_add(n);
                    if !ended {
                        return Ok((pos, false));
                    }
                    self.part = GzipPart::Trailer(8);
                }
                GzipPart::Trailer(left) => {
                    let n = (*left).min(rest.len());
                    pos = pos.saturating_add(n);
                    *left = left.saturating_sub(n);
                    if *left > 0 {
                        return Ok((pos, false));
                    }
                    self.members = self.members.saturating_add(1);
                    self.part = GzipPart::Header(Vec::new());
                }
            }
        }
    }
}

/// The length of a complete gzip member header at the start of `h`, `None` when more bytes
/// are needed.
fn gzip_header_len(h: &[u8]) -> Result<Option<usize>, DecodeError> {
    let byte = |i: usize| h.get(i).copied();
    if byte(0).is_some_and(|b| b != 0x1f)
        || byte(1).is_some_and(|b| b != 0x8b)
        || byte(2).is_some_and(|b| b != 8)
    {
        return Err(DecodeError::GzipMagic);
    }
    let Some(flags) = byte(3) else {
        return Ok(None);
    };
    let mut p = 10usize;
    if h.len() < p {
        return Ok(None);
    }
    if flags & 0x04 != 0 {
        let (Some(lo), Some(hi)) = (byte(p), byte(p.saturating_add(1))) else {
            return Ok(None);
        };
        p = p.saturating_add(2 + usize::from(u16::from_le_bytes([lo, hi])));
    }
    for bit in [0x08u8, 0x10] {
        if flags & bit != 0 {
            let Some(zero) = h.get(p..).and_then(|t| t.iter().position(|b| *b == 0)) else {
                return Ok(None);
            };
            p = p.saturating_add(zero).saturating_add(1);
        }
    }
    if flags & 0x02 != 0 {
        p = p.saturating_add(2);
    }
    Ok((h.len() >= p).then_some(p))
}

/// `br` (RFC 7932).
struct Brotli {
    state: BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    total: usize,
    ended: bool,
}

impl Brotli {
    fn new() -> Self {
        Self {
            // Strict: no large-window extension (windows up to 1 GiB).
            state: BrotliState::new_strict(
                StandardAlloc::default(),
                StandardAlloc::default(),
                StandardAlloc::default(),
            ),
            total: 0,
            ended: false,
        }
    }

    fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(usize, bool), DecodeError> {
        if self.ended {
            return Ok((input.len(), true));
        }
        let mut buf = vec![0u8; STEP];
        let mut pos = 0usize;
        loop {
            let want = STEP.min(cap.saturating_sub(out.len()));
            if want == 0 {
                return Ok((pos, false));
            }
            let mut avail_in = input.len().saturating_sub(pos);
            let mut in_off = pos;
            let mut avail_out = want;
            let mut out_off = 0usize;
            let out_buf = buf.get_mut(..want).unwrap_or_default();
            let r = BrotliDecompressStream(
                &mut avail_in,
                &mut in_off,
                input,
                &mut avail_out,
                &mut out_off,
                out_buf,
                &mut self.total,
                &mut self.state,
            );
            let used = in_off.saturating_sub(pos);
            pos = in_off.min(input.len());
            out.extend_from_slice(buf.get(..out_off.min(want)).unwrap_or_default());
            match r {
                BrotliResult::ResultSuccess => {
                    self.ended = true;
                    return Ok((input.len(), true));
                }
                BrotliResult::ResultFailure => return Err(DecodeError::Brotli),
                BrotliResult::NeedsMoreInput => return Ok((pos, false)),
                BrotliResult::NeedsMoreOutput => {
                    if used == 0 && out_off == 0 {
                        return Ok((pos, false));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Write as _;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn br(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    /// Decodes `enc` fed in chunks of `step` bytes.
    fn decode(codings: &[Coding], enc: &[u8], step: usize, limit: usize) -> Decoder {
        let mut d = Decoder::new(codings, limit);
        for c in enc.chunks(step) {
            d.push(c);
        }
        d
    }

    fn text() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| format!("line {i} of the page\n").into_bytes())
            .collect()
    }

    #[test]
    fn plans() {
        let mut h = HeaderMap::new();
        assert_eq!(plan(&h), Plan::Identity);
        h.insert(CONTENT_ENCODING, "identity".parse().unwrap());
        assert_eq!(plan(&h), Plan::Identity);
        h.insert(CONTENT_ENCODING, "X-Gzip".parse().unwrap());
        assert_eq!(plan(&h), Plan::Decode(vec![Coding::Gzip]));
        h.insert(CONTENT_ENCODING, "gzip, br".parse().unwrap());
        assert_eq!(plan(&h), Plan::Decode(vec![Coding::Brotli, Coding::Gzip]));
        h.append(CONTENT_ENCODING, "deflate".parse().unwrap());
        assert_eq!(
            plan(&h),
            Plan::Decode(vec![Coding::Deflate, Coding::Brotli, Coding::Gzip])
        );
        h.insert(CONTENT_ENCODING, "zstd".parse().unwrap());
        assert_eq!(plan(&h), Plan::Unsupported("zstd".into()));
        h.insert(CONTENT_ENCODING, "gzip,gzip,gzip,gzip".parse().unwrap());
        assert!(matches!(plan(&h), Plan::Unsupported(_)));
    }

    #[test]
    fn each_coding_any_chunking() {
        let t = text();
        let cases: [(Coding, Vec<u8>); 4] = [
            (Coding::Gzip, gzip(&t)),
            (Coding::Deflate, zlib(&t)),
            (Coding::Deflate, raw_deflate(&t)),
            (Coding::Brotli, br(&t)),
        ];
        for (c, enc) in &cases {
            for step in [1, 7, 4096, enc.len()] {
                let d = decode(&[*c], enc, step, 1 << 20);
                assert_eq!(d.output(), &t[..], "{c:?} step {step}");
                // gzip stays open for a further member; its end is a clean boundary.
                let end = if *c == Coding::Gzip {
                    DecodeState::Running
                } else {
                    DecodeState::Ended
                };
                assert_eq!(d.state(), &end, "{c:?} step {step}");
                assert!(d.complete());
            }
        }
    }

    #[test]
    fn multi_member_gzip_and_stacked() {
        let mut two = gzip(b"hello ");
        two.extend_from_slice(&gzip(b"world"));
        let d = decode(&[Coding::Gzip], &two, 3, 1000);
        assert_eq!(d.output(), b"hello world");
        assert!(d.complete());
        // `Content-Encoding: gzip, br`: brotli over gzip, decoded br first.
        let t = text();
        let enc = br(&gzip(&t));
        let d = decode(&[Coding::Brotli, Coding::Gzip], &enc, 1000, 1 << 20);
        assert_eq!(d.output(), &t[..]);
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        for (c, enc) in [
            (Coding::Gzip, gzip(&zeros)),
            (Coding::Deflate, zlib(&zeros)),
            (Coding::Brotli, br(&zeros)),
        ] {
            let d = decode(&[c], &enc, 1024, 1000);
            assert_eq!(d.output().len(), 1001, "{c:?}");
            assert_eq!(d.state(), &DecodeState::Full);
            assert!(!d.wants_more());
        }
        // Stacked: the intermediate layer is bounded too.
        let enc = br(&gzip(&zeros));
        let d = decode(&[Coding::Brotli, Coding::Gzip], &enc, 1024, 1000);
        assert_eq!(d.output().len(), 1001);
    }

    #[test]
    fn corrupt_streams_keep_the_prefix() {
        let t = text();
        let mut enc = gzip(&t);
        let mid = enc.len() / 2;
        for b in enc.iter_mut().skip(mid).take(64) {
            *b ^= 0x5a;
        }
        let d = decode(&[Coding::Gzip], &enc, 512, 1 << 20);
        assert!(d.output().len() > 1000);
        assert!(t.starts_with(&d.output()[..1000]));
        // A member whose deflate data uses the reserved block type: an error, after the
        // first member's text.
        let mut enc = gzip(b"hello ");
        enc.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0, 0]);
        let d = decode(&[Coding::Gzip], &enc, 5, 1000);
        assert!(matches!(d.state(), DecodeState::Failed(_)), "{d:?}");
        assert_eq!(d.output(), b"hello ");
        // Not gzip at all.
        let d = decode(&[Coding::Gzip], b"plain text body", 4, 100);
        assert_eq!(d.state(), &DecodeState::Failed(DecodeError::GzipMagic));
        // Garbage brotli.
        let d = decode(&[Coding::Brotli], &[0xff; 64], 8, 100);
        assert!(matches!(d.state(), DecodeState::Failed(_)));
        // Truncated: running, not complete.
        let enc = gzip(&t);
        let d = decode(&[Coding::Gzip], &enc[..enc.len() / 2], 100, 1 << 20);
        assert!(d.wants_more());
        assert!(!d.complete());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded() {
        // A small xorshift generator: deterministic, no dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let t = text();
        let valid = [gzip(&t), zlib(&t), raw_deflate(&t), br(&t)];
        let stacks: [&[Coding]; 5] = [
            &[Coding::Gzip],
            &[Coding::Deflate],
            &[Coding::Brotli],
            &[Coding::Brotli, Coding::Gzip],
            &[Coding::Gzip, Coding::Deflate, Coding::Brotli],
        ];
        for round in 0..300usize {
            let len = usize::try_from(next() % 3000).unwrap();
            let mut data: Vec<u8> = if round % 2 == 0 {
                (0..len).map(|_| next().to_le_bytes()[0]).collect()
            } else {
                // A valid stream, cut and with a few bytes flipped.
                let v = &valid[round / 2 % valid.len()];
                v[..len.min(v.len())].to_vec()
            };
            for _ in 0..(next() % 4) {
                if !data.is_empty() {
                    let i = usize::try_from(next()).unwrap() % data.len();
                    data[i] ^= next().to_le_bytes()[1] | 1;
                }
            }
            let stack = stacks[round % stacks.len()];
            let step = 1 + usize::try_from(next() % 700).unwrap();
            let d = decode(stack, &data, step, 1000);
            assert!(d.output().len() <= 1001, "round {round}");
        }
    }

    #[test]
    fn gzip_header_fields() {
        let mut b = flate2::GzBuilder::new()
            .filename("page.html")
            .comment("a comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        b.write_all(b"body text").unwrap();
        let enc = b.finish().unwrap();
        for step in [1, 5, enc.len()] {
            let d = decode(&[Coding::Gzip], &enc, step, 100);
            assert_eq!(d.output(), b"body text");
        }
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8, 0]), Ok(None));
        assert_eq!(
            gzip_header_len(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Ok(Some(10))
        );
    }
}
