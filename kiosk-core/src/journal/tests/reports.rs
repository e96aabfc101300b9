//! Receipts, the recovery lists, totals, numbering, the audit trail.

use kiosk_hal::{NoteFate, PaymentMethod, Receipt, ReceiptLine, RejectReason};

use super::*;
use crate::journal::{SessionOutcome, Settlement};

fn receipt(reference: &str) -> Receipt {
    Receipt {
        reference: reference.to_string(),
        lines: vec![
            ReceiptLine::Bold("缴费凭据".into()),
            ReceiptLine::Text("CNY 70.00".into()),
            ReceiptLine::Qr(reference.to_string()),
        ],
    }
}

#[test]
fn receipts_are_kept_until_reprinted_once() {
    let (_dir, mut j) = journal();
    let a = begin(&mut j, 1, PaymentMethod::Cash);
    let b = begin(&mut j, 2, PaymentMethod::Code);
    assert_eq!(
        kind(j.receipt_reprinted(&a, Millis(1))),
        JournalErrorKind::UnknownRecord
    );
    let ghost = SessionId("K01-000404".into());
    assert_eq!(
        kind(j.keep_receipt(&ghost, &receipt("x"), Millis(1))),
        JournalErrorKind::UnknownRecord
    );
    j.keep_receipt(&a, &receipt("K01-000001"), Millis(10))
        .unwrap();
    j.keep_receipt(&b, &receipt("K01-000002"), Millis(20))
        .unwrap();
    let owed = j.unprinted_receipts().unwrap();
    assert_eq!(owed.len(), 2);
    assert_eq!(
        (owed[0].session.clone(), owed[0].at),
        (a.clone(), Millis(10))
    );
    assert_eq!(owed[0].receipt, receipt("K01-000001"));
    j.receipt_reprinted(&a, Millis(30)).unwrap();
    assert_eq!(
        kind(j.receipt_reprinted(&a, Millis(31))),
        JournalErrorKind::IllegalTransition
    );
    let owed = j.unprinted_receipts().unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].session, b);
    // Keeping again replaces the receipt and makes it owed again.
    j.keep_receipt(&a, &receipt("K01-000001-bis"), Millis(40))
        .unwrap();
    let owed = j.unprinted_receipts().unwrap();
    assert_eq!(owed.len(), 2);
    assert_eq!(owed[1].receipt.reference, "K01-000001-bis");
}

#[test]
fn open_sessions_and_pending_payments_guide_recovery() {
    let (_dir, mut j) = journal();
    let done = begin(&mut j, 1, PaymentMethod::Code);
    j.end_session(&done, SessionOutcome::NoPayment, Millis(1))
        .unwrap();
    let paying = begin(&mut j, 2, PaymentMethod::Code);
    let k2 = key("K01-000002");
    j.payment_pending(&paying, &k2, cny(3000), Millis(2))
        .unwrap();
    let cash = begin(&mut j, 3, PaymentMethod::Cash);
    j.note_stacked(&cash, None, cny(1000), Millis(3)).unwrap();
    let jammed = j
        .note_in_doubt(&cash, None, Some(cny(500)), Millis(4))
        .unwrap();
    let Settlement::Credit(p3) = j
        .settle_in_doubt(jammed, NoteFate::InCashBox, Millis(5))
        .unwrap()
    else {
        panic!("credit expected")
    };
    let open = j.open_sessions().unwrap();
    let ids: Vec<_> = open.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids, vec![paying.clone(), cash.clone()]);
    assert!(open[0].has_payment && open[0].unposted_stacked.is_none());
    assert!(
        open[1].has_payment,
        "the settlement's payment is the session's"
    );
    assert_eq!(open[1].unposted_stacked, Some(cny(1000)));
    let keys: Vec<_> = j
        .pending_payments()
        .unwrap()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(keys, vec![k2, p3.key]);
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.in_box, t.pending, t.notes_in_box),
        (cny(1500), cny(1500), 2)
    );
    assert_balanced(&t);
}

