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
//! # Versions and migration
//!
//! `user_version` is the format version. Version 2 stores the
//! audit trail compactly (see `events`) and gives sessions an integer row
//! number for it to refer to. Version 3 adds the hash chain
//! (see `chain`): a `hash` on every audit row, the `chain` anchor, and a
//! clearing's `event` (its audit row, whose hash is the head it reports).
//! Version 4 is the same rows, smaller (about 530 bytes of
//! file per payment where version 3 took 840): most audit rows store a
//! 4-byte tag of their hash, states, methods and outcomes are integer
//! codes, a note names its payment by row id, and a note keeps only the
//! time it went in doubt (see `migrate_v3`). A version-3 journal is
//! migrated on open by rebuilding `sessions`, `notes` and `payments`
//! (`migrate_v3`; the audit trail and its hashes stay, and so does the
//! chain) and then checked in full once (every row re-hashed: tens of
//! seconds on a year of it, once). Version 5 (this build) adds
//! `clearing_counts`, a clearing's per-denomination figures (see `counts`);
//! a version-4 journal is migrated on open by creating the table
//! ([`migrate_v4`]): its clearings keep no figures, and every row hashes
//! as before (see `chain`, encoding 2), so nothing else changes. A version-2 journal is migrated on open by adding the
//! columns and folding its rows into the anchor ([`migrate_v2`]: one pass
//! over the audit trail), then to 4; a version-1 journal to 2, 3, then 4.
//! Every migration runs in the opening transaction. A version-1 journal is **migrated on open**,
//! in the one transaction that also checks its books ([`migrate_v1`]): the
//! whole history is carried over (ids, order, the old JSON details as they
//! were), so nothing an auditor could ask about is lost, and a kiosk in the
//! field keeps its open sessions, pending payments and in-doubt notes
//! across the upgrade, which refusing the file would strand. What cannot be
//! carried over (an audit row of an unknown kind, or naming a session or
//! payment that does not exist) refuses the file with
//! `JournalErrorKind::SchemaVersion`, naming the version, and the
//! transaction rolls back: the file is left as it was. So does a failed
//! books check after the migration. A file of a newer version is refused
//! the same way; a build never writes an older version.
//!
//! # Tables added to a version
//!
//! A table added to the format after files of a version exist in the field
//! (so far: `tickets`, the fault tickets, and `books`/`marks`) is listed in
//! [`ADDED_TABLES`] and written with `IF NOT EXISTS`. Opening creates the
//! ones a file lacks, in the same transaction, only after the file has
//! passed the checks above. A change to an existing table needs a version
//! bump and a migration.

use std::io::Read;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::books;
use super::chain;
use super::counts;
use super::events;
use super::fail::Fail;
use super::migrate_v3;
use super::verify::{self, BooksCheck};
use super::{JournalErrorKind, APPLICATION_ID, SCHEMA_VERSION};

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Notes and payments (format 4). Money is `(…_minor INTEGER, …_currency
/// TEXT)`; times are kiosk milliseconds; states and methods are integer
/// codes (see `codec`; the comments below, which SQLite keeps with the
/// table, name them). Rows of money tables are never deleted (enforced by
/// triggers). A note and a payment name their session by its row number
/// `sessions.n`, a note its payment by the payment's row id (format 3: by
/// its key, the text again), and `notes_session` indexes the session alone
/// (a session has a few notes; their state is read from the rows). A
/// payment's account is its session's. A note keeps only the time it went
/// in doubt, while it is (format 3 kept the time of its last change on
/// every note: the audit trail has the time of every change). Format 3's tables, with text, are
/// in `migrate_v3`.
pub(super) const SCHEMA_NOTES_PAYMENTS: &str = r#"
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    key                TEXT NOT NULL UNIQUE,
    session            INTEGER NOT NULL REFERENCES sessions (n),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    amount_currency    TEXT NOT NULL,
    -- 0 cash, 1 code
    method             INTEGER NOT NULL CHECK (method IN (0, 1)),
    -- 0 pending, 1 credited, 2 refused
    state              INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
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
    -- 0 escrowed, 1 stacked, 2 returned, 3 in-doubt, 4 settled-in-box, 5 settled-returned
    state           INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),
    payment         INTEGER REFERENCES payments (id),
    in_doubt_since  INTEGER,
    CHECK ((value_minor IS NULL) = (value_currency IS NULL)),
    CHECK (payment IS NULL OR state IN (1, 4)),
    CHECK ((state = 3) = (in_doubt_since IS NOT NULL))
) STRICT;
CREATE INDEX notes_session ON notes (session);
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
    BEGIN SELECT RAISE(ABORT, 'journal notes are never deleted'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
    BEGIN SELECT RAISE(ABORT, 'journal payments are never deleted'); END;
"#;

/// The other money tables, unchanged since schema version 1 (rejects and
/// kept receipts still name their session by its text id: a few rows).
const SCHEMA_MONEY: &str = r#"
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
    in_doubt_notes     INTEGER NOT NULL,
    event              INTEGER
) STRICT;
CREATE TRIGGER clearings_no_change BEFORE UPDATE ON clearings
    BEGIN SELECT RAISE(ABORT, 'clearings are never changed'); END;
