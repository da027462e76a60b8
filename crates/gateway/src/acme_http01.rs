//! ACME HTTP-01 responder (issue #5): a shared token store the ACME manager fills and the
//! plain HTTP listener answers from, before WAF, allow-lists, redirects and routing.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

/// The path prefix of HTTP-01 validation requests (RFC 8555 section 8.3).
pub const HTTP01_PREFIX: &str = "/.well-known/acme-challenge/";

/// Pending HTTP-01 challenges: token -> key authorization. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Http01Tokens {
    inner: Arc<RwLock<HashMap<String, String>>>,
}

impl Http01Tokens {
    /// Publishes the key authorization for `token`.
    pub fn insert(&self, token: &str, key_authorization: &str) {
        self.inner
            .write()
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    /// Withdraws `token`.
    pub fn remove(&self, token: &str) {
        self.inner.write().remove(token);
    }

    /// The key authorization for a request path, when it is a pending challenge.
    pub fn answer(&self, path: &str) -> Option<String> {
        let token = path.strip_prefix(HTTP01_PREFIX)?;
        self.inner.read().get(token).cloned()
    }

    /// Number of pending tokens.
    pub fn len(&self) -> usize {
        self.inner.read().len()
    }

    /// Whether no token is pending.
    pub fn is_empty(&self) -> bool {
        self.inner.read().is_empty()
    }
}
