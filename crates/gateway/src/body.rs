//! Request and response bodies of the proxy: streaming, with size limits, pool return and
//! access-event emission.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::event::{AccessEvent, AccessSink};
use crate::pool::{Pool, PooledConn};

/// Error type of the proxy bodies.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body exceeded `proxy-body-size`.
#[derive(Debug, thiserror::Error)]
#[error("request body larger than {0} bytes")]
pub(crate) struct TooLarge(pub(crate) u64);

/// Counters shared between the request body and the access event.
#[derive(Debug, Default)]
pub(crate) struct BodyStats {
    /// Body bytes read from the client.
    pub(crate) bytes: AtomicU64,
    /// Set when the limit was exceeded mid-stream.
    pub(crate) too_large: AtomicBool,
    /// Signalled when the request body has been handed over completely (or dropped):
    /// `proxy-read-timeout` for the response head starts then, as in nginx.
    pub(crate) sent: tokio::sync::Notify,
}

/// The client's body, streamed to the upstream, cut off at the size limit.
pub(crate) struct RequestBody {
    /// Bytes already read from `inner` (by the WAF), sent first.
    prefix: Option<Bytes>,
    inner: Option<Incoming>,
    limit: Option<u64>,
    seen: u64,
    stats: Arc<BodyStats>,
}

impl RequestBody {
    /// Wraps `inner` with an optional byte `limit`.
    pub(crate) fn new(inner: Option<Incoming>, limit: Option<u64>, stats: Arc<BodyStats>) -> Self {
        Self {
            prefix: None,
            inner,
            limit,
            seen: 0,
            stats,
        }
    }
}

