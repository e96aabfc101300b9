//! The virtual bill acceptor, the customer's slot, and the cash unit they
//! form with the cash box.
//!
//! ```text
//! customer ─insert_note─► validating ─validate-ms─► Escrowed ─stack()─► stacking ─stack-ms─► Stacked (in the box)
//!                                    └─► Rejected / Fraud      └─return_note()─► Returned
//! ```
//!
//! Faults ([`AcceptorFault`]) replace a step with a jam, a cheat, a power
//! cycle, an outage or a pulled cash box. A power cut only says *when*:
//! where the note then ends up, and so what the device reports at power-up,
//! follows from where it was in its path (the table on [`AcceptorFault`]).
//! Only the explicit `misreport-*` faults make the device report something
//! other than where a note really is. Every event is queued;
//! [`next_event`](kiosk_hal::BillAcceptor::next_event) hands the head of the
//! queue over in the same step that returns it, so it is cancel safe, and
//! the host's next call (any call) acknowledges it, which takes it off the
//! queue: a kiosk that loses power in between gets the same report again at
//! its next start ([`HostPower`], the fault `kiosk-power-loss-before-ack`).
//! A waiting `next_event` sleeps until the device's next deadline or until
//! someone acts on it, never on a polling timer.

mod config;
mod machine;
mod path;

use core::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use kiosk_core::Millis;
use kiosk_hal::{AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, Money};
use tokio::sync::Notify;

pub use config::{
    AcceptorConfig, AcceptorFault, RETURN_OUT_PERCENT, STACK_POINT_OF_NO_RETURN_PERCENT,
};
pub(crate) use machine::AcceptorMachine;
pub(crate) use path::AfterCut;

use super::cashbox::{BoxState, CashBoxConfig, CashBoxHandle, VirtualCashBox};
use super::shared::Shared;
use crate::clock::SimClock;
use crate::faults::{ConfigError, FaultLog, LogSink};
use crate::rng::SimRng;

/// The virtual acceptor as the kiosk sees it ([`BillAcceptor`]).
///
/// Every call acknowledges the report the last `next_event` handed over
/// (it leaves the device's queue only then); a report the host took but
/// did not acknowledge before it lost power is handed again to the next
/// host (see [`HostPower`]).
pub struct VirtualAcceptor {
    unit: Shared<AcceptorMachine>,
    cut: Arc<PowerCut>,
}

/// A `kiosk-power-loss-before-ack` that struck, passed from the acceptor
/// to the drill apart from the device's state, so that the drill waiting
/// for it never wakes the kiosk's own wait on the device.
#[derive(Default)]
struct PowerCut {
    /// The outage's length, until the drill takes it.
    down_ms: std::sync::Mutex<Option<u64>>,
    struck: Notify,
}

impl PowerCut {
    fn strike(&self, down_ms: u64) {
        *self.down_ms.lock().unwrap_or_else(|p| p.into_inner()) = Some(down_ms);
        self.struck.notify_one();
    }

    fn take(&self) -> Option<u64> {
        self.down_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// The drill's side of the kiosk–acceptor connection: when the kiosk loses
/// power between taking a report and acknowledging it (the acceptor fault
/// `kiosk-power-loss-before-ack`), and telling the device that its host
/// lost power (so the report it handed over stays unacknowledged).
#[derive(Clone)]
pub struct HostPower {
    unit: Shared<AcceptorMachine>,
    cut: Arc<PowerCut>,
}

impl HostPower {
    /// Waits until a `kiosk-power-loss-before-ack` cuts the kiosk's power
    /// (the kiosk's next call to the acceptor after the report struck never
    /// reaches it) and returns how long the kiosk stays dark (ms). The
    /// caller must stop the kiosk at once and call [`HostPower::lost_power`].
    pub async fn power_loss(&self) -> u64 {
        loop {
            let struck = self.cut.struck.notified();
            if let Some(down_ms) = self.cut.take() {
                return down_ms;
            }
            struck.await;
        }
    }

    /// The kiosk lost power (for any reason): the report it was handed and
    /// did not acknowledge stays in the device, for the next kiosk.
    pub fn lost_power(&self) {
        self.unit.with(|m, _| m.host_lost_power())
    }
}

/// Why the slot would not take a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRefusal {
    /// A note is already being validated, held in escrow, moved, or jammed.
    Busy,
    /// The acceptor is off (offline): it does not draw the note in.
    Unpowered,
}

impl fmt::Display for SlotRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SlotRefusal::Busy => "the acceptor is busy with another note",
            SlotRefusal::Unpowered => "the acceptor is off",
        })
    }
}

impl std::error::Error for SlotRefusal {}

/// The note slot, as the simulated customer uses it (cloneable).
#[derive(Clone)]
pub struct CustomerSlot {
    unit: Shared<AcceptorMachine>,
}

