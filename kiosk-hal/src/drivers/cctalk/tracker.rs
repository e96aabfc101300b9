//! Turns ccTalk's buffered bill events into acceptor events.
//!
//! Unlike a polled state, every ccTalk event is reported once (the event
//! counter says which are new), so events map one to one. What needs care
//! is the note's fate when events were **lost** (the counter jumped past the
//! five-event buffer) or the device restarted: then a note the host had
//! seen may or may not have been stacked, and it goes in doubt.

use crate::wire::cctalk::{BillEvent, StatusCode};
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, FillLevel, FraudKind, JamLocation, Money,
    NoteFate, RejectReason,
};

#[derive(Debug, Clone, Default)]
struct Note {
    value: Option<Money>,
    /// `Escrowed` was reported to the kiosk.
    reported: bool,
    /// The host returns it itself (value not accepted, or unknown type).
    filtered: Option<RejectReason>,
    /// ROUTE BILL (stack) was accepted.
    stacking: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Normal,
    StackerFull,
    StackerOut,
    Failure,
}

/// What some events did.
#[derive(Debug, Default)]
pub(super) struct Step {
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

    /// A note reported as escrowed and not yet routed.
    pub(super) fn in_escrow(&self) -> bool {
        self.note
            .as_ref()
            .is_some_and(|n| n.reported && !n.stacking)
    }

    pub(super) fn stack_accepted(&mut self) {
        if let Some(n) = self.note.as_mut() {
            n.stacking = true;
        }
    }

