//! In-doubt notes settled by two staff members at a dual-control clearing.

use kiosk_hal::{NoteFate, PaymentMethod};

use super::*;
use crate::journal::{NoteId, PaymentState, Settlement};

/// Two different people.
fn pair() -> [String; 2] {
    ["Wang Fang".to_string(), "Li Wei".to_string()]
}

/// The kind and detail of the newest audit row.
fn last_event(j: &Journal) -> (String, serde_json::Value) {
    let (kind, detail): (String, String) = j
        .conn
        .query_row(
            "SELECT kind, detail FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (kind, serde_json::from_str(&detail).unwrap())
}

/// A session with a credited 100 note and a 50 note in doubt.
fn with_a_note_in_doubt(j: &mut Journal) -> (SessionId, NoteId) {
    let s = begin(j, 1, PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(10000), Millis(1)).unwrap();
    j.payment_pending(&s, &key("K01-000001"), cny(10000), Millis(2))
        .unwrap();
    j.payment_credited(&key("K01-000001"), "B1", cny(10000), Millis(3))
        .unwrap();
    let n = j.note_escrowed(&s, cny(5000), Millis(4)).unwrap();
    j.note_in_doubt(&s, Some(n), None, Millis(5)).unwrap();
    (s, n)
}

#[test]
fn a_note_staff_find_in_the_box_is_credited_and_the_clearing_balances() {
    let (_dir, mut j) = journal();
    let (s, n) = with_a_note_in_doubt(&mut j);
    assert_eq!(j.in_doubt_notes().unwrap().len(), 1);
    let Settlement::Credit(p) = j
        .settle_in_doubt_by_staff(n, NoteFate::InCashBox, &pair(), Millis(10))
        .unwrap()
    else {
        panic!("expected a credit");
    };
    assert_eq!(p.key, key(&format!("{s}-n{}", n.0)));
    assert_eq!(p.amount, cny(5000));
    assert_eq!(
        j.payment_state(&p.key).unwrap(),
        Some(PaymentState::Pending)
    );
    assert!(j.in_doubt_notes().unwrap().is_empty());
    let (kind_, detail) = last_event(&j);
    assert_eq!(kind_, "note-settled-by-staff");
    assert_eq!(
        detail["operators"],
        serde_json::json!(["Wang Fang", "Li Wei"])
    );
    assert_eq!(detail["fate"], "in-cash-box");

    // The box holds the credited 100 and the found 50: the clearing balances.
    let clearing = j
        .record_clearing(Millis(11), &pair(), cny(15000), None, 0)
        .unwrap();
    assert_eq!(clearing.expected, cny(15000));
    assert_eq!(clearing.over_short(), 0);
    assert_eq!(clearing.pending, cny(5000));
    assert_eq!(clearing.in_doubt_notes, 0);
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_balanced(&t);
    assert_eq!((t.credited, t.pending), (cny(10000), cny(5000)));
    j.verify_full().unwrap();
    // Once only, whoever asks.
    assert_eq!(
        kind(j.settle_in_doubt_by_staff(n, NoteFate::Returned, &pair(), Millis(12))),
        JournalErrorKind::IllegalTransition
    );
    assert_eq!(
        kind(j.settle_in_doubt(n, NoteFate::InCashBox, Millis(12))),
        JournalErrorKind::IllegalTransition
    );
}

#[test]
fn a_note_staff_find_returned_leaves_the_books_as_they_were() {
    let (_dir, mut j) = journal();
    let (_s, n) = with_a_note_in_doubt(&mut j);
    let before = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        j.settle_in_doubt_by_staff(n, NoteFate::Returned, &pair(), Millis(10))
            .unwrap(),
        Settlement::Returned
    );
    assert!(j.in_doubt_notes().unwrap().is_empty());
    let after = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (after.in_box, after.credited),
        (before.in_box, before.credited)
    );
    assert_eq!((after.in_doubt, after.in_doubt_notes), (cny(0), 0));
    let clearing = j
        .record_clearing(Millis(11), &pair(), cny(10000), None, 0)
        .unwrap();
    assert_eq!(clearing.over_short(), 0);
    // The audit row names the clearing; its row holds what was expected.
    let (kind_, detail) = last_event(&j);
    assert_eq!(kind_, "clearing");
    let expected: i64 = j
        .conn
        .query_row(
            "SELECT expected_minor FROM clearings WHERE id = ?1",
            [detail["clearing"].as_i64().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(expected, 10000);
}

#[test]
fn staff_settlement_needs_two_different_named_people() {
    let (_dir, mut j) = journal();
    let (_s, n) = with_a_note_in_doubt(&mut j);
    let events = j.event_count();
    let one = |a: &str, b: &str| [a.to_string(), b.to_string()];
    for operators in [
        one("Wang Fang", "Wang Fang"),
        one("Wang Fang", " Wang Fang "),
        one("Wang Fang", ""),
        one("  ", "Li Wei"),
    ] {
        let err = j
            .settle_in_doubt_by_staff(n, NoteFate::InCashBox, &operators, Millis(10))
            .expect_err("dual control");
        assert_eq!(err.kind(), JournalErrorKind::IllegalTransition);
        assert!(err.to_string().contains("dual control"), "{err}");
    }
    assert_eq!(j.event_count(), events, "nothing written");
    assert_eq!(j.in_doubt_notes().unwrap().len(), 1);
    // The clearing applies the same rule (a blank second name was let through).
    assert_eq!(
        kind(j.record_clearing(Millis(11), &one("Wang Fang", ""), cny(0), None, 0)),
        JournalErrorKind::IllegalTransition
    );
}
