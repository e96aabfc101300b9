//! Sessions and notes: every transition and the illegal ones.

use kiosk_hal::{NoteFate, PaymentMethod, RejectReason};

use super::*;
use crate::journal::{NoteId, NoteState, PaymentState, SessionOutcome, Settlement};

/// The stored state of a note.
fn state(j: &Journal, id: NoteId) -> NoteState {
    let code: i64 = j
        .conn
        .query_row("SELECT state FROM notes WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })
        .unwrap();
    crate::journal::codec::note_state_from(code).unwrap()
}

#[test]
fn sessions_begin_once_and_end_once() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let again = SessionStart {
        id: s.clone(),
        kiosk: kiosk(),
        account: AccountNumber("x".into()),
        method: PaymentMethod::Code,
        at: Millis(5),
    };
    assert_eq!(
        kind(j.begin_session(&again)),
        JournalErrorKind::IllegalTransition
    );
    let unknown = SessionId("K01-999999".into());
    assert_eq!(
        kind(j.end_session(&unknown, SessionOutcome::NoPayment, Millis(6))),
        JournalErrorKind::UnknownRecord
    );
    j.end_session(&s, SessionOutcome::NoPayment, Millis(7))
        .unwrap();
    assert_eq!(
        kind(j.end_session(&s, SessionOutcome::Aborted, Millis(8))),
        JournalErrorKind::IllegalTransition
    );
    assert!(j.open_sessions().unwrap().is_empty());
}

#[test]
fn escrowed_then_stacked_once() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let n = j.note_escrowed(&s, cny(2000), Millis(1)).unwrap();
    assert_eq!(state(&j, n), NoteState::Escrowed);
    assert_eq!(
        kind(j.note_stacked(&s, Some(n), cny(5000), Millis(2))),
        JournalErrorKind::IllegalTransition,
        "value must match the escrow"
    );
    assert_eq!(
        j.note_stacked(&s, Some(n), cny(2000), Millis(3)).unwrap(),
        n
    );
    assert_eq!(state(&j, n), NoteState::Stacked);
    let events = j.event_count();
    assert_eq!(
        kind(j.note_stacked(&s, Some(n), cny(2000), Millis(4))),
        JournalErrorKind::IllegalTransition,
        "never stacks twice"
    );
    assert_eq!(
        kind(j.note_returned(n, Millis(5))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.note_in_doubt(&s, Some(n), None, Millis(6))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(j.event_count(), events, "refused calls write nothing");
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.in_box, t.notes_in_box, t.pending),
        (cny(2000), 1, cny(2000))
    );
}

#[test]
fn a_stack_without_escrow_makes_a_new_note() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let a = j.note_stacked(&s, None, cny(1000), Millis(1)).unwrap();
    let b = j.note_stacked(&s, None, cny(1000), Millis(2)).unwrap();
    assert_ne!(a, b);
    assert_eq!(state(&j, b), NoteState::Stacked);
    assert_eq!(
        j.open_sessions().unwrap()[0].unposted_stacked,
        Some(cny(2000))
    );
}

#[test]
fn notes_need_a_known_session_a_positive_value_and_one_currency() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let other = begin(&mut j, 2, PaymentMethod::Cash);
    let ghost = SessionId("K01-000404".into());
    assert_eq!(
        kind(j.note_escrowed(&ghost, cny(100), Millis(1))),
        JournalErrorKind::UnknownRecord
    );
    assert_eq!(
        kind(j.note_stacked(&ghost, None, cny(100), Millis(1))),
        JournalErrorKind::UnknownRecord
    );
    assert_eq!(
        kind(j.note_escrowed(&s, cny(0), Millis(1))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.note_stacked(&s, None, cny(-5), Millis(1))),
        JournalErrorKind::IllegalTransition
    );
    j.note_escrowed(&s, cny(100), Millis(2)).unwrap();
    let eur = Money::new(500, Currency::EUR);
    assert_eq!(
        kind(j.note_stacked(&s, None, eur, Millis(3))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.note_returned(NoteId(9999), Millis(3))),
        JournalErrorKind::UnknownRecord
    );
    // A note is moved only within its own session.
    let n = j.note_escrowed(&other, cny(100), Millis(4)).unwrap();
    assert_eq!(
        kind(j.note_stacked(&s, Some(n), cny(100), Millis(5))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(state(&j, n), NoteState::Escrowed);
}

#[test]
fn escrowed_then_returned() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let n = j.note_escrowed(&s, cny(1000), Millis(1)).unwrap();
    j.note_returned(n, Millis(2)).unwrap();
    assert_eq!(state(&j, n), NoteState::Returned);
    assert_eq!(
        kind(j.note_returned(n, Millis(3))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.note_stacked(&s, Some(n), cny(1000), Millis(4))),
        JournalErrorKind::IllegalTransition
    );
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_box, t.notes_in_box), (cny(0), 0));
    assert!(j.open_sessions().unwrap()[0].escrowed.is_empty());
}

