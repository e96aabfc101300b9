//! # kiosk-fleet
//!
//! The hall's fleet of kiosks over an MQTT broker: what kioskd publishes
//! and what the hall service reads, in one place so that both ends agree.
//!
//! - [`topics`]: the topic tree (`kiosk/v1/<hall>/<kiosk>/…`).
//! - [`messages`]: the payloads (retained status with its last-will
//!   "offline" form, tickets, events).
//! - [`signing`]: remote commands signed with Ed25519, with a clock window
//!   and nonces against replay; their answers.
//! - [`outbox`]: the kiosk's bounded, drop-oldest telemetry queue.
//! - [`broker`]: reaching the broker (login, TLS with rustls, last will).
//! - [`guidance`]: the site model's shortest-expected-wait rule on live data.
//! - [`hall`]: the hall's live picture, guidance advice and dashboard rows.
//! - [`service`]: the `kiosk-hall` service (MQTT subscriber, HTTP routes,
//!   dashboard page).
//!
//! Everything but [`broker`] and [`service`] is sans-IO and tested on its
//! own; the tests in `tests/` run real `kioskd` processes, a real
//! mosquitto and a real Chromium.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod broker;
pub mod guidance;
pub mod hall;
pub mod messages;
pub mod outbox;
pub mod service;
pub mod signing;
pub mod topics;

/// The MQTT client, re-exported so that both ends use the same version.
pub use rumqttc;