CREATE TRIGGER clearings_no_delete BEFORE DELETE ON clearings
    BEGIN SELECT RAISE(ABORT, 'clearings are never deleted'); END;
"#;

/// Sessions (format 4): a session has an integer row number `n` (its
/// `INTEGER PRIMARY KEY`, stable under `VACUUM`) that the audit trail, notes
/// and payments refer to; its text id stays unique and is what the other
/// money tables refer to. Method and outcome are integer codes (format 3:
/// text).
pub(super) const SCHEMA_SESSIONS: &str = r#"
CREATE TABLE sessions (
    n           INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    seq         INTEGER,
    kiosk       TEXT NOT NULL,
    account     TEXT NOT NULL,
    -- 0 cash, 1 code
    method      INTEGER NOT NULL CHECK (method IN (0, 1)),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    -- 0 credited, 1 pending, 2 refused, 3 no-payment, 4 aborted, 5 interrupted
    outcome     INTEGER CHECK (outcome BETWEEN 0 AND 5),
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
) STRICT;
CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
    BEGIN SELECT RAISE(ABORT, 'journal sessions are never deleted'); END;
"#;

/// The audit trail as schema version 2 writes it (version 3 added `hash`):
/// the audit row is compact (see `events`), and the view `audit` shows it
/// readably. Version 1 had `sessions.id` as the primary key and `events
/// (at, kind TEXT, session TEXT, note, payment_key TEXT, detail TEXT)`;
/// [`migrate_v1`] rewrites those two.
const SCHEMA_AUDIT: &str = r#"
CREATE TABLE event_kinds (
    code  INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
) STRICT;
CREATE TRIGGER event_kinds_no_update BEFORE UPDATE ON event_kinds
    BEGIN SELECT RAISE(ABORT, 'event kind codes never change'); END;
CREATE TRIGGER event_kinds_no_delete BEFORE DELETE ON event_kinds
    BEGIN SELECT RAISE(ABORT, 'event kind codes never change'); END;

CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    kind     INTEGER NOT NULL,
    session  INTEGER,
    note     INTEGER,
    payment  INTEGER,
    amount   INTEGER,
    detail   TEXT,
    hash     BLOB
) STRICT;

CREATE VIEW audit AS
SELECT e.id AS id,
       e.at AS at,
       coalesce(k.name, 'unknown-kind-' || e.kind) AS kind,
       s.id AS session,
       e.note AS note,
       p.key AS payment_key,
       e.amount AS amount_minor,
       iif(e.amount IS NULL, NULL, n.value_currency) AS currency,
       e.detail AS detail
