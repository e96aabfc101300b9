//! The money line, checked from what a dead kiosk left behind.
//!
//! [`observe`] reads the three witnesses of a run directory — the cash box
//! and note path ([`Physical`]), the journal (through its public API only)
//! and the backend's book — into an [`Observation`]; the rules below are
//! pure functions of it, so each can be tested with a planted violation.
//!
//! # The rules, after every kill
//!
//! With `B`/`nB` the value/number of notes physically in the box, and from
//! the journal's [`CashTotals`]: `L = credited + pending + refused` (the
//! value the books hold in the box), `nL = notes_in_box`, `D` the value of
//! in-doubt notes with a known value, `nD` the number of in-doubt notes and
//! `nDu` those of unknown value, and `E`/`nE` the value/number of notes the
//! journal still has in escrow in sessions the kiosk died in (recovery has
//! not run yet; it will put them in doubt):
//!
//! 1. [`Rule::BooksBalance`]: `in_box == credited + pending + refused` — the
//!    journal agrees with itself.
//! 2. [`Rule::BooksWithinBox`]: `L <= B` and `nL <= nB` — every note the
//!    books hold in the box (credited, pending, refused-and-held) is
//!    physically there. Failing it means money credited or held that does
//!    not exist: a note counted twice.
//! 3. [`Rule::BoxWithinBooks`]: `B - L <= D + nDu × 100 yuan + E` and
//!    `nB - nL <= nD + nE` — every note in the box that the books do not
//!    hold is one of the in-doubt notes, or the note the dead kiosk had in
//!    escrow (it asked the device to stack it, the device did, and the
//!    process died before journaling `Stacked`: physics first means the
//!    journal can lag the box by that one step, never lead it). In-doubt and
//!    escrowed notes are a bound, not a claim: each may or may not be in
//!    the box, so they only widen the upper side. Failing it means an
//!    accepted note went unrecorded.
//! 4. [`Rule::KeyAppliedOnce`]: the backend applied no key more than once.
//! 5. [`Rule::BackendKnowsOnlyJournaledKeys`]: every key the backend
//!    received is a journaled payment (journaled before it was posted),
//!    with the same amount where the journal still lists it as pending; a
//!    key the backend applied is credited or still pending in the journal
//!    (its answer lost), never refused; a key it refused is refused or
//!    pending, never credited.
//! 6. [`Rule::CreditedWasApplied`]: the journal's credited total equals the
//!    backend's applied amounts of the keys the journal has as credited:
//!    no payment is credited in the books that the backend did not apply.
//! 7. [`Rule::NoCreditBeyondBox`]: the backend's applied cash total is at
//!    most `B`: nothing was credited twice, under one key or two.
//!
//! # And after the quiescent run (no kill, healthy link)
//!
//! 8. [`Rule::NothingPending`]: no payment stays pending once the backend
//!    answers, and the journal's credited and refused totals equal the
//!    backend's applied and refused amounts.

use std::path::Path;

use kiosk_core::journal::{CashTotals, Journal, PaymentState};
use kiosk_hal::{Currency, IdempotencyKey, PostingAnswer};

use super::acceptor::PHYSICAL_FILE;
use super::backend::{BackendBook, BACKEND_FILE};
use super::physical::Physical;
use super::store;
use super::JOURNAL_FILE;

/// The largest note the kiosk takes (CNY minor units): the bound on an
/// in-doubt note of unknown value.
pub const MAX_NOTE_MINOR: i64 = 10_000;

/// One backend key and the journal's view of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    /// The key.
    pub key: String,
    /// The amount the backend received, minor units.
    pub amount_minor: i64,
    /// How often the backend applied it.
    pub applied: u32,
    /// How often it arrived.
    pub received: u32,
    /// Whether the backend's stored answer is a refusal.
    pub refused: bool,
    /// The payment's state in the journal, `None` if not journaled.
    pub journal: Option<PaymentState>,
    /// The journal's amount, if the payment is still pending there.
    pub journal_pending_minor: Option<i64>,
}

/// What the three witnesses say (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The physical note path and box.
    pub physical: Physical,
    /// The journal's CNY totals.
    pub books: CashTotals,
    /// In-doubt notes with a known value.
    pub in_doubt_known: u32,
    /// Notes in escrow in the journal's open sessions: count and value.
    pub escrowed: (u32, i64),
    /// Payments pending in the journal.
    pub pending: u32,
    /// The backend's keys.
    pub backend: Vec<KeyView>,
}

