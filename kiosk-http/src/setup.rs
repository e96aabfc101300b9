//! What can be wrong with a link's configuration, found when the link is
//! built ([`HttpLink::new`](crate::HttpLink::new)) rather than at the first
//! customer's payment.

use std::fmt;

use crate::pem::PemError;

/// A link configuration that cannot be used. Its display names the
/// configuration field (`link.ca_bundle`) and, for a file, the file and
/// what is wrong with it, so that an installer can fix it without reading
/// code.
#[non_exhaustive]
#[derive(Debug)]
pub enum LinkSetupError {
    /// `link.base_url` is not a usable address.
    BaseUrl {
        /// The address as configured.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A file named by a field cannot be read or holds no usable
    /// certificate or key.
    File {
        /// The configuration field (`link.client_identity`).
        field: &'static str,
        /// The file and its problem.
        error: PemError,
    },
    /// A field's value is out of range or conflicts with another.
    Field {
        /// The configuration field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The TLS library refused what a field gave it (a key that does not
    /// match its certificate, a certificate it cannot parse).
    Tls {
        /// The configuration field.
        field: &'static str,
        /// The library's words.
        problem: String,
    },
    /// The HTTP client could not be built.
    Client {
        /// The library's words.
        problem: String,
    },
}

impl fmt::Display for LinkSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkSetupError::BaseUrl { url, problem } => {
                write!(f, "link.base_url {url:?}: {problem}")
            }
            LinkSetupError::File { field, error } => write!(f, "{field}: {error}"),
            LinkSetupError::Field { field, problem } => write!(f, "{field}: {problem}"),
            LinkSetupError::Tls { field, problem } => write!(f, "{field}: TLS: {problem}"),
            LinkSetupError::Client { problem } => write!(f, "link: HTTP client: {problem}"),
        }
    }
}

impl std::error::Error for LinkSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkSetupError::File { error, .. } => Some(error),
            _ => None,
        }
    }
}