FROM events e
LEFT JOIN event_kinds k ON k.code = e.kind
LEFT JOIN notes n ON n.id = e.note
LEFT JOIN payments p ON p.id = e.payment
LEFT JOIN sessions s ON s.n = coalesce(e.session, n.session, p.session);
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

/// The secondary indexes beyond those in the tables' SQL, and the ones it once
/// had that no query needs: run on every open after the checks (a no-op once
/// applied). Each index costs its pages in every commit that touches it, so
/// only what a query on the kiosk's path needs is kept, and one index serves
/// two lookups where it can:
///
/// - `sessions_state_seq` on (open?, seq): the open sessions (recovery) are
///   its `1` group, the largest seq (numbering) the larger of the two
///   groups' last entries. A session's begin adds one entry, its end moves
///   it from the `1` group to the end of the `0` group: both on the index's
///   newest leaf, one page per commit where a seq index and a partial index
///   of open sessions wrote two at the begin.
/// - `payments_state_session` on (pending?, session): the pending payments
///   (recovery) are its `1` group, a session's payments the two groups'
///   entries for the session. The same one page where a session index and
///   a partial index of pending payments wrote two at a payment's creation.
/// - `notes_in_doubt`: a small partial index (the in-doubt notes).
///
/// Totals come from the running totals (`books`), not from an index over
/// every note. Replacing the indexes of an older build is a one-time
/// `CREATE INDEX` on the first open (about a second on a year of sessions).
const SCHEMA_INDEXES: &str = r#"
DROP INDEX IF EXISTS notes_state;
DROP INDEX IF EXISTS notes_payment;
DROP INDEX IF EXISTS payments_state;
DROP INDEX IF EXISTS sessions_seq;
DROP INDEX IF EXISTS sessions_open;
DROP INDEX IF EXISTS payments_session;
DROP INDEX IF EXISTS payments_pending;
CREATE INDEX IF NOT EXISTS sessions_state_seq ON sessions ((ended_at IS NULL), seq);
CREATE INDEX IF NOT EXISTS payments_state_session ON payments ((state = 0), session);
CREATE INDEX IF NOT EXISTS notes_in_doubt ON notes (id) WHERE state = 3;
"#;

/// Tables added to the format after files of it existed, by name, with the SQL that creates
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

/// Prepared statements kept compiled: more than the journal has (about 60).
const STATEMENT_CACHE: usize = 128;

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
    // Every statement the journal runs stays compiled (a statement on
    // `notes` or `payments` carries the books' triggers' programs: compiling
    // it again costs more than running it). rusqlite's default keeps 16,
    // fewer than one payment's path uses, and an LRU cache cycled by a
    // longer loop misses every time: measured, 2.4 times the CPU per
    // payment.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
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
    // Off while the format is brought up to date (a migration renames and
    // rebuilds a parent table; a pragma cannot change inside a transaction),
    // then on for good.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "legacy_alter_table", "ON")?;
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
    conn.pragma_update(None, "legacy_alter_table", "OFF")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)?;
    Ok((conn, check))
}

