//! The [`Gateway`]: live model, listeners, connection handling and graceful shutdown.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use config::model::Model;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::balance::Snapshot;
use crate::event::{AccessSink, null_sink};
use crate::headers::ConnInfo;
use crate::options::GatewayOptions;
use crate::pool::Pool;

/// Errors that stop a listener.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listener's local address could not be read.
    #[error("listener address: {0}")]
    LocalAddr(#[source] io::Error),
}

/// The reverse proxy: the live model plus upstream state that outlives model swaps.
pub struct Gateway {
    snapshot: ArcSwap<Snapshot>,
    swap_lock: Mutex<()>,
    /// Pending ACME HTTP-01 challenges answered on the HTTP listener (issue #5).
    pub(crate) acme_http01: crate::acme_http01::Http01Tokens,
    pub(crate) pool: Arc<Pool>,
    pub(crate) options: GatewayOptions,
    pub(crate) sink: Arc<dyn AccessSink>,
    /// Abuse-control state (rate table, in-flight counts) kept across swaps.
    pub(crate) limits: crate::limits::LimitState,
    epoch: Instant,
    /// HTTP/1.1 + h2 (prior knowledge) by preface detection.
    auto: auto::Builder<TokioExecutor>,
    /// HTTP/1.1 only (TLS without `h2` ALPN).
    h1: auto::Builder<TokioExecutor>,
    /// h2 only (TLS with `h2` ALPN).
    h2: auto::Builder<TokioExecutor>,
}

/// Which protocol a connection speaks.
#[derive(Debug, Clone, Copy)]
enum Proto {
    Detect,
    Http1,
    Http2,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway serving `model`, discarding access events.
    pub fn new(model: Arc<Model>, options: GatewayOptions) -> Arc<Self> {
        Self::with_sink(model, options, null_sink())
    }

    /// A gateway serving `model` and reporting one event per request to `sink`.
    pub fn with_sink(
        model: Arc<Model>,
        options: GatewayOptions,
        sink: Arc<dyn AccessSink>,
    ) -> Arc<Self> {
        let builder = || {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                // One flattened `write` per response instead of a `writev` of head and body
                // pieces (docs/performance.md).
                .writev(false)
                .timer(TokioTimer::new())
                .header_read_timeout(options.header_read_timeout)
                .max_buf_size(options.max_header_bytes.max(8192))
                .max_headers(options.max_headers);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_header_list_size(u32::try_from(options.max_header_bytes).unwrap_or(u32::MAX))
                .max_concurrent_streams(128)
                .keep_alive_interval(Some(options.header_read_timeout))
                .keep_alive_timeout(options.header_read_timeout);
            builder
        };
        let (auto, h1, h2) = (builder(), builder().http1_only(), builder().http2_only());
        Arc::new(Self {
            snapshot: ArcSwap::from_pointee(Snapshot::build(model, None)),
            swap_lock: Mutex::new(()),
            acme_http01: crate::acme_http01::Http01Tokens::default(),
            pool: Arc::new(Pool::new(
                options.pool_max_idle_per_endpoint,
                options.pool_idle_timeout,
            )),
            limits: crate::limits::LimitState::new(&options.limits),
            options,
            sink,
            epoch: Instant::now(),
            auto,
            h1,
            h2,
        })
    }

    /// Publishes a new model. Requests already routed keep the model they started with;
    /// health, EWMA and round-robin state of unchanged upstream endpoints carry over.
    pub fn swap(&self, model: Arc<Model>) {
        let _guard = self.swap_lock.lock();
        let previous = self.snapshot.load();
        let next = Snapshot::build(model, Some(&previous));
        self.limits.retain(&next.model);
        self.snapshot.store(Arc::new(next));
    }

    /// The ACME HTTP-01 token store this gateway answers from (shared; give it to the ACME
    /// manager).
    pub fn acme_http01(&self) -> crate::acme_http01::Http01Tokens {
        self.acme_http01.clone()
    }

