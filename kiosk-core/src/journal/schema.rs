//! The file format: tables, and opening a file safely.
//!
//! Opening never writes to a file before it is known to be a kiosk journal
//! (or a brand-new, empty database): a file that is something else is
//! reported and left byte-for-byte as it was. A file that does not start with
//! the SQLite header is not even opened with SQLite; an SQLite file is only
//! read (with checkpoint-on-close off) until its `application_id`,
//! `user_version` and the check that its books balance (`verify`) have
//! passed. A missing or empty main file with a non-empty `-wal` or
//! `-journal` beside it is refused: that log is the acknowledged events of a
//! main file that was lost, and SQLite would discard it.
//!
//! Opening does not run `quick_check` (it reads every page: seconds on a
//! year of data, cold); SQLite's WAL recovery keeps commits whole after a
//! crash, and the books check finds what a crash or an edit could break in
//! the money. `Journal::verify_full` runs `quick_check` on request.
//!
//! # Tables added to version 1
//!
//! A table added to the format after version-1 files exist in the field
//! (so far: `tickets`, the fault tickets) is listed in [`ADDED_TABLES`] and
//! written with `IF NOT EXISTS`. Opening creates the ones a file lacks, in
//! one transaction, for new files and for existing version-1 journals alike,
//! only after the file has passed the checks above. A build that does not
//! know such a table still opens the file (it is only an extra table), so
//! `user_version` stays 1. A change to an existing table still needs a
//! version bump and a migration.

use std::io::Read;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::books;
use super::fail::Fail;
use super::verify::{self, BooksCheck};
use super::{JournalErrorKind, APPLICATION_ID, SCHEMA_VERSION};

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Schema version 1. Money is `(…_minor INTEGER, …_currency TEXT)`; times
/// are kiosk milliseconds. Rows of money tables are never deleted, and the
/// `events` audit trail is append-only (enforced by triggers).
const SCHEMA_V1: &str = r#"
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
"#;

/// Fault tickets (added to version 1; see the module docs). The whole ticket
/// is the JSON in `ticket`; the other columns repeat what staff and the
/// open-ticket index need. Tickets are never deleted.
const SCHEMA_TICKETS: &str = r#"
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
"#;

/// The secondary indexes beyond those in [`SCHEMA_V1`], and the ones it once
/// had that no query needs: run on every open after the checks (a no-op once
/// applied). Each index costs its pages in every commit that touches it, so
/// only what a query on the kiosk's path needs is kept: the states that are
/// looked up (in doubt, pending) are small partial indexes; totals come from
/// the running totals (`books`), not from an index over every note.
const SCHEMA_INDEXES: &str = r#"
DROP INDEX IF EXISTS notes_state;
DROP INDEX IF EXISTS notes_payment;
DROP INDEX IF EXISTS payments_state;
CREATE INDEX IF NOT EXISTS notes_in_doubt ON notes (id) WHERE state = 'in-doubt';
CREATE INDEX IF NOT EXISTS payments_pending ON payments (id) WHERE state = 'pending';
"#;

/// Tables added to schema version 1, by name, with the SQL that creates
/// them: created on open wherever missing. (`books` and `marks` come from
/// the same SQL; `books` is filled from the rows when it is created.)
const ADDED_TABLES: &[(&str, &str)] = &[
    ("tickets", SCHEMA_TICKETS),
    ("books", books::SCHEMA_BOOKS),
    ("marks", books::SCHEMA_BOOKS),
];

/// The WAL size SQLite truncates the `-wal` file back to when a checkpoint
/// has emptied it (`journal_size_limit`): a few sessions' worth, so the
/// file is reused (no growth, cheaper syncs) yet never stays large.
const WAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// Opens (or creates) the journal at `path`, checks that its books balance
/// (see `verify`), and returns a connection set up for durable writes with
/// what the check found.
pub(super) fn open(path: &Path) -> Result<(Connection, BooksCheck), Fail> {
    check_header(path)?;
    let had_wal = Path::new(&sibling(path, "-wal")).exists();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Until the file is known to be ours and its books balance, closing must
    // not checkpoint a WAL it came with into it.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    let refuse = |conn: Connection, e: Fail| {
        if !had_wal {
            // Nothing to checkpoint: let the close remove the empty WAL
            // and shared-memory files that reading created.
            let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false);
        }
        Err(e)
    };
    let fresh = match inspect(&conn) {
        Ok(fresh) => fresh,
        Err(e) => return refuse(conn, e),
    };

    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Still durable (rollback journal + synchronous=FULL), only slower.
        tracing::warn!(path = %path.display(), mode, "journal: WAL not available, using {mode}");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // No checkpoint inside a money event's commit: the runner checkpoints
    // between sessions (Journal::checkpoint), and a clean close does too.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;

    // One transaction: the format brought up to date, the books checked,
    // the file marked in use. If the check fails it rolls back, and the file
    // is left as it was (a journal from before the running totals included).
    let check = match settle_in(&mut conn, fresh) {
        Ok(check) => check,
        Err(e) => return refuse(conn, e),
    };
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)?;
    Ok((conn, check))
}

