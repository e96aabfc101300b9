//! Format 3 → 4: the same rows, spelled smaller.
//!
//! Format 4 stores states, methods and outcomes as integer codes (see
//! `codec`) where format 3 stored their names as text, a note's payment by
//! the payment's row id where format 3 repeated its key, a note's time only
//! while it is in doubt (`in_doubt_since`; format 3 kept every note's last
//! change, which the audit trail has), and most audit rows' hashes as
//! 4-byte tags (see `chain`). Together about a third of the file per
//! payment.
//!
//! The migration rebuilds `sessions`, `notes` and `payments` with every row,
//! id and order kept, in the opening transaction (no other table changes:
//! the audit trail keeps its rows and their whole hashes, which are valid
//! in format 4). The hash chain hashes a session's and a payment's method
//! by name in both formats (`chain`), so the chain, and every head printed
//! on a clearing report, stay the same; the full check that follows a
//! migration re-hashes every row, so a row the rebuild spelled differently
//! would refuse the file, rolled back. A value it cannot carry over (a
//! state or method with no code, a note naming a payment key that does not
//! exist) refuses the file with `JournalErrorKind::SchemaVersion`, naming
//! the version, and the file is left as it was.
//!
//! The space the old rows took is free pages in the file, which the new
//! rows reuse before the file grows again (no `VACUUM`: it cannot run in
//! the transaction, and would rewrite the whole file).

use rusqlite::Connection;

use super::fail::Fail;
use super::{JournalErrorKind, SCHEMA_VERSION};

/// `sessions` as formats 2 and 3 wrote it (the version-1 migration builds
/// it, then this one rebuilds it).
pub(super) const V3_SESSIONS: &str = r#"
CREATE TABLE sessions (
    n           INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    seq         INTEGER,
    kiosk       TEXT NOT NULL,
    account     TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('cash', 'code')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
) STRICT;
"#;

/// `notes` and `payments` as formats 2 and 3 wrote them.
pub(super) const V3_NOTES_PAYMENTS: &str = r#"
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    key                TEXT NOT NULL UNIQUE,
    session            INTEGER NOT NULL REFERENCES sessions (n),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    amount_currency    TEXT NOT NULL,
    method             TEXT NOT NULL CHECK (method IN ('cash', 'code')),
    state              TEXT NOT NULL CHECK (state IN ('pending', 'credited', 'refused')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    backend_ref        TEXT,
    balance_minor      INTEGER,
    balance_currency   TEXT,
    reason             TEXT,
    created_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    session         INTEGER NOT NULL REFERENCES sessions (n),
    value_minor     INTEGER CHECK (value_minor > 0),
    value_currency  TEXT,
    state           TEXT NOT NULL CHECK (state IN ('escrowed', 'stacked', 'returned',
                        'in-doubt', 'settled-in-box', 'settled-returned')),
    payment_key     TEXT REFERENCES payments (key),
    changed_at      INTEGER NOT NULL,
    CHECK ((value_minor IS NULL) = (value_currency IS NULL)),
    CHECK (payment_key IS NULL OR state IN ('stacked', 'settled-in-box'))
) STRICT;
"#;

/// A method's code from its format-3 name (`NULL` for none).
const METHOD: &str = "CASE {} WHEN 'cash' THEN 0 WHEN 'code' THEN 1 END";

/// A note state's code from its format-3 name.
const NOTE_STATE: &str = "CASE {} WHEN 'escrowed' THEN 0 WHEN 'stacked' THEN 1 \
     WHEN 'returned' THEN 2 WHEN 'in-doubt' THEN 3 WHEN 'settled-in-box' THEN 4 \
     WHEN 'settled-returned' THEN 5 END";

/// A payment state's code from its format-3 name.
const PAYMENT_STATE: &str =
    "CASE {} WHEN 'pending' THEN 0 WHEN 'credited' THEN 1 WHEN 'refused' THEN 2 END";

/// A session outcome's code from its format-3 name.
const OUTCOME: &str = "CASE {} WHEN 'credited' THEN 0 WHEN 'pending' THEN 1 \
     WHEN 'refused' THEN 2 WHEN 'no-payment' THEN 3 WHEN 'aborted' THEN 4 \
     WHEN 'interrupted' THEN 5 END";

/// `template` (one of the `CASE`s above) applied to `column`.
fn code(template: &str, column: &str) -> String {
    template.replace("{}", column)
}

/// Whether `notes.state` is still text (a format-3 table).
fn is_v3(conn: &Connection) -> Result<bool, Fail> {
    let ty: Option<String> = conn.query_row(
        "SELECT type FROM pragma_table_info('notes') WHERE name = 'state'",
        [],
        |r| r.get(0),
    )?;
    Ok(ty.is_some_and(|t| t.eq_ignore_ascii_case("TEXT")))
}

