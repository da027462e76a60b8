//! Listeners, TLS, routing, upstreams, load balancing and proxying

#![forbid(unsafe_code)]

pub mod tls;