/// A money rule (see the module docs for each definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// 1: the journal agrees with itself.
    BooksBalance,
    /// 2: every note the books hold in the box is there.
    BooksWithinBox,
    /// 3: every note in the box is on the books or in doubt.
    BoxWithinBooks,
    /// 4: no key applied twice.
    KeyAppliedOnce,
    /// 5: the backend only saw journaled keys, and agrees on their fate.
    BackendKnowsOnlyJournaledKeys,
    /// 6: every credited payment was applied by the backend.
    CreditedWasApplied,
    /// 7: the backend credited no more than the box holds.
    NoCreditBeyondBox,
    /// 8 (quiescent run): nothing pending, books and backend agree.
    NothingPending,
}

/// A broken rule, with the numbers that break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub rule: Rule,
    /// What the witnesses said.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.rule, self.detail)
    }
}

/// Reads the run directory `dir`. Call it only while no kiosk runs there.
/// A directory a kiosk never started in reads as empty.
pub fn observe(dir: &Path) -> Result<Observation, String> {
    let physical: Physical = store::load(&dir.join(PHYSICAL_FILE))
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let book: BackendBook = store::load(&dir.join(BACKEND_FILE))
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let journal_path = dir.join(JOURNAL_FILE);
    let journal = if journal_path.exists() {
        Some(Journal::open(&journal_path).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let zero = kiosk_hal::Money::zero(Currency::CNY);
    let (books, in_doubt, pending, open) = match &journal {
        Some(j) => (
            j.cash_totals(Currency::CNY).map_err(|e| e.to_string())?,
            j.in_doubt_notes().map_err(|e| e.to_string())?,
            j.pending_payments().map_err(|e| e.to_string())?,
            j.open_sessions().map_err(|e| e.to_string())?,
        ),
        None => (
            CashTotals {
                in_box: zero,
                notes_in_box: 0,
                credited: zero,
                pending: zero,
                refused: zero,
                in_doubt: zero,
                in_doubt_notes: 0,
                rejected_notes: 0,
            },
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let escrowed = open
        .iter()
        .flat_map(|s| s.escrowed.iter())
        .filter(|(_, value)| value.currency == Currency::CNY)
        .fold((0u32, 0i64), |(n, sum), (_, value)| {
            (n + 1, sum + value.minor)
        });
    let mut backend = Vec::with_capacity(book.keys.len());
    for (key, record) in &book.keys {
        let id = IdempotencyKey(key.clone().into());
        let state = match &journal {
            Some(j) => j.payment_state(&id).map_err(|e| e.to_string())?,
            None => None,
        };
        backend.push(KeyView {
            key: key.clone(),
            amount_minor: record.amount_minor,
            applied: record.applied,
            received: record.received,
            refused: matches!(record.answer, PostingAnswer::Refused { .. }),
            journal: state,
            journal_pending_minor: pending.iter().find(|p| p.key == id).map(|p| p.amount.minor),
        });
    }
    Ok(Observation {
        physical,
        books,
        in_doubt_known: in_doubt.iter().filter(|n| n.value.is_some()).count() as u32,
        escrowed,
        pending: pending.len() as u32,
        backend,
    })
}

fn yuan(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

impl Observation {
    /// `L`: the value the books hold in the box.
    pub fn books_in_box(&self) -> i64 {
        self.books.credited.minor + self.books.pending.minor + self.books.refused.minor
    }

    /// One line with every number the rules use.
    pub fn summary(&self) -> String {
        let (n_box, b) = self.physical.box_total();
        let t = &self.books;
        format!(
            "box {} in {n_box} notes (path {:?}); books: credited {} + pending {} + refused {} \
             = {} in {} notes, in doubt {} notes ({} of known value, {}), in escrow in open \
             sessions {} notes ({}); backend: {} keys, applied {}",
            yuan(b),
            self.physical.path,
            yuan(t.credited.minor),
            yuan(t.pending.minor),
            yuan(t.refused.minor),
            yuan(t.in_box.minor),
            t.notes_in_box,
            t.in_doubt_notes,
            self.in_doubt_known,
            yuan(t.in_doubt.minor),
            self.escrowed.0,
            yuan(self.escrowed.1),
            self.backend.len(),
            yuan(self.backend_applied()),
        )
    }

    fn backend_applied(&self) -> i64 {
        self.backend
            .iter()
            .map(|k| i64::from(k.applied.min(1)) * k.amount_minor)
            .sum()
    }

    /// Rules 1–7 (after every kill).
    pub fn violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut fail = |rule, detail: String| out.push(Violation { rule, detail });
        let t = &self.books;
        let (n_box, b) = self.physical.box_total();
        let l = self.books_in_box();
        if t.in_box.minor != l {
            fail(
                Rule::BooksBalance,
                format!(
                    "journal in-box {} != credited + pending + refused {}",
                    yuan(t.in_box.minor),
                    yuan(l)
                ),
            );
        }
        if l > b || t.notes_in_box > n_box {
            fail(
                Rule::BooksWithinBox,
                format!(
                    "the books hold {} in {} notes in the box, the box has {} in {n_box}",
                    yuan(l),
                    t.notes_in_box,
                    yuan(b)
                ),
            );
        }
        let unknown = i64::from(t.in_doubt_notes.saturating_sub(self.in_doubt_known));
        let (n_escrowed, escrowed) = self.escrowed;
        let bound = t.in_doubt.minor + unknown * MAX_NOTE_MINOR + escrowed;
        let n_bound = t.in_doubt_notes + n_escrowed;
        if b - l > bound || n_box.saturating_sub(t.notes_in_box) > n_bound {
            fail(
                Rule::BoxWithinBooks,
                format!(
                    "the box has {} in {n_box} notes, the books hold {} in {} notes, and only \
                     {n_bound} notes ({} at most) are in doubt or in escrow: an accepted note \
                     is unrecorded",
                    yuan(b),
                    yuan(l),
                    t.notes_in_box,
                    yuan(bound)
                ),
            );
        }
        for k in &self.backend {
            if k.applied > 1 {
                fail(
                    Rule::KeyAppliedOnce,
                    format!("key {} applied {} times", k.key, k.applied),
                );
            }
            let fits = match k.journal {
                None => false,
                Some(PaymentState::Pending) => {
                    k.journal_pending_minor.is_some_and(|m| m == k.amount_minor)
                }
                Some(PaymentState::Credited) => k.applied >= 1,
                Some(PaymentState::Refused) => k.refused,
            };
            if !fits {
                fail(
                    Rule::BackendKnowsOnlyJournaledKeys,
                    format!(
                        "backend has key {} ({}, applied {}, refused {}), journal has {:?} \
                         (pending amount {:?})",
                        k.key,
                        yuan(k.amount_minor),
                        k.applied,
                        k.refused,
                        k.journal,
                        k.journal_pending_minor.map(yuan)
                    ),
                );
            }
        }
        let applied_and_credited: i64 = self
            .backend
            .iter()
            .filter(|k| k.journal == Some(PaymentState::Credited) && k.applied >= 1)
            .map(|k| k.amount_minor)
            .sum();
        if applied_and_credited != t.credited.minor {
            fail(
                Rule::CreditedWasApplied,
                format!(
                    "journal credited {}, backend applied {} of those keys",
                    yuan(t.credited.minor),
                    yuan(applied_and_credited)
                ),
            );
        }
        let applied = self.backend_applied();
        if applied > b {
            fail(
                Rule::NoCreditBeyondBox,
                format!(
                    "backend credited {} for a box of {}",
                    yuan(applied),
                    yuan(b)
                ),
            );
        }
        out
    }

    /// Rule 8 (after the quiescent run), on top of [`Observation::violations`].
    pub fn settled_violations(&self) -> Vec<Violation> {
        let mut out = self.violations();
        let refused: i64 = self
            .backend
            .iter()
            .filter(|k| k.refused)
            .map(|k| k.amount_minor)
            .sum();
        let t = &self.books;
        if self.pending > 0
            || t.credited.minor != self.backend_applied()
            || t.refused.minor != refused
        {
            out.push(Violation {
                rule: Rule::NothingPending,
                detail: format!(
                    "after the quiescent run: {} payments pending ({}), journal credited {} vs \
                     backend applied {}, journal refused {} vs backend refused {}",
                    self.pending,
                    yuan(t.pending.minor),
                    yuan(t.credited.minor),
                    yuan(self.backend_applied()),
                    yuan(t.refused.minor),
                    yuan(refused)
                ),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::Money;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::CNY)
    }

    /// A box of 50 + 20, both credited under one key each, and one 10 in
    /// doubt that is not in the box.
    fn balanced() -> Observation {
        Observation {
            physical: Physical {
                cash_box: vec![5000, 2000],
                ..Physical::default()
            },
            books: CashTotals {
                in_box: cny(7000),
                notes_in_box: 2,
                credited: cny(7000),
                pending: cny(0),
                refused: cny(0),
                in_doubt: cny(1000),
                in_doubt_notes: 1,
                rejected_notes: 0,
            },
            in_doubt_known: 1,
            escrowed: (0, 0),
            pending: 0,
            backend: vec![
                key("a", 5000, PaymentState::Credited),
                key("b", 2000, PaymentState::Credited),
            ],
        }
    }

    fn key(name: &str, minor: i64, state: PaymentState) -> KeyView {
        KeyView {
            key: name.into(),
            amount_minor: minor,
            applied: 1,
            received: 1,
            refused: false,
            journal: Some(state),
            journal_pending_minor: None,
        }
    }

    fn rules(o: &Observation) -> Vec<Rule> {
        o.settled_violations().iter().map(|v| v.rule).collect()
    }

    #[test]
    fn a_balanced_run_breaks_no_rule() {
        assert_eq!(rules(&balanced()), vec![]);
        // The in-doubt 10 may also be in the box.
        let mut o = balanced();
        o.physical.cash_box.push(1000);
        assert_eq!(rules(&o), vec![]);
    }

    #[test]
    fn a_note_in_the_box_beyond_the_in_doubt_bound_is_unrecorded() {
        let mut o = balanced();
        o.physical.cash_box.push(10000);
        let v = o.violations();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].rule, Rule::BoxWithinBooks);
        assert!(v[0].detail.contains("unrecorded"), "{}", v[0]);
    }

    /// Found by the first 1,000-kill run (seed 1000, kill 8): the kiosk
    /// died after the device stacked a 20-yuan note and before it journaled
    /// `Stacked`; the journal still had it in escrow. That is the one step
    /// physics-first allows the journal to lag; it is a bound, not a loss.
    #[test]
    fn a_note_the_dead_kiosk_had_in_escrow_may_be_in_the_box() {
        let mut o = balanced();
        o.physical.cash_box.push(2000);
        o.escrowed = (1, 2000);
        assert_eq!(rules(&o), vec![]);
        o.physical.cash_box.push(2000);
        let found: Vec<Rule> = o.violations().iter().map(|v| v.rule).collect();
        assert_eq!(found, vec![Rule::BoxWithinBooks], "only one was in escrow");
    }

    #[test]
    fn a_note_missing_from_the_box_breaks_the_books_side() {
        let mut o = balanced();
        o.physical.cash_box.pop();
        let found: Vec<Rule> = o.violations().iter().map(|v| v.rule).collect();
        assert_eq!(found, vec![Rule::BooksWithinBox, Rule::NoCreditBeyondBox]);
    }

    #[test]
    fn a_key_applied_twice_or_unjournaled_is_caught() {
        let mut o = balanced();
        o.backend[0].applied = 2;
        assert_eq!(rules(&o), vec![Rule::KeyAppliedOnce]);
        let mut o = balanced();
        o.backend.push(KeyView {
            journal: None,
            ..key("c", 1000, PaymentState::Credited)
        });
        assert_eq!(
            rules(&o),
            vec![
                Rule::BackendKnowsOnlyJournaledKeys,
                Rule::NoCreditBeyondBox,
                Rule::NothingPending
            ]
        );
    }

    #[test]
    fn a_credit_the_backend_never_applied_is_caught() {
        let mut o = balanced();
        o.backend[1].applied = 0;
        let found: Vec<Rule> = o.violations().iter().map(|v| v.rule).collect();
        assert_eq!(
            found,
            vec![
                Rule::BackendKnowsOnlyJournaledKeys,
                Rule::CreditedWasApplied
            ]
        );
    }

    #[test]
    fn the_same_money_credited_under_two_keys_exceeds_the_box() {
        let mut o = balanced();
        o.backend.push(KeyView {
            journal: Some(PaymentState::Pending),
            journal_pending_minor: Some(5000),
            ..key("a-again", 5000, PaymentState::Pending)
        });
        o.books.pending = cny(5000);
        o.books.in_box = cny(12000);
        o.books.notes_in_box = 3;
        let found: Vec<Rule> = o.violations().iter().map(|v| v.rule).collect();
        assert_eq!(found, vec![Rule::BooksWithinBox, Rule::NoCreditBeyondBox]);
    }

    #[test]
    fn a_payment_left_pending_fails_only_the_quiescent_rule() {
        let mut o = balanced();
        o.backend[1].journal = Some(PaymentState::Pending);
        o.backend[1].journal_pending_minor = Some(2000);
        o.books.credited = cny(5000);
        o.books.pending = cny(2000);
        o.pending = 1;
        assert_eq!(o.violations(), vec![]);
        assert_eq!(rules(&o), vec![Rule::NothingPending]);
    }
}
