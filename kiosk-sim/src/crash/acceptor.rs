//! The file-backed bill acceptor and cash box: devices whose physical state
//! survives the kiosk process being killed.
//!
//! Every physical step is saved (fsynced) before the device reports it:
//! the note is in the box before the device can say `Stacked`. Reports are
//! kept until the host acknowledges them, which it does by its next call to
//! the device (as an ID-003 host acknowledges by its next poll): a report
//! delivered to a process that died before acting on it is delivered again
//! to the next one, unless the power was cut too, in which case the device
//! reports [`PowerUp`](kiosk_hal::AcceptorEvent::PowerUp) with what it
//! found (see [`Physical::power_up`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, CashBoxStatus, CashContents, DeviceError,
    ErrorKind, FillLevel, Money, NoteAtPowerUp,
};
use tokio::sync::Notify;

use super::physical::{cny, Insertion, PathState, Physical};
use super::store;

/// The file, under the run directory, that holds the [`Physical`] state.
pub const PHYSICAL_FILE: &str = "physical.json";

struct Inner {
    phys: Physical,
    file: PathBuf,
    /// The oldest report was handed to the host; its next call acknowledges it.
    delivered_head: bool,
    /// The values the host enabled; `None` while inhibited. Device RAM: a
    /// new process finds the device as the last one left it only if the
    /// power stayed on, and a power-up comes up inhibited.
    accepted: Option<Vec<Money>>,
}

impl Inner {
    /// Takes one physical step: applied to a copy, saved, and only then
    /// made the device's state. A step that cannot be saved did not happen.
    fn step<T>(&mut self, f: impl FnOnce(&mut Physical) -> T) -> Result<T, DeviceError> {
        let mut next = self.phys.clone();
        let out = f(&mut next);
        if next != self.phys {
            store::save(&self.file, &next)
                .map_err(|e| DeviceError::new(ErrorKind::Hardware, e.to_string()))?;
            self.phys = next;
        }
        Ok(out)
    }

    /// The host's call acknowledges the report it was last handed.
    fn acknowledge(&mut self) -> Result<(), DeviceError> {
        if std::mem::take(&mut self.delivered_head) {
            self.step(|p| {
                p.reports.pop_front();
            })?;
        }
        Ok(())
    }
}

/// The physical acceptor and box, shared by the kiosk's driver side
/// ([`FileAcceptor`], [`FileCashBox`]) and the customer's side ([`NoteSlot`]).
#[derive(Clone)]
pub struct PhysicalDevice {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
    transport_ms: u64,
}

impl PhysicalDevice {
    /// Opens the device state in `dir` (a new, empty device if there is
    /// none). After a `power_cut` the device powers up ([`Physical::power_up`],
    /// a note in the transport going on into the box if `finish_stacking`)
    /// and returns what it reports; otherwise it carries on where the last
    /// process left it: a note in the transport still reaches the box, and
    /// unacknowledged reports are delivered again. Must run inside a tokio
    /// runtime (the stacker motor is a task).
    pub fn open(
        dir: &Path,
        power_cut: bool,
        finish_stacking: bool,
        transport_ms: u64,
    ) -> Result<(PhysicalDevice, Option<NoteAtPowerUp>), store::StoreError> {
        let file = dir.join(PHYSICAL_FILE);
        let phys: Physical = store::load(&file)?.unwrap_or_default();
        let mut inner = Inner {
            phys,
            file,
            delivered_head: false,
            accepted: None,
        };
        let mut powered_up = None;
        if power_cut {
            let mut next = inner.phys.clone();
            powered_up = Some(next.power_up(finish_stacking));
            store::save(&inner.file, &next)?;
            inner.phys = next;
        }
        let stacking = matches!(inner.phys.path, PathState::Stacking { .. });
        let device = PhysicalDevice {
            inner: Arc::new(Mutex::new(inner)),
            notify: Arc::new(Notify::new()),
            transport_ms,
        };
        if stacking {
            device.run_motor();
        }
        Ok((device, powered_up))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the physical state now.
    pub fn snapshot(&self) -> Physical {
        self.lock().phys.clone()
    }

    /// The stacker motor: after the transport time the note drops into the
    /// box and `Stacked` is queued, in one save.
    fn run_motor(&self) {
        let device = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(device.transport_ms)).await;
            let stacked = device.lock().step(Physical::finish_stack);
            match stacked {
                Ok(_) => device.notify.notify_one(),
                Err(e) => tracing::error!(error = %e, "stacker could not save its step"),
            }
        });
    }

    /// The kiosk's side of the device.
    pub fn acceptor(&self) -> FileAcceptor {
        FileAcceptor {
            device: self.clone(),
        }
    }

    /// The cash box behind the acceptor.
    pub fn cash_box(&self) -> FileCashBox {
        FileCashBox {
            device: self.clone(),
        }
    }

    /// The customer's side: the note slot.
    pub fn slot(&self) -> NoteSlot {
        NoteSlot {
            device: self.clone(),
        }
    }
}

/// The customer's side of the acceptor.
#[derive(Clone)]
pub struct NoteSlot {
    device: PhysicalDevice,
}

impl NoteSlot {
    /// Puts a note in the slot (see [`Physical::insert`]).
    pub fn insert(&self, value: Money, counterfeit: bool) -> Result<Insertion, DeviceError> {
        let out = {
            let mut inner = self.device.lock();
            let accepted = inner.accepted.clone();
            inner.step(|p| p.insert(value, counterfeit, accepted.as_deref()))?
        };
        if out != Insertion::Busy {
            self.device.notify.notify_one();
        }
        Ok(out)
    }
}

