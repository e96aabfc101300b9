//! A reference billing server ("BOSS") for the kiosk's HTTPS wire contract
//! (`docs/backend-wire-contract.md`), for integrators to rehearse against
//! and for the end-to-end tests of [`kiosk_http::HttpLink`].
//!
//! - Accounts come from a TOML or JSON file ([`AccountsFile`]).
//! - Postings are applied **exactly once per idempotency key**, durably in
//!   SQLite ([`Store`]): same key and same payment → the first answer
//!   again; same key and another payment → `409`.
//! - TLS with rustls (ring), optionally requiring client certificates
//!   (mutual TLS); plain HTTP only on loopback.
//! - Fault knobs ([`FaultPlan`]): delay, `503`, apply-then-drop the answer,
//!   garbage bodies, refusals.
//!
//! `kiosk-billing serve` is a thin command line over [`BillingServer`];
//! tests start the same server in-process on an ephemeral loopback port.
//! Unit tests sit at the bottom of each module; the end-to-end tests over
//! HTTPS with the real link are in `tests/`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod accounts;
mod error;
pub mod faults;
mod handler;
pub mod server;
pub mod store;
pub mod tls;

pub use accounts::{Account, AccountStatus, AccountsFile};
pub use error::BillingError;
pub use faults::{FaultPlan, Faults};
pub use handler::{GARBAGE_BODY, REQUEST_MAX_BYTES};
pub use server::{BillingServer, ServeConfig};
pub use store::{PostingRecord, Store, StoreError, StoredAnswer};
pub use tls::TlsFiles;
