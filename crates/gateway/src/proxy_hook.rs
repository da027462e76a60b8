//! Where the PROXY protocol header is read before TLS/HTTP: delegates to
//! [`crate::proxy_protocol`] and applies `proxy-real-ip-cidr` via
//! [`crate::proxy_protocol::effective_client`].

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use tokio::net::TcpStream;

use crate::proxy_protocol::{ProxyError, effective_client, read_proxy_header};

/// Reads the PROXY protocol header from `stream` and returns the client address to use
/// (the header's source when the peer is trusted, else the peer). Any error means the
/// connection must be closed.
pub(crate) async fn read_source(
    stream: &mut TcpStream,
    peer: SocketAddr,
    trusted: &[IpNet],
    timeout: Duration,
) -> Result<SocketAddr, ProxyError> {
    let header = read_proxy_header(stream, timeout).await?;
    Ok(effective_client(&header, peer, trusted))
}
