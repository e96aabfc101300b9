//! # kioskd
//!
//! One self-service payment kiosk as a service an integrator deploys: the
//! configuration file, the devices it names (supervised, reconnecting), the
//! journal in a state directory, the system clock, the HTTPS backend link,
//! an authenticated operator API with dual control for clearings, Prometheus
//! metrics, logs, and a clean stop on SIGTERM. It makes no money decisions:
//! those are the kiosk's ([`kiosk_core::Kiosk`]); kioskd feeds it and shows it.
//!
//! - [`config`]: the file's shape and loading; [`validate`]: what
//!   `kioskd check-config` checks, each finding with file, line, column, field.
//! - [`devices`]: the configured devices under supervisors, or the virtual
//!   ones of `--simulate`; [`link`]: the HTTPS link and a timing wrapper.
//! - [`service`]: start, serve, stop on a signal.
//! - [`api`]: the operator API; [`auth`]: staff, argon2id hashes, tokens;
//!   [`dual`]: two-person clearing steps; [`audit`]: who did what.
//! - [`watch`]: the kiosk's events as a view and as metrics ([`metrics`]).
//! - [`fleet`]: the hall's fleet over MQTT: telemetry, signed remote commands.
//! - [`logging`], [`cli`].
//!
//! Embedding: [`service::start`] builds everything and binds the API;
//! [`service::Started::serve`] runs until a signal.
//!
//! Tests: unit tests at the bottom of each module; the end-to-end tests
//! (a real `kioskd` process, a real HTTP client, a real SIGTERM) in `tests/`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod currency;
pub mod devices;
pub mod dual;
pub mod fleet;
pub mod identity;
pub mod link;
pub mod logging;
pub mod metrics;
pub mod service;
pub mod validate;
pub mod watch;
