//! Payments: pending, attempts, credited, refused, idempotency.

use kiosk_hal::PaymentMethod;

use super::*;
use crate::journal::{CreditOutcome, PaymentState, SessionOutcome};

/// A cash session with two stacked notes (70.00) and one escrowed.
fn cash_session(j: &mut Journal) -> SessionId {
    let s = begin(j, 1, PaymentMethod::Cash);
    let a = j.note_escrowed(&s, cny(5000), Millis(1)).unwrap();
    j.note_stacked(&s, Some(a), cny(5000), Millis(2)).unwrap();
    j.note_stacked(&s, None, cny(2000), Millis(3)).unwrap();
    j.note_escrowed(&s, cny(1000), Millis(4)).unwrap();
    s
}

#[test]
fn a_cash_payment_must_match_the_unposted_stacked_notes() {
    let (_dir, mut j) = journal();
    let s = cash_session(&mut j);
    let k = key("K01-000001");
    let events = j.event_count();
    for wrong in [
        cny(5000),
        cny(8000),
        cny(0),
        Money::new(7000, Currency::EUR),
    ] {
        assert_eq!(
            kind(j.payment_pending(&s, &k, wrong, Millis(5))),
            JournalErrorKind::IllegalTransition
        );
    }
    assert_eq!(j.event_count(), events);
    assert_eq!(j.payment_state(&k).unwrap(), None);
    let p = j.payment_pending(&s, &k, cny(7000), Millis(6)).unwrap();
    assert_eq!(
        (p.amount, p.method, p.attempts, p.created_at),
        (cny(7000), PaymentMethod::Cash, 0, Millis(6))
    );
    assert_eq!(p.session, s);
    let open = &j.open_sessions().unwrap()[0];
    assert!(open.has_payment);
    assert_eq!(open.unposted_stacked, None);
    // Nothing left to post: a second payment has no notes behind it.
    assert_eq!(
        kind(j.payment_pending(&s, &key("other"), cny(7000), Millis(7))),
        JournalErrorKind::IllegalTransition
    );
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.in_box, t.pending, t.credited),
        (cny(7000), cny(7000), cny(0))
    );
    assert_balanced(&t);
}

#[test]
fn payment_pending_is_idempotent_by_key() {
    let (_dir, mut j) = journal();
    let s = cash_session(&mut j);
    let k = key("K01-000001");
    let first = j.payment_pending(&s, &k, cny(7000), Millis(5)).unwrap();
    let events = j.event_count();
    let again = j.payment_pending(&s, &k, cny(7000), Millis(9)).unwrap();
    assert_eq!(again, first, "the existing record, not a new one");
    assert_eq!(j.event_count(), events, "nothing written");
    assert_eq!(j.pending_payments().unwrap().len(), 1);
    assert_eq!(
        kind(j.payment_pending(&s, &k, cny(5000), Millis(9))),
        JournalErrorKind::IllegalTransition
    );
    let t = begin(&mut j, 2, PaymentMethod::Code);
    assert_eq!(
        kind(j.payment_pending(&t, &k, cny(7000), Millis(9))),
        JournalErrorKind::IllegalTransition,
        "a key belongs to one session"
    );
}

#[test]
fn a_code_payment_involves_no_notes_and_no_cash_totals() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Code);
    let k = key("K01-000001");
    let p = j.payment_pending(&s, &k, cny(12345), Millis(1)).unwrap();
    assert_eq!(p.method, PaymentMethod::Code);
    j.payment_credited(&k, "BOSS-1", cny(0), Millis(2)).unwrap();
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.credited, t.pending, t.in_box), (cny(0), cny(0), cny(0)));
    assert_eq!(
        kind(j.payment_pending(&s, &key("z"), cny(-1), Millis(3))),
        JournalErrorKind::IllegalTransition
    );
    let ghost = SessionId("K01-000404".into());
    assert_eq!(
        kind(j.payment_pending(&ghost, &key("y"), cny(1), Millis(3))),
        JournalErrorKind::UnknownRecord
    );
}

