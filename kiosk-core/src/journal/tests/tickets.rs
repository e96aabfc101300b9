//! Fault tickets: save, update, reload across a reopen; the table is added
//! to existing version-1 files.

use rusqlite::Connection;

use super::*;
use crate::events::DeviceKind;
use crate::tickets::{Ticket, TicketBook, TicketChange, TicketId, TicketPolicy, TicketState};

/// A ticket kind from its text (the tests read better with the text).
fn tk(text: &str) -> crate::tickets::TicketKind {
    text.parse().expect("a ticket kind")
}

/// A book for the test kiosk.
fn book() -> TicketBook {
    TicketBook::new(kiosk(), "HALL7", TicketPolicy::default())
}

/// Saves every change's ticket.
fn save_all(j: &mut Journal, changes: Vec<TicketChange>) {
    for change in changes {
        j.save_ticket(change.ticket()).expect("save ticket");
    }
}

/// The audit rows about tickets, as (kind, ticket id).
fn ticket_events(j: &Journal) -> Vec<(String, i64)> {
    let mut stmt = j
        .conn
        .prepare(
            "SELECT kind, json_extract(detail, '$.ticket') FROM audit
             WHERE kind LIKE 'ticket-%' ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn tickets_are_saved_updated_and_read_back_after_a_reopen() {
    let (_dir, path) = temp_path();
    let mut b = book();
    {
        let mut j = Journal::open(&path).unwrap();
        let commits = j.commits();
        save_all(
            &mut j,
            b.fault_detected(DeviceKind::Printer, tk("paper-out"), "no paper", Millis(10)),
        );
        assert_eq!(j.commits(), commits + 1, "one save is one commit");
        save_all(
            &mut j,
            b.fault_detected(DeviceKind::Link, tk("offline"), "no answer", Millis(20)),
        );
        save_all(&mut j, b.acknowledge(TicketId(1), "ops-li", Millis(30)));
        save_all(&mut j, b.fault_cleared(DeviceKind::Printer, Millis(40)));
        assert_eq!(
            ticket_events(&j),
            vec![
                ("ticket-opened".to_string(), 1),
                ("ticket-opened".to_string(), 2),
                ("ticket-updated".to_string(), 1),
                ("ticket-resolved".to_string(), 1),
            ]
        );
    }
    let j = Journal::open(&path).unwrap();
    let all = j.tickets().unwrap();
    let expected: Vec<Ticket> = b.all().into_iter().cloned().collect();
    assert_eq!(all, expected);
    assert_eq!(all[0].state(), TicketState::Resolved);
    assert_eq!(all[0].resolved_at, Some(Millis(40)));
    assert_eq!(all[0].acknowledged_at, Some(Millis(30)));
    let open = j.open_tickets().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, TicketId(2));
    // A book restored from the journal continues the numbering.
    let mut r = TicketBook::restore(kiosk(), "HALL7", TicketPolicy::default(), all);
    let changes = r.fault_detected(DeviceKind::Acceptor, tk("jam"), "", Millis(50));
    assert_eq!(changes[0].ticket().id, TicketId(3));
}

#[test]
fn a_save_cannot_change_a_tickets_identity() {
    let (_dir, mut j) = journal();
    let mut b = book();
    let changes = b.fault_detected(DeviceKind::Printer, tk("paper-out"), "", Millis(10));
    let mut t = changes[0].ticket().clone();
    j.save_ticket(&t).unwrap();
    let events = j.event_count();
    t.kind = tk("jam");
    assert_eq!(kind(j.save_ticket(&t)), JournalErrorKind::IllegalTransition);
    t.kind = tk("paper-out");
    t.id = TicketId(u64::MAX);
    assert_eq!(kind(j.save_ticket(&t)), JournalErrorKind::IllegalTransition);
    assert_eq!(j.event_count(), events, "a refused save writes nothing");
    assert_eq!(j.tickets().unwrap()[0].kind, tk("paper-out"));
}

#[test]
fn tickets_are_never_deleted() {
    let (_dir, mut j) = journal();
    let mut b = book();
    save_all(
        &mut j,
        b.fault_detected(DeviceKind::Printer, tk("paper-out"), "", Millis(10)),
    );
    assert!(j.conn.execute("DELETE FROM tickets", []).is_err());
    assert_eq!(j.tickets().unwrap().len(), 1);
}

#[test]
fn a_journal_without_the_table_gets_it_on_open() {
    let (_dir, path) = temp_path();
    {
        let j = Journal::open(&path).unwrap();
        drop(j);
        // A journal written before tickets existed.
        let c = Connection::open(&path).unwrap();
        c.execute_batch("DROP TRIGGER tickets_no_delete; DROP TABLE tickets;")
            .unwrap();
    }
    let mut j = Journal::open(&path).unwrap();
    assert!(j.tickets().unwrap().is_empty());
    let mut b = book();
    save_all(
        &mut j,
        b.fault_detected(DeviceKind::Link, tk("offline"), "", Millis(10)),
    );
    drop(j);
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.open_tickets().unwrap().len(), 1);
    let version: i32 = j
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, crate::journal::SCHEMA_VERSION);
}
