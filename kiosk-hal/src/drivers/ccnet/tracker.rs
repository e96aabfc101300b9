//! Turns the stream of polled CCNET states into acceptor events, once each.
//!
//! A state repeats on every poll until the device moves on (and a "bill
//! stacked" repeats until the host's ACK gets through), so every event
//! fires on a *transition*, and the credit is guarded per note.

use crate::wire::ccnet::{BillTable, PollState};
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, Currency, FillLevel, FraudKind, JamLocation,
    Money, NoteFate, RejectReason,
};

/// The note the device is handling.
#[derive(Debug, Clone, Default)]
struct Note {
    value: Option<Money>,
    /// `Escrowed` was reported to the kiosk.
    reported: bool,
    /// The host returns it itself (value not accepted, or unknown type).
    filtered: Option<RejectReason>,
    stacking: bool,
    returning: bool,
    credited: bool,
    /// Its fate was already reported (through a jam's clearing).
    settled: bool,
}

/// A lasting device condition, reported when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Normal,
    Rejecting,
    CassetteFull,
    CassetteOut,
    Cheated,
    Failure,
}

/// What one state did.
#[derive(Debug, Default)]
pub(super) struct StateStep {
    /// Events, in order.
    pub events: Vec<AcceptorEvent>,
    /// The host must return the escrowed note itself.
    pub return_note: bool,
}

#[derive(Debug, Clone)]
pub(super) struct NoteTracker {
    accepted: Vec<Money>,
    note: Option<Note>,
    jam: Option<JamLocation>,
    condition: Condition,
}

impl Default for NoteTracker {
    fn default() -> Self {
        NoteTracker {
            accepted: Vec::new(),
            note: None,
            jam: None,
            condition: Condition::Normal,
        }
    }
}

impl NoteTracker {
    pub(super) fn set_accepted(&mut self, values: Vec<Money>) {
        self.accepted = values;
    }

    /// A note reported as escrowed and not yet sent anywhere.
    pub(super) fn in_escrow(&self) -> bool {
        self.note
            .as_ref()
            .is_some_and(|n| n.reported && !n.credited && !n.settled && !n.returning && !n.stacking)
    }

    /// The device was reset or restarted: it settled the note itself.
    pub(super) fn forget_note(&mut self) {
        self.note = None;
    }

    pub(super) fn stack_requested(&mut self) {
        if let Some(n) = self.note.as_mut() {
            n.stacking = true;
        }
    }

    pub(super) fn return_requested(&mut self) {
        if let Some(n) = self.note.as_mut() {
            n.returning = true;
        }
    }

    /// "Bill stacked": the credit point. Empty if this note was already credited.
    pub(super) fn credit(&mut self, value: Option<Money>) -> Vec<AcceptorEvent> {
        let note = self.note.get_or_insert_with(Note::default);
        if note.credited || note.settled {
            return Vec::new();
        }
        note.credited = true;
        let value = note.value.or(value);
        match value {
            Some(value) if note.reported => vec![AcceptorEvent::Stacked { value }],
            // A note whose escrow the kiosk never took (the driver restarted
            // in between, or it was being returned): money in the box the
            // kiosk did not offer to take. The jam path settles it in doubt
            // as "in the box", with its value where the device told it.
            _ => vec![
                AcceptorEvent::Jammed {
                    location: JamLocation::Stacker,
                    value,
                },
                AcceptorEvent::JamCleared {
                    fate: NoteFate::InCashBox,
                },
            ],
        }
    }

    pub(super) fn on_state(
        &mut self,
        state: &PollState,
        table: Option<&BillTable>,
        currency: Currency,
    ) -> StateStep {
        let mut step = StateStep::default();
        let value_of = |t: u8| table.and_then(|tb| tb.value(t, currency));
        self.update_jam(state, &mut step.events);
        self.update_condition(state, &mut step.events);
        match *state {
            PollState::Idling
            | PollState::UnitDisabled
            | PollState::Initialize
            | PollState::Accepting => self.settle_at_rest(&mut step.events),
            PollState::EscrowPosition(t) => {
                step.return_note = self.on_escrow(value_of(t), &mut step.events)
            }
            PollState::Stacking => self.note.get_or_insert_with(Note::default).stacking = true,
            PollState::BillStacked(t) => step.events.extend(self.credit(value_of(t))),
            PollState::Returning => {
                if let Some(n) = self.note.as_mut() {
                    n.returning = true;
                }
            }
            PollState::BillReturned(_) => {
                if let Some(n) = self.note.as_mut() {
                    n.returning = true;
                }
                self.settle_at_rest(&mut step.events);
            }
            // Refused before escrow, or pulled back: never in the box.
            PollState::Rejecting(_) | PollState::Cheated
                if self.note.as_ref().is_some_and(|n| !n.reported) =>
            {
                self.note = None;
            }
            _ => {}
        }
        step
    }