/// The kiosk's driver for the file-backed acceptor.
pub struct FileAcceptor {
    device: PhysicalDevice,
}

fn invalid(message: &str) -> DeviceError {
    DeviceError::new(ErrorKind::InvalidState, message)
}

#[async_trait]
impl BillAcceptor for FileAcceptor {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        let mut inner = self.device.lock();
        inner.acknowledge()?;
        inner.accepted = Some(accepted.to_vec());
        Ok(())
    }

    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        let mut inner = self.device.lock();
        inner.acknowledge()?;
        inner.accepted = None;
        Ok(())
    }

    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        self.device.lock().acknowledge()?;
        loop {
            {
                let mut inner = self.device.lock();
                if let Some(report) = inner.phys.reports.front().copied() {
                    // Handed over in the same poll that returns it: cancel safe.
                    inner.delivered_head = true;
                    return Ok(report);
                }
            }
            self.device.notify.notified().await;
        }
    }

    async fn stack(&mut self) -> Result<(), DeviceError> {
        {
            let mut inner = self.device.lock();
            inner.acknowledge()?;
            if inner.step(Physical::begin_stack)?.is_none() {
                return Err(invalid("no note in escrow to stack"));
            }
        }
        self.device.run_motor();
        Ok(())
    }

    async fn return_note(&mut self) -> Result<(), DeviceError> {
        let returned = {
            let mut inner = self.device.lock();
            inner.acknowledge()?;
            inner.step(Physical::return_note)?
        };
        match returned {
            Some(_) => {
                self.device.notify.notify_one();
                Ok(())
            }
            None => Err(invalid("no note in escrow to return")),
        }
    }

    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        let mut inner = self.device.lock();
        inner.acknowledge()?;
        Ok(match inner.phys.path {
            // A note in the transport is still in the path: the device is
            // not idle until it has reported where the note went.
            PathState::Escrow { .. } | PathState::Stacking { .. } => AcceptorStatus::Escrow,
            PathState::Idle if inner.accepted.is_some() => AcceptorStatus::Accepting,
            PathState::Idle => AcceptorStatus::Inhibited,
        })
    }

    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.device.lock().acknowledge()
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_ACCEPTOR_MODEL,
        ))
    }
}

/// The cash box: counts what [`Physical::cash_box`] holds.
pub struct FileCashBox {
    device: PhysicalDevice,
}

#[async_trait]
impl CashBox for FileCashBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let (notes, minor) = self.device.lock().phys.box_total();
        Ok(CashBoxStatus {
            present: true,
            level: FillLevel::Normal,
            contents: Some(CashContents {
                notes,
                value: cny(minor),
            }),
        })
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_CASH_BOX_MODEL,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::Currency;

    fn yuan(v: i64) -> Money {
        Money::major(v, Currency::CNY)
    }

    /// A report handed to a host that dies before its next call is handed
    /// to the next process again; after a power cut the device says where
    /// the note is instead.
    #[tokio::test]
    async fn an_unacknowledged_report_survives_the_host_and_a_power_cut_reports_the_truth() {
        let dir = tempfile::tempdir().unwrap();
        let (device, none) = PhysicalDevice::open(dir.path(), false, false, 5).unwrap();
        assert_eq!(none, None);
        let mut acceptor = device.acceptor();
        acceptor.enable(&[yuan(50)]).await.unwrap();
        assert_eq!(
            device.slot().insert(yuan(50), false).unwrap(),
            Insertion::Escrowed
        );
        assert_eq!(
            acceptor.next_event().await.unwrap(),
            AcceptorEvent::Escrowed { value: yuan(50) }
        );
        acceptor.stack().await.unwrap();
        assert_eq!(
            acceptor.next_event().await.unwrap(),
            AcceptorEvent::Stacked { value: yuan(50) }
        );
        assert_eq!(device.snapshot().box_total(), (1, 5000));
        drop((acceptor, device));

        // The host died before its next call: the report comes again.
        let (device, _) = PhysicalDevice::open(dir.path(), false, false, 5).unwrap();
        let mut acceptor = device.acceptor();
        assert_eq!(
            acceptor.next_event().await.unwrap(),
            AcceptorEvent::Stacked { value: yuan(50) }
        );
        drop((acceptor, device));

        // A power cut: the device says the note is in the stacker.
        let (device, report) = PhysicalDevice::open(dir.path(), true, false, 5).unwrap();
        assert_eq!(report, Some(NoteAtPowerUp::InStacker));
        let mut acceptor = device.acceptor();
        assert_eq!(
            acceptor.next_event().await.unwrap(),
            AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::InStacker
            }
        );
        assert_eq!(acceptor.status().await.unwrap(), AcceptorStatus::Inhibited);
        assert_eq!(device.snapshot().box_total(), (1, 5000), "still one note");
        assert!(device.snapshot().reports.is_empty(), "acknowledged");
    }

    /// A note left in the transport by a dead host still reaches the box.
    #[tokio::test]
    async fn the_stacker_finishes_a_note_after_the_host_died() {
        let dir = tempfile::tempdir().unwrap();
        let p = Physical {
            path: PathState::Stacking { minor: 2000 },
            ..Physical::default()
        };
        store::save(&dir.path().join(PHYSICAL_FILE), &p).unwrap();
        let (device, _) = PhysicalDevice::open(dir.path(), false, false, 5).unwrap();
        let mut acceptor = device.acceptor();
        assert_eq!(acceptor.status().await.unwrap(), AcceptorStatus::Escrow);
        assert_eq!(
            acceptor.next_event().await.unwrap(),
            AcceptorEvent::Stacked { value: yuan(20) }
        );
        assert_eq!(device.snapshot().box_total(), (1, 2000));
    }
}
