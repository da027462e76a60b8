//! Cross-process coordination on a shared `--state-dir`: one advisory lock file per
//! certificate (`STATE/locks/<namespace>/<secretName>.lock`, `flock`-style through
//! `std::fs::File::try_lock`), held only while an order for that Secret runs.
//!
//! A process that finds the lock taken does not order: it keeps serving what it has and
//! tries again later; once it gets the lock it first re-reads the stored Secret, which the
//! other process may have just renewed.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use crate::AcmeError;
use crate::store::Store;

/// A held certificate lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct CertLock {
    _file: File,
    path: PathBuf,
}

impl CertLock {
    /// Where the lock file is.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// Tries to take the lock of `namespace/secret`: `Ok(None)` when another holder has it.
pub(crate) fn try_lock(
    store: &Store,
    namespace: &str,
    secret: &str,
) -> Result<Option<CertLock>, AcmeError> {
    let path = store.lock_path(namespace, secret);
    let io = |e: std::io::Error| AcmeError::Store(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(CertLock { _file: file, path })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn second_holder_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let a = try_lock(&store, "shop", "web-tls").unwrap().unwrap();
        assert!(a.path().ends_with("locks/shop/web-tls.lock"));
        assert!(try_lock(&store, "shop", "web-tls").unwrap().is_none());
        assert!(try_lock(&store, "shop", "other").unwrap().is_some());
        drop(a);
        assert!(try_lock(&store, "shop", "web-tls").unwrap().is_some());
    }
}