/// Creates the schema (`fresh`) or adds what the file lacks, checks the
/// books (see `verify`) and marks the journal in use, in one transaction.
fn settle_in(conn: &mut Connection, fresh: bool) -> Result<BooksCheck, Fail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if fresh {
        tx.execute_batch(SCHEMA_V1)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    add_tables(&tx)?;
    let check = verify::on_open(&tx)?;
    // In use from now on: a crash before the clean close leaves the mark
    // cleared, and the next open checks everything. Triggers someone dropped
    // come back (the check above has just found the books as they are).
    tx.execute_batch(books::SCHEMA_BOOKS)?;
    tx.execute_batch(SCHEMA_INDEXES)?;
    verify::set_marks(&tx, false)?;
    tx.commit()?;
    Ok(check)
}

/// `path` with `suffix` appended (`journal.sqlite` → `journal.sqlite-wal`).
fn sibling(path: &Path, suffix: &str) -> std::ffi::OsString {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name
}

/// Creates the [`ADDED_TABLES`] the journal lacks (inside the caller's
/// transaction); writes nothing when it has them all.
fn add_tables(conn: &Connection) -> Result<(), Fail> {
    let mut missing: Vec<&str> = Vec::new();
    let mut new_books = false;
    for (name, sql) in ADDED_TABLES {
        let found: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        if found == 0 {
            new_books |= *name == "books";
            if !missing.contains(sql) {
                missing.push(sql);
            }
        }
    }
    for sql in missing {
        conn.execute_batch(sql)?;
    }
    if new_books {
        // A journal from before the running totals: fill them from the rows.
        // It has no clean-shutdown mark, so the check that follows is full.
        books::rebuild(conn)?;
    }
    Ok(())
}

/// Reads (only) what the file is: `Ok(true)` for a new, empty database,
/// `Ok(false)` for a sound kiosk journal this build can use.
fn inspect(conn: &Connection) -> Result<bool, Fail> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if app_id == 0 && version == 0 && objects == 0 {
        return Ok(true);
    }
    if app_id != APPLICATION_ID {
        return Err(Fail::new(
            JournalErrorKind::NotAJournal,
            format!(
                "an SQLite database of another application (application_id {app_id:#x}); \
                 left untouched"
            ),
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(Fail::new(
            JournalErrorKind::SchemaVersion,
            format!("written by schema version {version}, this build knows up to {SCHEMA_VERSION}"),
        ));
    }
    if version < 1 {
        return Err(Fail::corrupt(format!(
            "a kiosk journal with invalid schema version {version}; left untouched"
        )));
    }
    Ok(false)
}

/// Refuses a non-empty file that does not start like an SQLite database,
/// without opening it with SQLite.
fn check_header(path: &Path) -> Result<(), Fail> {
    let storage = |e: std::io::Error| Fail::new(JournalErrorKind::Storage, e.to_string());
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return refuse_orphan_log(path, 0),
        Err(e) => return Err(storage(e)),
    };
    if !meta.is_file() {
        return Err(Fail::new(
            JournalErrorKind::NotAJournal,
            "not a regular file",
        ));
    }
    if meta.len() == 0 {
        return refuse_orphan_log(path, 0);
    }
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    std::fs::File::open(path)
        .map_err(storage)?
        .take(SQLITE_MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(storage)?;
    if head.as_slice() != SQLITE_MAGIC {
        return Err(Fail::new(
            JournalErrorKind::NotAJournal,
            "not an SQLite database (bad header); left untouched",
        ));
    }
    Ok(())
}

/// Refuses a missing or empty main file (`len` bytes) that has a non-empty
/// write-ahead log or rollback journal beside it.
///
/// SQLite would take the empty file as a new database and, on the first
/// write, reset the log: every event acknowledged in it would be gone. The
/// log is only valid together with the main file it was written against, so
/// neither is touched; staff must put the main file back.
fn refuse_orphan_log(path: &Path, len: u64) -> Result<(), Fail> {
    for suffix in ["-wal", "-journal"] {
        let log = sibling(path, suffix);
        let size = match std::fs::metadata(&log) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Fail::new(JournalErrorKind::Storage, e.to_string())),
        };
        if size > 0 {
            let main = if path.exists() {
                format!("is empty ({len} bytes)")
            } else {
                "is missing".to_string()
            };
            return Err(Fail::new(
                JournalErrorKind::OrphanLog,
                format!(
                    "the journal file {main} but its log {} holds {size} bytes of \
                     acknowledged events that belong to it; nothing was opened or written. \
                     Restore the journal file (from the disk or a backup) next to the log \
                     and open again; do not delete the log",
                    Path::new(&log).display()
                ),
            ));
        }
    }
    Ok(())
}
