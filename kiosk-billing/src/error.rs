//! What can stop the server from starting, named by the flag and file at
//! fault.

use std::fmt;
use std::path::PathBuf;

/// The server cannot start.
#[non_exhaustive]
#[derive(Debug)]
pub enum BillingError {
    /// The accounts file (`--accounts`) cannot be read or is invalid.
    Accounts {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The database (`--db`) cannot be opened or written.
    Db {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A TLS file (`--cert`, `--key`, `--client-ca`) cannot be used.
    Tls {
        /// The flag.
        flag: &'static str,
        /// What is wrong, naming the file.
        problem: String,
    },
    /// The listening address (`--listen`) cannot be used.
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for BillingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BillingError::Accounts { path, problem } => {
                write!(f, "--accounts {}: {problem}", path.display())
            }
            BillingError::Db { path, problem } => write!(f, "--db {}: {problem}", path.display()),
            BillingError::Tls { flag, problem } => write!(f, "{flag}: {problem}"),
            BillingError::Listen { addr, problem } => write!(f, "--listen {addr}: {problem}"),
        }
    }
}

impl std::error::Error for BillingError {}
