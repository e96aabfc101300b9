//! The link's TLS client configuration: whom to trust (the system's CAs, a
//! CA bundle, or one pinned certificate) and who the kiosk is (an optional
//! client certificate for mutual TLS). rustls with the ring provider; the
//! verification itself is rustls's and webpki's, this module only chooses.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::setup::LinkSetupError;
use crate::{pem, HttpLinkConfig};

/// The TLS configuration `config` asks for. Every configured file is read
/// (and any problem with it reported) before the system's CAs are looked
/// at, so a missing file is named even on a machine without a CA store.
pub(crate) fn client_config(config: &HttpLinkConfig) -> Result<ClientConfig, LinkSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LinkSetupError::Tls {
            field: "link",
            problem: e.to_string(),
        })?;
    let identity = match &config.client_identity {
        Some(path) => Some((
            path,
            pem::identity(path).map_err(|error| LinkSetupError::File {
                field: "link.client_identity",
                error,
            })?,
        )),
        None => None,
    };

    let chain = match &config.ca_bundle {
        Some(path) => Some(bundle_verifier(path, &provider)?),
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (&config.pinned_certificate, chain) {
        (Some(path), chain) => {
            let field = "link.pinned_certificate";
            let mut certs =
                pem::certificates(path).map_err(|error| LinkSetupError::File { field, error })?;
            if certs.len() != 1 {
                return Err(LinkSetupError::Field {
                    field,
                    problem: format!(
                        "{} holds {} certificates; pin exactly one (the server's own)",
                        path.display(),
                        certs.len()
                    ),
                });
            }
            Arc::new(PinnedVerifier {
                pinned: certs.remove(0),
                chain,
                algorithms: provider.signature_verification_algorithms,
            })
        }
        (None, Some(chain)) => chain,
        (None, None) => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| {
                LinkSetupError::Tls {
                    field: "link.ca_bundle",
                    problem: format!("the system's CA certificates cannot be used: {e}"),
                }
            })?,
        ),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);

    match identity {
        Some((path, (chain, key))) => {
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| LinkSetupError::Tls {
                    field: "link.client_identity",
                    problem: format!("{}: {e}", path.display()),
                })
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The configuration of a plain-http link (loopback demo): it never makes
/// a TLS connection (no redirects are followed), and should it ever try,
/// no server is trusted. Needs no CA store.
pub(crate) fn refusing_config() -> Result<ClientConfig, LinkSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LinkSetupError::Tls {
            field: "link",
            problem: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RefuseAll { algorithms }))
        .with_no_client_auth())
}

/// Trusts no server (see [`refusing_config`]).
#[derive(Debug)]
struct RefuseAll {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RefuseAll {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "a plain-http link makes no TLS connections".into(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A verifier that trusts the CAs in the PEM file at `path` (and only them).
fn bundle_verifier(
    path: &std::path::Path,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, LinkSetupError> {
    let field = "link.ca_bundle";
    let certs = pem::certificates(path).map_err(|error| LinkSetupError::File { field, error })?;
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| LinkSetupError::Tls {
            field,
            problem: format!("{}: certificate {}: {e}", path.display(), i + 1),
        })?;
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| LinkSetupError::Tls {
            field,
            problem: format!("{}: {e}", path.display()),
        })?;
    Ok(verifier)
}

/// Accepts exactly one server certificate, byte for byte; with a CA bundle
/// configured too, the chain must also verify (expiry, name, issuer).
///
/// Handshake signatures are still checked (by rustls), so a server that
/// merely replays the pinned certificate without its key fails.
#[derive(Debug)]
struct PinnedVerifier {
    pinned: CertificateDer<'static>,
    chain: Option<Arc<dyn ServerCertVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// Why a pinned link refused a server. rustls shows it with `Debug`, so
/// both print the sentence.
struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server's certificate is not the pinned certificate")
    }
}

impl std::fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() != self.pinned.as_ref() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch))),
            ));
        }
        match &self.chain {
            Some(chain) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
