//! The physical cash box behind the virtual acceptor: the ground truth a
//! drill checks the journal against.
//!
//! The box's state lives with the acceptor's (a note enters the box at the
//! instant the acceptor stacks it); [`VirtualCashBox`] is the kiosk's view
//! through its presence and fill sensors, [`CashBoxHandle`] the drill's and
//! the staff's hands on the real thing.

use kiosk_hal::{CashBox, CashBoxStatus, CashContents, Currency, DeviceError, FillLevel, Money};
use serde::{Deserialize, Serialize};

use super::acceptor::AcceptorMachine;
use super::shared::Shared;

/// Size and starting contents of the cash box.
///
/// ```toml
/// [cash-box]
/// currency = "CNY"
/// capacity-notes = 1000
/// near-full-notes = 900
/// countable = true
/// initial-notes = [{ minor = 10000, currency = "CNY" }]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CashBoxConfig {
    /// Currency of the box's value (for an empty box). Default `CNY`.
    pub currency: Currency,
    /// How many notes fit; at this count the box is `Full` and stacking is
    /// refused. Default 1000.
    pub capacity_notes: u32,
    /// From this count the box reports `NearFull`. Default 900.
    pub near_full_notes: u32,
    /// Whether the box's sensor reports its contents (`CashBoxStatus::contents`).
    /// Default true.
    pub countable: bool,
    /// Notes already in the box when the drill starts. Default none.
    pub initial_notes: Vec<Money>,
}

impl Default for CashBoxConfig {
    fn default() -> Self {
        CashBoxConfig {
            currency: Currency::CNY,
            capacity_notes: 1000,
            near_full_notes: 900,
            countable: true,
            initial_notes: Vec::new(),
        }
    }
}

/// The physical box: notes inside, capacity, presence.
#[derive(Debug, Clone)]
pub(crate) struct BoxState {
    notes: Vec<Money>,
    capacity_notes: u32,
    near_full_notes: u32,
    countable: bool,
    currency: Currency,
    present: bool,
}

impl BoxState {
    pub(crate) fn new(config: &CashBoxConfig) -> BoxState {
        BoxState {
            notes: config.initial_notes.clone(),
            capacity_notes: config.capacity_notes,
            near_full_notes: config.near_full_notes,
            countable: config.countable,
            currency: config.currency,
            present: true,
        }
    }

    pub(crate) fn push(&mut self, note: Money) {
        self.notes.push(note);
    }

    pub(crate) fn present(&self) -> bool {
        self.present
    }

    pub(crate) fn set_present(&mut self, present: bool) {
        self.present = present;
    }

    pub(crate) fn level(&self) -> FillLevel {
        let count = u32::try_from(self.notes.len()).unwrap_or(u32::MAX);
        if count >= self.capacity_notes {
            FillLevel::Full
        } else if count >= self.near_full_notes {
            FillLevel::NearFull
        } else {
            FillLevel::Normal
        }
    }

    pub(crate) fn contents(&self) -> CashContents {
        CashContents {
            notes: u32::try_from(self.notes.len()).unwrap_or(u32::MAX),
            value: Money::new(self.notes.iter().map(|n| n.minor).sum(), self.currency),
        }
    }

    pub(crate) fn notes(&self) -> &[Money] {
        &self.notes
    }

    pub(crate) fn take_all(&mut self) -> Vec<Money> {
        std::mem::take(&mut self.notes)
    }

    fn status(&self) -> CashBoxStatus {
        CashBoxStatus {
            present: self.present,
            level: self.level(),
            contents: self.countable.then(|| self.contents()),
        }
    }
}

/// The kiosk's view of the cash box: presence and fill sensors.
///
/// Made by [`CashUnit::new`](super::CashUnit::new) together with the acceptor it sits behind.
pub struct VirtualCashBox {
    pub(crate) unit: Shared<AcceptorMachine>,
}

#[async_trait::async_trait]
impl CashBox for VirtualCashBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        Ok(self.unit.with(|m, _| m.cash().status()))
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_CASH_BOX_MODEL,
        ))
    }
}

/// The drill's and the staff's hands on the physical box (cloneable).
#[derive(Clone)]
pub struct CashBoxHandle {
    pub(crate) unit: Shared<AcceptorMachine>,
}

impl CashBoxHandle {
    /// What is physically in the box now: the ground truth for the money invariant.
    pub fn physical_contents(&self) -> CashContents {
        self.unit.with(|m, _| m.cash().contents())
    }

    /// Every note physically in the box, in the order it arrived.
    pub fn notes(&self) -> Vec<Money> {
        self.unit.with(|m, _| m.cash().notes().to_vec())
    }

    /// Whether the box is in place.
    pub fn is_present(&self) -> bool {
        self.unit.with(|m, _| m.cash().present())
    }

    /// Takes the box out (clearing) and empties it: returns the notes that
    /// were inside. The acceptor reports `StackerRemoved` if the box was in place.
    pub fn remove_box(&self) -> Vec<Money> {
        self.unit.with(|m, _| m.remove_box())
    }

    /// Puts the (now empty, or never emptied) box back: the acceptor
    /// reports `StackerReplaced` if it was out.
    pub fn insert_box(&self) {
        self.unit.with(|m, _| m.insert_box())
    }

    /// Notes staff took out of the device while clearing a jam whose fate
    /// the device could not tell (`fate = unknown`).
    pub fn notes_retrieved_from_jams(&self) -> Vec<Money> {
        self.unit.with(|m, _| m.retrieved_by_staff().to_vec())
    }
}
