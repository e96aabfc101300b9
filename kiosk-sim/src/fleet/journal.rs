//! The simulated kiosk's journal, in memory: answers every [`JournalOp`]
//! the machine emits the way the SQLite journal would, and keeps only what a
//! later answer needs (open sessions, notes in escrow or in doubt, pending
//! payments, tickets) plus the money totals the hall's money line is
//! checked against. Simulation only: no hash chain, no durability.

use std::collections::BTreeMap;

use super::small_map::SmallMap;

use kiosk_core::journal::{
    InDoubtNote, NoteId, OpenSession, PendingPayment, SessionOutcome, Settlement,
};
use kiosk_core::machine::keys;
use kiosk_core::machine::kiosk::{InDoubtCause, JournalOp, JournalReply, RecoveryRows};
use kiosk_core::tickets::{Ticket, TicketId};
use kiosk_core::{Millis, SessionId};
use kiosk_hal::{AccountNumber, IdempotencyKey, Money, NoteFate, PaymentMethod};

/// A note row the journal still needs.
#[derive(Debug, Clone)]
struct NoteRow {
    session: SessionId,
    value: Option<Money>,
    state: NoteState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoteState {
    Escrowed,
    /// In the box, not yet part of a payment.
    Stacked,
    InDoubt,
}

/// An open session's row.
#[derive(Debug, Clone)]
struct SessionRow {
    account: AccountNumber,
    method: PaymentMethod,
    has_payment: bool,
}

/// Cash as the journal holds it, in minor units (see [`MemJournal::money`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct JournalMoney {
    /// Cash payments the backend credited.
    pub(crate) credited: i64,
    /// Cash payments not answered yet.
    pub(crate) pending: i64,
    /// Cash payments the backend refused: the notes are held in the box.
    pub(crate) held: i64,
    /// Notes in doubt with a known value.
    pub(crate) in_doubt: i64,
    /// Stacked notes not (yet) in any payment.
    pub(crate) unposted: i64,
    /// Notes journaled in escrow, not yet stacked or returned.
    pub(crate) escrowed: i64,
}

impl JournalMoney {
    /// Everything the journal says is in the box or the acceptor's path.
    #[cfg(test)]
    pub(crate) fn total(&self) -> i64 {
        self.credited + self.pending + self.held + self.in_doubt + self.unposted + self.escrowed
    }
}

/// See the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct MemJournal {
    next_note: i64,
    /// The newest note the acceptor reported in the box outside any
    /// session (journaled in doubt as unaccounted), if that was the newest.
    last_unaccounted: Option<NoteId>,
    max_session_seq: u64,
    sessions: SmallMap<SessionId, SessionRow>,
    notes: SmallMap<NoteId, NoteRow>,
    pending: SmallMap<IdempotencyKey, PendingPayment>,
    tickets: BTreeMap<TicketId, Ticket>,
    credited_cash: i64,
    refused_cash: i64,
    /// Session outcomes as journaled.
    pub(crate) outcomes: [u64; 6],
    /// Receipts kept for a reprint.
    pub(crate) receipts_kept: u64,
    /// Notes journaled as rejected.
    pub(crate) notes_rejected: u64,
    /// Notes journaled as stacked.
    pub(crate) notes_stacked: u64,
    /// Notes journaled in doubt.
    pub(crate) notes_in_doubt: u64,
}

