//! The bill acceptor: validator plus escrow, in front of the cash box.
//!
//! # The note's life, and when money counts
//!
//! ```text
//! enable ─► Escrowed(v) ─► host: stack() ─► Stacked(v)      credit point
//!                      └─► host: return_note() ─► Returned   never credited
//!           Rejected(reason)                                 never credited
//!           Jammed { .. }    fate unknown: in-doubt until JamCleared
//! ```
//!
//! A note may be credited to the customer only after [`AcceptorEvent::Stacked`]
//! (ID-003 VEND VALID, SSP credit, ccTalk credit). Everything before that can
//! still end with the note back in the customer's hand. A jam, or a power loss
//! that leaves a note in the stacker path, makes the note's fate unknown: the
//! core journals it as in-doubt and settles it from the device's own later
//! report ([`AcceptorEvent::JamCleared`], [`AcceptorEvent::PowerUp`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{DeviceError, DeviceIdentity, Money};

/// Why the acceptor gave a note back without escrowing it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// Failed validation: counterfeit or unreadable (magnetic, optical, pattern checks).
    Counterfeit,
    /// A genuine note of a value the kiosk does not accept now.
    Inhibited,
    /// The note was inserted badly, too long or too short.
    Insertion,
    /// The transport failed to move the note.
    Transport,
    /// The host returned the note from escrow.
    HostReturned,
    /// The device gave a reason code that has no generic meaning.
    Other,
}

impl RejectReason {
    /// A short text for the customer's screen and reports.
    pub fn describe(&self) -> &'static str {
        match self {
            RejectReason::Counterfeit => "note could not be validated",
            RejectReason::Inhibited => "note value not accepted",
            RejectReason::Insertion => "note inserted incorrectly",
            RejectReason::Transport => "note could not be transported",
            RejectReason::HostReturned => "note returned",
            RejectReason::Other => "note rejected",
        }
    }
}

/// Where a note stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JamLocation {
    /// In the acceptor head or transport, before the stacker.
    Acceptor,
    /// In the stacker: the note may already be in the box.
    Stacker,
}

/// A cheat the device detected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FraudKind {
    /// A note pulled back on a string or tape ("fishing").
    StringOrFishing,
    /// An optical cheat (light injected to fake a note).
    Optical,
    /// Physical tampering with the device.
    Tamper,
    /// The device reported a cheat without saying which.
    Unspecified,
}

/// Where a jammed note ended up once the jam was cleared, by the device's own report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteFate {
    /// The note is in the cash box: it must be credited (once).
    InCashBox,
    /// The note went back to the front: not credited.
    Returned,
    /// The device cannot tell: stays in-doubt for staff to settle at clearing.
    Unknown,
}

/// What a device found in its path when it powered up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteAtPowerUp {
    /// Nothing: a clean start.
    None,
    /// A note was in the acceptor head; the device returns it.
    InAcceptor,
    /// A note was in the stacker: it reached the box, but the host may not
    /// have recorded the credit (ID-003 0x42). In-doubt until settled.
    InStacker,
}

/// Something that happened at the acceptor.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum AcceptorEvent {
    /// A validated note is held in escrow; the host must call
    /// [`BillAcceptor::stack`] or [`BillAcceptor::return_note`].
    Escrowed {
        /// The note's value.
        value: Money,
    },
    /// The note passed the credit point and is in the cash box. Credit it once.
    Stacked {
        /// The note's value.
        value: Money,
    },
    /// The escrowed note went back to the customer.
    Returned {
        /// The note's value.
        value: Money,
    },
    /// A note was refused before escrow and given back.
    Rejected {
        /// Why.
        reason: RejectReason,
    },
    /// A note stuck. Its fate is unknown until [`AcceptorEvent::JamCleared`].
    Jammed {
        /// Where it stuck.
        location: JamLocation,
        /// Its value, if the device had validated it.
        value: Option<Money>,
    },
    /// The jam was cleared and the device says where the note went.
    JamCleared {
        /// Where it went.
        fate: NoteFate,
    },
    /// The device detected a cheat; it should be inhibited at once.
    Fraud {
        /// What kind.
        kind: FraudKind,
    },
    /// The device (re)started.
    PowerUp {
        /// What it found in its path.
        note: NoteAtPowerUp,
    },
    /// The stacker is full: no more notes can go in.
    StackerFull,
    /// The stacker / cash box was removed or opened.
    StackerRemoved,
    /// The stacker / cash box is back.
    StackerReplaced,
    /// The device reported a hardware failure (motor, sensor, ROM).
    Failure,
}

/// A snapshot of the acceptor's condition, for health checks and self-tests.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AcceptorStatus {
    /// Idle and enabled: waiting for a note.
    Accepting,
    /// Inhibited: refuses notes.
    Inhibited,
    /// A note is held in escrow.
    Escrow,
    /// A note is stuck.
    Jammed,
    /// The stacker is full.
    StackerFull,
    /// The stacker is out or open.
    StackerRemoved,
    /// A hardware failure.
    Failure,
}

/// A bill acceptor (validator with escrow).
///
/// # Contract
///
/// - [`next_event`](BillAcceptor::next_event) is **cancel safe**: dropping its
///   future before it completes loses no event. The core waits on it inside
///   `select!` with timeouts.
/// - A note may be credited only on [`AcceptorEvent::Stacked`], and exactly
///   once per such event.
/// - `stack` and `return_note` only *request*; the outcome arrives as an event.
///   If a request fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)
///   or [`ErrorKind::Indeterminate`](crate::ErrorKind::Indeterminate), the
///   note's fate is unknown and the caller journals it as in-doubt.
/// - On power loss a device forgets nothing it has not yet reported: it
///   reports [`AcceptorEvent::PowerUp`] with what it found in its path.
/// - `enable` and `inhibit` are idempotent.
#[async_trait]
pub trait BillAcceptor: Send {
    /// Accepts notes of exactly these values; the device refuses any other.
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError>;

    /// Refuses every note from now on. A note already in escrow stays there
    /// until the host stacks or returns it.
    async fn inhibit(&mut self) -> Result<(), DeviceError>;

    /// Waits for the next event. Cancel safe.
    ///
    /// An error of kind [`Offline`](crate::ErrorKind::Offline) means the
    /// device stopped answering; the driver keeps trying to recover and
    /// later calls may succeed again.
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError>;

    /// Asks the device to move the escrowed note into the cash box.
    async fn stack(&mut self) -> Result<(), DeviceError>;

    /// Asks the device to give the escrowed note back.
    async fn return_note(&mut self) -> Result<(), DeviceError>;

    /// Reads the device's current condition.
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError>;

    /// Resets the device (recovery after a jam or a communication failure).
    async fn reset(&mut self) -> Result<(), DeviceError>;

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
impl<T: BillAcceptor + ?Sized> BillAcceptor for Box<T> {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        (**self).enable(accepted).await
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        (**self).inhibit().await
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        (**self).next_event().await
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        (**self).stack().await
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        (**self).return_note().await
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        (**self).status().await
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        (**self).reset().await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        (**self).identity().await
    }
}