/// Creates the schema (a new file), migrates a version-1 file, or adds what
/// the file lacks, checks the
/// books (see `verify`) and marks the journal in use, in one transaction.
fn settle_in(conn: &mut Connection, fresh: Fresh) -> Result<BooksCheck, Fail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match fresh {
        Fresh::New => {
            tx.execute_batch(SCHEMA_SESSIONS)?;
            tx.execute_batch(SCHEMA_AUDIT)?;
            tx.execute_batch(SCHEMA_NOTES_PAYMENTS)?;
            tx.execute_batch(SCHEMA_MONEY)?;
            tx.execute_batch(counts::SCHEMA_CLEARING_COUNTS)?;
            tx.execute_batch(&events::kinds_sql())?;
            chain::start(&tx)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        Fresh::Version1 => {
            // First: the chain, started by `migrate_v2`, hashes a
            // clearing's figures from it.
            migrate_v4(&tx)?;
            migrate_v1(&tx)?;
            migrate_v2(&tx)?;
            migrate_v3::migrate(&tx)?;
        }
        Fresh::Version2 => {
            migrate_v4(&tx)?;
            migrate_v2(&tx)?;
            migrate_v3::migrate(&tx)?;
        }
        Fresh::Version3 => {
            migrate_v4(&tx)?;
            migrate_v3::migrate(&tx)?;
        }
        Fresh::Version4 => migrate_v4(&tx)?,
        Fresh::Current if as_this_build_writes(&tx)? => {
            // Nothing to add or put back: only the check and the mark.
            let check = verify::on_open(&tx, false)?;
            verify::set_marks(&tx, false, None)?;
            tx.commit()?;
            return Ok(check);
        }
        Fresh::Current => {}
    }
    // Kinds a newer build of this version added (none so far).
    tx.execute_batch(&events::kinds_sql())?;
    add_tables(&tx)?;
    // A migrated file is checked in full once (for version 3, that is
    // also the proof that its rows' new spelling hashes as the old did).
    let migrated = matches!(fresh, Fresh::Version1 | Fresh::Version2 | Fresh::Version3);
    let check = verify::on_open(&tx, migrated)?;
    // In use from now on: a crash before the clean close leaves the mark
    // cleared, and the next open checks from the mark. Triggers someone
    // dropped or replaced come back as this build writes them (the check
    // above has just found the books as they are).
    for name in verify::changed_triggers(&tx)? {
        tx.execute_batch(&format!("DROP TRIGGER IF EXISTS {name};"))?;
    }
    tx.execute_batch(books::SCHEMA_BOOKS)?;
    tx.execute_batch(counts::SCHEMA_CLEARING_COUNTS)?;
    tx.execute_batch(chain::SCHEMA_EVENTS_GUARDS)?;
    tx.execute_batch(SCHEMA_INDEXES)?;
    verify::set_marks(&tx, false, None)?;
    tx.commit()?;
    Ok(check)
}

/// Whether the file's schema (every table, index and trigger, with its SQL)
/// and its event kinds are exactly what this build sets up, so that the
/// idempotent steps of [`settle_in`] would change nothing. Those steps parse
/// every trigger's SQL again; skipping them is most of the cost of an open
/// (measured: 30 % of the CPU of a simulated kiosk that restarts often).
/// A schema that differs in any way (a trigger dropped or replaced, an
/// index missing, a file migrated from an older format) takes the full path.
fn as_this_build_writes(conn: &Connection) -> Result<bool, Fail> {
    let expected = match expected_schema() {
        Ok(expected) => expected,
        // The reference could not be built: take the full path, which
        // reports any real problem with this file.
        Err(_) => return Ok(false),
    };
    Ok(schema_of(conn)? == *expected)
}

/// The schema of a journal this build has just created, as [`schema_of`]
/// reads it: built once per process in memory.
fn expected_schema() -> Result<&'static String, &'static String> {
    static EXPECTED: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    EXPECTED
        .get_or_init(|| {
            let built = || -> Result<String, Fail> {
                let mut conn = Connection::open_in_memory()?;
                conn.pragma_update(None, "foreign_keys", "OFF")?;
                conn.pragma_update(None, "legacy_alter_table", "ON")?;
                settle_in(&mut conn, Fresh::New)?;
                schema_of(&conn)
            };
            built().map_err(|e| format!("{e:?}"))
        })
        .as_ref()
}

/// Every schema object with its SQL, in a fixed order, and the number of
/// event kinds the file knows.
fn schema_of(conn: &Connection) -> Result<String, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || ifnull(sql, '') \
         FROM sqlite_schema ORDER BY type, name",
    )?;
    let mut out: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let kinds: i64 = conn.query_row("SELECT count(*) FROM event_kinds", [], |r| r.get(0))?;
    out.push(format!("event kinds {kinds}"));
    Ok(out.join("\n"))
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