#[test]
fn attempts_are_counted_while_pending() {
    let (_dir, mut j) = journal();
    let s = cash_session(&mut j);
    let k = key("K01-000001");
    j.payment_pending(&s, &k, cny(7000), Millis(5)).unwrap();
    assert_eq!(j.posting_attempted(&k, Millis(6)).unwrap(), 1);
    assert_eq!(j.posting_attempted(&k, Millis(7)).unwrap(), 2);
    assert_eq!(j.pending_payments().unwrap()[0].attempts, 2);
    assert_eq!(
        kind(j.posting_attempted(&key("nope"), Millis(8))),
        JournalErrorKind::UnknownRecord
    );
    j.payment_credited(&k, "BOSS-9", cny(100), Millis(9))
        .unwrap();
    assert_eq!(
        kind(j.posting_attempted(&k, Millis(10))),
        JournalErrorKind::IllegalTransition
    );
}

#[test]
fn a_payment_is_credited_once() {
    let (_dir, mut j) = journal();
    let s = cash_session(&mut j);
    let k = key("K01-000001");
    assert_eq!(
        kind(j.payment_credited(&k, "BOSS-1", cny(0), Millis(5))),
        JournalErrorKind::UnknownRecord
    );
    j.payment_pending(&s, &k, cny(7000), Millis(5)).unwrap();
    assert_eq!(
        j.payment_credited(&k, "BOSS-1", cny(9000), Millis(6))
            .unwrap(),
        CreditOutcome::Credited
    );
    assert_eq!(j.payment_state(&k).unwrap(), Some(PaymentState::Credited));
    assert_eq!(
        j.payment_credited(&k, "BOSS-1", cny(9000), Millis(7))
            .unwrap(),
        CreditOutcome::AlreadyCredited
    );
    assert_eq!(
        j.payment_credited(&k, "BOSS-other", cny(1), Millis(8))
            .unwrap(),
        CreditOutcome::AlreadyCredited
    );
    let (r, bal): (String, i64) = j
        .conn
        .query_row(
            "SELECT backend_ref, balance_minor FROM payments WHERE key = ?1",
            [&k.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (r.as_str(), bal),
        ("BOSS-1", 9000),
        "the first answer stands"
    );
    assert_eq!(
        kind(j.payment_refused(&k, "late refusal", Millis(9))),
        JournalErrorKind::IllegalTransition
    );
    assert!(j.pending_payments().unwrap().is_empty());
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.credited, t.pending), (cny(7000), cny(0)));
    assert_balanced(&t);
    j.end_session(&s, SessionOutcome::Credited, Millis(10))
        .unwrap();
}

#[test]
fn a_refused_payment_stays_refused() {
    let (_dir, mut j) = journal();
    let s = cash_session(&mut j);
    let k = key("K01-000001");
    assert_eq!(
        kind(j.payment_refused(&k, "x", Millis(5))),
        JournalErrorKind::UnknownRecord
    );
    j.payment_pending(&s, &k, cny(7000), Millis(5)).unwrap();
    j.payment_refused(&k, "account frozen", Millis(6)).unwrap();
    assert_eq!(j.payment_state(&k).unwrap(), Some(PaymentState::Refused));
    j.payment_refused(&k, "account frozen", Millis(7)).unwrap();
    assert_eq!(
        kind(j.payment_credited(&k, "BOSS-1", cny(0), Millis(8))),
        JournalErrorKind::IllegalTransition
    );
    let reason: String = j
        .conn
        .query_row("SELECT reason FROM payments WHERE key = ?1", [&k.0], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(reason, "account frozen");
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.refused, t.pending, t.in_box),
        (cny(7000), cny(0), cny(7000))
    );
    assert_balanced(&t);
}