    /// Events were lost, or the device restarted, with the note's fate not
    /// reported: it goes in doubt. With no note known, a lost event may
    /// still have been a bill stacked (an unknown bill, a credit): an
    /// in-doubt note of unknown value, for staff to settle at clearing.
    pub(super) fn fate_lost(&mut self, events: &mut Vec<AcceptorEvent>, note_possible: bool) {
        let note = self.note.take();
        let value = note.as_ref().and_then(|n| n.value);
        let seen = note.as_ref().is_some_and(|n| n.reported || n.stacking);
        if !(seen || note_possible) {
            return;
        }
        if self.jam.take().is_none() {
            events.push(AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value,
            });
        }
        events.push(AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown,
        });
    }

    pub(super) fn on_event(
        &mut self,
        event: BillEvent,
        value_of: impl Fn(u8) -> Option<Money>,
    ) -> Step {
        let mut step = Step::default();
        let out = &mut step.events;
        match event {
            BillEvent::PendingCredit { bill_type } => {
                self.clear_jam(NoteFate::Unknown, out);
                self.settle_unreported(out);
                let value = value_of(bill_type);
                let filtered = match value {
                    None => Some(RejectReason::Other),
                    Some(v) if !self.accepted.contains(&v) => Some(RejectReason::Inhibited),
                    Some(_) => None,
                };
                self.note = Some(Note {
                    value,
                    reported: filtered.is_none(),
                    filtered,
                    stacking: false,
                });
                match (value, filtered) {
                    (Some(value), None) => out.push(AcceptorEvent::Escrowed { value }),
                    _ => step.return_note = true,
                }
            }
            BillEvent::Credit { bill_type } => {
                let note = self.note.take().unwrap_or_default();
                let value = note.value.or(value_of(bill_type));
                if self.jam.is_some() {
                    self.clear_jam(NoteFate::InCashBox, out);
                } else if note.reported {
                    match value {
                        Some(value) => out.push(AcceptorEvent::Stacked { value }),
                        None => in_box_unknown(out, None),
                    }
                } else {
                    // Stacked without the kiosk taking it from escrow.
                    in_box_unknown(out, value);
                }
            }
            BillEvent::Status(code) => self.on_status(code, out),
            BillEvent::Undefined { .. } => {}
        }
        step
    }

    fn on_status(&mut self, code: StatusCode, out: &mut Vec<AcceptorEvent>) {
        use StatusCode as S;
        let reject = |reason| AcceptorEvent::Rejected { reason };
        match code {
            S::ReturnedFromEscrow => {
                if self.jam.is_some() {
                    self.clear_jam(NoteFate::Returned, out);
                    self.note = None;
                    return;
                }
                match self.note.take() {
                    Some(Note {
                        filtered: Some(reason),
                        ..
                    }) => out.push(reject(reason)),
                    Some(Note {
                        reported: true,
                        value: Some(value),
                        ..
                    }) => out.push(AcceptorEvent::Returned { value }),
                    _ => {}
                }
            }
            S::ValidationFail => out.push(reject(RejectReason::Counterfeit)),
            S::TransportProblem => out.push(reject(RejectReason::Transport)),
            S::InhibitedBySerial | S::InhibitedByDipSwitches => {
                out.push(reject(RejectReason::Inhibited))
            }
            S::JammedInTransportUnsafe | S::JammedInTransportSafe => {
                self.jammed(JamLocation::Acceptor, out)
            }
            S::JammedInStacker | S::StackerJammed => self.jammed(JamLocation::Stacker, out),
            S::PulledBackwards | S::StringFraud => self.fraud(FraudKind::StringOrFishing, out),
            S::OptoFraud => self.fraud(FraudKind::Optical, out),
            S::Tamper => self.fraud(FraudKind::Tamper, out),
            S::StackerRemoved => {
                self.condition = Condition::StackerOut;
                out.push(AcceptorEvent::StackerRemoved);
            }
            S::StackerInserted => {
                if self.condition == Condition::StackerOut {
                    self.condition = Condition::Normal;
                }
                out.push(AcceptorEvent::StackerReplaced);
            }
            S::StackerFull => {
                self.condition = Condition::StackerFull;
                out.push(AcceptorEvent::StackerFull);
            }
            S::StackerOk => {
                if self.condition != Condition::StackerOut {
                    self.condition = Condition::Normal;
                }
            }
            S::StackerFaulty | S::AntiStringFaulty => {
                self.condition = Condition::Failure;
                out.push(AcceptorEvent::Failure);
            }
            S::UnknownBillStacked => {
                self.note = None;
                in_box_unknown(out, None);
            }
            S::MasterInhibitActive | S::BarcodeDetected | S::Unknown(_) => {}
        }
    }

    fn jammed(&mut self, location: JamLocation, out: &mut Vec<AcceptorEvent>) {
        if self.jam.is_none() {
            let value = self.note.as_ref().and_then(|n| n.value);
            out.push(AcceptorEvent::Jammed { location, value });
        }
        self.jam = Some(location);
    }

    fn clear_jam(&mut self, fate: NoteFate, out: &mut Vec<AcceptorEvent>) {
        if self.jam.take().is_some() {
            out.push(AcceptorEvent::JamCleared { fate });
            self.note = None;
        }
    }

    fn fraud(&mut self, kind: FraudKind, out: &mut Vec<AcceptorEvent>) {
        if self.note.as_ref().is_some_and(|n| !n.reported) {
            self.note = None;
        }
        out.push(AcceptorEvent::Fraud { kind });
    }

    /// A new note arrives while the host still has one it filtered and
    /// never heard back about: that one was given back.
    fn settle_unreported(&mut self, out: &mut Vec<AcceptorEvent>) {
        if let Some(n) = self.note.take() {
            if let Some(reason) = n.filtered {
                out.push(AcceptorEvent::Rejected { reason });
            } else if n.reported {
                // A reported note with no fate before the next one: unknown.
                out.push(AcceptorEvent::Jammed {
                    location: JamLocation::Stacker,
                    value: n.value,
                });
                out.push(AcceptorEvent::JamCleared {
                    fate: NoteFate::Unknown,
                });
            }
        }
    }

    pub(super) fn status(&self, enabled: bool) -> AcceptorStatus {
        if self.jam.is_some() {
            return AcceptorStatus::Jammed;
        }
        match self.condition {
            Condition::StackerOut => AcceptorStatus::StackerRemoved,
            Condition::StackerFull => AcceptorStatus::StackerFull,
            Condition::Failure => AcceptorStatus::Failure,
            Condition::Normal if self.note.as_ref().is_some_and(|n| n.reported) => {
                AcceptorStatus::Escrow
            }
            Condition::Normal if enabled => AcceptorStatus::Accepting,
            Condition::Normal => AcceptorStatus::Inhibited,
        }
    }

    pub(super) fn cash_box(&self) -> CashBoxStatus {
        CashBoxStatus {
            present: self.condition != Condition::StackerOut,
            level: if self.condition == Condition::StackerFull {
                FillLevel::Full
            } else {
                FillLevel::Normal
            },
            contents: None,
        }
    }
}

/// Money in the box the kiosk did not take from escrow: in doubt, settled
/// as "in the box" (value known or not) by the device's own report.
fn in_box_unknown(out: &mut Vec<AcceptorEvent>, value: Option<Money>) {
    out.push(AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value,
    });
    out.push(AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    });
}
