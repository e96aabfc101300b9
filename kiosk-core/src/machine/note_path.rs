//! Which in-doubt note the acceptor's next report describes.
//!
//! A bill acceptor has one note path. When a note's fate becomes unknown
//! while it is still in that path (a jam, the acceptor going offline or
//! restarting with a note in escrow, the kiosk dying with a note escrowed),
//! the device's next report about its path — `JamCleared { fate }`,
//! `PowerUp { note }`, a late `Stacked` or `Returned` — describes *that*
//! note and no other. This module holds that one slot and turns each report
//! into a decision:
//!
//! - a report that describes the note in the path settles that note, once;
//! - a report that puts a note in the box when no note is in the path is a
//!   note no journal row accounts for: it is journaled in doubt with an
//!   alarm, never ignored;
//! - a report that says the path is empty, or a healthy idle acceptor,
//!   releases the slot: the note stays in doubt for staff to settle at a
//!   clearing, and nothing later can settle it by accident.
//!
//! The slot never locks the kiosk: a note in doubt is a state for
//! reconciliation. Only after a restart does cash wait for the acceptor's
//! word on the note in the slot, and only for a bounded time
//! ([`KioskConfig::path_report_wait_ms`](crate::machine::KioskConfig::path_report_wait_ms)).

use kiosk_hal::{AcceptorEvent, AcceptorStatus, Money, NoteAtPowerUp, NoteFate};

use crate::journal::NoteId;

/// A note of unknown fate that is (as far as the kiosk knows) still in the
/// acceptor's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteInPath {
    /// Its journal row (in doubt).
    pub note: NoteId,
    /// Its value, if the device had validated it.
    pub value: Option<Money>,
}

/// What a report from the acceptor means for the books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathDecision {
    /// Settle this in-doubt note with the device's word on where it went.
    Settle {
        /// The note.
        note: NoteId,
        /// Where the device says it is.
        fate: NoteFate,
    },
    /// A note that no journal row accounts for is in the cash box: journal
    /// it in doubt (with its value if the device gave one) and alarm.
    UnaccountedInBox {
        /// Its value, if the device reported one.
        value: Option<Money>,
    },
    /// The note in the path left it without the device saying where: it
    /// stays in doubt for staff; the slot is free.
    Released {
        /// The note.
        note: NoteId,
    },
    /// Nothing for the books.
    Nothing,
}

/// The slot for the note the acceptor's next report describes. See the
/// module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotePath {
    in_path: Option<NoteInPath>,
    /// Idle status reads in a row since the note went in the path.
    idle_reads: u8,
}

/// Idle status reads in a row that release the note in the path. One is
/// not enough: the device may have finished with the note (stacked it,
/// given it back) an instant before the read, its report still queued
/// behind it. Reads are a health-check interval apart, and a queued report
/// is always taken before the next read.
pub const IDLE_READS_TO_RELEASE: u8 = 2;

impl NotePath {
    /// An empty path.
    pub fn new() -> NotePath {
        NotePath::default()
    }

    /// The note the next report describes, if any.
    pub fn in_path(&self) -> Option<NoteInPath> {
        self.in_path
    }

    /// A note went in doubt while physically in the path. A note already in
    /// the slot is released: the path holds one note, so the older one has
    /// left it and stays in doubt for staff.
    pub fn note_in_doubt(&mut self, note: NoteId, value: Option<Money>) -> Option<PathDecision> {
        self.idle_reads = 0;
        let released = self
            .in_path
            .replace(NoteInPath { note, value })
            .filter(|old| old.note != note)
            .map(|old| PathDecision::Released { note: old.note });
        debug_assert!(self.in_path.is_some());
        released
    }

    /// Forgets the slot after its note was settled by other means (staff).
    pub fn forget(&mut self, note: NoteId) {
        if self.in_path.is_some_and(|p| p.note == note) {
            self.in_path = None;
        }
    }

    /// An acceptor event outside a session (or one the session did not
    /// claim): what it means for the books.
    pub fn on_report(&mut self, event: &AcceptorEvent) -> PathDecision {
        match *event {
            AcceptorEvent::PowerUp { note } => match note {
                NoteAtPowerUp::InStacker => self.found(NoteFate::InCashBox, None),
                NoteAtPowerUp::InAcceptor => self.found(NoteFate::Returned, None),
                NoteAtPowerUp::None => self.release(),
            },
            AcceptorEvent::JamCleared { fate } => match fate {
                NoteFate::InCashBox | NoteFate::Returned => self.found(fate, None),
                NoteFate::Unknown => self.release(),
            },
            AcceptorEvent::Stacked { value } => self.found(NoteFate::InCashBox, Some(value)),
            AcceptorEvent::Returned { value } => self.found(NoteFate::Returned, Some(value)),
            _ => PathDecision::Nothing,
        }
    }

