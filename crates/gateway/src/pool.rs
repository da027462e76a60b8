//! Upstream connections: TCP (optionally TLS) connector and a keep-alive pool of HTTP/1.1
//! senders keyed by endpoint address and protocol.
//!
//! Every connection's stream is wrapped in [`TimedIo`], which enforces `proxy-send-timeout`
//! the way nginx does: between two successive write operations, not over the whole upload.
//! The limit lives in a [`SendTimer`] shared with the pool entry and set on every checkout,
//! because one pooled connection serves routes with different timeouts.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsConnector;

use crate::body::RequestBody;

/// Identifies interchangeable upstream connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub(crate) addr: SocketAddr,
    pub(crate) tls: bool,
}

/// Why a connection to an upstream could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// `proxy-connect-timeout` elapsed.
    #[error("connect timeout")]
    Timeout,
    /// TCP connect failed.
    #[error("connect: {0}")]
    Io(#[source] io::Error),
    /// TLS handshake with the upstream failed.
    #[error("upstream TLS handshake: {0}")]
    Tls(#[source] io::Error),
    /// HTTP/1 handshake failed.
    #[error("upstream HTTP handshake: {0}")]
    Http(#[source] hyper::Error),
}

/// The upstream accepted no request bytes for longer than `proxy-send-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("upstream send timeout")]
pub(crate) struct SendTimeout;

/// Whether `err` (or an error it wraps) is a [`SendTimeout`].
pub(crate) fn is_send_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<SendTimeout>() {
            return true;
        }
        // `io::Error::source` skips the wrapped error itself, so look inside explicitly.
        if let Some(io) = e.downcast_ref::<io::Error>()
            && io.get_ref().is_some_and(|inner| inner.is::<SendTimeout>())
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The write-stall limit of one upstream connection, in milliseconds (0 = none).
#[derive(Debug, Default)]
pub(crate) struct SendTimer(AtomicU64);

impl SendTimer {
    /// Sets the limit for the next exchange (`proxy-send-timeout` of the route).
    pub(crate) fn set(&self, limit: Duration) {
        let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        self.0.store(ms, Ordering::Relaxed);
    }

    fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
}

/// A sender ready to carry one request.
pub(crate) struct PooledConn {
    pub(crate) key: PoolKey,
    pub(crate) sender: SendRequest<RequestBody>,
    /// The connection's `proxy-send-timeout`; set it before sending.
    pub(crate) send_timer: Arc<SendTimer>,
}

struct Idle {
    sender: SendRequest<RequestBody>,
    send_timer: Arc<SendTimer>,
    since: Instant,
}

/// Hashes [`PoolKey`]s (an address and a flag, taken from the model, never from request
/// bytes) with a few multiplications instead of SipHash, on every checkout and return.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdleMap = HashMap<PoolKey, Vec<Idle>, std::hash::BuildHasherDefault<KeyHasher>>;

/// The keep-alive pool. Shared by all models: keyed by address, so an endpoint that survives
/// a model swap keeps its warm connections.
pub(crate) struct Pool {
    idle: Mutex<IdleMap>,
    max_idle: usize,
    idle_timeout: Duration,
    tls: TlsConnector,
}

impl Pool {
    /// A pool keeping at most `max_idle` idle connections per key, each for `idle_timeout`.
    pub(crate) fn new(max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            idle: Mutex::new(IdleMap::default()),
            max_idle,
            idle_timeout,
            tls: TlsConnector::from(Arc::new(insecure_client_config())),
        }
    }

    /// A ready connection to `key`: a pooled one if available, else a new one.
    pub(crate) async fn get(
        &self,
        key: &PoolKey,
        connect_timeout: Duration,
    ) -> Result<PooledConn, ConnectError> {
        while let Some(mut conn) = self.take_idle(key) {
            // A pooled connection may have been closed by the upstream meanwhile.
            if conn.sender.ready().await.is_ok() {
                return Ok(conn);
            }
        }
        self.connect(key, connect_timeout).await
    }

    fn take_idle(&self, key: &PoolKey) -> Option<PooledConn> {
        let mut idle = self.idle.lock();
        let list = idle.get_mut(key)?;
        while let Some(conn) = list.pop() {
            if conn.sender.is_closed() || conn.since.elapsed() > self.idle_timeout {
                continue;
            }
            return Some(PooledConn {
                key: key.clone(),
                sender: conn.sender,
                send_timer: conn.send_timer,
            });
        }
        None
    }

    /// Returns a connection whose previous exchange completed.
    pub(crate) fn put(&self, conn: PooledConn) {
        if conn.sender.is_closed() || self.max_idle == 0 {
            return;
        }
        let mut idle = self.idle.lock();
        let list = idle.entry(conn.key).or_default();
        if list.len() >= self.max_idle {
            // Drop the oldest to keep the freshest connections.
            list.remove(0);
        }
        list.push(Idle {
            sender: conn.sender,
            send_timer: conn.send_timer,
            since: Instant::now(),
        });
    }

    /// A new connection to `key`, bypassing the idle list.
    pub(crate) async fn connect(
        &self,
        key: &PoolKey,
        connect_timeout: Duration,
    ) -> Result<PooledConn, ConnectError> {
        let fut = async {
            let tcp = TcpStream::connect(key.addr)
                .await
                .map_err(ConnectError::Io)?;
            let _ = tcp.set_nodelay(true);
            if key.tls {
                // No SNI and no verification, as ingress-nginx's defaults
                // (`proxy_ssl_server_name off`, `proxy_ssl_verify off`).
                let name = ServerName::IpAddress(key.addr.ip().into());
                let tls = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(ConnectError::Tls)?;
                Ok(UpstreamIo::Tls(Box::new(tls)))
            } else {
                Ok(UpstreamIo::Plain(tcp))
            }
        };
        let io = tokio::time::timeout(connect_timeout, fut)
            .await
            .map_err(|_| ConnectError::Timeout)??;
        let send_timer = Arc::new(SendTimer::default());
        let io = TimedIo {
            inner: io,
            send_timer: Arc::clone(&send_timer),
            stall: None,
        };
        let (sender, conn) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(io))
            .await
            .map_err(ConnectError::Http)?;
        tokio::spawn(async move {
            if let Err(e) = conn.with_upgrades().await {
                tracing::debug!(error = %e, "upstream connection ended");
            }
        });
        Ok(PooledConn {
            key: key.clone(),
            sender,
            send_timer,
        })
    }
}

