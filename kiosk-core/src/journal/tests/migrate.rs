//! Files of schema version 1 (what the build before the compact audit
//! trail wrote): migrated on open in one transaction, or refused untouched.

use kiosk_hal::PaymentMethod;
use rusqlite::Connection;

use super::*;
use crate::journal::{CheckKind, SCHEMA_VERSION};

/// The version-1 tables, verbatim from the build that wrote them.
const V1_TABLES: &str = r#"
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    seq         INTEGER,
    kiosk       TEXT NOT NULL,
    account     TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('cash', 'code')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
) STRICT;
CREATE INDEX sessions_seq ON sessions (seq);
CREATE INDEX sessions_open ON sessions (started_at) WHERE ended_at IS NULL;

CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    key                TEXT NOT NULL UNIQUE,
    session            TEXT NOT NULL REFERENCES sessions (id),
    account            TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    amount_currency    TEXT NOT NULL,
    method             TEXT NOT NULL CHECK (method IN ('cash', 'code')),
    state              TEXT NOT NULL CHECK (state IN ('pending', 'credited', 'refused')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    backend_ref        TEXT,
    balance_minor      INTEGER,
    balance_currency   TEXT,
    reason             TEXT,
    created_at         INTEGER NOT NULL,
    changed_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_session ON payments (session);

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    session         TEXT NOT NULL REFERENCES sessions (id),
    value_minor     INTEGER CHECK (value_minor > 0),
    value_currency  TEXT,
    state           TEXT NOT NULL CHECK (state IN ('escrowed', 'stacked', 'returned',
                        'in-doubt', 'settled-in-box', 'settled-returned')),
    payment_key     TEXT REFERENCES payments (key),
    created_at      INTEGER NOT NULL,
    changed_at      INTEGER NOT NULL,
    CHECK ((value_minor IS NULL) = (value_currency IS NULL)),
    CHECK (payment_key IS NULL OR state IN ('stacked', 'settled-in-box'))
) STRICT;
CREATE INDEX notes_session ON notes (session, state);

CREATE TABLE rejects (
    id       INTEGER PRIMARY KEY,
    session  TEXT NOT NULL REFERENCES sessions (id),
    reason   TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX rejects_session ON rejects (session);
CREATE INDEX rejects_at ON rejects (at);

CREATE TABLE receipts (
    session       TEXT PRIMARY KEY REFERENCES sessions (id),
    receipt       TEXT NOT NULL,
    kept_at       INTEGER NOT NULL,
    reprinted_at  INTEGER
) STRICT;

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    session      TEXT,
    note         INTEGER,
    payment_key  TEXT,
    detail       TEXT NOT NULL
) STRICT;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
CREATE TABLE clearings (
    id                 INTEGER PRIMARY KEY,
    at                 INTEGER NOT NULL,
    operator_a         TEXT NOT NULL,
    operator_b         TEXT NOT NULL CHECK (operator_b <> operator_a),
    currency           TEXT NOT NULL,
    expected_minor     INTEGER NOT NULL,
    counted_minor      INTEGER NOT NULL,
    counterfeit_found  INTEGER NOT NULL,
    pending_minor      INTEGER NOT NULL,
    in_doubt_notes     INTEGER NOT NULL
) STRICT;
CREATE TRIGGER clearings_no_change BEFORE UPDATE ON clearings
    BEGIN SELECT RAISE(ABORT, 'clearings are never changed'); END;
CREATE TRIGGER clearings_no_delete BEFORE DELETE ON clearings
    BEGIN SELECT RAISE(ABORT, 'clearings are never deleted'); END;

CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
    BEGIN SELECT RAISE(ABORT, 'journal sessions are never deleted'); END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
    BEGIN SELECT RAISE(ABORT, 'journal notes are never deleted'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
    BEGIN SELECT RAISE(ABORT, 'journal payments are never deleted'); END;

CREATE TABLE IF NOT EXISTS tickets (
    id           INTEGER PRIMARY KEY CHECK (id > 0),
    kiosk        TEXT NOT NULL,
    site         TEXT NOT NULL,
    device       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    severity     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'remote-fix-tried',
                     'dispatched', 'resolved')),
    opened_at    INTEGER NOT NULL,
    resolved_at  INTEGER,
    ticket       TEXT NOT NULL,
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
) STRICT;
CREATE INDEX IF NOT EXISTS tickets_open ON tickets (id) WHERE resolved_at IS NULL;
CREATE TRIGGER IF NOT EXISTS tickets_no_delete BEFORE DELETE ON tickets
    BEGIN SELECT RAISE(ABORT, 'fault tickets are never deleted'); END;