    /// A status read between sessions. An acceptor found idle (no jam,
    /// nothing in escrow) [`IDLE_READS_TO_RELEASE`] times in a row has no
    /// note in its path: the slot is released.
    pub fn on_status(&mut self, status: AcceptorStatus) -> PathDecision {
        if self.in_path.is_none() {
            return PathDecision::Nothing;
        }
        match status {
            AcceptorStatus::Accepting | AcceptorStatus::Inhibited => {
                self.idle_reads = self.idle_reads.saturating_add(1);
                if self.idle_reads >= IDLE_READS_TO_RELEASE {
                    self.release()
                } else {
                    PathDecision::Nothing
                }
            }
            _ => {
                self.idle_reads = 0;
                PathDecision::Nothing
            }
        }
    }

    /// The device says a note went to `fate`, with `value` if it said one.
    fn found(&mut self, fate: NoteFate, value: Option<Money>) -> PathDecision {
        match self.in_path.take() {
            Some(p) if value.is_none() || p.value.is_none() || p.value == value => {
                PathDecision::Settle { note: p.note, fate }
            }
            // The device names a value that is not the path note's: it
            // describes some other note. The path note stays in doubt for
            // staff (the slot is free); this one is journaled if in the box.
            Some(_) => self.unaccounted(fate, value),
            None => self.unaccounted(fate, value),
        }
    }

    fn unaccounted(&self, fate: NoteFate, value: Option<Money>) -> PathDecision {
        match fate {
            NoteFate::InCashBox => PathDecision::UnaccountedInBox { value },
            // A note nobody knew of went back out, or nobody can tell: the
            // box is unchanged as far as anyone knows.
            NoteFate::Returned | NoteFate::Unknown => PathDecision::Nothing,
        }
    }

    fn release(&mut self) -> PathDecision {
        self.idle_reads = 0;
        match self.in_path.take() {
            Some(p) => PathDecision::Released { note: p.note },
            None => PathDecision::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::Currency;

    fn yuan(v: i64) -> Money {
        Money::major(v, Currency::CNY)
    }

    /// Regression (known break 1): a power-up that reports a note in the
    /// stacker with no note in the path was ignored.
    #[test]
    fn a_note_in_the_box_with_nothing_in_the_path_is_unaccounted() {
        let mut path = NotePath::new();
        let d = path.on_report(&AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker,
        });
        assert_eq!(d, PathDecision::UnaccountedInBox { value: None });
        let d = path.on_report(&AcceptorEvent::Stacked { value: yuan(20) });
        assert_eq!(
            d,
            PathDecision::UnaccountedInBox {
                value: Some(yuan(20))
            }
        );
    }

    /// Regression (known break 2): a report settles the note in the path
    /// once; a later, unrelated report cannot settle it again.
    #[test]
    fn a_report_settles_the_note_in_the_path_once() {
        let mut path = NotePath::new();
        assert_eq!(path.note_in_doubt(NoteId(4), Some(yuan(10))), None);
        let d = path.on_report(&AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker,
        });
        assert_eq!(
            d,
            PathDecision::Settle {
                note: NoteId(4),
                fate: NoteFate::InCashBox
            }
        );
        let d = path.on_report(&AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InAcceptor,
        });
        assert_eq!(d, PathDecision::Nothing);
    }

    /// Regression (known break 4): a clean power-up or an idle status frees
    /// the slot; the note stays in doubt for staff.
    #[test]
    fn an_empty_path_releases_the_note() {
        let mut path = NotePath::new();
        path.note_in_doubt(NoteId(1), None);
        assert_eq!(
            path.on_report(&AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None
            }),
            PathDecision::Released { note: NoteId(1) }
        );
        path.note_in_doubt(NoteId(2), None);
        assert_eq!(
            path.on_status(AcceptorStatus::Jammed),
            PathDecision::Nothing
        );
        assert_eq!(
            path.on_status(AcceptorStatus::Inhibited),
            PathDecision::Nothing,
            "one idle read: a report may still be queued"
        );
        assert_eq!(
            path.on_status(AcceptorStatus::Inhibited),
            PathDecision::Released { note: NoteId(2) }
        );
        assert_eq!(path.in_path(), None);
    }

    /// Found by the explorer (seed 1107): the kiosk restarted while the
    /// acceptor finished stacking the escrowed note; the first health check
    /// read an idle acceptor an instant before the `Stacked` report was
    /// taken, released the note, and the report then journaled it a second
    /// time as unaccounted.
    #[test]
    fn a_report_queued_behind_one_idle_read_still_settles_the_note() {
        let mut path = NotePath::new();
        path.note_in_doubt(NoteId(9), Some(yuan(100)));
        assert_eq!(
            path.on_status(AcceptorStatus::Inhibited),
            PathDecision::Nothing
        );
        assert_eq!(
            path.on_report(&AcceptorEvent::Stacked { value: yuan(100) }),
            PathDecision::Settle {
                note: NoteId(9),
                fate: NoteFate::InCashBox
            }
        );
    }

    #[test]
    fn a_second_note_in_doubt_releases_the_first() {
        let mut path = NotePath::new();
        path.note_in_doubt(NoteId(1), None);
        assert_eq!(
            path.note_in_doubt(NoteId(2), None),
            Some(PathDecision::Released { note: NoteId(1) })
        );
        assert_eq!(path.in_path().map(|p| p.note), Some(NoteId(2)));
    }

    #[test]
    fn a_stacked_note_of_another_value_does_not_settle_the_note_in_the_path() {
        let mut path = NotePath::new();
        path.note_in_doubt(NoteId(3), Some(yuan(50)));
        assert_eq!(
            path.on_report(&AcceptorEvent::Stacked { value: yuan(100) }),
            PathDecision::UnaccountedInBox {
                value: Some(yuan(100))
            }
        );
        assert_eq!(path.in_path(), None);
    }
}

