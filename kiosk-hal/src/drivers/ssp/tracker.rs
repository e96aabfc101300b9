//! Turns SSP poll events into acceptor events, once each.
//!
//! SSP reports *events* (read, credit, rejected…) once, and *conditions*
//! (jam, stacker full, disabled) on every poll while they last. Notes are
//! tracked from "read note n" to their end so each is credited at most once,
//! and a jam is tracked until a poll no longer shows it and says where the
//! note went.

use crate::wire::ssp::{Event, RejectCode, SetupData};
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, FillLevel, FraudKind, JamLocation, Money,
    NoteAtPowerUp, NoteFate, RejectReason,
};

/// The note the unit is handling (from "read note n", n > 0).
#[derive(Debug, Clone, Default)]
struct Note {
    value: Option<Money>,
    /// `Escrowed` was reported to the kiosk.
    reported: bool,
    /// The host rejects it itself (value not accepted or unknown channel).
    filtered: Option<RejectReason>,
    /// The kiosk asked to stack it (the accepting poll went out).
    stacking: bool,
    /// The kiosk asked to return it (REJECT went out).
    returning: bool,
    credited: bool,
    /// Its fate was reported (through a jam's clearing).
    settled: bool,
}

/// What one poll answer did.
#[derive(Debug, Default)]
pub(super) struct PollStep {
    /// Events, in order.
    pub events: Vec<AcceptorEvent>,
    /// The host must send REJECT for the note in escrow.
    pub reject_note: bool,
    /// The host must ask LAST REJECT CODE; its answer completes a rejection.
    pub ask_reject_code: bool,
    /// The unit reports it restarted.
    pub slave_reset: bool,
    /// The unit is still initialising.
    pub initialising: bool,
    /// Power-up clearing found a note: where it went.
    pub cleared: Option<NoteAtPowerUp>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct NoteTracker {
    accepted: Vec<Money>,
    note: Option<Note>,
    jam: Option<JamLocation>,
    /// The note of a rejection waiting for LAST REJECT CODE (none: the note
    /// was refused before escrow).
    rejected_note: Option<Note>,
    full: bool,
    removed: bool,
    disabled: bool,
}

impl NoteTracker {
    pub(super) fn set_accepted(&mut self, values: Vec<Money>) {
        self.accepted = values;
    }

    /// A note reported as escrowed that the kiosk has not yet decided on.
    pub(super) fn awaiting_decision(&self) -> bool {
        self.note
            .as_ref()
            .is_some_and(|n| n.reported && !n.credited && !n.settled && !n.returning && !n.stacking)
    }

    /// The unit restarted: it settled whatever note it had itself. A jam
    /// stays until a poll says where its note went (cleared at reset into
    /// the box or to the front) or, saying nothing, that its fate is unknown.
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

    /// Whether the unit showed itself disabled in its last poll.
    pub(super) fn disabled(&self) -> bool {
        self.disabled
    }

    /// One poll answer's events, in order.
    pub(super) fn on_poll(&mut self, events: &[Event], setup: Option<&SetupData>) -> PollStep {
        let mut step = PollStep::default();
        // A note cleared at reset that settles a jam is that jam's clearing,
        // not also a power-up finding.
        let jam_settled_by_reset = self.update_jam(events, setup, &mut step.events);
        let full = events.contains(&Event::StackerFull);
        if full && !self.full {
            step.events.push(AcceptorEvent::StackerFull);
        }
        self.full = full;
        self.disabled = events.contains(&Event::Disabled);
        for event in events {
            match *event {
                Event::SlaveReset => step.slave_reset = true,
                Event::Initialising => step.initialising = true,
                Event::Read(0) => {}
                Event::Read(channel) => self.on_read(channel, setup, &mut step),
                Event::Credit(channel) => {
                    let value = setup.and_then(|s| s.value(channel));
                    self.credit(value, &mut step.events);
                }
                Event::Stacked => {
                    // The credit came first; a note in the stacker without
                    // one (never seen on a healthy link) is credited now.
                    if self.note.as_ref().is_some_and(|n| n.reported) {
                        let value = self.note.as_ref().and_then(|n| n.value);
                        self.credit(value, &mut step.events);
                    }
                    self.note = None;
                }
                Event::Rejected => self.on_rejected(&mut step),
                Event::FraudAttempt(_) => {
                    if self.note.as_ref().is_some_and(|n| !n.reported) {
                        self.note = None;
                    }
                    step.events.push(AcceptorEvent::Fraud {
                        kind: FraudKind::Unspecified,
                    });
                }
                Event::NoteClearedFromFront(_) if !jam_settled_by_reset => {
                    step.cleared = Some(NoteAtPowerUp::InAcceptor);
                }
                Event::NoteClearedIntoCashbox(_) if !jam_settled_by_reset => {
                    step.cleared = Some(NoteAtPowerUp::InStacker);
                }
                Event::CashboxRemoved if !self.removed => {
                    self.removed = true;
                    step.events.push(AcceptorEvent::StackerRemoved);
                }
                Event::CashboxReplaced if self.removed => {
                    self.removed = false;
                    step.events.push(AcceptorEvent::StackerReplaced);
                }
                _ => {}
            }
        }
        step
    }