DROP INDEX IF EXISTS notes_state;
DROP INDEX IF EXISTS notes_payment;
DROP INDEX IF EXISTS payments_state;
CREATE INDEX IF NOT EXISTS notes_in_doubt ON notes (id) WHERE state = 'in-doubt';
CREATE INDEX IF NOT EXISTS payments_pending ON payments (id) WHERE state = 'pending';
"#;

/// Two sessions as the version-1 build journaled them: one credited cash
/// payment of two stacked notes, and an open session with a note in escrow.
const V1_ROWS: &str = r#"
INSERT INTO sessions VALUES ('K01-000001', 1, 'K01', '0571-88886666', 'cash', 1000, 5000,
                             'credited');
INSERT INTO sessions VALUES ('K01-000002', 2, 'K01', '0571-88886666', 'cash', 6000, NULL, NULL);
INSERT INTO payments (id, key, session, account, amount_minor, amount_currency, method, state,
                      attempts, backend_ref, balance_minor, balance_currency, created_at,
                      changed_at)
    VALUES (1, 'K01-000001', 'K01-000001', '0571-88886666', 15000, 'CNY', 'cash', 'credited', 1,
            'B1', 15000, 'CNY', 3000, 4000);
INSERT INTO notes VALUES (1, 'K01-000001', 5000, 'CNY', 'stacked', 'K01-000001', 2000, 2000);
INSERT INTO notes VALUES (2, 'K01-000001', 10000, 'CNY', 'stacked', 'K01-000001', 2500, 2500);
INSERT INTO notes VALUES (3, 'K01-000002', 2000, 'CNY', 'escrowed', NULL, 7000, 7000);
INSERT INTO events (at, kind, session, note, payment_key, detail) VALUES
  (1000, 'session-begun', 'K01-000001', NULL, NULL,
   '{"account":"0571-88886666","kiosk":"K01","method":"cash"}'),
  (2000, 'note-stacked', 'K01-000001', 1, NULL,
   '{"escrow_journaled":false,"value":{"currency":"CNY","minor":5000}}'),
  (2500, 'note-stacked', 'K01-000001', 2, NULL,
   '{"escrow_journaled":false,"value":{"currency":"CNY","minor":10000}}'),
  (3000, 'payment-pending', 'K01-000001', NULL, 'K01-000001',
   '{"account":"0571-88886666","amount":{"currency":"CNY","minor":15000},"cause":"session","method":"cash"}'),
  (3500, 'posting-attempted', 'K01-000001', NULL, 'K01-000001', '{"attempt":1}'),
  (4000, 'payment-credited', 'K01-000001', NULL, 'K01-000001',
   '{"backend_ref":"B1","new_balance":{"currency":"CNY","minor":15000}}'),
  (5000, 'session-ended', 'K01-000001', NULL, NULL, '{"outcome":"credited"}'),
  (6000, 'session-begun', 'K01-000002', NULL, NULL,
   '{"account":"0571-88886666","kiosk":"K01","method":"cash"}'),
  (7000, 'note-escrowed', 'K01-000002', 3, NULL, '{"value":{"currency":"CNY","minor":2000}}');
INSERT INTO marks VALUES (1, 1, 1, 9);
"#;

