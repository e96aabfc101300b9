//! The server's TLS configuration: its certificate and key, and, with a
//! client CA, mutual TLS (a kiosk without a certificate from that CA is
//! refused during the handshake). rustls with the ring provider.

use std::path::Path;
use std::sync::Arc;

use kiosk_http::pem;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::BillingError;

/// The server's certificate, key and optional client CA, as files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server's certificate chain, its own first (`--cert`).
    pub cert: std::path::PathBuf,
    /// PEM: the server's private key (`--key`).
    pub key: std::path::PathBuf,
    /// PEM: the CA that signs kiosks' client certificates (`--client-ca`);
    /// when set, every connection must present one.
    pub client_ca: Option<std::path::PathBuf>,
}

fn tls_error(flag: &'static str, path: &Path, e: impl std::fmt::Display) -> BillingError {
    BillingError::Tls {
        flag,
        problem: format!("{}: {e}", path.display()),
    }
}

/// The rustls server configuration for `files`.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, BillingError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = pem::certificates(&files.cert).map_err(|e| BillingError::Tls {
        flag: "--cert",
        problem: e.to_string(),
    })?;
    let key = pem::private_key(&files.key).map_err(|e| BillingError::Tls {
        flag: "--key",
        problem: e.to_string(),
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| BillingError::Tls {
            flag: "--cert",
            problem: e.to_string(),
        })?;
    let builder = match &files.client_ca {
        Some(path) => {
            let cas = pem::certificates(path).map_err(|e| BillingError::Tls {
                flag: "--client-ca",
                problem: e.to_string(),
            })?;
            let mut roots = RootCertStore::empty();
            for ca in cas {
                roots
                    .add(ca)
                    .map_err(|e| tls_error("--client-ca", path, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error("--client-ca", path, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| tls_error("--key", &files.key, format!("does not fit --cert: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
