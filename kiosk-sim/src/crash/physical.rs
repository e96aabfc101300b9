//! The physical truth of the note path and the cash box, as one file.
//!
//! A note is always in exactly one place: the customer's hand, the
//! acceptor's escrow, the stacker transport, or the cash box. Escrow,
//! transport and box live in one [`Physical`] value saved whole (see
//! [`store`](super::store)), so every physical step — a note entering
//! escrow, leaving it for the transport, dropping into the box — is one
//! atomic save and a kill can never leave a note in two places or none.
//!
//! The device's reports that the host has not acknowledged live in the same
//! value and are queued in the same save as the step they describe:
//! **physics first**, the note is in the box in the very save that queues
//! its `Stacked` report, so a device can never say a note is somewhere it
//! is not. The transitions here are pure; [`FileAcceptor`](super::FileAcceptor)
//! does the saving and the waiting.

use std::collections::VecDeque;

use kiosk_hal::{AcceptorEvent, Currency, Money, NoteAtPowerUp, RejectReason};
use serde::{Deserialize, Serialize};

/// Where the acceptor's one note path holds a note, if it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "at")]
pub enum PathState {
    /// No note in the path.
    #[default]
    Idle,
    /// A validated note held in escrow: it can still go back to the customer.
    Escrow {
        /// Its value in CNY minor units.
        minor: i64,
    },
    /// The note left escrow and is in the stacker transport, on its way to
    /// the box (the motor runs).
    Stacking {
        /// Its value in CNY minor units.
        minor: i64,
    },
}

/// What a customer's note does at the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insertion {
    /// Validated and held in escrow.
    Escrowed,
    /// Refused at the slot: it never entered the path.
    Rejected(RejectReason),
    /// The path holds a note already: the slot is blocked, nothing happened.
    Busy,
}

/// The persisted state of the note path, the cash box and the device's
/// unacknowledged reports. See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Physical {
    /// The note path.
    pub path: PathState,
    /// The notes in the cash box, CNY minor units, in stacking order.
    pub cash_box: Vec<i64>,
    /// Reports the host has not acknowledged, oldest first. The device
    /// repeats the oldest until the host acknowledges it (by its next call).
    pub reports: VecDeque<AcceptorEvent>,
    /// Notes given back to customers (from escrow, or out of the transport
    /// at a power-up).
    pub returned_to_customers: u64,
    /// How many times the device powered up after a power cut.
    pub power_ups: u64,
}

/// A CNY amount from minor units.
pub fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

impl Physical {
    /// Number and value (CNY minor units) of the notes in the box.
    pub fn box_total(&self) -> (u32, i64) {
        (self.cash_box.len() as u32, self.cash_box.iter().sum())
    }

    /// A customer puts a note in the slot. `accepted` is what the host
    /// enabled (`None`: inhibited); a `counterfeit` note fails validation.
    pub fn insert(
        &mut self,
        value: Money,
        counterfeit: bool,
        accepted: Option<&[Money]>,
    ) -> Insertion {
        if self.path != PathState::Idle {
            return Insertion::Busy;
        }
        let reason = match accepted {
            None => Some(RejectReason::Inhibited),
            Some(_) if counterfeit => Some(RejectReason::Counterfeit),
            Some(values) if !values.contains(&value) || value.currency != Currency::CNY => {
                Some(RejectReason::Inhibited)
            }
            Some(_) => None,
        };
        match reason {
            Some(reason) => {
                self.reports.push_back(AcceptorEvent::Rejected { reason });
                Insertion::Rejected(reason)
            }
            None => {
                self.path = PathState::Escrow { minor: value.minor };
                self.reports.push_back(AcceptorEvent::Escrowed { value });
                Insertion::Escrowed
            }
        }
    }

    /// The host asked to stack: the escrowed note enters the transport.
    /// `None` if no note is in escrow (nothing moves).
    pub fn begin_stack(&mut self) -> Option<i64> {
        match self.path {
            PathState::Escrow { minor } => {
                self.path = PathState::Stacking { minor };
                Some(minor)
            }
            _ => None,
        }
    }

    /// The transport drops the note into the box, and the device queues
    /// its `Stacked` report in the same step. `None` if nothing was in the
    /// transport.
    pub fn finish_stack(&mut self) -> Option<i64> {
        match self.path {
            PathState::Stacking { minor } => {
                self.path = PathState::Idle;
                self.cash_box.push(minor);
                self.reports
                    .push_back(AcceptorEvent::Stacked { value: cny(minor) });
                Some(minor)
            }
            _ => None,
        }
    }

    /// The host asked to return the escrowed note: it goes back to the
    /// customer and the device queues `Returned`. `None` if no note is in
    /// escrow.
    pub fn return_note(&mut self) -> Option<i64> {
        match self.path {
            PathState::Escrow { minor } => {
                self.path = PathState::Idle;
                self.returned_to_customers += 1;
                self.reports
                    .push_back(AcceptorEvent::Returned { value: cny(minor) });
                Some(minor)
            }
            _ => None,
        }
    }

