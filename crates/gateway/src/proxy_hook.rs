//! Where the PROXY protocol header is read before TLS/HTTP.
//!
//! Delegates to `crate::proxy_protocol` (owned by the edge engineer) once it is available;
//! until then the header is not consumed and the TCP peer is used.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

/// Reading the PROXY header failed; the connection must be closed.
#[derive(Debug, thiserror::Error)]
#[error("PROXY protocol: {0}")]
pub(crate) struct ProxyHeaderError(String);

/// Reads the PROXY protocol header from `stream` and returns the source address it names
/// (`None` for `LOCAL` connections).
pub(crate) async fn read_source(
    _stream: &mut TcpStream,
    _timeout: Duration,
) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!("use-proxy-protocol is set but PROXY protocol support is not built in yet");
    });
    Ok(None)
}
