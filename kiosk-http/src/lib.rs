//! The kiosk's link to the billing backend over HTTPS.
//!
//! `HttpLink` implements [`kiosk_hal::NetworkLink`] over the wire contract
//! described in `docs/backend-wire-contract.md`. (Under construction: the
//! configuration and constructor below are the interface `kioskd` builds
//! against.)
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use serde::Deserialize;

/// How to reach and trust the billing backend: the `[link]` table of a
/// kiosk's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLinkConfig {
    /// The backend's base address, e.g. `https://billing.example.cn/kiosk/v1/`.
    pub base_url: String,
    /// PEM file of the CA certificates to trust instead of the system's.
    #[serde(default)]
    pub ca_bundle: Option<std::path::PathBuf>,
    /// PEM file of the one server certificate to accept (pinning).
    #[serde(default)]
    pub pinned_certificate: Option<std::path::PathBuf>,
    /// PEM file with this kiosk's client certificate and key (mutual TLS).
    #[serde(default)]
    pub client_identity: Option<std::path::PathBuf>,
    /// Timeout of one call, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}
