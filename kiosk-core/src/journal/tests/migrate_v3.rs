//! Files of schema version 3 (text states, a note's payment by key, every
//! audit row's whole hash): migrated on open (to version 4, then 5) with the same
//! hash chain, or refused untouched.

use kiosk_hal::PaymentMethod;
use rusqlite::config::DbConfig;
use rusqlite::Connection;

use super::migrate::V1_BOOKS;
use super::*;
use crate::journal::migrate_v3::{V3_NOTES_PAYMENTS, V3_SESSIONS};
use crate::journal::{ChainHead, CheckKind, SCHEMA_VERSION};

/// What the version-3 build wrote beside its tables: their guards and
/// indexes.
const V3_EXTRAS: &str = r#"
CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
    BEGIN SELECT RAISE(ABORT, 'journal sessions are never deleted'); END;
CREATE INDEX notes_session ON notes (session);
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
    BEGIN SELECT RAISE(ABORT, 'journal notes are never deleted'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
    BEGIN SELECT RAISE(ABORT, 'journal payments are never deleted'); END;
CREATE INDEX sessions_state_seq ON sessions ((ended_at IS NULL), seq);
CREATE INDEX payments_state_session ON payments ((state = 'pending'), session);
CREATE INDEX notes_in_doubt ON notes (id) WHERE state = 'in-doubt';
"#;

/// Turns a closed journal of this build into what the version-3 build
/// left with the same history: the three tables spelled with text (as
/// `migrate_v3` reads them), its triggers and indexes, every audit row's
/// whole hash.
fn as_version_3(path: &std::path::Path) {
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "foreign_keys", "OFF").unwrap();
    c.pragma_update(None, "legacy_alter_table", "ON").unwrap();
    let triggers: Vec<String> = c
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'
             AND tbl_name IN ('sessions', 'notes', 'payments')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        c.execute_batch(&format!("DROP TRIGGER {t};")).unwrap();
    }
    c.execute_batch(
        "DROP INDEX notes_session; DROP INDEX notes_in_doubt;
         DROP INDEX sessions_state_seq; DROP INDEX payments_state_session;
         ALTER TABLE sessions RENAME TO s4;
         ALTER TABLE payments RENAME TO p4;
         ALTER TABLE notes RENAME TO n4;",
    )
    .unwrap();
    c.execute_batch(V3_SESSIONS).unwrap();
    c.execute_batch(V3_NOTES_PAYMENTS).unwrap();
    c.execute_batch(
        "INSERT INTO sessions
           SELECT n, id, seq, kiosk, account, iif(method = 0, 'cash', 'code'),
                  started_at, ended_at,
                  CASE outcome WHEN 0 THEN 'credited' WHEN 1 THEN 'pending'
                       WHEN 2 THEN 'refused' WHEN 3 THEN 'no-payment' WHEN 4 THEN 'aborted'
                       WHEN 5 THEN 'interrupted' END
           FROM s4;
         INSERT INTO payments
           SELECT id, key, session, amount_minor, amount_currency,
                  iif(method = 0, 'cash', 'code'),
                  CASE state WHEN 0 THEN 'pending' WHEN 1 THEN 'credited' ELSE 'refused' END,
                  attempts, backend_ref, balance_minor, balance_currency, reason, created_at
           FROM p4;
         INSERT INTO notes
           SELECT n.id, n.session, n.value_minor, n.value_currency,
                  CASE n.state WHEN 0 THEN 'escrowed' WHEN 1 THEN 'stacked'
                       WHEN 2 THEN 'returned' WHEN 3 THEN 'in-doubt'
                       WHEN 4 THEN 'settled-in-box' ELSE 'settled-returned' END,
                  p.key, coalesce(n.in_doubt_since, 0)
           FROM n4 n LEFT JOIN p4 p ON p.id = n.payment;
         DROP TABLE n4; DROP TABLE p4; DROP TABLE s4;",
    )
    .unwrap();
    c.execute_batch(V3_EXTRAS).unwrap();
    c.execute_batch(V1_BOOKS).unwrap();
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    crate::journal::chain::forge_from(&c, 1, true).unwrap();
    c.pragma_update(None, "user_version", 3).unwrap();
}