/// What [`inspect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// A new, empty database.
    New,
    /// A kiosk journal of schema version 1: migrated on open.
    Version1,
    /// A kiosk journal of schema version 2: migrated on open (the chain added).
    Version2,
    /// A kiosk journal of schema version 3: migrated on open (hashes stored
    /// as tags from now on).
    Version3,
    /// A kiosk journal of schema version 4: migrated on open (a clearing's
    /// per-denomination figures added).
    Version4,
    /// A kiosk journal of this build's schema version.
    Current,
}

/// Rewrites a version-1 journal's `sessions`, `events`, `notes` and
/// `payments` as version 2 (see [`SCHEMA_AUDIT`] and, for the text states
/// of versions 2 and 3, `migrate_v3`), inside the caller's transaction, keeping
/// every row, every id (note, payment and event ids, which the audit rows
/// and the verification marks name) and the order. Sessions get their row
/// number `n` in their stored order, and notes and payments refer to it; a
/// payment loses its `account` (always its session's: checked first) and
/// its `changed_at`, a note its `created_at` (the audit rows, all kept, have
/// those times). An audit row's kind text becomes its code, its session and
/// payment key become row ids, a note's value (from its JSON) becomes
/// `amount`, and its JSON detail is kept as it was (nothing of the history
/// is dropped). A row it cannot carry over (a kind this build does not
/// know, a session or payment key that names no row, a payment for another
/// account than its session's) stops the migration: the caller's
/// transaction rolls back and the file is left as it was, with an error
/// naming the version. The rebuilt tables get their triggers back: their
/// own with their SQL, the books' after the books check (the copy must not
/// count the money twice in `books`).
///
/// Needs `foreign_keys = OFF` and `legacy_alter_table = ON` (set by
/// [`open`]): renaming the old tables must not rewrite the other tables'
/// references to them, which are meant for the new ones.
fn migrate_v1(conn: &Connection) -> Result<(), Fail> {
    let refuse = |what: String| {
        Fail::new(
            JournalErrorKind::SchemaVersion,
            format!(
                "cannot migrate this schema version 1 journal to version {SCHEMA_VERSION}: \
                 {what}; left untouched"
            ),
        )
    };
    // The triggers of the tables being rebuilt go first (those of `books`
    // come back after the books check, the others with their tables).
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'
             AND tbl_name IN ('sessions', 'events', 'notes', 'payments')",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{}\";", t.replace('"', "\"\"")))?;
    }
    conn.execute_batch(
        "DROP INDEX IF EXISTS sessions_seq;
         DROP INDEX IF EXISTS sessions_open;
         DROP INDEX IF EXISTS payments_session;
         DROP INDEX IF EXISTS notes_session;
         DROP INDEX IF EXISTS notes_in_doubt;
         DROP INDEX IF EXISTS payments_pending;
         DROP INDEX IF EXISTS sessions_state_seq;
         DROP INDEX IF EXISTS payments_state_session;
         ALTER TABLE sessions RENAME TO sessions_v1;
         ALTER TABLE events RENAME TO events_v1;
         ALTER TABLE payments RENAME TO payments_v1;
         ALTER TABLE notes RENAME TO notes_v1;",
    )?;
    conn.execute_batch(migrate_v3::V3_SESSIONS)?;
    conn.execute_batch(SCHEMA_AUDIT)?;
    conn.execute_batch(migrate_v3::V3_NOTES_PAYMENTS)?;
    conn.execute_batch(&events::kinds_sql())?;
    let (kinds, sessions, keys): (i64, i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE k.code IS NULL),
                count(*) FILTER (WHERE e.session IS NOT NULL AND s.id IS NULL),
                count(*) FILTER (WHERE e.payment_key IS NOT NULL AND p.id IS NULL)
         FROM events_v1 e
         LEFT JOIN event_kinds k ON k.name = e.kind
         LEFT JOIN sessions_v1 s ON s.id = e.session
         LEFT JOIN payments_v1 p ON p.key = e.payment_key",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (orphans, accounts): (i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM notes_v1 n LEFT JOIN sessions_v1 s ON s.id = n.session
                 WHERE s.id IS NULL)
              + (SELECT count(*) FROM payments_v1 p LEFT JOIN sessions_v1 s ON s.id = p.session
                 WHERE s.id IS NULL),
                (SELECT count(*) FROM payments_v1 p JOIN sessions_v1 s ON s.id = p.session
                 WHERE s.account IS NOT p.account)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if kinds + sessions + keys + orphans + accounts > 0 {
        return Err(refuse(format!(
            "{kinds} audit rows of a kind this build does not know, {sessions} naming no \
             session, {keys} naming no payment; {orphans} notes or payments of no session; \
             {accounts} payments for another account than their session's"
        )));
    }
    // Every row, with its id and in its order; a payment's account is its
    // session's (checked above), a note's creation time and a payment's last
    // change time are in their audit rows.
    conn.execute_batch(
        "INSERT INTO sessions (id, seq, kiosk, account, method, started_at, ended_at, outcome)
           SELECT id, seq, kiosk, account, method, started_at, ended_at, outcome
           FROM sessions_v1 ORDER BY rowid;
         INSERT INTO payments (id, key, session, amount_minor, amount_currency, method, state,
                               attempts, backend_ref, balance_minor, balance_currency, reason,
                               created_at)
           SELECT p.id, p.key, s.n, p.amount_minor, p.amount_currency, p.method, p.state,
                  p.attempts, p.backend_ref, p.balance_minor, p.balance_currency, p.reason,
                  p.created_at
           FROM payments_v1 p JOIN sessions s ON s.id = p.session ORDER BY p.id;
         INSERT INTO notes (id, session, value_minor, value_currency, state, payment_key,
                            changed_at)
           SELECT o.id, s.n, o.value_minor, o.value_currency, o.state, o.payment_key,
                  o.changed_at
           FROM notes_v1 o JOIN sessions s ON s.id = o.session ORDER BY o.id;
         INSERT INTO events (id, at, kind, session, note, payment, amount, detail)
           SELECT e.id, e.at, k.code, s.n, e.note, p.id,
                  iif(e.note IS NULL, NULL, json_extract(e.detail, '$.value.minor')),
                  e.detail
           FROM events_v1 e
           JOIN event_kinds k ON k.name = e.kind
           LEFT JOIN sessions s ON s.id = e.session
           LEFT JOIN payments p ON p.key = e.payment_key
           ORDER BY e.id;",
    )?;
    let lost: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM sessions_v1) - (SELECT count(*) FROM sessions)
              + (SELECT count(*) FROM payments_v1) - (SELECT count(*) FROM payments)
              + (SELECT count(*) FROM notes_v1) - (SELECT count(*) FROM notes)
              + (SELECT count(*) FROM events_v1) - (SELECT count(*) FROM events)",
        [],
        |r| r.get(0),
    )?;
    debug_assert_eq!(lost, 0, "the checks above let no row fall out");
    if lost != 0 {
        return Err(refuse(format!("{lost} rows would not carry over")));
    }
    conn.execute_batch(
        "DROP TABLE events_v1;
         DROP TABLE notes_v1;
         DROP TABLE payments_v1;
         DROP TABLE sessions_v1;",
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
    conn.pragma_update(None, "user_version", 2)?;
    Ok(())
}