/// Property: against a truthful acceptor (its reports say where the note in
/// its path physically went), a decision never settles a note with a fate
/// other than where it is, never settles one twice, and every note that
/// reaches the box is either credited by a settlement or journaled as
/// unaccounted: the box never holds a note the books do not.
#[cfg(test)]
mod properties {
    use super::*;
    use kiosk_hal::Currency;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// What happens to the one note path, physically.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// A note gets stuck or the device drops offline holding it: the
        /// kiosk journals it in doubt (value known or not).
        NoteStuck { value_known: bool },
        /// The stuck note ends in the box or back out, and the device's
        /// next report says so (a jam clearing or a power-up).
        Resolves { into_box: bool, by_power_up: bool },
        /// The device powers up with an empty path.
        CleanPowerUp,
        /// A status read between sessions.
        Status { idle: bool },
        /// A note nobody journaled is stacked and reported.
        StrayStack,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            any::<bool>().prop_map(|value_known| Step::NoteStuck { value_known }),
            (any::<bool>(), any::<bool>()).prop_map(|(into_box, by_power_up)| Step::Resolves {
                into_box,
                by_power_up
            }),
            Just(Step::CleanPowerUp),
            any::<bool>().prop_map(|idle| Step::Status { idle }),
            Just(Step::StrayStack),
        ]
    }

    proptest! {
        #[test]
        fn decisions_follow_the_physics(steps in proptest::collection::vec(step(), 1..60)) {
            let ten = Money::major(10, Currency::CNY);
            let mut path = NotePath::new();
            let mut next_id = 0;
            // Physically: the stuck note (id) still in the path, if any.
            let mut physically_in_path: Option<NoteId> = None;
            let mut in_box_physically = 0u32;
            let mut credited_or_journaled = 0u32;
            let mut settled = BTreeSet::new();
            for s in steps {
                // The note this step physically moved, and whether into the box.
                let mut moved: Option<(NoteId, bool)> = None;
                let decision = match s {
                    Step::NoteStuck { value_known } => {
                        if physically_in_path.is_some() {
                            continue; // one note path
                        }
                        next_id += 1;
                        let id = NoteId(next_id);
                        physically_in_path = Some(id);
                        path.note_in_doubt(id, value_known.then_some(ten));
                        None
                    }
                    Step::Resolves { into_box, by_power_up } => {
                        let Some(note) = physically_in_path.take() else { continue };
                        moved = Some((note, into_box));
                        if into_box {
                            in_box_physically += 1;
                        }
                        let report = match (by_power_up, into_box) {
                            (true, true) => AcceptorEvent::PowerUp { note: NoteAtPowerUp::InStacker },
                            (true, false) => AcceptorEvent::PowerUp { note: NoteAtPowerUp::InAcceptor },
                            (false, true) => AcceptorEvent::JamCleared { fate: NoteFate::InCashBox },
                            (false, false) => AcceptorEvent::JamCleared { fate: NoteFate::Returned },
                        };
                        Some(path.on_report(&report))
                    }
                    Step::CleanPowerUp => {
                        if physically_in_path.is_some() {
                            continue; // a truthful device would not say "empty"
                        }
                        Some(path.on_report(&AcceptorEvent::PowerUp { note: NoteAtPowerUp::None }))
                    }
                    Step::Status { idle } => {
                        if idle && physically_in_path.is_some() {
                            continue; // not idle while it holds a note
                        }
                        let status = if idle { AcceptorStatus::Inhibited } else { AcceptorStatus::Jammed };
                        Some(path.on_status(status))
                    }
                    Step::StrayStack => {
                        if physically_in_path.is_some() {
                            continue;
                        }
                        in_box_physically += 1;
                        Some(path.on_report(&AcceptorEvent::Stacked { value: ten }))
                    }
                };
                match decision {
                    Some(PathDecision::Settle { note, fate }) => {
                        prop_assert!(settled.insert(note), "note {note:?} settled twice");
                        prop_assert_eq!(
                            moved,
                            Some((note, fate == NoteFate::InCashBox)),
                            "settled by a report about another note, or against the physics"
                        );
                        if fate == NoteFate::InCashBox {
                            credited_or_journaled += 1;
                        }
                    }
                    Some(PathDecision::UnaccountedInBox { .. }) => credited_or_journaled += 1,
                    Some(PathDecision::Released { note }) => {
                        prop_assert!(!settled.contains(&note));
                    }
                    Some(PathDecision::Nothing) | None => {}
                }
                prop_assert_eq!(
                    in_box_physically, credited_or_journaled,
                    "every note in the box is on the books"
                );
            }
        }
    }
}
