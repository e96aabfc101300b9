//! Turns the stream of polled statuses into acceptor events, once each.
//!
//! A status is repeated on every poll until the device moves on, so every
//! event here fires on a *transition*, and the credit (`Stacked`) is guarded
//! per note: VEND VALID repeats until the host's ACK gets through, and the
//! note must be credited exactly once however often it is polled.

use crate::wire::id003::{CurrencyTable, StatusResponse};
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, FillLevel, FraudKind, JamLocation, Money,
    NoteFate, RejectReason,
};

/// The note the device is handling.
#[derive(Debug, Clone, Default)]
struct Note {
    value: Option<Money>,
    /// `Escrowed` was reported to the kiosk.
    reported: bool,
    /// The host returns it itself (value not accepted, or unknown code).
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
    StackerFull,
    StackerOpen,
    Cheated,
    Failure,
}

/// What one status did.
#[derive(Debug, Default)]
pub(super) struct StatusStep {
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

    /// VEND VALID (or stacked): the credit point. Returns the events, empty
    /// if this note was already credited.
    pub(super) fn credit(&mut self) -> Vec<AcceptorEvent> {
        let note = self.note.get_or_insert_with(Note::default);
        if note.credited || note.settled {
            return Vec::new();
        }
        note.credited = true;
        match note.value {
            Some(value) => vec![AcceptorEvent::Stacked { value }],
            // A note reached the box but we never saw its escrow code (we
            // restarted in between): in the box, value unknown.
            None => vec![
                AcceptorEvent::Jammed {
                    location: JamLocation::Stacker,
                    value: None,
                },
                AcceptorEvent::JamCleared {
                    fate: NoteFate::InCashBox,
                },
            ],
        }
    }

    pub(super) fn on_status(
        &mut self,
        status: &StatusResponse,
        table: Option<&CurrencyTable>,
    ) -> StatusStep {
        let mut step = StatusStep::default();
        self.update_jam(status, &mut step.events);
        self.update_condition(status, &mut step.events);
        match status {
            StatusResponse::Idling
            | StatusResponse::Disabled
            | StatusResponse::Initialize
            | StatusResponse::Accepting => self.settle_at_rest(&mut step.events),
            StatusResponse::Escrow(code) => {
                step.return_note = self.on_escrow(*code, table, &mut step.events)
            }
            StatusResponse::Stacking => self.note.get_or_insert_with(Note::default).stacking = true,
            StatusResponse::VendValid | StatusResponse::Stacked => {
                step.events.extend(self.credit());
            }
            StatusResponse::Returning => {
                if let Some(n) = self.note.as_mut() {
                    n.returning = true;
                }
            }
            // Refused before escrow, or pulled back: never in the box.
            StatusResponse::Rejecting(_) | StatusResponse::Cheated
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
            Condition::StackerOpen => return AcceptorStatus::StackerRemoved,
            Condition::StackerFull => return AcceptorStatus::StackerFull,
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
            present: self.condition != Condition::StackerOpen,
            level: if self.condition == Condition::StackerFull {
                FillLevel::Full
            } else {
                FillLevel::Normal
            },
            contents: None,
        }
    }

    /// Escrow: report it, or have the host return a note it must not take.
    fn on_escrow(
        &mut self,
        code: u8,
        table: Option<&CurrencyTable>,
        events: &mut Vec<AcceptorEvent>,
    ) -> bool {
        match &self.note {
            // The same escrow, polled again.
            Some(n) if !n.credited && !n.settled && !n.stacking && !n.returning => return false,
            // A new note with no rest status in between: settle the last one first.
            Some(_) => self.settle_at_rest(events),
            None => {}
        }
        let value = table.and_then(|t| t.value(code));
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

    fn update_jam(&mut self, status: &StatusResponse, events: &mut Vec<AcceptorEvent>) {
        let jam_now = match status {
            StatusResponse::AcceptorJam => Some(JamLocation::Acceptor),
            StatusResponse::StackerJam => Some(JamLocation::Stacker),
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
                let fate = match status {
                    // Still in the path: wait for where it goes.
                    StatusResponse::Stacking
                    | StatusResponse::Escrow(_)
                    | StatusResponse::Holding
                    | StatusResponse::Pause => return,
                    StatusResponse::VendValid | StatusResponse::Stacked => NoteFate::InCashBox,
                    StatusResponse::Returning => NoteFate::Returned,
                    _ => NoteFate::Unknown,
                };
                self.jam = None;
                events.push(AcceptorEvent::JamCleared { fate });
                // The clearing reported the note's fate: nothing more about it.
                let note = self.note.get_or_insert_with(Note::default);
                note.settled = true;
                if fate == NoteFate::InCashBox {
                    note.credited = true;
                }
            }
            (None, None) => {}
        }
    }

    fn update_condition(&mut self, status: &StatusResponse, events: &mut Vec<AcceptorEvent>) {
        let now = match status {
            StatusResponse::Rejecting(_) => Condition::Rejecting,
            StatusResponse::StackerFull => Condition::StackerFull,
            StatusResponse::StackerOpen => Condition::StackerOpen,
            StatusResponse::Cheated => Condition::Cheated,
            StatusResponse::Failure(_) => Condition::Failure,
            _ => Condition::Normal,
        };
        if now == self.condition {
            return;
        }
        if self.condition == Condition::StackerOpen {
            events.push(AcceptorEvent::StackerReplaced);
        }
        self.condition = now;
        match status {
            StatusResponse::Rejecting(code) => events.push(AcceptorEvent::Rejected {
                reason: code.reason(),
            }),
            StatusResponse::StackerFull => events.push(AcceptorEvent::StackerFull),
            StatusResponse::StackerOpen => events.push(AcceptorEvent::StackerRemoved),
            StatusResponse::Cheated => events.push(AcceptorEvent::Fraud {
                kind: FraudKind::Unspecified,
            }),
            StatusResponse::Failure(_) => events.push(AcceptorEvent::Failure),
            _ => {}
        }
    }
}