#[test]
fn rejects_are_counted_per_session_and_per_period() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let t = begin(&mut j, 2, PaymentMethod::Cash);
    assert_eq!(
        j.note_rejected(&s, RejectReason::Counterfeit, Millis(10))
            .unwrap(),
        1
    );
    assert_eq!(
        j.note_rejected(&s, RejectReason::Insertion, Millis(20))
            .unwrap(),
        2
    );
    assert_eq!(
        j.note_rejected(&t, RejectReason::Other, Millis(30))
            .unwrap(),
        1
    );
    assert_eq!(
        j.note_rejected(&s, RejectReason::Inhibited, Millis(40))
            .unwrap(),
        3
    );
    assert_eq!(j.rejects_between(Millis(0), Millis(100)).unwrap(), 4);
    assert_eq!(j.rejects_between(Millis(20), Millis(40)).unwrap(), 2);
    assert_eq!(j.rejects_between(Millis(41), Millis(100)).unwrap(), 0);
    assert_eq!(j.cash_totals(Currency::CNY).unwrap().rejected_notes, 4);
    let ghost = SessionId("nope".into());
    assert_eq!(
        kind(j.note_rejected(&ghost, RejectReason::Other, Millis(1))),
        JournalErrorKind::UnknownRecord
    );
}

#[test]
fn in_doubt_from_escrow_or_from_nothing() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let kept = j.note_escrowed(&s, cny(5000), Millis(1)).unwrap();
    assert_eq!(
        j.note_in_doubt(&s, Some(kept), None, Millis(2)).unwrap(),
        kept
    );
    let corrected = j.note_escrowed(&s, cny(1000), Millis(3)).unwrap();
    j.note_in_doubt(&s, Some(corrected), Some(cny(2000)), Millis(4))
        .unwrap();
    let unknown = j.note_in_doubt(&s, None, None, Millis(5)).unwrap();
    let known = j
        .note_in_doubt(&s, None, Some(cny(10000)), Millis(6))
        .unwrap();
    assert_eq!(
        kind(j.note_in_doubt(&s, Some(kept), None, Millis(7))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.note_stacked(&s, Some(kept), cny(5000), Millis(7))),
        JournalErrorKind::IllegalTransition,
        "an in-doubt note is settled, not stacked"
    );
    let listed = j.in_doubt_notes().unwrap();
    let summary: Vec<_> = listed.iter().map(|n| (n.id, n.value, n.since)).collect();
    assert_eq!(
        summary,
        vec![
            (kept, Some(cny(5000)), Millis(2)),
            (corrected, Some(cny(2000)), Millis(4)),
            (unknown, None, Millis(5)),
            (known, Some(cny(10000)), Millis(6)),
        ]
    );
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_doubt, t.in_doubt_notes), (cny(17000), 4));
    assert_eq!(t.in_box, cny(0));
}

