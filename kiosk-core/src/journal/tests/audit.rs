//! The compact audit trail (format 2) and the view auditors read it through.

use kiosk_hal::PaymentMethod;

use super::*;
use crate::journal::events::EventKind;
use crate::journal::SessionOutcome;

/// One cash payment as the kiosk journals it: two notes escrowed and
/// stacked, the payment, one attempt, the credit, the end (9 events).
fn one_payment(j: &mut Journal) -> SessionId {
    let s = begin(j, 7, PaymentMethod::Cash);
    for value in [5000, 10000] {
        let n = j.note_escrowed(&s, cny(value), Millis(7001)).unwrap();
        j.note_stacked(&s, Some(n), cny(value), Millis(7002))
            .unwrap();
    }
    let k = key(&s.0);
    j.payment_pending(&s, &k, cny(15000), Millis(7003)).unwrap();
    j.posting_attempted(&k, Millis(7004)).unwrap();
    j.payment_credited(&k, "BK-1", cny(15000), Millis(7005))
        .unwrap();
    j.end_session(&s, SessionOutcome::Credited, Millis(7006))
        .unwrap();
    s
}

#[test]
fn an_ordinary_payment_is_nine_rows_of_integers_without_json() {
    let (_dir, mut j) = journal();
    one_payment(&mut j);
    let rows: Vec<(String, String, String, String, String, String)> = j
        .conn
        .prepare(
            "SELECT typeof(kind), typeof(session), typeof(note), typeof(payment),
                    typeof(amount), typeof(detail) FROM events ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 9);
    for (kind, session, note, payment, amount, detail) in &rows {
        assert_eq!(kind, "integer");
        assert_eq!(detail, "null", "nothing here that a row does not say");
        for t in [session, note, payment, amount] {
            assert!(t == "integer" || t == "null", "{t}");
        }
    }
}

#[test]
fn the_audit_view_reads_the_trail_with_names_and_keys() {
    let (_dir, mut j) = journal();
    let s = one_payment(&mut j);
    j.payment_credited(&key(&s.0), "BK-2", cny(15000), Millis(7007))
        .unwrap();
    type Row = (
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = j
        .conn
        .prepare(
            "SELECT kind, session, note, payment_key, amount_minor, currency, detail
             FROM audit ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let sid = Some(s.0.to_string());
    let cny_ = Some("CNY".to_string());
    let expected: Vec<Row> = vec![
        (
            "session-begun".into(),
            sid.clone(),
            None,
            None,
            None,
            None,
            None,
        ),
        (
            "note-escrowed".into(),
            sid.clone(),
            Some(1),
            None,
            Some(5000),
            cny_.clone(),
            None,
        ),
        (
            "note-stacked".into(),
            sid.clone(),
            Some(1),
            None,
            Some(5000),
            cny_.clone(),
            None,
        ),
        (
            "note-escrowed".into(),
            sid.clone(),
            Some(2),
            None,
            Some(10000),
            cny_.clone(),
            None,
        ),
        (
            "note-stacked".into(),
            sid.clone(),
            Some(2),
            None,
            Some(10000),
            cny_.clone(),
            None,
        ),
        (
            "payment-pending".into(),
            sid.clone(),
            None,
            sid.clone(),
            None,
            None,
            None,
        ),
        (
            "posting-attempted".into(),
            sid.clone(),
            None,
            sid.clone(),
            None,
            None,
            None,
        ),
        (
            "payment-credited".into(),
            sid.clone(),
            None,
            sid.clone(),
            None,
            None,
            None,
        ),
        (
            "session-ended".into(),
            sid.clone(),
            None,
            None,
            None,
            None,
            None,
        ),
        (
            "payment-credit-repeated".into(),
            sid.clone(),
            None,
            sid.clone(),
            None,
            None,
            Some(r#"{"backend_ref":"BK-2","new_balance":{"currency":"CNY","minor":15000}}"#.into()),
        ),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn every_event_kind_has_one_stable_code_and_name_in_the_file() {
    let (_dir, j) = journal();
    let stored: Vec<(i64, String)> = j
        .conn
        .prepare("SELECT code, name FROM event_kinds ORDER BY code")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ours: Vec<(i64, String)> = EventKind::ALL
        .iter()
        .map(|k| (k.code(), k.name().to_string()))
        .collect();
    assert_eq!(stored, ours);
    // The codes are the file format: these never change.
    assert_eq!(EventKind::SessionBegun.code(), 1);
    assert_eq!(EventKind::PaymentCredited.code(), 12);
    assert_eq!(EventKind::TicketResolved.code(), 21);
    assert!(j
        .conn
        .execute("UPDATE event_kinds SET name = 'x' WHERE code = 1", [])
        .is_err());
    assert!(j.conn.execute("DELETE FROM event_kinds", []).is_err());
}