#[test]
fn session_numbers_continue_after_the_largest() {
    let (_dir, mut j) = journal();
    assert_eq!(j.max_session_seq().unwrap(), 0);
    begin(&mut j, 41, PaymentMethod::Cash);
    begin(&mut j, 7, PaymentMethod::Cash);
    let odd = SessionStart {
        id: SessionId("HALL7-K03-test".into()),
        kiosk: KioskId("HALL7-K03".into()),
        account: AccountNumber("1".into()),
        method: PaymentMethod::Code,
        at: Millis(1),
    };
    j.begin_session(&odd).unwrap();
    let dashed = SessionStart {
        id: SessionId("HALL7-K03-000100".into()),
        ..odd
    };
    j.begin_session(&dashed).unwrap();
    assert_eq!(j.max_session_seq().unwrap(), 100);
}

#[test]
fn every_change_is_one_audit_row_and_reads_write_nothing() {
    let (_dir, mut j) = journal();
    let mut expected = 0;
    let mut step = |j: &Journal| {
        expected += 1;
        assert_eq!(j.event_count(), expected);
    };
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    step(&j);
    let n = j.note_escrowed(&s, cny(1000), Millis(1)).unwrap();
    step(&j);
    j.note_stacked(&s, Some(n), cny(1000), Millis(2)).unwrap();
    step(&j);
    j.note_rejected(&s, RejectReason::Counterfeit, Millis(3))
        .unwrap();
    step(&j);
    let k = key("K01-000001");
    j.payment_pending(&s, &k, cny(1000), Millis(4)).unwrap();
    step(&j);
    j.posting_attempted(&k, Millis(5)).unwrap();
    step(&j);
    j.payment_credited(&k, "B", cny(0), Millis(6)).unwrap();
    step(&j);
    j.keep_receipt(&s, &receipt("r"), Millis(7)).unwrap();
    step(&j);
    j.end_session(&s, SessionOutcome::Credited, Millis(8))
        .unwrap();
    step(&j);
    let before = std::fs::read(j.path()).unwrap();
    let wal = j.path().with_extension("sqlite-wal");
    let wal_before = std::fs::read(&wal).unwrap();
    j.open_sessions().unwrap();
    j.pending_payments().unwrap();
    j.in_doubt_notes().unwrap();
    j.unprinted_receipts().unwrap();
    j.cash_totals(Currency::CNY).unwrap();
    j.payment_state(&k).unwrap();
    j.max_session_seq().unwrap();
    j.rejects_between(Millis(0), Millis(9)).unwrap();
    assert_eq!(std::fs::read(j.path()).unwrap(), before);
    assert_eq!(std::fs::read(&wal).unwrap(), wal_before);
    let kinds: Vec<String> = j
        .conn
        .prepare("SELECT kind FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        [
            "session-begun",
            "note-escrowed",
            "note-stacked",
            "note-rejected",
            "payment-pending",
            "posting-attempted",
            "payment-credited",
            "receipt-kept",
            "session-ended"
        ]
    );
}

#[test]
fn the_largest_session_number_counts_open_and_ended_sessions() {
    let (_dir, mut j) = journal();
    assert_eq!(j.max_session_seq().unwrap(), 0);
    let s7 = begin(&mut j, 7, PaymentMethod::Code);
    assert_eq!(j.max_session_seq().unwrap(), 7, "open only");
    j.end_session(&s7, SessionOutcome::NoPayment, Millis(8))
        .unwrap();
    assert_eq!(j.max_session_seq().unwrap(), 7, "ended only");
    begin(&mut j, 3, PaymentMethod::Code);
    assert_eq!(j.max_session_seq().unwrap(), 7, "the ended one is larger");
    let s9 = begin(&mut j, 9, PaymentMethod::Code);
    assert_eq!(j.max_session_seq().unwrap(), 9, "the open one is larger");
    j.end_session(&s9, SessionOutcome::NoPayment, Millis(10))
        .unwrap();
    assert_eq!(j.max_session_seq().unwrap(), 9);
}