    pub(super) fn status(&self, device_enabled: bool) -> AcceptorStatus {
        if self.jam.is_some() {
            return AcceptorStatus::Jammed;
        }
        match self.condition {
            Condition::CassetteOut => return AcceptorStatus::StackerRemoved,
            Condition::CassetteFull => return AcceptorStatus::StackerFull,
            Condition::Failure => return AcceptorStatus::Failure,
            _ => {}
        }
        let holding = self
            .note
            .as_ref()
            .is_some_and(|n| n.reported && !n.credited && !n.settled);
        if holding {
            AcceptorStatus::Escrow
        } else if device_enabled {
            AcceptorStatus::Accepting
        } else {
            AcceptorStatus::Inhibited
        }
    }

    pub(super) fn cash_box(&self) -> CashBoxStatus {
        CashBoxStatus {
            present: self.condition != Condition::CassetteOut,
            level: if self.condition == Condition::CassetteFull {
                FillLevel::Full
            } else {
                FillLevel::Normal
            },
            contents: None,
        }
    }

    /// Escrow: report it, or have the host return a note it must not take.
    fn on_escrow(&mut self, value: Option<Money>, events: &mut Vec<AcceptorEvent>) -> bool {
        match &self.note {
            Some(n) if !n.credited && !n.settled && !n.stacking && !n.returning => return false,
            Some(_) => self.settle_at_rest(events),
            None => {}
        }
        let filtered = match value {
            None => Some(RejectReason::Other),
            Some(v) if !self.accepted.contains(&v) => Some(RejectReason::Inhibited),
            Some(_) => None,
        };
        self.note = Some(Note {
            value,
            reported: filtered.is_none(),
            filtered,
            ..Note::default()
        });
        match (value, filtered) {
            (Some(value), None) => {
                events.push(AcceptorEvent::Escrowed { value });
                false
            }
            _ => true,
        }
    }

    /// The device is at rest: whatever note it had is settled.
    fn settle_at_rest(&mut self, events: &mut Vec<AcceptorEvent>) {
        let Some(n) = self.note.take() else {
            return;
        };
        if n.credited || n.settled {
            return;
        }
        if n.returning || !n.stacking {
            if let Some(reason) = n.filtered {
                events.push(AcceptorEvent::Rejected { reason });
            } else if let (true, Some(value)) = (n.reported, n.value) {
                events.push(AcceptorEvent::Returned { value });
            }
            return;
        }
        // Sent to the stacker, never confirmed: its fate is unknown.
        events.push(AcceptorEvent::Jammed {
            location: JamLocation::Stacker,
            value: n.value,
        });
        events.push(AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown,
        });
    }

    fn update_jam(&mut self, state: &PollState, events: &mut Vec<AcceptorEvent>) {
        let jam_now = match state {
            PollState::ValidatorJammed => Some(JamLocation::Acceptor),
            PollState::DropCassetteJammed => Some(JamLocation::Stacker),
            _ => None,
        };
        match (self.jam, jam_now) {
            (None, Some(location)) => {
                self.jam = Some(location);
                let value = self.note.as_ref().and_then(|n| n.value);
                events.push(AcceptorEvent::Jammed { location, value });
            }
            (Some(_), Some(location)) => self.jam = Some(location),
            (Some(_), None) => {
                let fate = match state {
                    PollState::Stacking
                    | PollState::EscrowPosition(_)
                    | PollState::Holding
                    | PollState::Pause
                    | PollState::DeviceBusy => return,
                    PollState::BillStacked(_) => NoteFate::InCashBox,
                    PollState::Returning | PollState::BillReturned(_) => NoteFate::Returned,
                    _ => NoteFate::Unknown,
                };
                self.jam = None;
                events.push(AcceptorEvent::JamCleared { fate });
                let note = self.note.get_or_insert_with(Note::default);
                note.settled = true;
                if fate == NoteFate::InCashBox {
                    note.credited = true;
                }
            }
            (None, None) => {}
        }
    }

    fn update_condition(&mut self, state: &PollState, events: &mut Vec<AcceptorEvent>) {
        let now = match state {
            PollState::Rejecting(_) => Condition::Rejecting,
            PollState::DropCassetteFull => Condition::CassetteFull,
            PollState::DropCassetteOutOfPosition => Condition::CassetteOut,
            PollState::Cheated => Condition::Cheated,
            PollState::Failure(_) => Condition::Failure,
            _ => Condition::Normal,
        };
        if now == self.condition {
            return;
        }
        if self.condition == Condition::CassetteOut {
            events.push(AcceptorEvent::StackerReplaced);
        }
        self.condition = now;
        match state {
            PollState::Rejecting(code) => events.push(AcceptorEvent::Rejected {
                reason: code.reason(),
            }),
            PollState::DropCassetteFull => events.push(AcceptorEvent::StackerFull),
            PollState::DropCassetteOutOfPosition => events.push(AcceptorEvent::StackerRemoved),
            PollState::Cheated => events.push(AcceptorEvent::Fraud {
                kind: FraudKind::Unspecified,
            }),
            PollState::Failure(_) => events.push(AcceptorEvent::Failure),
            _ => {}
        }
    }
}
