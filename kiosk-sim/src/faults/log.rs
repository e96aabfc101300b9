//! [`FaultLog`]: when each planned fault actually struck.
//!
//! A drill reports "fault → detected" in simulated time. For a timed fault
//! the start is in the configuration; for a fault on the n-th call or drawn
//! by probability only the device knows when it struck, so devices given a
//! log record every fault as it takes effect.

use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, MutexGuard};

use kiosk_core::Millis;

/// One fault taking effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFault {
    /// When it took effect (virtual ms).
    pub at: Millis,
    /// The device's name as given when the log was attached (`"acceptor"`).
    pub device: String,
    /// The fault, in its `Debug` form (`JamInStacker { fate: InCashBox, .. }`),
    /// or the end of a timed fault (`end of Offline {}`).
    pub fault: String,
}

/// Brings a device's lazily advanced state up to now.
type CatchUp = Box<dyn Fn() + Send + Sync>;

/// A shared, append-only record of injected faults (cloneable; clones share it).
///
/// Virtual devices advance lazily (whenever anyone looks at them), so
/// [`FaultLog::entries`] first brings every attached device up to the
/// current virtual time: the log is complete up to now.
#[derive(Clone, Default)]
pub struct FaultLog {
    entries: Arc<Mutex<Vec<InjectedFault>>>,
    devices: Arc<Mutex<Vec<CatchUp>>>,
}

impl fmt::Debug for FaultLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultLog")
            .field("entries", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl FaultLog {
    /// An empty log.
    pub fn new() -> FaultLog {
        FaultLog::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<InjectedFault>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Everything recorded up to now, in the order it was recorded.
    pub fn entries(&self) -> Vec<InjectedFault> {
        {
            let devices = self
                .devices
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for catch_up in devices.iter() {
                catch_up();
            }
        }
        self.lock().clone()
    }

    /// Registers a device to bring up to date before the log is read.
    pub(crate) fn attach(&self, catch_up: CatchUp) {
        self.devices
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(catch_up);
    }

    /// Records that `fault` took effect on `device` at `at`.
    pub fn record(&self, at: Millis, device: &str, fault: &dyn Debug) {
        self.lock().push(InjectedFault {
            at,
            device: device.to_string(),
            fault: format!("{fault:?}"),
        });
    }
}

/// A log and the name a device records under; a device without one records nothing.
#[derive(Clone, Default)]
pub(crate) struct LogSink {
    target: Option<(FaultLog, String)>,
}

impl LogSink {
    pub(crate) fn new(log: FaultLog, device: &str) -> LogSink {
        LogSink {
            target: Some((log, device.to_string())),
        }
    }

    pub(crate) fn record(&self, at: Millis, fault: &dyn Debug) {
        if let Some((log, device)) = &self.target {
            log.record(at, device, fault);
        }
    }
}