impl CustomerSlot {
    /// Inserts one note; `genuine = false` for a counterfeit. The verdict
    /// comes as an acceptor event `validate-ms` later.
    pub fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.unit.with(|m, now| m.insert(now, value, genuine))
    }

    /// Every note handed back to the customer so far (rejected, returned
    /// from escrow, pulled back in a cheat, released from a jam as
    /// returned, or returned at a power-up), in order.
    pub fn returned_notes(&self) -> Vec<Money> {
        self.unit.with(|m, _| m.returned_to_customer().to_vec())
    }
}

/// An acceptor, the cash box behind it, and the handles a drill needs.
pub struct CashUnit {
    /// The acceptor, for the kiosk.
    pub acceptor: VirtualAcceptor,
    /// The cash box sensors, for the kiosk.
    pub cash_box: VirtualCashBox,
    /// The note slot, for the simulated customer.
    pub customer: CustomerSlot,
    /// The physical box, for staff and for the drill's money check.
    pub staff: CashBoxHandle,
    /// The kiosk's power as the acceptor's reports see it, for the drill.
    pub host: HostPower,
}

impl CashUnit {
    /// Builds the unit. `rng` should be the drill's generator forked for
    /// this device (`drill_rng.fork("acceptor")`).
    ///
    /// Fails if a fault has a trigger it cannot use (see [`AcceptorFault`]).
    pub fn new(
        acceptor: &AcceptorConfig,
        cash_box: &CashBoxConfig,
        clock: SimClock,
        rng: SimRng,
    ) -> Result<CashUnit, ConfigError> {
        let machine = AcceptorMachine::new(acceptor, BoxState::new(cash_box), rng)?;
        let unit = Shared::new(machine, clock);
        let cut = Arc::new(PowerCut::default());
        Ok(CashUnit {
            acceptor: VirtualAcceptor {
                unit: unit.clone(),
                cut: Arc::clone(&cut),
            },
            host: HostPower {
                unit: unit.clone(),
                cut,
            },
            cash_box: VirtualCashBox { unit: unit.clone() },
            customer: CustomerSlot { unit: unit.clone() },
            staff: CashBoxHandle { unit },
        })
    }

    /// Records every acceptor fault as it takes effect in `log`, under the
    /// name `device` (timed faults record their start and their end).
    pub fn with_fault_log(self, log: FaultLog, device: &str) -> CashUnit {
        let sink = LogSink::new(log.clone(), device);
        self.staff.unit.with(|m, _| m.set_log(sink));
        log.attach(self.staff.unit.catch_up());
        self
    }
}

impl VirtualAcceptor {
    /// The clock the device runs on.
    pub fn clock(&self) -> SimClock {
        *self.unit.clock()
    }

    /// Switches the device on with `left` in its path (a note a power cut
    /// left there before): the note is settled where it is and the device
    /// queues its first `PowerUp` report, as a real validator shows power-up
    /// at switch-on. Only the protocol emulators (ID-003, SSP) start this way; a drill's
    /// acceptor starts clean and silent.
    pub(crate) fn power_on(&self, left: AfterCut) {
        self.unit.with(|m, now| m.power_on(now, left))
    }

    #[cfg(test)]
    pub(crate) fn wakeups(&self) -> u64 {
        self.unit.wakeups()
    }

    /// A host call reaches the device and acknowledges the report last
    /// handed over, then `f` runs. When a `kiosk-power-loss-before-ack`
    /// struck that report the kiosk has just lost power instead: the drill
    /// is told and the call never returns (the drill drops the kiosk).
    async fn call<R: Send>(&self, f: impl FnOnce(&mut AcceptorMachine, Millis) -> R + Send) -> R {
        let done = self.unit.with(|m, now| m.host_call().map(|()| f(m, now)));
        match done {
            Ok(result) => result,
            Err(down_ms) => {
                self.cut.strike(down_ms);
                std::future::pending().await
            }
        }
    }
}

#[async_trait]
impl BillAcceptor for VirtualAcceptor {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        self.call(|m, _| m.enable(accepted)).await
    }

    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.call(|m, _| m.inhibit()).await
    }

    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        self.call(|_, _| ()).await;
        self.unit.wait_for(|m, now| m.pop_event(now)).await
    }

    async fn stack(&mut self) -> Result<(), DeviceError> {
        self.call(|m, now| m.stack(now)).await
    }

    async fn return_note(&mut self) -> Result<(), DeviceError> {
        self.call(|m, now| m.return_note(now)).await
    }

    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        self.call(|m, _| m.status()).await
    }

    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.call(|m, now| m.reset(now)).await
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_ACCEPTOR_MODEL,
        ))
    }
}

#[cfg(test)]
mod tests;
