//! A throw-away `redis-server` for tests: a free loopback port, no persistence, killed on
//! drop. Used by this crate's tests and by the end-to-end tests of the binary.
//!
//! [`RedisServer::start`] returns `Ok(None)` (after printing why) only when the
//! `redis-server` binary is absent and the environment variable `PORTCULLIS_REQUIRE_REDIS` is
//! unset; CI sets it so the tests cannot skip silently. `REDIS_SERVER` may name the binary.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a test Redis could not be started or controlled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestServerError {
    /// The binary is missing while `PORTCULLIS_REQUIRE_REDIS` is set.
    #[error("redis-server not found ({0}) and PORTCULLIS_REQUIRE_REDIS is set")]
    Required(String),
    /// Spawning, signalling or probing failed.
    #[error("redis-server: {0}")]
    Io(#[from] std::io::Error),
    /// The server did not answer PING in time.
    #[error("redis-server on port {0} did not answer PING within 10 s")]
    NotReady(u16),
}

/// A running `redis-server` child process.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    binary: String,
}

fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

impl RedisServer {
    /// Starts a server on a free 127.0.0.1 port and waits until it answers PING.
    pub fn start() -> Result<Option<Self>, TestServerError> {
        let binary = binary();
        let probe = Command::new(&binary)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Err(e) = probe {
            if std::env::var_os("PORTCULLIS_REQUIRE_REDIS").is_some() {
                return Err(TestServerError::Required(format!("{binary}: {e}")));
            }
            eprintln!(
                "SKIPPED: `{binary}` is not installed ({e}); install Debian's redis-server \
                 (or set REDIS_SERVER) to run this test. Set PORTCULLIS_REQUIRE_REDIS=1 to make \
                 this an error."
            );
            return Ok(None);
        }
        let mut last = None;
        for _ in 0..3 {
            let port = free_port()?;
            let mut server = Self {
                child: None,
                port,
                binary: binary.clone(),
            };
            match server.spawn() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(TestServerError::NotReady(0)))
    }

    fn spawn(&mut self) -> Result<(), TestServerError> {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && c.try_wait()?.is_some()
            {
                break; // exited (port taken?)
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(TestServerError::NotReady(self.port))
    }

    /// Whether the server answers `PING` within 200 ms.
    pub fn ping(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 16];
        matches!(s.read(&mut buf), Ok(n) if buf.get(..n).is_some_and(|b| b.starts_with(b"+PONG")))
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) -> Result<(), TestServerError> {
        if let Some(c) = &self.child {
            let status = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()?;
            if !status.success() {
                return Err(TestServerError::Io(std::io::Error::other(format!(
                    "kill {sig} failed"
                ))));
            }
        }
        Ok(())
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) -> Result<(), TestServerError> {
        self.signal("-STOP")
    }

    /// Resumes a paused server (SIGCONT).
    pub fn resume(&self) -> Result<(), TestServerError> {
        self.signal("-CONT")
    }

    /// Kills the server (SIGKILL) and reaps it; its data is lost.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts a fresh (empty) server on the same port after [`kill`](Self::kill).
    pub fn restart(&mut self) -> Result<(), TestServerError> {
        self.kill();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