/// An upstream stream that fails a write with [`SendTimeout`] when the upstream has not
/// accepted any bytes for the connection's [`SendTimer`] limit. Reads are not timed here
/// (`proxy-read-timeout` is applied per exchange by the proxy and the response body).
pub(crate) struct TimedIo {
    inner: UpstreamIo,
    send_timer: Arc<SendTimer>,
    /// Armed while a write is blocked; disarmed by any progress.
    stall: Option<Pin<Box<Sleep>>>,
}

impl TimedIo {
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stall = None;
            return r;
        }
        let Some(limit) = self.send_timer.get() else {
            return Poll::Pending;
        };
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if stall.as_mut().poll(cx).is_ready() {
            self.stall = None;
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, SendTimeout)));
        }
        Poll::Pending
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A plain or TLS upstream stream.
pub(crate) enum UpstreamIo {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for UpstreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// rustls client configuration for `backend-protocol: HTTPS`: certificates are not verified
/// (ingress-nginx's `proxy-ssl-verify: off` default); signatures still are.
fn insecure_client_config() -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(crate::insecure::AcceptAnyServerCert::new(Arc::clone(
        &provider,
    )));
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            // Invariant: the ring provider supports the default protocol versions; this
            // branch exists only to avoid a panic path.
            ClientConfig::builder_with_protocol_versions(rustls::DEFAULT_VERSIONS)
        });
    let mut cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    cfg
}
