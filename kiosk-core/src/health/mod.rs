//! Health monitoring, sans-IO: detection from device answers and timing,
//! never from being told.
//!
//! The runner feeds the [`HealthMonitor`] what it sees — each device call's
//! [`Outcome`] with its answer time, each transaction's end — and acts on the
//! [`HealthChange`]s it returns (open or resolve tickets, switch links,
//! disable a payment method). The monitor reads no clock; `now` is passed in.
//!
//! # What it detects
//!
//! | change | from |
//! |---|---|
//! | [`HealthChange::Degraded`] `offline` | `missed_polls_offline` calls in a row with no usable answer (`acceptor-offline`, `link-down`) |
//! | [`HealthChange::Degraded`] other kinds | a device answering with a condition (jam, paper out, full) |
//! | [`HealthChange::Recovered`] | the next good answer of a degraded device |
//! | [`HealthChange::LinkSlow`] / [`HealthChange::LinkFast`] | `link_slow_samples` answers in a row at or over `link_slow_ms` / `link_fast_samples` under it (`link-slow`) |
//! | [`HealthChange::FrequentFailures`] / [`HealthChange::FrequentFailuresCleared`] | the failure rate of the transactions in the last `failure_window_ms` reaching `failure_rate_threshold` (with at least `failure_min_samples`) / falling under `failure_rate_clear` (`frequent-failures`) |
//!
//! # Limits
//!
//! Memory is bounded: at most `failure_samples_max` transactions (details cut
//! to 64 characters) and the last 64 link answer times.

mod failures;
mod latency;
mod monitor;
mod policy;

#[cfg(test)]
mod tests;

use kiosk_hal::ErrorKind;
use serde::{Deserialize, Serialize};

use crate::events::DeviceKind;

pub use monitor::{HealthMonitor, OFFLINE_KIND};
pub use policy::HealthPolicy;

/// How one call to a device went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Outcome {
    /// It answered well.
    Ok {
        /// How long the answer took.
        latency_ms: u64,
    },
    /// It failed.
    Err {
        /// How.
        kind: ErrorKind,
        /// How long until the failure was known.
        latency_ms: u64,
    },
}

/// A change in health the runner should act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "change")]
pub enum HealthChange {
    /// A device is faulty: open a ticket for (device, kind), degrade its function.
    Degraded {
        /// Which device.
        device: DeviceKind,
        /// The fault kind (`"offline"`, or an [`ErrorKind`] name).
        kind: String,
        /// What was seen, for the ticket.
        symptom: String,
    },
    /// A degraded device answers well again.
    Recovered {
        /// Which device.
        device: DeviceKind,
    },
    /// Transactions keep failing (`frequent-failures`).
    FrequentFailures {
        /// Failures / transactions in the window.
        rate: f64,
        /// Transactions in the window.
        samples: u32,
        /// The failures by detail, most frequent first (`"refused: 3, pending: 1"`).
        pattern: String,
    },
    /// The failure rate is back to normal.
    FrequentFailuresCleared,
    /// The backend answers slowly (`link-slow`).
    LinkSlow {
        /// The median answer time of the slow run.
        p50_ms: u64,
        /// Slow answers in a row.
        samples: u32,
    },
    /// The backend answers fast again.
    LinkFast,
}
