//! The kiosk's link to the billing backend over HTTPS.
//!
//! [`HttpLink`] implements [`kiosk_hal::NetworkLink`] over the wire contract
//! described in `docs/backend-wire-contract.md`: an account check and a
//! payment posting as JSON over HTTP/1.1 with TLS (rustls), the
//! idempotency key in the `Idempotency-Key` header, one timeout per call,
//! connections reused. The contract's types are in [`wire`], shared with
//! the reference billing server (`kiosk-billing`); how an answer becomes a
//! [`kiosk_hal::PostingAnswer`] or an error kind is [`answer`].
//!
//! Unit tests sit at the bottom of each module; the end-to-end tests over
//! real HTTPS on loopback are in `kiosk-billing/tests/`, next to the
//! server they run against.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod answer;
mod link;
pub mod pem;
mod setup;
mod tls;
pub mod wire;

pub use link::{HttpLink, ANSWER_MAX_BYTES, CODES_SENT_MAX};
pub use setup::LinkSetupError;

use serde::Deserialize;

/// How to reach and trust the billing backend: the `[link]` table of a
/// kiosk's configuration.
///
/// ```toml
/// [link]
/// base_url = "https://billing.example.cn/kiosk/v1/"
/// ca_bundle = "/etc/kiosk/backend-ca.pem"
/// client_identity = "/etc/kiosk/kiosk-K01.pem"
/// timeout_ms = 10000
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLinkConfig {
    /// The backend's base address, e.g. `https://billing.example.cn/kiosk/v1/`.
    /// The endpoints' paths are appended to it (a missing trailing `/` is
    /// added). `http://` only to a loopback host, for a local demo.
    pub base_url: String,
    /// PEM file of the CA certificates to trust instead of the system's.
    #[serde(default)]
    pub ca_bundle: Option<std::path::PathBuf>,
    /// PEM file of the one server certificate to accept (pinning). With a
    /// `ca_bundle` too, the certificate must also verify against it (name,
    /// expiry); alone, the pinned certificate is the whole trust.
    #[serde(default)]
    pub pinned_certificate: Option<std::path::PathBuf>,
    /// PEM file with this kiosk's client certificate (chain) and key (mutual TLS).
    #[serde(default)]
    pub client_identity: Option<std::path::PathBuf>,
    /// Timeout of one call, in milliseconds, connecting included. Default 10,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}