/// Brings a version-2 journal to version 3 (inside the caller's
/// transaction): the audit rows get their `hash` column (empty for the rows
/// so far), a clearing the id of its audit row, and the chain its anchor:
/// every row so far folded into one hash (see `chain`), so later rows chain
/// onto the whole history. One pass over the audit trail, once (seconds on
/// a year of it).
fn migrate_v2(conn: &Connection) -> Result<(), Fail> {
    let has = |table: &str, column: &str| -> Result<bool, Fail> {
        Ok(conn.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get::<_, i64>(0),
        )? > 0)
    };
    // A file migrated from version 1 just now has the columns already.
    if !has("events", "hash")? {
        conn.execute_batch("ALTER TABLE events ADD COLUMN hash BLOB;")?;
    }
    if !has("clearings", "event")? {
        conn.execute_batch("ALTER TABLE clearings ADD COLUMN event INTEGER;")?;
    }
    chain::start(conn)?;
    conn.pragma_update(None, "user_version", 3)?;
    Ok(())
}

/// Brings a journal to version 5 (inside the caller's transaction): the
/// table of a clearing's per-denomination figures (`counts`), empty. The
/// clearings recorded so far keep none, so every audit row hashes as
/// before (see `chain`). Run first when migrating any older version (the
/// later steps set `user_version` to this build's).
fn migrate_v4(conn: &Connection) -> Result<(), Fail> {
    conn.execute_batch(counts::SCHEMA_CLEARING_COUNTS)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// Reads (only) what the file is: a new, empty database, or a sound kiosk
/// journal this build can use (as it is, or after migrating it).
fn inspect(conn: &Connection) -> Result<Fresh, Fail> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if app_id == 0 && version == 0 && objects == 0 {
        return Ok(Fresh::New);
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
    Ok(match version {
        1 => Fresh::Version1,
        2 => Fresh::Version2,
        3 => Fresh::Version3,
        4 => Fresh::Version4,
        _ => Fresh::Current,
    })
}

/// Refuses a non-empty file that does not start like an SQLite database,
/// without opening it with SQLite.
pub(super) fn check_header(path: &Path) -> Result<(), Fail> {
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

/// Whether the rollback journal at `log` is the one SQLite writes while it
/// creates a database: its header (magic number, or zeros where SQLite
/// has not written it yet) names an original size of 0 pages. A kiosk killed while its journal file was
/// being created leaves exactly that beside the empty file; it holds no
/// event (a rollback journal keeps only pages as they were before a
/// transaction, and this file had none), and SQLite rolls it back to the
/// empty file it was. Anything else beside an empty file is refused.
fn creation_log(log: &std::ffi::OsStr) -> Result<bool, Fail> {
    /// The rollback journal's magic number (SQLite's file format, 4.1).
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let mut header = [0u8; 28];
    let read = std::fs::File::open(log)
        .and_then(|mut f| f.read_exact(&mut header))
        .map(|()| true)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Ok(false),
            _ => Err(e),
        })
        .map_err(|e| Fail::new(JournalErrorKind::Storage, e.to_string()))?;
    if !read {
        return Ok(false);
    }
    // SQLite writes the magic number only once the journal is synced: a
    // header with zeros in its place is a journal still being written.
    let magic = header[..8] == MAGIC || header[..8].iter().all(|b| *b == 0);
    // Bytes 16..20: the database's size in pages before the transaction.
    let original_pages = u32::from_be_bytes([header[16], header[17], header[18], header[19]]);
    Ok(magic && original_pages == 0)
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
        if size > 0 && !(suffix == "-journal" && len == 0 && path.exists() && creation_log(&log)?) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal this build created and closed has exactly the schema the
    /// short path of [`settle_in`] expects, so reopening it skips the
    /// idempotent steps; a dropped trigger makes it differ.
    #[test]
    fn a_journal_this_build_wrote_matches_the_expected_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let (conn, _) = open(&path).unwrap();
        drop(conn);
        let conn = Connection::open(&path).unwrap();
        let expected = expected_schema().unwrap();
        let found = schema_of(&conn).unwrap();
        if found != *expected {
            for (a, b) in found.lines().zip(expected.lines()) {
                if a != b {
                    panic!("first difference:\n file:     {a}\n expected: {b}");
                }
            }
            panic!(
                "lengths differ: {} vs {}",
                found.lines().count(),
                expected.lines().count()
            );
        }
        assert!(as_this_build_writes(&conn).unwrap());
        conn.execute_batch("DROP TRIGGER events_no_delete;")
            .unwrap();
        assert!(!as_this_build_writes(&conn).unwrap());
    }
}
