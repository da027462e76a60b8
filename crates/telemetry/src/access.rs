//! Access events and the JSON-lines access log.
//!
//! Design (measured, see `examples/access_log_bench.rs`): the request path serializes the
//! event into a per-thread scratch buffer, then appends it to a shared byte buffer under a
//! `parking_lot::Mutex` held only for that copy; a dedicated writer thread swaps the
//! buffer out and writes it in one `write_all` + flush, outside the lock. The request path
//! never touches the disk; when the queued bytes exceed the cap (the sink is slower than
//! the traffic) the line is dropped and counted instead of blocking. A bounded channel of
//! per-line `Vec`s with a writer thread was measured first and was slower and dropped
//! more under the same load.

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
        // Serializing plain strings, numbers and options into a Vec cannot fail; should it
        // ever, the line is left empty and the caller writes nothing.
        if serde_json::to_writer(&mut out, self).is_err() {
            out.clear();
            return out;
        }
        out.push(b'\n');
        out
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
        self.log_json(event);
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
            let mut p = shared.pending.lock();
            if p.closed || p.buf.len().saturating_add(line.len()) > shared.capacity {
                drop(p);
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let was_empty = p.buf.is_empty();
            p.buf.extend_from_slice(&line);
            p.accepted += 1;
            drop(p);
            if was_empty {
                shared.wake.notify_one();
            }
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
                shared.wake.wait_for(&mut p, Duration::from_secs(1));
            }
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
            let _p = shared.pending.lock();
            shared.written.store(lines, Ordering::Release);
            shared.written_cv.notify_all();
        }
        if closed && batch.is_empty() {
            return;
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
