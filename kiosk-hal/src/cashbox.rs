//! The cash box (stacker) behind the bill acceptor.
//!
//! The box is the physical truth the books are checked against at clearing:
//! value of notes in the box = credited + pending + in-doubt in the journal.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{DeviceError, DeviceIdentity, Money};

/// How full the box is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FillLevel {
    /// Room for more notes.
    Normal,
    /// Close to capacity: schedule a clearing, still accepting.
    NearFull,
    /// At capacity: no more notes may be stacked.
    Full,
}

/// What the box holds, for boxes (and simulators) that can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CashContents {
    /// Number of notes.
    pub notes: u32,
    /// Their total value.
    pub value: Money,
}

/// A snapshot of the cash box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CashBoxStatus {
    /// Whether the box is in place (door/presence switch).
    pub present: bool,
    /// How full it is.
    pub level: FillLevel,
    /// Its contents, if the hardware can count them; `None` for a plain box
    /// whose count lives in the journal.
    pub contents: Option<CashContents>,
}

/// A cash box with presence and fill sensing.
///
/// # Contract
///
/// - `status` has no side effects and may be called at any time.
/// - A box that is not present reports `present: false`, not an error; an
///   error means the sensor itself cannot be read.
#[async_trait]
pub trait CashBox: Send {
    /// Reads presence, fill level and (if countable) contents.
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError>;

    /// What the device says about itself (model, firmware, serial number),
    /// as cached by the driver after set-up: reading it does not talk to
    /// the device. The default says nothing, so implementations written
    /// before this method keep compiling; drivers whose protocol offers an
    /// identity override it.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(DeviceIdentity::unknown())
    }
}

#[async_trait]
impl<T: CashBox + ?Sized> CashBox for Box<T> {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        (**self).status().await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        (**self).identity().await
    }
}
