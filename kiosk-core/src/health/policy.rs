//! The health monitor's thresholds.

use serde::{Deserialize, Serialize};

/// When the health monitor calls a device, the link or the kiosk's
/// transactions unhealthy. Every field has a documented default; a
/// configuration file may give any subset (kebab-case keys, unknown keys
/// refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct HealthPolicy {
    /// Polls in a row without a usable answer after which a device is
    /// `offline`. Default 3.
    pub missed_polls_offline: u32,
    /// How far back the transaction failure rate looks. Default 600 000 (10 min).
    pub failure_window_ms: u64,
    /// `frequent-failures` when failures / transactions in the window reach
    /// this (inclusive). Default 0.5.
    pub failure_rate_threshold: f64,
    /// `frequent-failures` is cleared when the rate falls below this (or the
    /// window holds fewer than `failure_min_samples`): a gap against
    /// flapping. Default 0.25.
    pub failure_rate_clear: f64,
    /// Transactions the window must hold before a rate counts. Default 4.
    pub failure_min_samples: u32,
    /// The most transactions the window holds; the oldest go first. Default 256.
    pub failure_samples_max: usize,
    /// A link answer this slow or slower is slow. Default 3 000.
    pub link_slow_ms: u64,
    /// Slow answers in a row that make the link `link-slow`. Default 3.
    pub link_slow_samples: u32,
    /// Slow idle heartbeats in a row that make the link `link-slow`.
    /// Default 1: between customers the kiosk probes the link every few
    /// seconds, and each slow sample costs `link-slow-ms` or more, so waiting
    /// for three would take the kiosk 10 s or more to see a slow link. One
    /// slow heartbeat (nothing else was waiting on the link) is evidence
    /// enough to warn the next customer; `link-fast-samples` fast answers
    /// clear it again.
    pub link_slow_probe_samples: u32,
    /// Fast answers in a row that clear `link-slow`. Default 3.
    pub link_fast_samples: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            missed_polls_offline: 3,
            failure_window_ms: 600_000,
            failure_rate_threshold: 0.5,
            failure_rate_clear: 0.25,
            failure_min_samples: 4,
            failure_samples_max: 256,
            link_slow_ms: 3_000,
            link_slow_samples: 3,
            link_slow_probe_samples: 1,
            link_fast_samples: 3,
        }
    }
}