impl RequestBody {
    /// Sends `prefix` (the part of the body the WAF buffered) before the rest of the body.
    pub(crate) fn with_prefix(mut self, prefix: Option<Bytes>) -> Self {
        self.prefix = prefix.filter(|p| !p.is_empty());
        self
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        // hyper drops the body as soon as it has written the end of it.
        self.stats.sent.notify_one();
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(data) = this.prefix.take() {
            let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
            this.seen = this.seen.saturating_add(len);
            this.stats.bytes.store(this.seen, Ordering::Relaxed);
            if let Some(limit) = this.limit
                && this.seen > limit
            {
                this.stats.too_large.store(true, Ordering::Relaxed);
                this.inner = None;
                return Poll::Ready(Some(Err(Box::new(TooLarge(limit)))));
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
                    this.seen = this.seen.saturating_add(len);
                    this.stats.bytes.store(this.seen, Ordering::Relaxed);
                    if let Some(limit) = this.limit
                        && this.seen > limit
                    {
                        this.stats.too_large.store(true, Ordering::Relaxed);
                        this.inner = None;
                        return Poll::Ready(Some(Err(Box::new(TooLarge(limit)))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        if let Some(p) = &self.prefix {
            let n = u64::try_from(p.len()).unwrap_or(u64::MAX);
            return if self.inner.as_ref().is_none_or(Body::is_end_stream) {
                SizeHint::with_exact(n)
            } else {
                let mut h = SizeHint::new();
                h.set_lower(n);
                h
            };
        }
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

/// Emits the access event when the response is done (fully sent or abandoned).
pub(crate) struct Finish {
    pub(crate) event: Box<AccessEvent>,
    pub(crate) start: Instant,
    pub(crate) sink: Arc<dyn AccessSink>,
    pub(crate) req_stats: Option<Arc<BodyStats>>,
    pub(crate) head_bytes: u64,
    /// Estimated size of the response head (status line and headers).
    pub(crate) out_head_bytes: u64,
    /// `limit-connections` slot held until the response is done (dropped with this).
    pub(crate) limit_guard: Option<crate::limits::ConnGuard>,
}

impl Finish {
    fn emit(self, bytes_out: u64) {
        let mut event = *self.event;
        event.bytes_out = self.out_head_bytes.saturating_add(bytes_out);
        let body_in = self
            .req_stats
            .as_ref()
            .map_or(0, |s| s.bytes.load(Ordering::Relaxed));
        event.bytes_in = self.head_bytes.saturating_add(body_in);
        event.duration_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        self.sink.record(event);
        // The response is done: free the `limit-connections` slot.
        drop(self.limit_guard);
    }
}

enum Kind {
    Full(Option<Bytes>),
    Upstream {
        inner: Incoming,
        conn: Option<(Arc<Pool>, PooledConn)>,
        /// `proxy-read-timeout` between two reads of the upstream body.
        read_timeout: Duration,
        /// Armed while waiting for the next frame.
        idle: Option<Pin<Box<Sleep>>>,
    },
}

/// The upstream stopped sending its body for longer than `proxy-read-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("upstream read timeout")]
pub(crate) struct ReadTimeout;

/// The body sent to the client.
pub struct ResponseBody {
    kind: Kind,
    /// Frames already read from `kind` (WAF response body inspection), sent first.
    pending: VecDeque<Frame<Bytes>>,
    bytes: u64,
    finish: Option<Finish>,
}

impl ResponseBody {
    /// A complete body (generated responses).
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Self {
            kind: Kind::Full((!data.is_empty()).then_some(data)),
            pending: VecDeque::new(),
            bytes: 0,
            finish: None,
        }
    }

    /// An empty body.
    pub(crate) fn empty() -> Self {
        Self::full(Bytes::new())
    }

    /// Streams an upstream body; `conn` returns to `pool` when it ends cleanly.
    pub(crate) fn upstream(
        inner: Incoming,
        conn: Option<(Arc<Pool>, PooledConn)>,
        read_timeout: Duration,
    ) -> Self {
        let mut this = Self {
            kind: Kind::Upstream {
                inner,
                conn,
                read_timeout,
                idle: None,
            },
            pending: VecDeque::new(),
            bytes: 0,
            finish: None,
        };
        this.maybe_release();
        this
    }

    /// Puts frames read from this body back in front of it (the WAF read them to inspect
    /// the start of the body); the byte count restarts so that they are counted once.
    pub(crate) fn with_pending(mut self, frames: Vec<Frame<Bytes>>) -> Self {
        self.bytes = 0;
        self.pending = frames.into();
        self
    }

    /// Attaches the access event to emit when the body is done.
    pub(crate) fn set_finish(&mut self, finish: Finish) {
        self.finish = Some(finish);
    }

    fn maybe_release(&mut self) {
        if let Kind::Upstream { inner, conn, .. } = &mut self.kind
            && inner.is_end_stream()
            && let Some((pool, c)) = conn.take()
        {
            pool.put(c);
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let Some(f) = self.finish.take() {
            f.emit(self.bytes);
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(frame) = this.pending.pop_front() {
            if let Some(d) = frame.data_ref() {
                this.bytes = this.bytes.saturating_add(d.len() as u64);
            }
            return Poll::Ready(Some(Ok(frame)));
        }
        match &mut this.kind {
            Kind::Full(data) => {
                let out = data.take().map(|d| {
                    this.bytes = this.bytes.saturating_add(d.len() as u64);
                    Ok(Frame::data(d))
                });
                Poll::Ready(out)
            }
            Kind::Upstream {
                inner,
                conn,
                read_timeout,
                idle,
            } => match Pin::new(inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(d) = frame.data_ref() {
                        this.bytes = this.bytes.saturating_add(d.len() as u64);
                    }
                    if let Some(sleep) = idle.as_mut() {
                        sleep.as_mut().reset(Instant::now() + *read_timeout);
                    }
                    this.maybe_release();
                    Poll::Ready(Some(Ok(frame)))
                }
                Poll::Ready(Some(Err(e))) => {
                    *conn = None;
                    Poll::Ready(Some(Err(Box::new(e))))
                }
                Poll::Ready(None) => {
                    this.maybe_release();
                    Poll::Ready(None)
                }
                Poll::Pending => {
                    let timeout = *read_timeout;
                    let sleep = idle.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        // Abandon the upstream connection; the client sees a reset stream.
                        *conn = None;
                        return Poll::Ready(Some(Err(Box::new(ReadTimeout))));
                    }
                    Poll::Pending
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        if !self.pending.is_empty() {
            return false;
        }
        match &self.kind {
            Kind::Full(d) => d.is_none(),
            Kind::Upstream { inner, .. } => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        let hint = match &self.kind {
            Kind::Full(d) => SizeHint::with_exact(d.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Upstream { inner, .. } => inner.size_hint(),
        };
        if self.pending.is_empty() {
            return hint;
        }
        let extra: u64 = self
            .pending
            .iter()
            .filter_map(Frame::data_ref)
            .map(|d| d.len() as u64)
            .fold(0, u64::saturating_add);
        let mut out = SizeHint::new();
        out.set_lower(hint.lower().saturating_add(extra));
        if let Some(upper) = hint.upper() {
            out.set_upper(upper.saturating_add(extra));
        }
        out
    }
}