    /// The device powers up after a power cut. Its RAM (the report queue)
    /// is gone; what it reports comes from what is physically in its path
    /// and from its last unacknowledged report (kept in non-volatile
    /// memory, as ID-003 devices keep "note in stacker"):
    ///
    /// - a note in escrow is given back → `InAcceptor`;
    /// - a note in the transport is either driven on into the box
    ///   (`finish_stacking`) → `InStacker`, or back out to the customer →
    ///   `InAcceptor`;
    /// - an empty path whose last report about the path (`Stacked`,
    ///   `Returned`, or a power-up report) was never acknowledged →
    ///   `InStacker` / `InAcceptor` / what that power-up said: the host may
    ///   not have recorded where the note went;
    /// - otherwise → `None`.
    ///
    /// The physical step is taken in the same save as the `PowerUp` report.
    pub fn power_up(&mut self, finish_stacking: bool) -> NoteAtPowerUp {
        // The first unacknowledged report about the path (an unacknowledged
        // power-up report keeps its flag across another power cut).
        let unacked = self.reports.iter().find_map(|r| match r {
            AcceptorEvent::Stacked { .. } => Some(NoteAtPowerUp::InStacker),
            AcceptorEvent::Returned { .. } => Some(NoteAtPowerUp::InAcceptor),
            AcceptorEvent::PowerUp { note } => Some(*note),
            _ => None,
        });
        let note = match self.path {
            PathState::Escrow { .. } => {
                self.path = PathState::Idle;
                self.returned_to_customers += 1;
                NoteAtPowerUp::InAcceptor
            }
            PathState::Stacking { minor } if finish_stacking => {
                self.path = PathState::Idle;
                self.cash_box.push(minor);
                NoteAtPowerUp::InStacker
            }
            PathState::Stacking { .. } => {
                self.path = PathState::Idle;
                self.returned_to_customers += 1;
                NoteAtPowerUp::InAcceptor
            }
            PathState::Idle => unacked.unwrap_or(NoteAtPowerUp::None),
        };
        self.reports.clear();
        self.reports.push_back(AcceptorEvent::PowerUp { note });
        self.power_ups += 1;
        debug_assert_eq!(self.path, PathState::Idle, "a power-up empties the path");
        note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(v: i64) -> Money {
        Money::major(v, Currency::CNY)
    }

    fn accepted() -> Vec<Money> {
        vec![yuan(10), yuan(20), yuan(50), yuan(100)]
    }

    #[test]
    fn a_stacked_note_is_in_the_box_in_the_same_step_as_its_report() {
        let mut p = Physical::default();
        assert_eq!(
            p.insert(yuan(50), false, Some(&accepted())),
            Insertion::Escrowed
        );
        assert_eq!(
            p.insert(yuan(10), false, Some(&accepted())),
            Insertion::Busy
        );
        p.reports.clear();
        assert_eq!(p.begin_stack(), Some(5000));
        assert!(
            p.cash_box.is_empty(),
            "in the transport, not yet in the box"
        );
        assert_eq!(p.finish_stack(), Some(5000));
        assert_eq!(p.box_total(), (1, 5000));
        assert_eq!(
            p.reports.back(),
            Some(&AcceptorEvent::Stacked { value: yuan(50) })
        );
        assert_eq!(p.finish_stack(), None, "nothing is stacked twice");
    }

    #[test]
    fn refused_notes_never_enter_the_path() {
        let mut p = Physical::default();
        assert_eq!(
            p.insert(yuan(50), false, None),
            Insertion::Rejected(RejectReason::Inhibited)
        );
        assert_eq!(
            p.insert(yuan(5), false, Some(&accepted())),
            Insertion::Rejected(RejectReason::Inhibited)
        );
        assert_eq!(
            p.insert(yuan(50), true, Some(&accepted())),
            Insertion::Rejected(RejectReason::Counterfeit)
        );
        assert_eq!(p.path, PathState::Idle);
    }

    #[test]
    fn a_power_up_reports_what_is_physically_true() {
        let mut p = Physical::default();
        p.insert(yuan(20), false, Some(&accepted()));
        assert_eq!(p.power_up(true), NoteAtPowerUp::InAcceptor);
        assert_eq!((p.box_total(), p.returned_to_customers), ((0, 0), 1));

        p.insert(yuan(20), false, Some(&accepted()));
        p.begin_stack();
        assert_eq!(p.power_up(true), NoteAtPowerUp::InStacker);
        assert_eq!(p.box_total(), (1, 2000));

        p.insert(yuan(20), false, Some(&accepted()));
        p.begin_stack();
        assert_eq!(p.power_up(false), NoteAtPowerUp::InAcceptor);
        assert_eq!((p.box_total(), p.returned_to_customers), ((1, 2000), 2));

        p.reports.clear();
        p.insert(yuan(10), false, Some(&accepted()));
        p.reports.clear();
        p.begin_stack();
        p.finish_stack();
        assert_eq!(p.power_up(false), NoteAtPowerUp::InStacker, "unacked stack");
        assert_eq!(
            p.power_up(false),
            NoteAtPowerUp::InStacker,
            "an unacknowledged power-up report survives the next power cut"
        );
        assert_eq!(p.box_total(), (2, 3000));
        p.reports.clear();
        assert_eq!(p.power_up(false), NoteAtPowerUp::None);
        assert_eq!(
            p.reports,
            VecDeque::from([AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None
            }])
        );
    }
}