impl MemJournal {
    /// Performs `op` at `now`; the answer the machine waits for, if any.
    pub(crate) fn apply(&mut self, op: JournalOp, now: Millis) -> Option<JournalReply> {
        match op {
            JournalOp::BeginSession(start) => {
                self.max_session_seq += 1;
                self.sessions.insert(
                    start.id,
                    SessionRow {
                        account: start.account,
                        method: start.method,
                        has_payment: false,
                    },
                );
                None
            }
            JournalOp::EndSession(session, outcome) => {
                self.outcomes[outcome_index(outcome)] += 1;
                self.sessions.remove(&session);
                // Its settled notes are no longer needed; notes in doubt stay.
                self.notes
                    .retain(|_, n| n.session != session || n.state == NoteState::InDoubt);
                None
            }
            JournalOp::NoteEscrowed(session, value) => {
                let note = self.row(session, Some(value), NoteState::Escrowed);
                Some(JournalReply::NoteEscrowed(note))
            }
            JournalOp::NoteStacked(session, note, value) => {
                self.notes_stacked += 1;
                match note.and_then(|n| self.notes.get_mut(&n)) {
                    Some(row) => row.state = NoteState::Stacked,
                    None => {
                        self.row(session, Some(value), NoteState::Stacked);
                    }
                }
                None
            }
            JournalOp::NoteReturned(note) => {
                self.notes.remove(&note);
                None
            }
            JournalOp::NoteRejected(..) => {
                self.notes_rejected += 1;
                None
            }
            JournalOp::NoteInDoubt {
                session,
                note,
                value,
                cause,
            } => {
                self.notes_in_doubt += 1;
                let note = match note.filter(|n| self.notes.contains_key(n)) {
                    Some(n) => {
                        let row = self.notes.get_mut(&n).expect("checked");
                        row.state = NoteState::InDoubt;
                        row.value = row.value.or(value);
                        n
                    }
                    None => {
                        let row = self.row(session, value, NoteState::InDoubt);
                        if cause == InDoubtCause::Unaccounted {
                            self.last_unaccounted = Some(row);
                        }
                        row
                    }
                };
                Some(JournalReply::NoteInDoubt { note, value, cause })
            }
            JournalOp::Settle { note, fate, .. } => {
                let row = self.notes.remove(&note)?;
                let settlement = match (fate, row.value) {
                    (NoteFate::InCashBox, Some(amount)) => {
                        let p = PendingPayment {
                            key: keys::settled_note(&row.session, note),
                            session: row.session.clone(),
                            account: AccountNumber("".into()),
                            amount,
                            method: PaymentMethod::Cash,
                            created_at: now,
                            attempts: 0,
                        };
                        self.pending.insert(p.key.clone(), p.clone());
                        Settlement::Credit(p)
                    }
                    (NoteFate::InCashBox, None) => Settlement::InBoxValueUnknown,
                    (NoteFate::Returned, _) => Settlement::Returned,
                    (NoteFate::Unknown, _) => {
                        self.notes.insert(note, row);
                        Settlement::StillInDoubt
                    }
                };
                Some(JournalReply::Settled {
                    note,
                    settlement: Box::new(settlement),
                })
            }
            JournalOp::PaymentPending(session, key, amount) => {
                let (account, method) = match self.sessions.get_mut(&session) {
                    Some(s) => {
                        s.has_payment = true;
                        (s.account.clone(), s.method)
                    }
                    None => (AccountNumber("".into()), PaymentMethod::Cash),
                };
                if method == PaymentMethod::Cash {
                    // Its stacked notes become the payment's.
                    self.notes
                        .retain(|_, n| !(n.session == session && n.state == NoteState::Stacked));
                }
                if !self.pending.contains_key(&key) {
                    self.pending.insert(
                        key.clone(),
                        PendingPayment {
                            key,
                            session,
                            account,
                            amount,
                            method,
                            created_at: now,
                            attempts: 0,
                        },
                    );
                }
                None
            }
            JournalOp::PostingAttempted(key) => {
                let attempt = match self.pending.get_mut(&key) {
                    Some(p) => {
                        p.attempts += 1;
                        p.attempts
                    }
                    None => 1,
                };
                Some(JournalReply::Attempt(key, attempt))
            }
            JournalOp::PaymentCredited { key, .. } => {
                if let Some(p) = self.pending.remove(&key) {
                    if p.method == PaymentMethod::Cash {
                        self.credited_cash += p.amount.minor;
                    }
                }
                None
            }
            JournalOp::PaymentRefused(key, _) => {
                if let Some(p) = self.pending.remove(&key) {
                    if p.method == PaymentMethod::Cash {
                        self.refused_cash += p.amount.minor;
                    }
                }
                None
            }
            JournalOp::KeepReceipt(..) => {
                self.receipts_kept += 1;
                None
            }
            JournalOp::SaveTicket(ticket) => {
                self.tickets.insert(ticket.id, *ticket);
                None
            }
            JournalOp::ReadRecovery => Some(JournalReply::Recovery(Box::new(self.recovery_rows()))),
            JournalOp::ReadPending => Some(JournalReply::Pending(
                self.pending.values().cloned().collect(),
            )),
            JournalOp::ReadInDoubt => Some(JournalReply::InDoubt(self.in_doubt())),
            // Receipts are reprinted by staff, which the hall does not model.
            JournalOp::ReadUnprinted => Some(JournalReply::Unprinted(Vec::new())),
            JournalOp::RecordClearing { .. } => {
                unreachable!("the hall never opens a clearing")
            }
            JournalOp::ReceiptReprinted(..)
            | JournalOp::RecordCommand { .. }
            | JournalOp::RecordSecurityEvent { .. }
            | JournalOp::Checkpoint => None,
        }
    }

