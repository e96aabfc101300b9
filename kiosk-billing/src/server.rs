//! The running server: a TCP listener, TLS (rustls) per connection, HTTP/1.1
//! (hyper) per connection, and the request handler behind it.
//!
//! Each connection has its own "drop" signal: the `drop_answers` fault
//! fires it to close the connection after the posting was applied and
//! before any byte of the answer is written — a lost answer exactly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::faults::{FaultPlan, Faults};
use crate::handler::App;
use crate::tls::{server_config, TlsFiles};
use crate::{AccountsFile, BillingError, Store};

/// How long a client may take for its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything `kiosk-billing serve` is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Where to listen; port 0 picks a free one ([`BillingServer::local_addr`]).
    pub listen: SocketAddr,
    /// The accounts file (TOML, or JSON by extension).
    pub accounts: PathBuf,
    /// The SQLite database; created if missing.
    pub db: PathBuf,
    /// TLS; `None` serves plain HTTP, allowed only on a loopback address.
    pub tls: Option<TlsFiles>,
    /// The path the endpoints hang under (`/` or e.g. `/kiosk/v1/`).
    pub base_path: String,
    /// The fault knobs at start.
    pub faults: FaultPlan,
}

/// A running reference billing server.
#[derive(Debug)]
pub struct BillingServer {
    addr: SocketAddr,
    tls: bool,
    base_path: String,
    store: Arc<Store>,
    faults: Arc<Faults>,
    connections: Arc<AtomicU64>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl BillingServer {
    /// Loads the accounts, opens the books and starts listening. Errors
    /// name the flag and file at fault.
    pub async fn start(config: &ServeConfig) -> Result<BillingServer, BillingError> {
        let base_path = normalise_base_path(&config.base_path);
        let accounts = AccountsFile::load(&config.accounts)?;
        let store = Arc::new(Store::open(&config.db, &accounts)?);
        let tls = match &config.tls {
            Some(files) => Some(TlsAcceptor::from(Arc::new(server_config(files)?))),
            None if config.listen.ip().is_loopback() => None,
            None => {
                return Err(BillingError::Listen {
                    addr: config.listen,
                    problem: "plain HTTP only on a loopback address; give --cert and --key".into(),
                })
            }
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|e| BillingError::Listen {
                    addr: config.listen,
                    problem: e.to_string(),
                })?;
        let addr = listener.local_addr().map_err(|e| BillingError::Listen {
            addr: config.listen,
            problem: e.to_string(),
        })?;
        let faults = Arc::new(Faults::new(config.faults));
        let app = Arc::new(App {
            store: store.clone(),
            faults: faults.clone(),
            base_path: base_path.clone(),
        });
        let (shutdown, stop) = watch::channel(false);
        let serves_tls = tls.is_some();
        let connections = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(listener, tls, app, connections.clone(), stop));
        Ok(BillingServer {
            addr,
            tls: serves_tls,
            base_path,
            store,
            faults,
            connections,
            shutdown,
            task,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base address a kiosk's `link.base_url` should hold.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.addr, self.base_path)
    }

    /// The books (balances, postings by key).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The fault knobs, to change while it runs.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// How many TCP connections it has accepted (a kiosk that reuses its
    /// connection makes one for many calls).
    pub fn connections_accepted(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes every connection and waits until they are
    /// gone. A posting being applied finishes its transaction (it runs on
    /// the blocking pool), so nothing is half-applied.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

fn normalise_base_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    accepted_count: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    accepted_count.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(connection(stream, peer, tls.clone(), app.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => break,
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve(stream, app, stop).await,
                Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake refused"),
                Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
            }
        }
        None => serve(stream, app, stop).await,
    }
}

async fn serve<S>(stream: S, app: Arc<App>, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let drop_signal = Arc::new(Notify::new());
    let signal = drop_signal.clone();
    let service = service_fn(move |request| app.clone().handle(request, signal.clone()));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = drop_signal.notified() => {}
        _ = stop.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_are_normalised_to_slashes_both_ends() {
        assert_eq!(normalise_base_path(""), "/");
        assert_eq!(normalise_base_path("/"), "/");
        assert_eq!(normalise_base_path("kiosk/v1"), "/kiosk/v1/");
        assert_eq!(normalise_base_path("/kiosk/v1/"), "/kiosk/v1/");
    }
}
