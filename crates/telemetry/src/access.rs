//! Access events and the JSON-lines access log.
//!
//! Design (measured, see `examples/access_log_bench.rs`): the request path serializes the
//! event into a per-thread scratch buffer, then appends it to a shared byte buffer under a
//! `parking_lot::Mutex` held only for that copy; a dedicated writer thread swaps the
//! buffer out and writes it in one `write_all` + flush, outside the lock. The request path
//! never touches the disk; when the queued bytes exceed the cap (the sink is slower than
//! the traffic) the line is dropped and counted instead of blocking. A bounded channel of
//! per-line `Vec`s with a writer thread was measured first and was slower and dropped
//! more under the same load. The writer is woken only when it is idle and lingers
//! [`LINGER`] after each write, so under load the request path makes no syscall per line and
//! the sink sees about a hundred writes a second (`strace -c` counted one `futex` wake,
//! one `futex` wait and one `write` per request before). Access events are encoded by
//! hand ([`AccessEvent::write_json_line`], byte-identical to `serde_json`), with the time
//! text up to the second cached per thread.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// Bytes queued for the writer before lines are dropped (about 20 000 lines).
const DEFAULT_BUFFER: usize = 8 * 1024 * 1024;

/// How long the writer waits after a write before taking the next batch (at most this
/// much delay before a line reaches the sink; one write per interval under load).
const LINGER: Duration = Duration::from_millis(10);