    fn row(&mut self, session: SessionId, value: Option<Money>, state: NoteState) -> NoteId {
        self.next_note += 1;
        let id = NoteId(self.next_note);
        self.notes.insert(
            id,
            NoteRow {
                session,
                value,
                state,
            },
        );
        id
    }

    fn in_doubt(&self) -> Vec<InDoubtNote> {
        self.notes
            .iter()
            .filter(|(_, n)| n.state == NoteState::InDoubt)
            .map(|(id, n)| InDoubtNote {
                id: *id,
                session: n.session.clone(),
                value: n.value,
                since: Millis(0),
            })
            .collect()
    }

    /// What recovery reads after the kiosk software died.
    fn recovery_rows(&self) -> RecoveryRows {
        let open_sessions = self
            .sessions
            .iter()
            .map(|(id, s)| {
                let mine = || self.notes.iter().filter(move |(_, n)| &n.session == id);
                let escrowed = mine()
                    .filter(|(_, n)| n.state == NoteState::Escrowed)
                    .filter_map(|(nid, n)| Some((*nid, n.value?)))
                    .collect();
                let stacked: Vec<Money> = mine()
                    .filter(|(_, n)| n.state == NoteState::Stacked)
                    .filter_map(|(_, n)| n.value)
                    .collect();
                let unposted_stacked = stacked.iter().copied().reduce(|a, b| Money {
                    minor: a.minor + b.minor,
                    ..a
                });
                OpenSession {
                    id: id.clone(),
                    account: s.account.clone(),
                    method: s.method,
                    escrowed,
                    unposted_stacked,
                    has_payment: s.has_payment,
                }
            })
            .collect();
        RecoveryRows {
            tickets: self.tickets.values().cloned().collect(),
            open_sessions,
            max_session_seq: self.max_session_seq,
            in_doubt: self.in_doubt(),
            last_note: (self.next_note > 0).then_some(NoteId(self.next_note)),
            last_note_unaccounted: self.last_unaccounted.is_some_and(|n| {
                n == NoteId(self.next_note)
                    && self
                        .notes
                        .get(&n)
                        .is_some_and(|r| r.state == NoteState::InDoubt)
            }),
        }
    }

    /// The tickets as last saved, by id.
    pub(crate) fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// Cash as journaled: what the box must hold.
    pub(crate) fn money(&self) -> JournalMoney {
        let cash_pending = self
            .pending
            .values()
            .filter(|p| p.method == PaymentMethod::Cash)
            .map(|p| p.amount.minor)
            .sum();
        let sum = |state: NoteState| {
            self.notes
                .values()
                .filter(|n| n.state == state)
                .filter_map(|n| n.value)
                .map(|v| v.minor)
                .sum()
        };
        JournalMoney {
            credited: self.credited_cash,
            pending: cash_pending,
            held: self.refused_cash,
            in_doubt: sum(NoteState::InDoubt),
            unposted: sum(NoteState::Stacked),
            escrowed: sum(NoteState::Escrowed),
        }
    }
}

/// Index into the outcome counts.
pub(crate) fn outcome_index(o: SessionOutcome) -> usize {
    use SessionOutcome::*;
    match o {
        Credited => 0,
        Pending => 1,
        Refused => 2,
        NoPayment => 3,
        Aborted => 4,
        Interrupted => 5,
    }
}
