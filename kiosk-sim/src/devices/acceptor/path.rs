//! Where the note is in the acceptor's path, and where a power cut leaves it.
//!
//! Kept apart from the machine so the physics of a power cut is one pure
//! function of the path and the instant: no fault setting can choose where
//! a note ends up (see the table on
//! [`AcceptorFault`](super::AcceptorFault)).

use kiosk_core::Millis;
use kiosk_hal::{JamLocation, Money, NoteAtPowerUp, NoteFate};

use super::config::{AcceptorFault, RETURN_OUT_PERCENT, STACK_POINT_OF_NO_RETURN_PERCENT};

/// How a stack request will end, decided when it is made.
#[derive(Debug, Clone, Copy)]
pub(super) enum StackEnd {
    /// The note reaches the box at the end of `stack-ms`.
    Stacked,
    /// The note jams at the end of `stack-ms`.
    Jam {
        location: JamLocation,
        fate: NoteFate,
        clear_after_ms: Option<u64>,
    },
    /// Power is cut at this instant, before the stacking ends.
    PowerCut { at: Millis },
}

/// Where the current note is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Path {
    Idle,
    Validating {
        value: Money,
        genuine: bool,
        number: u64,
        done_at: Millis,
    },
    Escrow {
        value: Money,
    },
    Stacking {
        value: Money,
        started_at: Millis,
        done_at: Millis,
        end: StackEnd,
        fault: Option<AcceptorFault>,
    },
    Returning {
        value: Money,
        started_at: Millis,
        done_at: Millis,
    },
}

/// Where a note is once power comes back after a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCut {
    /// There was no note in the path.
    Empty,
    /// Still in the acceptor: the device senses it and gives it back to
    /// the customer at power-up.
    InAcceptor(Money),
    /// Already out of the device, in the customer's hand: nothing to sense.
    AtCustomer(Money),
    /// Past the stacker gate: in the cash box.
    InBox(Money),
}

impl AfterCut {
    /// What the device's sensors find at power-up: the honest report.
    pub(crate) fn sensed(self) -> NoteAtPowerUp {
        match self {
            AfterCut::Empty | AfterCut::AtCustomer(_) => NoteAtPowerUp::None,
            AfterCut::InAcceptor(_) => NoteAtPowerUp::InAcceptor,
            AfterCut::InBox(_) => NoteAtPowerUp::InStacker,
        }
    }
}

/// Whether a movement from `started` that takes `takes_ms` has covered at
/// least `percent` of its way at `at`. A movement that takes no time is
/// over at once.
fn covered(started: Millis, at: Millis, takes_ms: u64, percent: u64) -> bool {
    let elapsed = u128::from(at.0.saturating_sub(started.0));
    elapsed * 100 >= u128::from(takes_ms) * u128::from(percent)
}

impl Path {
    /// When the path next changes by itself.
    pub(super) fn deadline(&self) -> Option<Millis> {
        match self {
            Path::Stacking {
                end: StackEnd::PowerCut { at },
                ..
            } => Some(*at),
            Path::Validating { done_at, .. }
            | Path::Stacking { done_at, .. }
            | Path::Returning { done_at, .. } => Some(*done_at),
            Path::Idle | Path::Escrow { .. } => None,
        }
    }

    /// Where the note ends up if power is cut at `at`: only where it is in
    /// its path, and how far it has moved, decide.
    pub(super) fn after_power_cut(&self, at: Millis) -> AfterCut {
        match *self {
            Path::Idle => AfterCut::Empty,
            // Being drawn in and read, or held in escrow: inside the head.
            Path::Validating { value, .. } | Path::Escrow { value } => AfterCut::InAcceptor(value),
            Path::Stacking {
                value,
                started_at,
                done_at,
                ..
            } => {
                let takes_ms = done_at.0.saturating_sub(started_at.0);
                if covered(started_at, at, takes_ms, STACK_POINT_OF_NO_RETURN_PERCENT) {
                    AfterCut::InBox(value)
                } else {
                    AfterCut::InAcceptor(value)
                }
            }
            Path::Returning {
                value,
                started_at,
                done_at,
            } => {
                let takes_ms = done_at.0.saturating_sub(started_at.0);
                if covered(started_at, at, takes_ms, RETURN_OUT_PERCENT) {
                    AfterCut::AtCustomer(value)
                } else {
                    AfterCut::InAcceptor(value)
                }
            }
        }
    }
}

/// The instant `percent` of the way into a stacking that starts at
/// `started` and takes `stack_ms` (rounded up, so a cut at 50 % is never
/// before the point of no return at 50 %).
pub(super) fn into_stacking(started: Millis, stack_ms: u64, percent: u8) -> Millis {
    let ms = (u128::from(stack_ms) * u128::from(percent)).div_ceil(100);
    started.plus_ms(u64::try_from(ms).unwrap_or(u64::MAX))
}