/// Brings a format-3 journal to format 4 (see the module docs), inside the
/// caller's transaction, which needs `foreign_keys = OFF` and
/// `legacy_alter_table = ON` (set by `schema::open`: renaming the old
/// tables must not rewrite the other tables' references to them).
pub(super) fn migrate(conn: &Connection) -> Result<(), Fail> {
    let refuse = |what: String| {
        Fail::new(
            JournalErrorKind::SchemaVersion,
            format!(
                "cannot migrate this schema version 3 journal to version {SCHEMA_VERSION}: \
                 {what}; left untouched"
            ),
        )
    };
    if !is_v3(conn)? {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        return Ok(());
    }
    let unknown: i64 = conn.query_row(
        &format!(
            "SELECT (SELECT count(*) FROM sessions WHERE {sm} IS NULL
                       OR (outcome IS NOT NULL AND {so} IS NULL))
                  + (SELECT count(*) FROM payments WHERE {pm} IS NULL OR {ps} IS NULL)
                  + (SELECT count(*) FROM notes WHERE {ns} IS NULL)",
            sm = code(METHOD, "method"),
            so = code(OUTCOME, "outcome"),
            pm = code(METHOD, "method"),
            ps = code(PAYMENT_STATE, "state"),
            ns = code(NOTE_STATE, "state"),
        ),
        [],
        |r| r.get(0),
    )?;
    let dangling: i64 = conn.query_row(
        "SELECT count(*) FROM notes n LEFT JOIN payments p ON p.key = n.payment_key
         WHERE n.payment_key IS NOT NULL AND p.id IS NULL",
        [],
        |r| r.get(0),
    )?;
    if unknown + dangling > 0 {
        return Err(refuse(format!(
            "{unknown} rows with a state, method or outcome this build has no code for, \
             {dangling} notes naming a payment key that does not exist"
        )));
    }
    // Their triggers go (the books' come back after the check, the others
    // with the tables), and their indexes (back from `SCHEMA_INDEXES`).
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'
             AND tbl_name IN ('sessions', 'notes', 'payments')",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{}\";", t.replace('"', "\"\"")))?;
    }
    conn.execute_batch(
        "DROP INDEX IF EXISTS notes_session;
         DROP INDEX IF EXISTS notes_in_doubt;
         DROP INDEX IF EXISTS sessions_state_seq;
         DROP INDEX IF EXISTS payments_state_session;
         ALTER TABLE sessions RENAME TO sessions_v3;
         ALTER TABLE payments RENAME TO payments_v3;
         ALTER TABLE notes RENAME TO notes_v3;",
    )?;
    conn.execute_batch(super::schema::SCHEMA_SESSIONS)?;
    conn.execute_batch(super::schema::SCHEMA_NOTES_PAYMENTS)?;
    conn.execute_batch(&format!(
        "INSERT INTO sessions (n, id, seq, kiosk, account, method, started_at, ended_at, outcome)
           SELECT n, id, seq, kiosk, account, {sm}, started_at, ended_at, {so}
           FROM sessions_v3 ORDER BY n;
         INSERT INTO payments (id, key, session, amount_minor, amount_currency, method, state,
                               attempts, backend_ref, balance_minor, balance_currency, reason,
                               created_at)
           SELECT id, key, session, amount_minor, amount_currency, {pm}, {ps},
                  attempts, backend_ref, balance_minor, balance_currency, reason, created_at
           FROM payments_v3 ORDER BY id;
         INSERT INTO notes (id, session, value_minor, value_currency, state, payment,
                            in_doubt_since)
           SELECT o.id, o.session, o.value_minor, o.value_currency, {ns}, p.id,
                  iif(o.state = 'in-doubt', o.changed_at, NULL)
           FROM notes_v3 o LEFT JOIN payments_v3 p ON p.key = o.payment_key ORDER BY o.id;",
        sm = code(METHOD, "method"),
        so = code(OUTCOME, "outcome"),
        pm = code(METHOD, "method"),
        ps = code(PAYMENT_STATE, "state"),
        ns = code(NOTE_STATE, "o.state"),
    ))?;
    let lost: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM sessions_v3) - (SELECT count(*) FROM sessions)
              + (SELECT count(*) FROM payments_v3) - (SELECT count(*) FROM payments)
              + (SELECT count(*) FROM notes_v3) - (SELECT count(*) FROM notes)
              + (SELECT count(payment_key) FROM notes_v3) - (SELECT count(payment) FROM notes)",
        [],
        |r| r.get(0),
    )?;
    debug_assert_eq!(lost, 0, "the checks above let nothing fall out");
    if lost != 0 {
        return Err(refuse(format!(
            "{lost} rows or assignments would not carry over"
        )));
    }
    conn.execute_batch(
        "DROP TABLE notes_v3;
         DROP TABLE payments_v3;
         DROP TABLE sessions_v3;",
    )?;
    let dangling: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?;
    if dangling > 0 {
        return Err(refuse(format!(
            "{dangling} rows refer to a row that does not exist"
        )));
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}