#[test]
fn settling_credits_a_note_in_the_box_exactly_once() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 3, PaymentMethod::Cash);
    let n = j.note_escrowed(&s, cny(5000), Millis(1)).unwrap();
    j.note_in_doubt(&s, Some(n), None, Millis(2)).unwrap();
    let events = j.event_count();
    assert_eq!(
        j.settle_in_doubt(n, NoteFate::Unknown, Millis(3)).unwrap(),
        Settlement::StillInDoubt
    );
    assert_eq!(j.event_count(), events + 1, "the report is recorded");
    assert_eq!(state(&j, n), NoteState::InDoubt);
    let Settlement::Credit(p) = j
        .settle_in_doubt(n, NoteFate::InCashBox, Millis(4))
        .unwrap()
    else {
        panic!("expected a credit");
    };
    assert_eq!(p.key, key(&format!("{s}-n{}", n.0)));
    assert_eq!(
        (p.amount, p.method, p.attempts),
        (cny(5000), PaymentMethod::Cash, 0)
    );
    assert_eq!(p.account, AccountNumber("0571-88886666".into()));
    assert_eq!(
        j.payment_state(&p.key).unwrap(),
        Some(PaymentState::Pending)
    );
    assert_eq!(j.pending_payments().unwrap(), vec![p.clone()]);
    assert_eq!(state(&j, n), NoteState::SettledInBox);
    assert!(j.in_doubt_notes().unwrap().is_empty());
    for fate in [NoteFate::InCashBox, NoteFate::Returned, NoteFate::Unknown] {
        assert_eq!(
            kind(j.settle_in_doubt(n, fate, Millis(5))),
            JournalErrorKind::IllegalTransition
        );
    }
    assert_eq!(
        kind(j.settle_in_doubt(NoteId(777), NoteFate::Returned, Millis(5))),
        JournalErrorKind::UnknownRecord
    );
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.in_box, t.pending, t.notes_in_box),
        (cny(5000), cny(5000), 1)
    );
    assert_balanced(&t);
    // The settled note is not the session's unposted money: it has its own payment.
    assert_eq!(j.open_sessions().unwrap()[0].unposted_stacked, None);
}

#[test]
fn settling_returned_and_unknown_value() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let back = j
        .note_in_doubt(&s, None, Some(cny(1000)), Millis(1))
        .unwrap();
    let blind = j.note_in_doubt(&s, None, None, Millis(2)).unwrap();
    assert_eq!(
        j.settle_in_doubt(back, NoteFate::Returned, Millis(3))
            .unwrap(),
        Settlement::Returned
    );
    assert_eq!(state(&j, back), NoteState::SettledReturned);
    assert_eq!(
        j.settle_in_doubt(blind, NoteFate::InCashBox, Millis(4))
            .unwrap(),
        Settlement::InBoxValueUnknown
    );
    assert_eq!(state(&j, blind), NoteState::SettledInBox);
    assert!(j.pending_payments().unwrap().is_empty());
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_box, t.notes_in_box, t.in_doubt_notes), (cny(0), 1, 0));
    assert_balanced(&t);
}

/// A note the acceptor reported in the box outside any session is in doubt
/// like any other, but the journal tells recovery that it was never in the
/// acceptor's path, for as long as it is the newest note and in doubt; the
/// audit row says why, and a reopen reads the same.
#[test]
fn an_unaccounted_note_is_known_as_such_while_it_is_the_newest_in_doubt() {
    let (_dir, mut j) = journal();
    assert!(!j.last_note_unaccounted().unwrap(), "no notes at all");
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let path = j
        .note_in_doubt(&s, None, Some(cny(1000)), Millis(1))
        .unwrap();
    assert!(!j.last_note_unaccounted().unwrap(), "in doubt in the path");
    j.end_session(&s, SessionOutcome::Interrupted, Millis(2))
        .unwrap();
    let found = j.note_unaccounted(&s, Some(cny(1000)), Millis(3)).unwrap();
    assert!(j.last_note_unaccounted().unwrap());
    assert_eq!(
        j.in_doubt_notes()
            .unwrap()
            .iter()
            .map(|n| n.id)
            .collect::<Vec<_>>(),
        vec![path, found],
        "both in doubt, neither credited"
    );
    let detail: String = j
        .conn
        .query_row(
            "SELECT detail FROM audit WHERE note = ?1 AND kind = 'note-in-doubt'",
            [found.0],
            |r| r.get(0),
        )
        .unwrap();
    assert!(detail.contains("unaccounted"), "{detail}");
    let path_file = j.path().to_path_buf();
    j.close().unwrap();
    let mut j = Journal::open(&path_file).unwrap();
    assert!(
        j.last_note_unaccounted().unwrap(),
        "read again after a reopen"
    );
    let staff = ["zhang".to_string(), "li".to_string()];
    j.settle_in_doubt_by_staff(found, NoteFate::Returned, &staff, Millis(4))
        .unwrap();
    assert!(
        !j.last_note_unaccounted().unwrap(),
        "settled: no longer in doubt"
    );
    let s2 = begin(&mut j, 2, PaymentMethod::Cash);
    j.note_unaccounted(&s2, None, Millis(5)).unwrap();
    assert!(j.last_note_unaccounted().unwrap(), "of unknown value too");
    j.note_escrowed(&s2, cny(2000), Millis(6)).unwrap();
    assert!(!j.last_note_unaccounted().unwrap(), "a newer note came");
}
