//! The health monitor: device answers and transaction outcomes in, health
//! changes out.

use std::collections::BTreeMap;

use kiosk_hal::ErrorKind;

use super::failures::FailureWindow;
use super::latency::LinkLatency;
use super::{HealthChange, HealthPolicy, Outcome};
use crate::events::DeviceKind;
use crate::ids::Millis;

/// The fault kind of a device that stopped giving usable answers.
pub const OFFLINE_KIND: &str = "offline";

/// One device's condition.
#[derive(Debug, Clone, Default)]
struct DeviceHealth {
    /// Polls in a row without a usable answer.
    missed: u32,
    /// The fault kind it is degraded with, if it is.
    degraded: Option<String>,
}

/// Watches devices, the link and transactions. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct HealthMonitor {
    policy: HealthPolicy,
    devices: BTreeMap<DeviceKind, DeviceHealth>,
    link: LinkLatency,
    failures: FailureWindow,
}

impl HealthMonitor {
    /// A monitor that has seen nothing yet: every device counts as healthy.
    pub fn new(policy: HealthPolicy) -> HealthMonitor {
        HealthMonitor {
            policy,
            devices: BTreeMap::new(),
            link: LinkLatency::default(),
            failures: FailureWindow::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &HealthPolicy {
        &self.policy
    }

    /// Records the outcome of one call to `device` (a status poll, a
    /// self-check, a link request).
    ///
    /// - `Ok`: the device answers; a degraded device has recovered.
    /// - `Err` of kind `Offline`, `Timeout`, `Indeterminate` or `Protocol`:
    ///   no usable answer, one missed poll; `missed_polls_offline` in a row
    ///   degrade it as [`OFFLINE_KIND`].
    /// - `Err` of any other kind: the device answered with a condition (jam,
    ///   paper out, full): degraded at once with that kind's name.
    ///
    /// For [`DeviceKind::Link`], every answer (not the missed ones) also
    /// feeds the `link-slow` detection.
    pub fn record(
        &mut self,
        device: DeviceKind,
        outcome: Outcome,
        now: Millis,
    ) -> Vec<HealthChange> {
        let _ = now; // Device health depends on order, not on time.
        let mut out = Vec::new();
        let state = self.devices.entry(device).or_default();
        let answered_ms = match outcome {
            Outcome::Ok { latency_ms } => {
                state.missed = 0;
                if state.degraded.take().is_some() {
                    out.push(HealthChange::Recovered { device });
                }
                Some(latency_ms)
            }
            Outcome::Err { kind, .. } if is_missed(kind) => {
                state.missed = state.missed.saturating_add(1);
                let offline = state.degraded.as_deref() == Some(OFFLINE_KIND);
                if !offline && state.missed >= self.policy.missed_polls_offline.max(1) {
                    state.degraded = Some(OFFLINE_KIND.to_string());
                    out.push(HealthChange::Degraded {
                        device,
                        kind: OFFLINE_KIND.to_string(),
                        symptom: format!(
                            "no usable answer to {} polls in a row (last: {kind})",
                            state.missed
                        ),
                    });
                }
                None
            }
            Outcome::Err { kind, latency_ms } => {
                state.missed = 0;
                if state.degraded.as_deref() != Some(kind.as_str()) {
                    state.degraded = Some(kind.as_str().to_string());
                    out.push(HealthChange::Degraded {
                        device,
                        kind: kind.as_str().to_string(),
                        symptom: format!("device reports {kind}"),
                    });
                }
                Some(latency_ms)
            }
        };
        if let (DeviceKind::Link, Some(ms)) = (device, answered_ms) {
            let needed = self.policy.link_slow_samples;
            out.extend(self.link.answer(ms, needed, &self.policy));
        }
        out
    }

    /// Records an idle heartbeat's answer time: like a link answer to
    /// [`HealthMonitor::record`], but `link-slow` needs only
    /// `link_slow_probe_samples` slow heartbeats in a row.
    pub fn record_probe(&mut self, latency_ms: u64) -> Vec<HealthChange> {
        let needed = self.policy.link_slow_probe_samples;
        self.link
            .answer(latency_ms, needed, &self.policy)
            .into_iter()
            .collect()
    }

    /// Records a transaction's end: `ok` for credited, not ok for refused,
    /// aborted or left pending, with `detail` saying which (it makes the
    /// failure pattern). Raises or clears `frequent-failures`.
    pub fn record_transaction(&mut self, ok: bool, detail: &str, now: Millis) -> Vec<HealthChange> {
        self.failures
            .push(ok, detail, now, &self.policy)
            .into_iter()
            .collect()
    }

    /// Lets transactions older than the window go and re-evaluates the
    /// failure rate (it can clear, or rise as old successes leave).
    pub fn poll(&mut self, now: Millis) -> Vec<HealthChange> {
        self.failures
            .evaluate(now, &self.policy)
            .into_iter()
            .collect()
    }

    /// When [`HealthMonitor::poll`] next may change something: when the
    /// oldest transaction leaves the window. `None`: nothing to wait for.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.failures.next_expiry(&self.policy)
    }

    /// The fault kind `device` is degraded with, if it is.
    pub fn degraded(&self, device: DeviceKind) -> Option<&str> {
        self.devices.get(&device)?.degraded.as_deref()
    }
}

/// Whether an error means the call got no usable answer.
fn is_missed(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Offline | ErrorKind::Timeout | ErrorKind::Indeterminate | ErrorKind::Protocol
    )
}
