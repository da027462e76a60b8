//! Listeners, TLS, routing, upstreams, load balancing and proxying

#![forbid(unsafe_code)]

pub mod proxy_protocol;
pub mod tls;
