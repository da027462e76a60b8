//! Host and path matching: a thin layer over `config`'s [`Model::server_for`] and
//! [`Server::route`](config::model::Server::route) (ingress-nginx semantics, see there).
//!
//! When the chosen server has no matching route, the request goes to the model's default
//! backend (as ingress-nginx's per-server `location /` does), never to another server.

use config::model::{Model, RouteMatch};

/// Result of routing one request.
pub(crate) struct Lookup {
    /// The matched route with its captures, if any.
    pub(crate) matched: Option<RouteMatch>,
    /// Whether the server answering the host has TLS configured.
    pub(crate) host_tls: bool,
}

/// Finds the route for `host` and `path` (without query).
pub(crate) fn route(model: &Model, host: &str, path: &str) -> Lookup {
    match model.server_for(host) {
        Some(server) => Lookup {
            matched: server.route(path),
            host_tls: server.tls,
        },
        None => Lookup {
            matched: None,
            host_tls: false,
        },
    }
}