    /// The answer to LAST REJECT CODE, for the rejection that asked it.
    pub(super) fn reject_code(&mut self, code: Option<RejectCode>) -> Vec<AcceptorEvent> {
        let reason = code.map_or(RejectReason::Other, |c| c.reason());
        if let Some(n) = self.rejected_note.take() {
            if let (true, Some(value), false) = (n.reported, n.value, n.credited || n.settled) {
                // The escrowed note went back (escrow timeout, say).
                return vec![AcceptorEvent::Returned { value }];
            }
        }
        vec![AcceptorEvent::Rejected { reason }]
    }

    pub(super) fn status(&self, device_enabled: bool) -> AcceptorStatus {
        if self.jam.is_some() {
            return AcceptorStatus::Jammed;
        }
        if self.removed {
            return AcceptorStatus::StackerRemoved;
        }
        if self.full {
            return AcceptorStatus::StackerFull;
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
            present: !self.removed,
            level: if self.full {
                FillLevel::Full
            } else {
                FillLevel::Normal
            },
            contents: None,
        }
    }

    fn on_read(&mut self, channel: u8, setup: Option<&SetupData>, step: &mut PollStep) {
        if self
            .note
            .as_ref()
            .is_some_and(|n| !n.credited && !n.settled && !n.returning)
        {
            // The same note, reported again.
            return;
        }
        let value = setup.and_then(|s| s.value(channel));
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
            (Some(value), None) => step.events.push(AcceptorEvent::Escrowed { value }),
            _ => step.reject_note = true,
        }
    }

    /// The credit point: once per note.
    fn credit(&mut self, value: Option<Money>, events: &mut Vec<AcceptorEvent>) {
        let seen = self.note.is_some();
        let note = self.note.get_or_insert_with(Note::default);
        if note.credited || note.settled {
            return;
        }
        note.credited = true;
        let value = note.value.or(value);
        match (seen && note.reported, value) {
            (true, Some(value)) => events.push(AcceptorEvent::Stacked { value }),
            // A credit for a note whose escrow the driver never saw (it
            // restarted in between): in the box, through the in-doubt path.
            (_, value) => {
                events.push(AcceptorEvent::Jammed {
                    location: JamLocation::Stacker,
                    value,
                });
                events.push(AcceptorEvent::JamCleared {
                    fate: NoteFate::InCashBox,
                });
            }
        }
    }

    fn on_rejected(&mut self, step: &mut PollStep) {
        let Some(n) = self.note.as_ref() else {
            // Refused before escrow: the reason is the unit's to tell.
            self.rejected_note = None;
            step.ask_reject_code = true;
            return;
        };
        if n.credited || n.settled {
            self.note = None;
            return;
        }
        if let Some(reason) = n.filtered {
            step.events.push(AcceptorEvent::Rejected { reason });
            self.note = None;
        } else if let (true, true, Some(value)) = (n.returning, n.reported, n.value) {
            step.events.push(AcceptorEvent::Returned { value });
            self.note = None;
        } else {
            // Returned without being asked (escrow timeout…): ask why.
            self.rejected_note = self.note.take();
            step.ask_reject_code = true;
        }
    }

    /// Returns whether a note cleared at reset settled the jam.
    fn update_jam(
        &mut self,
        events: &[Event],
        setup: Option<&SetupData>,
        out: &mut Vec<AcceptorEvent>,
    ) -> bool {
        let jam_now = events.iter().find_map(|e| match e {
            Event::SafeJam => Some(JamLocation::Stacker),
            Event::UnsafeJam => Some(JamLocation::Acceptor),
            _ => None,
        });
        match (self.jam, jam_now) {
            (None, Some(location)) => {
                self.jam = Some(location);
                let value = self.note.as_ref().and_then(|n| n.value);
                out.push(AcceptorEvent::Jammed { location, value });
            }
            (Some(_), Some(location)) => self.jam = Some(location),
            (Some(_), None) => {
                let has = |f: fn(&Event) -> bool| events.iter().any(f);
                let fate = if has(|e| {
                    matches!(
                        e,
                        Event::Credit(_) | Event::Stacked | Event::NoteClearedIntoCashbox(_)
                    )
                }) {
                    NoteFate::InCashBox
                } else if has(|e| matches!(e, Event::Rejected | Event::NoteClearedFromFront(_))) {
                    NoteFate::Returned
                } else if has(|e| matches!(e, Event::Stacking | Event::Rejecting | Event::Read(_)))
                {
                    // Still moving: wait for where it goes.
                    return false;
                } else {
                    NoteFate::Unknown
                };
                self.jam = None;
                out.push(AcceptorEvent::JamCleared { fate });
                // The clearing reported the note's fate: nothing more about it.
                let note = self.note.get_or_insert_with(Note::default);
                note.settled = true;
                if note.value.is_none() {
                    note.value = events.iter().find_map(|e| match e {
                        Event::Credit(c) => setup.and_then(|s| s.value(*c)),
                        _ => None,
                    });
                }
                if fate == NoteFate::InCashBox {
                    note.credited = true;
                }
                return has(|e| {
                    matches!(
                        e,
                        Event::NoteClearedIntoCashbox(_) | Event::NoteClearedFromFront(_)
                    )
                });
            }
            (None, None) => {}
        }
        false
    }
}