/// The running totals, marks and guards as builds of formats 1 to 3 wrote
/// them (text states, a note's payment by key).
pub(super) const V1_BOOKS: &str = r#"
CREATE TABLE IF NOT EXISTS books (
    currency          TEXT PRIMARY KEY,
    box_minor         INTEGER NOT NULL DEFAULT 0,
    box_notes         INTEGER NOT NULL DEFAULT 0,
    unassigned_minor  INTEGER NOT NULL DEFAULT 0,
    in_doubt_minor    INTEGER NOT NULL DEFAULT 0,
    in_doubt_notes    INTEGER NOT NULL DEFAULT 0,
    pending_minor     INTEGER NOT NULL DEFAULT 0,
    credited_minor    INTEGER NOT NULL DEFAULT 0,
    refused_minor     INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS marks (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    clean             INTEGER NOT NULL CHECK (clean IN (0, 1)),
    verified_payment  INTEGER NOT NULL,
    verified_event    INTEGER NOT NULL
) STRICT;

CREATE TRIGGER IF NOT EXISTS books_note_added AFTER INSERT ON notes BEGIN
    INSERT OR IGNORE INTO books (currency) VALUES (coalesce(NEW.value_currency, ''));
    UPDATE books SET
        box_minor = box_minor
            + iif(NEW.state IN ('stacked', 'settled-in-box'), coalesce(NEW.value_minor, 0), 0),
        box_notes = box_notes + (NEW.state IN ('stacked', 'settled-in-box')),
        unassigned_minor = unassigned_minor
            + iif(NEW.state IN ('stacked', 'settled-in-box') AND NEW.payment_key IS NULL,
                  coalesce(NEW.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            + iif(NEW.state = 'in-doubt', coalesce(NEW.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes + (NEW.state = 'in-doubt')
    WHERE currency = coalesce(NEW.value_currency, '');
END;

CREATE TRIGGER IF NOT EXISTS books_note_changed
AFTER UPDATE OF state, value_minor, value_currency, payment_key ON notes BEGIN
    UPDATE books SET
        box_minor = box_minor
            - iif(OLD.state IN ('stacked', 'settled-in-box'), coalesce(OLD.value_minor, 0), 0),
        box_notes = box_notes - (OLD.state IN ('stacked', 'settled-in-box')),
        unassigned_minor = unassigned_minor
            - iif(OLD.state IN ('stacked', 'settled-in-box') AND OLD.payment_key IS NULL,
                  coalesce(OLD.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            - iif(OLD.state = 'in-doubt', coalesce(OLD.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes - (OLD.state = 'in-doubt')
    WHERE currency = coalesce(OLD.value_currency, '');
    INSERT OR IGNORE INTO books (currency) VALUES (coalesce(NEW.value_currency, ''));
    UPDATE books SET
        box_minor = box_minor
            + iif(NEW.state IN ('stacked', 'settled-in-box'), coalesce(NEW.value_minor, 0), 0),
        box_notes = box_notes + (NEW.state IN ('stacked', 'settled-in-box')),
        unassigned_minor = unassigned_minor
            + iif(NEW.state IN ('stacked', 'settled-in-box') AND NEW.payment_key IS NULL,
                  coalesce(NEW.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            + iif(NEW.state = 'in-doubt', coalesce(NEW.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes + (NEW.state = 'in-doubt')
    WHERE currency = coalesce(NEW.value_currency, '');
END;

CREATE TRIGGER IF NOT EXISTS books_payment_added AFTER INSERT ON payments
WHEN NEW.method = 'cash' BEGIN
    INSERT OR IGNORE INTO books (currency) VALUES (NEW.amount_currency);
    UPDATE books SET
        pending_minor = pending_minor + iif(NEW.state = 'pending', NEW.amount_minor, 0),
        credited_minor = credited_minor + iif(NEW.state = 'credited', NEW.amount_minor, 0),
        refused_minor = refused_minor + iif(NEW.state = 'refused', NEW.amount_minor, 0)
    WHERE currency = NEW.amount_currency;
END;

CREATE TRIGGER IF NOT EXISTS books_payment_changed AFTER UPDATE OF state ON payments
WHEN NEW.method = 'cash' AND NEW.state <> OLD.state BEGIN
    UPDATE books SET
        pending_minor = pending_minor
            + iif(NEW.state = 'pending', NEW.amount_minor, 0)
            - iif(OLD.state = 'pending', OLD.amount_minor, 0),
        credited_minor = credited_minor
            + iif(NEW.state = 'credited', NEW.amount_minor, 0)
            - iif(OLD.state = 'credited', OLD.amount_minor, 0),
        refused_minor = refused_minor
            + iif(NEW.state = 'refused', NEW.amount_minor, 0)
            - iif(OLD.state = 'refused', OLD.amount_minor, 0)
    WHERE currency = NEW.amount_currency;
END;

CREATE TRIGGER IF NOT EXISTS payments_money_fixed
BEFORE UPDATE OF key, session, amount_minor, amount_currency, method ON payments
WHEN NEW.key IS NOT OLD.key OR NEW.session IS NOT OLD.session
  OR NEW.amount_minor IS NOT OLD.amount_minor OR NEW.amount_currency IS NOT OLD.amount_currency
  OR NEW.method IS NOT OLD.method BEGIN
    SELECT RAISE(ABORT, 'a payment''s key, session, amount and method never change');
END;

CREATE TRIGGER IF NOT EXISTS notes_assignment_fixed BEFORE UPDATE OF payment_key ON notes
WHEN OLD.payment_key IS NOT NULL AND NEW.payment_key IS NOT OLD.payment_key BEGIN
    SELECT RAISE(ABORT, 'a note assigned to a payment stays assigned to it');
END;

CREATE TRIGGER IF NOT EXISTS notes_in_box_fixed
BEFORE UPDATE OF state, value_minor, value_currency ON notes
WHEN OLD.state IN ('stacked', 'settled-in-box')
 AND (NEW.state IS NOT OLD.state OR NEW.value_minor IS NOT OLD.value_minor
      OR NEW.value_currency IS NOT OLD.value_currency) BEGIN
    SELECT RAISE(ABORT, 'a note in the cash box stays in it, with its value');
END;

CREATE TRIGGER IF NOT EXISTS books_no_delete BEFORE DELETE ON books
    BEGIN SELECT RAISE(ABORT, 'running totals are never deleted'); END;
"#;

/// A closed version-1 journal (running totals, marks, tickets and all), with
/// `extra` SQL run after its rows.
fn v1_journal(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_path();
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.execute_batch(V1_TABLES).unwrap();
    c.execute_batch(V1_BOOKS).unwrap();
    c.execute_batch(V1_ROWS).unwrap();
    c.execute_batch(extra).unwrap();
    c.pragma_update(None, "application_id", crate::journal::APPLICATION_ID)
        .unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    drop(c);
    (dir, path)
}

/// The audit trail as the view shows it: id, at, kind, session, note,
/// payment key, detail.
type AuditRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn audit(conn: &Connection) -> Vec<AuditRow> {
    conn.prepare("SELECT id, at, kind, session, note, payment_key, detail FROM audit ORDER BY id")
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
        .unwrap()
}

#[test]
fn a_version_1_journal_is_migrated_on_open_with_its_whole_history() {
    let (_dir, path) = v1_journal("");
    let c = Connection::open(&path).unwrap();
    let before: Vec<AuditRow> = c
        .prepare("SELECT id, at, kind, session, note, payment_key, detail FROM events ORDER BY id")
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
    drop(c);
    let mut j = Journal::open(&path).unwrap();
    // A migrated file has its books checked in full once.
    assert_eq!(j.opened_with().kind, CheckKind::Full);
    let version: i32 = j
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // Every audit row is carried over: same id, time, kind, subject, detail.
    assert_eq!(audit(&j.conn), before);
    let (kinds, amounts): (String, String) = j
        .conn
        .query_row(
            "SELECT group_concat(typeof(kind)), group_concat(coalesce(amount, '-'))
             FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kinds, ["integer"; 9].join(","));
    assert_eq!(amounts, "-,5000,10000,-,-,-,-,-,2000");
    // Recovery sees what the version-1 file held.
    let open = j.open_sessions().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].escrowed,
        vec![(crate::journal::NoteId(3), cny(2000))]
    );
    assert_eq!(j.max_session_seq().unwrap(), 2);
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_box, t.credited), (cny(15000), cny(15000)));
    // The money tables still refer to the sessions table, and it is enforced.
    let notes_sql: String = j
        .conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'notes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(notes_sql.contains("REFERENCES sessions (n)"), "{notes_sql}");
    let rejects_sql: String = j
        .conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'rejects'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        rejects_sql.contains("REFERENCES sessions (id)"),
        "{rejects_sql}"
    );
    let n: Vec<(i64, String)> = j
        .conn
        .prepare("SELECT n, id FROM sessions ORDER BY n")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(n, [(1, "K01-000001".into()), (2, "K01-000002".into())]);
    assert!(j
        .conn
        .execute(
            "INSERT INTO notes (session, state, changed_at) VALUES (999999, 'escrowed', 1)",
            [],
        )
        .is_err());
    // The journal goes on from there, in the new format.
    let s = SessionId("K01-000002".into());
    j.note_stacked(&s, Some(crate::journal::NoteId(3)), cny(2000), Millis(8000))
        .unwrap();
    j.payment_pending(&s, &key("K01-000002"), cny(2000), Millis(9000))
        .unwrap();
    let pending = j.pending_payments().unwrap();
    assert_eq!(
        pending[0].account,
        kiosk_hal::AccountNumber("0571-88886666".into()),
        "a payment's account is its session's"
    );
    let s3 = begin(&mut j, 3, PaymentMethod::Code);
    j.end_session(&s3, crate::journal::SessionOutcome::Aborted, Millis(10_000))
        .unwrap();
    let tail: Vec<(String, Option<String>, Option<String>)> = audit(&j.conn)[9..]
        .iter()
        .map(|r| (r.2.clone(), r.3.clone(), r.5.clone()))
        .collect();
    assert_eq!(
        tail,
        [
            ("note-stacked".into(), Some("K01-000002".into()), None),
            (
                "payment-pending".into(),
                Some("K01-000002".into()),
                Some("K01-000002".into())
            ),
            ("session-begun".into(), Some(s3.0.to_string()), None),
            ("session-ended".into(), Some(s3.0.to_string()), None),
        ]
    );
    j.verify_full().unwrap();
    drop(j);
    assert_eq!(
        Journal::open(&path).unwrap().opened_with().kind,
        CheckKind::Cheap
    );
}

/// Opening `path` fails with `kind`, saying every phrase of `says`, and the
/// file's bytes (main file and WAL) are as they were.
fn assert_refused_untouched(path: &std::path::Path, kind: JournalErrorKind, says: &[&str]) {
    let wal = path.with_extension("sqlite-wal");
    let before = (std::fs::read(path).unwrap(), std::fs::read(&wal).ok());
    let err = Journal::open(path).expect_err("must be refused");
    assert_eq!(err.kind(), kind, "{err}");
    for phrase in says {
        assert!(err.to_string().contains(phrase), "{phrase:?} not in {err}");
    }
    assert_eq!(
        (std::fs::read(path).unwrap(), std::fs::read(&wal).ok()),
        before,
        "the file changed"
    );
    let c = Connection::open(path).unwrap();
    let version: i32 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1, "still a version-1 file");
}

#[test]
fn a_version_1_journal_with_an_audit_row_it_cannot_carry_over_is_refused_untouched() {
    let (_dir, path) = v1_journal(
        "INSERT INTO events (at, kind, session, note, payment_key, detail)
         VALUES (8000, 'note-teleported', 'K01-000002', 3, NULL, '{}');",
    );
    assert_refused_untouched(
        &path,
        JournalErrorKind::SchemaVersion,
        &[
            "cannot migrate this schema version 1 journal to version 5",
            "1 audit rows of a kind this build does not know",
            "left untouched",
        ],
    );
    let (_dir, path) = v1_journal(
        "INSERT INTO events (at, kind, session, note, payment_key, detail)
         VALUES (8000, 'session-ended', 'K01-424242', NULL, NULL, '{}');",
    );
    assert_refused_untouched(
        &path,
        JournalErrorKind::SchemaVersion,
        &["1 naming no session"],
    );
    // Version 2 reads a payment's account from its session: a version-1
    // payment for another account would lose it.
    let (_dir, path) = v1_journal("UPDATE payments SET account = '0571-00000000';");
    assert_refused_untouched(
        &path,
        JournalErrorKind::SchemaVersion,
        &["1 payments for another account than their session's"],
    );
}

#[test]
fn a_version_1_journal_whose_books_do_not_balance_is_not_migrated() {
    let (_dir, path) = v1_journal(
        "DROP TRIGGER payments_money_fixed; DROP TRIGGER books_payment_changed;
         UPDATE payments SET amount_minor = 17000 WHERE key = 'K01-000001';",
    );
    assert_refused_untouched(
        &path,
        JournalErrorKind::Unbalanced,
        &["payment K01-000001 of CNY 170.00 has notes worth CNY 150.00"],
    );
}