/// One value from the file.
fn value(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// A closed journal with credited, pending and refused payments, an open
/// session with a note in escrow, a note in doubt and a clearing; its head.
fn history(path: &std::path::Path) -> ChainHead {
    let mut j = Journal::open(path).unwrap();
    j.unsynced_for_tests();
    for seq in 1..=3 {
        let s = begin(&mut j, seq, PaymentMethod::Cash);
        j.note_stacked(&s, None, cny(5000), Millis(seq)).unwrap();
        j.note_stacked(&s, None, cny(10000), Millis(seq)).unwrap();
        j.payment_pending(&s, &key(&s.0), cny(15000), Millis(seq))
            .unwrap();
        match seq {
            1 => {
                j.payment_credited(&key(&s.0), "B1", cny(15000), Millis(seq))
                    .unwrap();
            }
            2 => j
                .payment_refused(&key(&s.0), "closed", Millis(seq))
                .unwrap(),
            _ => {}
        }
        j.end_session(&s, crate::journal::SessionOutcome::Credited, Millis(seq))
            .unwrap();
    }
    let ops = ["王芳".to_string(), "李强".to_string()];
    j.record_clearing(Millis(10), &ops, cny(45000), None, 0)
        .unwrap();
    let s = begin(&mut j, 4, PaymentMethod::Code);
    j.payment_pending(&s, &key("code-4"), cny(800), Millis(11))
        .unwrap();
    let s = begin(&mut j, 5, PaymentMethod::Cash);
    j.note_escrowed(&s, cny(2000), Millis(12)).unwrap();
    let n = j.note_escrowed(&s, cny(1000), Millis(13)).unwrap();
    j.note_in_doubt(&s, Some(n), None, Millis(14)).unwrap();
    let head = j.chain_head().unwrap();
    j.close().unwrap();
    head
}

#[test]
fn a_version_3_journal_is_migrated_on_open_with_the_same_chain() {
    let (_dir, path) = temp_path();
    let head = history(&path);
    let (clearings, totals, pending, doubt, open) = {
        let j = Journal::open(&path).unwrap();
        (
            j.clearings().unwrap(),
            j.cash_totals(kiosk_hal::Currency::CNY).unwrap(),
            j.pending_payments().unwrap(),
            j.in_doubt_notes().unwrap(),
            j.open_sessions().unwrap(),
        )
    };
    as_version_3(&path);
    assert_eq!(
        value(
            &path,
            "SELECT count(*) FROM events WHERE length(hash) <> 32"
        ),
        0
    );
    let assigned = value(&path, "SELECT count(payment_key) FROM notes");
    assert_eq!(assigned, 6);

    let mut j = Journal::open(&path).unwrap();
    assert_eq!(
        j.opened_with().kind,
        CheckKind::Full,
        "checked in full once"
    );
    assert_eq!(j.opened_with().chain_rows_checked, head.rows);
    let version: i32 = j
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // The same chain: the head printed before the upgrade still holds.
    assert_eq!(j.chain_head().unwrap(), head);
    assert!(clearings[0].chain_head.is_some());
    assert_eq!(
        j.clearings().unwrap(),
        clearings,
        "and the heads they printed"
    );
    assert_eq!(j.cash_totals(kiosk_hal::Currency::CNY).unwrap(), totals);
    assert_eq!(j.pending_payments().unwrap(), pending);
    assert_eq!(j.in_doubt_notes().unwrap(), doubt);
    assert_eq!(j.open_sessions().unwrap(), open);
    let payment: i64 = j
        .conn
        .query_row("SELECT count(payment) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(payment, assigned, "every note keeps its payment");
    // It goes on in the new format, and every check passes.
    let s = begin(&mut j, 6, PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(5000), Millis(20)).unwrap();
    j.payment_pending(&s, &key(&s.0), cny(5000), Millis(21))
        .unwrap();
    assert_eq!(j.verify_full().unwrap().chain_rows_checked, head.rows + 3);
    j.close().unwrap();
    assert_eq!(
        value(
            &path,
            "SELECT length(hash) FROM events ORDER BY id DESC LIMIT 1"
        ),
        crate::journal::chain::TAG_LEN as i64,
        "new rows store their tag"
    );
    assert_eq!(
        Journal::open(&path).unwrap().opened_with().kind,
        CheckKind::Cheap
    );
}

#[test]
fn a_version_3_journal_whose_note_names_no_payment_is_refused_untouched() {
    let (_dir, path) = temp_path();
    history(&path);
    as_version_3(&path);
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "foreign_keys", "OFF").unwrap();
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    c.execute("UPDATE notes SET payment_key = 'nobody' WHERE id = 1", [])
        .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    let err = Journal::open(&path).expect_err("must be refused");
    assert_eq!(err.kind(), JournalErrorKind::SchemaVersion, "{err}");
    let text = err.to_string();
    for phrase in [
        "cannot migrate this schema version 3 journal to version 5",
        "1 notes naming a payment key that does not exist",
        "left untouched",
    ] {
        assert!(text.contains(phrase), "{phrase:?} not in {text}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file changed");
    assert_eq!(value(&path, "PRAGMA user_version"), 3);
}