    /// The model currently served.
    pub fn model(&self) -> Arc<Model> {
        Arc::clone(&self.snapshot.load().model)
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Milliseconds since the gateway started (health bookkeeping clock).
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Serves plain HTTP (HTTP/1.1 and h2c) on `listener` until `shutdown` fires, then stops
    /// accepting and drains in-flight requests within [`GatewayOptions::drain_timeout`].
    pub async fn serve_http(
        self: &Arc<Self>,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        self.serve(listener, None, shutdown).await
    }

    /// Serves HTTPS (HTTP/1.1 and h2 by ALPN) on `listener` with `acceptor`, with the same
    /// shutdown behaviour as [`Gateway::serve_http`].
    pub async fn serve_https(
        self: &Arc<Self>,
        listener: TcpListener,
        acceptor: TlsAcceptor,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        self.serve(listener, Some(acceptor), shutdown).await
    }

    async fn serve(
        self: &Arc<Self>,
        listener: TcpListener,
        acceptor: Option<TlsAcceptor>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let local = listener.local_addr().map_err(ServeError::LocalAddr)?;
        let hard = CancellationToken::new();
        let (drain_tx, mut drain_rx) = mpsc::channel::<()>(1);
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            };
            let gw = Arc::clone(self);
            let acceptor = acceptor.clone();
            let shutdown = shutdown.clone();
            let hard = hard.clone();
            let drain = drain_tx.clone();
            // `connections{state="active"}`: held for the life of the connection.
            let open = self.sink.connection_opened();
            tokio::spawn(async move {
                gw.accept_conn(stream, peer, local, acceptor, shutdown, hard)
                    .await;
                drop(open);
                drop(drain);
            });
        }
        drop(listener);
        drop(drain_tx);
        let drained = tokio::time::timeout(self.options.drain_timeout, drain_rx.recv()).await;
        if drained.is_err() {
            tracing::warn!("drain deadline reached; closing remaining connections");
            hard.cancel();
        }
        Ok(())
    }

    async fn accept_conn(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
        acceptor: Option<TlsAcceptor>,
        shutdown: CancellationToken,
        hard: CancellationToken,
    ) {
        let _ = stream.set_nodelay(true);
        let mut conn = ConnInfo {
            peer,
            local,
            tls: acceptor.is_some(),
            tls_version: None,
        };
        let global = self.snapshot.load().model.global.clone();
        if global.use_proxy_protocol {
            let timeout = self
                .options
                .header_read_timeout
                .min(crate::proxy_protocol::DEFAULT_TIMEOUT);
            let read = crate::proxy_hook::read_source(
                &mut stream,
                peer,
                &global.proxy_real_ip_cidr,
                timeout,
            );
            match read.await {
                Ok(src) => conn.peer = src,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "PROXY protocol header rejected");
                    return;
                }
            }
        }
        match acceptor {
            None => {
                // Bound the wait for the first byte: protocol detection has no timeout.
                let mut probe = [0u8; 1];
                let first =
                    tokio::time::timeout(self.options.header_read_timeout, stream.peek(&mut probe));
                let ready = tokio::select! {
                    r = first => matches!(r, Ok(Ok(n)) if n > 0),
                    () = shutdown.cancelled() => false,
                };
                if ready {
                    self.serve_conn(stream, conn, Proto::Detect, shutdown, hard)
                        .await;
                }
            }
            Some(acceptor) => {
                let handshake =
                    tokio::time::timeout(self.options.header_read_timeout, acceptor.accept(stream));
                let tls = tokio::select! {
                    r = handshake => r,
                    () = hard.cancelled() => return,
                };
                match tls {
                    Ok(Ok(tls)) => {
                        let info = crate::tls::TlsInfo::from_stream(&tls);
                        if info.is_acme_challenge() {
                            // TLS-ALPN-01 validation: the handshake was the whole exchange.
                            return;
                        }
                        conn.tls_version = info.version;
                        let proto = match info.alpn.as_deref() {
                            Some(b"h2") => Proto::Http2,
                            Some(_) => Proto::Http1,
                            None => Proto::Detect,
                        };
                        self.serve_conn(tls, conn, proto, shutdown, hard).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve_conn<I>(
        self: Arc<Self>,
        io: I,
        conn: ConnInfo,
        proto: Proto,
        shutdown: CancellationToken,
        hard: CancellationToken,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let gw = Arc::clone(&self);
        let svc = service_fn(move |req| {
            let gw = Arc::clone(&gw);
            async move { Ok::<_, Infallible>(gw.handle(req, conn).await) }
        });
        let builder = match proto {
            Proto::Detect => &self.auto,
            Proto::Http1 => &self.h1,
            Proto::Http2 => &self.h2,
        };
        let served = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
        tokio::pin!(served);
        let done = tokio::select! {
            r = served.as_mut() => Some(r),
            () = shutdown.cancelled() => None,
        };
        if let Some(r) = done {
            if let Err(e) = r {
                tracing::debug!(peer = %conn.peer, error = %e, "connection error");
            }
            return;
        }
        served.as_mut().graceful_shutdown();
        tokio::select! {
            _ = served.as_mut() => {}
            () = hard.cancelled() => {}
        }
    }
}