/// RFC 3339 with milliseconds, always UTC (`2026-11-28T15:40:45.123Z`).
const TIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats a timestamp as the access log does: RFC 3339, milliseconds, UTC (`Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    // A calendar date outside year 0..=9999 cannot be formatted with this description;
    // fall back to the Unix timestamp rather than failing a log line.
    utc.format(TIME_FORMAT)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

fn serialize_time<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// One request as seen by the gateway: the access-log record (issue #2) and the input of
/// [`crate::Metrics::observe`]. Unknown values are `None` and serialize as `null`.
#[derive(Debug, Clone, Serialize)]
pub struct AccessEvent {
    /// When the request started, RFC 3339 with milliseconds in UTC.
    #[serde(serialize_with = "serialize_time")]
    pub time: OffsetDateTime,
    /// The `X-Request-ID` sent upstream (taken from the client or generated).
    pub request_id: String,
    /// The true client address (PROXY protocol / trusted X-Forwarded-For applied).
    pub client_ip: Option<IpAddr>,
    /// Request method as received.
    pub method: String,
    /// `Host` / `:authority` without port, lower-case.
    pub host: Option<String>,
    /// Request path (before any rewrite), without the query.
    pub path: String,
    /// Query string without `?`.
    pub query: Option<String>,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    pub protocol: String,
    /// Status sent to the client.
    pub status: u16,
    /// Bytes received from the client (request line, headers and body, as nginx's
    /// `$request_length`).
    pub bytes_in: u64,
    /// Bytes sent to the client (status line, headers and body, as nginx's `$bytes_sent`).
    pub bytes_out: u64,
    /// Total time from the first request byte to the last response byte, milliseconds.
    pub duration_ms: f64,
    /// Upstream address(es) tried, `ip:port`, comma-separated on retries as nginx does.
    pub upstream_addr: Option<String>,
    /// Status returned by the (last) upstream.
    pub upstream_status: Option<u16>,
    /// Time until the upstream response headers arrived, milliseconds.
    pub upstream_latency_ms: Option<f64>,
    /// Namespace of the matched Ingress.
    pub ingress_namespace: Option<String>,
    /// Name of the matched Ingress.
    pub ingress_name: Option<String>,
    /// Name of the Kubernetes Service of the matched route.
    pub service: Option<String>,
    /// Negotiated TLS version (`TLSv1.2`, `TLSv1.3`), `None` for plain HTTP.
    pub tls_version: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// `Referer` header.
    pub referer: Option<String>,
    /// The matched Ingress path as written (the `path` label of the metrics; bounded,
    /// unlike the request path). Not part of the JSON line.
    #[serde(skip)]
    pub route_path: Option<String>,
    /// Time to connect to the upstream, milliseconds (the `connect_duration_seconds`
    /// metric). Not part of the JSON line.
    #[serde(skip)]
    pub upstream_connect_ms: Option<f64>,
    /// Time until the whole upstream response was read, milliseconds (the
    /// `response_duration_seconds` metric; falls back to `upstream_latency_ms`). Not part
    /// of the JSON line.
    #[serde(skip)]
    pub upstream_response_ms: Option<f64>,
}

impl AccessEvent {
    /// An event stamped `time`, with every other field empty / zero.
    pub fn new(time: OffsetDateTime) -> Self {
        Self {
            time,
            request_id: String::new(),
            client_ip: None,
            method: String::new(),
            host: None,
            path: String::new(),
            query: None,
            protocol: String::new(),
            status: 0,
            bytes_in: 0,
            bytes_out: 0,
            duration_ms: 0.0,
            upstream_addr: None,
            upstream_status: None,
            upstream_latency_ms: None,
            ingress_namespace: None,
            ingress_name: None,
            service: None,
            tls_version: None,
            user_agent: None,
            referer: None,
            route_path: None,
            upstream_connect_ms: None,
            upstream_response_ms: None,
        }
    }

    /// The event as one JSON line (with the trailing `\n`).
    pub fn to_json_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        self.write_json_line(&mut out);
        out
    }

    /// Appends the event as one JSON line (with the trailing `\n`) to `out`: the same bytes
    /// as the `Serialize` implementation through `serde_json` (field order, escaping,
    /// numbers), written directly, with the time prefix formatted once per second.
    pub fn write_json_line(&self, out: &mut Vec<u8>) {
        json::event_line(self, out);
    }
}

impl Default for AccessEvent {
    /// An empty event stamped now.
    fn default() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }
}

/// Errors opening an access log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessLogError {
    /// The log file could not be opened for appending.
    #[error("cannot open access log {path}: {source}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the access log writer thread: {0}")]
    Thread(io::Error),
}

/// Lines accepted but not yet handed to the writer, plus bookkeeping; behind one mutex
/// held only for a `memcpy` of a line (request side) or a buffer swap (writer side).
struct Pending {
    buf: Vec<u8>,
    /// Lines accepted into `buf` since the start.
    accepted: u64,
    /// Set by `close`: the writer drains and exits.
    closed: bool,
    /// The writer waits for data and must be woken by the next line.
    writer_idle: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer (data queued, flush requested, close).
    wake: Condvar,
    /// Wakes `flush` callers after a write.
    written_cv: Condvar,
    /// Lines written (only the writer updates it, under `pending`'s lock for `flush`).
    written: AtomicU64,
    dropped: AtomicU64,
    write_errors: AtomicU64,
    capacity: usize,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn new(capacity: usize) -> Self {
        Self {
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                accepted: 0,
                closed: false,
                writer_idle: false,
            }),
            wake: Condvar::new(),
            written_cv: Condvar::new(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            capacity,
            thread: Mutex::new(None),
        }
    }
}

thread_local! {
    /// Per-thread serialization scratch, so logging does not allocate per event.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A JSON-lines access log that never blocks the request path on I/O.
///
/// Cloning is cheap; all clones feed the same writer thread. Call [`AccessLog::close`]
/// once at shutdown to write what is still queued.
#[derive(Clone)]
pub struct AccessLog {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("enabled", &self.shared.is_some())
            .field("written", &self.written())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl AccessLog {
    /// Log to standard output (the default of `portcullis serve`).
    pub fn stdout() -> Result<Self, AccessLogError> {
        Self::writer(io::stdout(), DEFAULT_BUFFER)
    }

    /// Append to `path` (created if missing).
    pub fn file(path: impl AsRef<Path>) -> Result<Self, AccessLogError> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| AccessLogError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Self::writer(file, DEFAULT_BUFFER)
    }

    /// Log to any writer, queueing at most `capacity` bytes while the writer is busy
    /// (tests, custom sinks).
    pub fn writer<W: Write + Send + 'static>(
        writer: W,
        capacity: usize,
    ) -> Result<Self, AccessLogError> {
        let shared = Arc::new(Shared::new(capacity.max(1)));
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || writer_loop(writer, &thread_shared))
            .map_err(AccessLogError::Thread)?;
        *shared.thread.lock() = Some(handle);
        Ok(Self {
            shared: Some(shared),
        })
    }

    /// A log that discards everything (access logging turned off).
    pub fn disabled() -> Self {
        Self { shared: None }
    }

    /// Queue one event. Never waits for I/O: when more than the capacity is queued (the
    /// sink is slower than the traffic) the line is dropped and counted in
    /// [`AccessLog::dropped`].
    pub fn log(&self, event: &AccessEvent) {
        let Some(shared) = &self.shared else { return };
        SCRATCH.with(|scratch| {
            let Ok(mut line) = scratch.try_borrow_mut() else {
                return;
            };
            line.clear();
            event.write_json_line(&mut line);
            enqueue(shared, &line);
        });
    }

    /// Queue any serializable record as one JSON line, with the same non-blocking rules
    /// as [`AccessLog::log`] (for [`crate::events::SecurityEvent`]s sharing the stream).
    pub fn log_json<T: Serialize + ?Sized>(&self, record: &T) {
        let Some(shared) = &self.shared else { return };
        SCRATCH.with(|scratch| {
            let Ok(mut line) = scratch.try_borrow_mut() else {
                return;
            };
            line.clear();
            if serde_json::to_writer(&mut *line, record).is_err() {
                return;
            }
            line.push(b'\n');
            enqueue(shared, &line);
        });
    }

    /// Wait until every line queued so far is written and flushed. Blocks: for tests and
    /// shutdown, not for the request path.
    pub fn flush(&self) {
        let Some(shared) = &self.shared else { return };
        let mut p = shared.pending.lock();
        let target = p.accepted;
        shared.wake.notify_one();
        while shared.written.load(Ordering::Acquire) < target && !finished(shared) {
            shared
                .written_cv
                .wait_for(&mut p, Duration::from_millis(100));
        }
    }

    /// Writes what is queued, stops the writer thread and waits for it. Every clone stops
    /// logging (later lines are counted as dropped).
    pub fn close(self) {
        let Some(shared) = &self.shared else { return };
        self.flush();
        shared.pending.lock().closed = true;
        shared.wake.notify_all();
        let handle = shared.thread.lock().take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// Lines written so far.
    pub fn written(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.written.load(Ordering::Relaxed))
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.dropped.load(Ordering::Relaxed))
    }

    /// Write errors from the sink (disk full, closed pipe).
    pub fn write_errors(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.write_errors.load(Ordering::Relaxed))
    }
}

/// Appends one complete line to the queue, or counts it as dropped when the queue is full
/// or closed. Wakes the writer only when it is idle (waiting for data): while it is writing
/// or lingering it picks the line up on its own, so a busy gateway makes no wake-up
/// syscall per line.
fn enqueue(shared: &Shared, line: &[u8]) {
    let mut p = shared.pending.lock();
    if p.closed || p.buf.len().saturating_add(line.len()) > shared.capacity {
        drop(p);
        shared.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    p.buf.extend_from_slice(line);
    p.accepted += 1;
    let wake = std::mem::take(&mut p.writer_idle);
    drop(p);
    if wake {
        shared.wake.notify_one();
    }
}

/// Whether the writer thread is gone (so waiting for it is pointless).
fn finished(shared: &Shared) -> bool {
    shared
        .thread
        .try_lock()
        .is_some_and(|t| t.as_ref().is_none_or(JoinHandle::is_finished))
}

fn writer_loop<W: Write>(mut out: W, shared: &Arc<Shared>) {
    let mut warned = false;
    let mut batch: Vec<u8> = Vec::new();
    loop {
        let (lines, closed) = {
            let mut p = shared.pending.lock();
            while p.buf.is_empty() && !p.closed {
                // Every `AccessLog` is gone without `close`: nothing more can arrive.
                if Arc::strong_count(shared) == 1 {
                    p.closed = true;
                    break;
                }
                p.writer_idle = true;
                shared.wake.wait_for(&mut p, Duration::from_secs(1));
            }
            p.writer_idle = false;
            // Take the queued bytes and leave an empty buffer of the same capacity behind.
            batch.clear();
            std::mem::swap(&mut batch, &mut p.buf);
            (p.accepted, p.closed)
        };
        if !batch.is_empty() {
            let result = out.write_all(&batch).and_then(|()| out.flush());
            if let Err(e) = result {
                shared.write_errors.fetch_add(1, Ordering::Relaxed);
                if !warned {
                    tracing::warn!(error = %e, "access log write failed; further errors are only counted");
                    warned = true;
                }
            }
        }
        {
            // Under the lock so a `flush` caller cannot miss the wake-up.
            let mut p = shared.pending.lock();
            shared.written.store(lines, Ordering::Release);
            shared.written_cv.notify_all();
            if !batch.is_empty() && !p.closed {
                // Linger before the next write so that lines queued meanwhile go out
                // together: under load about 1/LINGER writes a second instead of one
                // write and one wake-up per line. `flush` and `close` cut it short.
                shared.wake.wait_for(&mut p, LINGER);
            }
        }
        if closed && batch.is_empty() {
            return;
        }
    }
}

/// The hand-written JSON encoding of [`AccessEvent`] (the request path's hottest
/// formatting: about a fifth of the proxy's CPU through `serde_json` and `time`).
mod json {
    use std::cell::RefCell;
    use std::io::Write as _;
    use std::net::IpAddr;

    use time::OffsetDateTime;

    use super::{AccessEvent, format_time};

    thread_local! {
        /// `(unix second, "YYYY-MM-DDTHH:MM:SS.")` of the last formatted time.
        static SECOND: RefCell<(i64, Vec<u8>)> = const { RefCell::new((i64::MIN, Vec::new())) };
    }

    pub(super) fn event_line(e: &AccessEvent, out: &mut Vec<u8>) {
        out.reserve(512);
        out.extend_from_slice(b"{\"time\":\"");
        time(e.time, out);
        out.extend_from_slice(b"\",\"request_id\":");
        string(&e.request_id, out);
        out.extend_from_slice(b",\"client_ip\":");
        match e.client_ip {
            Some(ip) => {
                out.push(b'"');
                push_ip(ip, out);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"method\":");
        string(&e.method, out);
        out.extend_from_slice(b",\"host\":");
        opt_string(e.host.as_deref(), out);
        out.extend_from_slice(b",\"path\":");
        string(&e.path, out);
        out.extend_from_slice(b",\"query\":");
        opt_string(e.query.as_deref(), out);
        out.extend_from_slice(b",\"protocol\":");
        string(&e.protocol, out);
        out.extend_from_slice(b",\"status\":");
        uint(u64::from(e.status), out);
        out.extend_from_slice(b",\"bytes_in\":");
        uint(e.bytes_in, out);
        out.extend_from_slice(b",\"bytes_out\":");
        uint(e.bytes_out, out);
        out.extend_from_slice(b",\"duration_ms\":");
        float(e.duration_ms, out);
        out.extend_from_slice(b",\"upstream_addr\":");
        opt_string(e.upstream_addr.as_deref(), out);
        out.extend_from_slice(b",\"upstream_status\":");
        match e.upstream_status {
            Some(v) => uint(u64::from(v), out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"upstream_latency_ms\":");
        match e.upstream_latency_ms {
            Some(v) => float(v, out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"ingress_namespace\":");
        opt_string(e.ingress_namespace.as_deref(), out);
        out.extend_from_slice(b",\"ingress_name\":");
        opt_string(e.ingress_name.as_deref(), out);
        out.extend_from_slice(b",\"service\":");
        opt_string(e.service.as_deref(), out);
        out.extend_from_slice(b",\"tls_version\":");
        opt_string(e.tls_version.as_deref(), out);
        out.extend_from_slice(b",\"user_agent\":");
        opt_string(e.user_agent.as_deref(), out);
        out.extend_from_slice(b",\"referer\":");
        opt_string(e.referer.as_deref(), out);
        out.extend_from_slice(b"}\n");
    }

    /// [`format_time`]'s text, with the part up to the seconds reused within a second.
    fn time(t: OffsetDateTime, out: &mut Vec<u8>) {
        let secs = t.unix_timestamp();
        let ms = t.millisecond();
        let hit = SECOND.with(|c| {
            let Ok(mut c) = c.try_borrow_mut() else {
                return false;
            };
            if c.0 != secs {
                let full = format_time(t);
                // `YYYY-MM-DDTHH:MM:SS.mmmZ`: keep the part before the milliseconds.
                if full.len() != 24 {
                    return false;
                }
                c.1.clear();
                c.1.extend_from_slice(full.as_bytes().get(..20).unwrap_or_default());
                c.0 = secs;
            }
            out.extend_from_slice(&c.1);
            true
        });
        if hit {
            out.extend_from_slice(&[
                b'0' + u8::try_from(ms / 100).unwrap_or(0),
                b'0' + u8::try_from(ms / 10 % 10).unwrap_or(0),
                b'0' + u8::try_from(ms % 10).unwrap_or(0),
                b'Z',
            ]);
        } else {
            out.extend_from_slice(format_time(t).as_bytes());
        }
    }

    fn opt_string(s: Option<&str>, out: &mut Vec<u8>) {
        match s {
            Some(s) => string(s, out),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// A JSON string escaped as `serde_json` does: `"` and `\\`, the short escapes for
    /// backspace, form feed, newline, carriage return and tab, `\u00xx` for other control
    /// characters, everything else (including non-ASCII) as is.
    fn string(s: &str, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(b'"');
        let bytes = s.as_bytes();
        if !bytes.iter().any(|&b| ESCAPE[usize::from(b)]) {
            // The common case: nothing to escape, one copy.
            out.extend_from_slice(bytes);
            out.push(b'"');
            return;
        }
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if !ESCAPE[usize::from(b)] {
                continue;
            }
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                _ => &[],
            };
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            if esc.is_empty() {
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            } else {
                out.extend_from_slice(esc);
            }
            start = i + 1;
        }
        out.extend_from_slice(bytes.get(start..).unwrap_or_default());
        out.push(b'"');
    }

    /// Bytes that `serde_json` escapes in strings: control characters, `"` and `\\`.
    static ESCAPE: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 0x20 {
            t[i] = true;
            i += 1;
        }
        t[b'"' as usize] = true;
        t[b'\\' as usize] = true;
        t
    };

    fn uint(mut v: u64, out: &mut Vec<u8>) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            if let Some(d) = buf.get_mut(i) {
                *d = b'0' + u8::try_from(v % 10).unwrap_or(0);
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        out.extend_from_slice(buf.get(i..).unwrap_or_default());
    }

    /// A float exactly as `serde_json` writes it (`null` when not finite).
    fn float(v: f64, out: &mut Vec<u8>) {
        if serde_json::to_writer(&mut *out, &v).is_err() {
            out.extend_from_slice(b"null");
        }
    }

    /// An address as its `Display` text (dotted quad for IPv4, RFC 5952 for IPv6).
    pub(super) fn push_ip(ip: IpAddr, out: &mut Vec<u8>) {
        match ip {
            IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    if o >= 100 {
                        out.push(b'0' + o / 100);
                    }
                    if o >= 10 {
                        out.push(b'0' + o / 10 % 10);
                    }
                    out.push(b'0' + o % 10);
                }
            }
            IpAddr::V6(v6) => {
                let _ = write!(out, "{v6}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[derive(Clone, Default)]
    struct Mem(Arc<Mutex<Vec<u8>>>);
    impl Write for Mem {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A writer that blocks until released, to fill the queue.
    struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);
    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (m, c) = &*self.0;
            let mut open = m.lock().unwrap();
            while !*open {
                open = c.wait(open).unwrap();
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn sample() -> AccessEvent {
        let mut e = AccessEvent::new(
            OffsetDateTime::from_unix_timestamp_nanos(1_764_344_445_123_456_789).unwrap(),
        );
        e.request_id = "abc".into();
        e.client_ip = Some("192.0.2.7".parse().unwrap());
        e.method = "GET".into();
        e.host = Some("example.com".into());
        e.path = "/a\"b".into();
        e.protocol = "HTTP/1.1".into();
        e.status = 200;
        e.duration_ms = 1.5;
        e.route_path = Some("/".into());
        e
    }

    #[test]
    fn time_is_rfc3339_ms_utc() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_764_344_445_123_456_789).unwrap();
        assert_eq!(format_time(t), "2025-11-28T15:40:45.123Z");
        let offset = t.to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap());
        assert_eq!(format_time(offset), "2025-11-28T15:40:45.123Z");
    }

    #[test]
    fn json_line_has_all_fields() {
        let line = sample().to_json_line();
        assert_eq!(line.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        let obj = v.as_object().unwrap();
        for k in [
            "time",
            "request_id",
            "client_ip",
            "method",
            "host",
            "path",
            "query",
            "protocol",
            "status",
            "bytes_in",
            "bytes_out",
            "duration_ms",
            "upstream_addr",
            "upstream_status",
            "upstream_latency_ms",
            "ingress_namespace",
            "ingress_name",
            "service",
            "tls_version",
            "user_agent",
            "referer",
        ] {
            assert!(obj.contains_key(k), "missing {k}");
        }
        assert_eq!(
            obj.len(),
            21,
            "route_path and connect time stay out of the log"
        );
        assert_eq!(v["client_ip"], "192.0.2.7");
        assert_eq!(v["path"], "/a\"b");
        assert_eq!(v["query"], serde_json::Value::Null);
        assert_eq!(v["time"], "2025-11-28T15:40:45.123Z");
    }

    #[test]
    fn fast_line_equals_serde_json() {
        let mut events = vec![sample(), AccessEvent::new(OffsetDateTime::UNIX_EPOCH)];
        let mut e = sample();
        e.request_id = "q\"\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é€😀/".into();
        e.client_ip = Some("2001:db8::1".parse().unwrap());
        e.host = None;
        e.query = Some("a=1&b=<x>".into());
        e.status = 65535;
        e.bytes_in = u64::MAX;
        e.bytes_out = 0;
        e.duration_ms = f64::NAN;
        e.upstream_addr = Some("10.0.0.1:80, 10.0.0.2:8080".into());
        e.upstream_status = Some(502);
        e.upstream_latency_ms = Some(1e-7);
        e.ingress_namespace = Some("ns".into());
        e.ingress_name = Some("in".into());
        e.service = Some("svc".into());
        e.tls_version = Some("TLSv1.3".into());
        e.user_agent = Some("curl/8 \u{0}".into());
        e.referer = Some(String::new());
        events.push(e);
        for (ip, ms) in [
            ("0.0.0.0", 0.0),
            ("255.255.255.255", 123.456),
            ("10.20.3.199", 1e21),
        ] {
            let mut e = sample();
            e.client_ip = Some(ip.parse().unwrap());
            e.duration_ms = ms;
            e.upstream_latency_ms = Some(f64::INFINITY);
            events.push(e);
        }
        for ns in [
            999_999_999i128,
            1_000_000_000,
            1_764_344_445_007_000_000,
            -1,
        ] {
            events.push(AccessEvent::new(
                OffsetDateTime::from_unix_timestamp_nanos(ns).unwrap(),
            ));
        }
        for e in &events {
            let mut want = serde_json::to_vec(e).unwrap();
            want.push(b'\n');
            // Twice: the second uses the cached second.
            for _ in 0..2 {
                assert_eq!(
                    String::from_utf8(e.to_json_line()).unwrap(),
                    String::from_utf8(want.clone()).unwrap()
                );
            }
        }
    }

    #[test]
    fn writes_lines_in_order() {
        let mem = Mem::default();
        let log = AccessLog::writer(mem.clone(), 1 << 20).unwrap();
        for i in 0..100 {
            let mut e = sample();
            e.status = 200 + (i % 3);
            log.log(&e);
        }
        log.flush();
        let text = String::from_utf8(mem.0.lock().clone()).unwrap();
        assert_eq!(text.lines().count(), 100);
        assert_eq!(log.written(), 100);
        assert_eq!(log.dropped(), 0);
        log.close();
    }

    #[test]
    fn full_queue_drops_instead_of_blocking() {
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let log = AccessLog::writer(Gate(Arc::clone(&gate)), 16 * 1024).unwrap();
        let start = std::time::Instant::now();
        // The writer blocks on its first batch; 16 KiB hold about 40 more lines.
        for _ in 0..2000 {
            log.log(&sample());
        }
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(log.dropped() > 0, "expected drops with a stuck writer");
        {
            let (m, c) = &*gate;
            *m.lock().unwrap() = true;
            c.notify_all();
        }
        log.flush();
        assert_eq!(log.written() + log.dropped(), 2000);
        assert!(log.written() > 0);
        log.close();
    }

    #[test]
    fn dropping_every_handle_stops_the_writer() {
        let mem = Mem::default();
        let log = AccessLog::writer(mem.clone(), 1 << 20).unwrap();
        log.log(&sample());
        let shared = Arc::clone(log.shared.as_ref().unwrap());
        drop(log);
        let handle = shared.thread.lock().take().unwrap();
        drop(shared);
        handle.join().unwrap();
        assert_eq!(
            String::from_utf8(mem.0.lock().clone())
                .unwrap()
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn concurrent_writers_keep_lines_whole() {
        let mem = Mem::default();
        let log = AccessLog::writer(mem.clone(), 64 << 20).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for _ in 0..2500 {
                        log.log(&sample());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        log.flush();
        let text = String::from_utf8(mem.0.lock().clone()).unwrap();
        assert_eq!(text.lines().count(), 10_000);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        log.close();
    }

    #[test]
    fn file_sink_appends() {
        let dir = tempfile_dir();
        let path = dir.join("access.log");
        let log = AccessLog::file(&path).unwrap();
        log.log(&sample());
        log.log(&sample());
        log.close();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn disabled_is_silent() {
        let log = AccessLog::disabled();
        log.log(&sample());
        log.flush();
        assert_eq!(log.written(), 0);
        log.close();
    }

    #[test]
    fn open_error_is_typed() {
        let err = AccessLog::file("/nonexistent-dir-portcullis/x.log").unwrap_err();
        assert!(matches!(err, AccessLogError::Open { .. }));
        assert!(
            err.to_string()
                .contains("/nonexistent-dir-portcullis/x.log")
        );
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-telemetry-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
