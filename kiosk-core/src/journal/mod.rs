//! The durable journal: every money event, in a SQLite file, before the kiosk acts on it.
//!
//! The journal is the kiosk's books. Every note the acceptor escrows, stacks,
//! returns or loses track of, every payment posted to the backend and every
//! answer the backend gives is written here first; the kiosk moves a note or
//! shows "paid" only after the call that records it has returned `Ok`. After a
//! crash or power loss, the journal alone tells the runner what to finish.
//!
//! # The money invariant
//!
//! For every currency, after any sequence of successful calls,
//! [`CashTotals`]`::in_box == credited + pending + refused`: every note the
//! journal believes is in the cash box belongs to exactly one cash payment, or
//! is counted as pending until one is journaled. A cash payment's amount is
//! always the sum of the notes assigned to it (checked in
//! [`Journal::payment_pending`]), a note is assigned at most once, and rows of
//! notes, payments and sessions are never deleted.
//!
//! The totals are kept as running totals (table `books`, updated by triggers
//! in the same commit as each money event), so [`Journal::cash_totals`] is
//! two lookups on a journal of any age. Whether the books balance, precisely,
//! and when that is checked, is in the `verify` module: a bounded check on
//! every open, after a clean close and after a crash alike (the rows since
//! the mark the last checkpoint moved, whatever the journal's age), the full
//! one over every row when the books' triggers or the marks are missing,
//! and [`Journal::verify_full`] on request. A
//! file whose books do not balance is refused with
//! [`JournalErrorKind::Unbalanced`], naming what does not add up.
//!
//! # Why SQLite
//!
//! - **Atomic multi-row changes.** Settling an in-doubt note into the box and
//!   creating the payment that credits it are one commit: after a crash there
//!   is either both or neither, never a note in the box with no payment.
//! - **Crash safety that is tested by others** at a scale no bespoke log format
//!   gets, including torn writes and power loss mid-commit.
//! - **One file**, readable by staff and auditors with the stock `sqlite3`
//!   tool; the bundled build needs nothing from the kiosk's OS.
//! - **A second line of defence in the schema**: `CHECK` constraints on states
//!   and amounts, foreign keys, and triggers that make the `events` audit trail
//!   append-only and forbid deleting notes, payments or sessions.
//!
//! # Durability: WAL + `synchronous=FULL`
//!
//! The file runs in write-ahead-log mode with `synchronous=FULL`: a commit
//! appends its pages to the WAL and **fsyncs it before returning**, so a
//! method that returned `Ok` survives a power cut. (`synchronous=NORMAL` would
//! be consistent but could lose the last commits on power loss, which for a
//! kiosk means a stacked note nobody knows about.) WAL keeps each commit one
//! sequential append plus one fsync, and lets reads run without blocking.
//!
//! # One transaction per money event
//!
//! Every mutating method is exactly one `BEGIN IMMEDIATE … COMMIT`: the state
//! change, the checks it depends on, and one row in the append-only `events`
//! table that says what happened (a compact row of integers: time, kind
//! code, the session, note or payment by row id, the note's value, and JSON
//! only for what no other row keeps; the view `audit` reads it with names
//! and keys, see `events`). There is no other commit on the path, so the cost of a
//! money event is one synced commit. A method that returns an error has
//! rolled its transaction back: **nothing was written**. Read methods
//! (`&self`) never write; they read one consistent snapshot.
//!
//! # Checkpoints between sessions
//!
//! SQLite's automatic checkpoint runs inside whichever commit crosses its
//! threshold: a customer's money event would copy the WAL into the main file
//! and sync both while the customer waits. It is off (`wal_autocheckpoint =
//! 0`); the runner calls [`Journal::checkpoint`] between sessions, and a
//! clean close checkpoints too. `journal_size_limit` keeps the `-wal` file
//! from staying large after a long stretch without a checkpoint.
//!
//! # Idempotency and "exactly once"
//!
//! - A note leaves `Escrowed` once: it is stacked, returned or put in doubt at
//!   most once; an in-doubt note is settled at most once.
//! - [`Journal::payment_pending`] with a key that exists (same session and
//!   amount) returns the existing record and writes nothing, so a runner that
//!   crashed between journaling and posting can call it again.
//! - [`Journal::payment_credited`] moves a payment to `Credited` once; a
//!   repeated answer returns [`CreditOutcome::AlreadyCredited`] and changes
//!   nothing but the audit trail. Together with the backend's idempotency key
//!   this is what keeps a payment from being credited twice.
//!
//! # What recovery can rely on
//!
//! After a restart, [`Journal::open`] on the same file shows exactly the calls
//! that returned `Ok` before the crash, and for a call that was interrupted,
//! either all of it or none of it. The runner finishes the work from:
//! [`Journal::open_sessions`] (sessions never ended, their escrowed notes and
//! unposted stacked money), [`Journal::pending_payments`] (post again with the
//! same key), [`Journal::in_doubt_notes`] (settle from the device's report),
//! [`Journal::unprinted_receipts`] and [`Journal::max_session_seq`] (continue
//! numbering sessions without reusing an id).
//!
//! # Opening an existing file
//!
//! [`Journal::open`] writes nothing to a file before it knows the file is a
//! kiosk journal (SQLite `application_id` [`APPLICATION_ID`]) or an empty
//! database. A file that is something else, another application's database,
//! or a journal from a newer build is
//! reported with an error naming the path and left byte-for-byte untouched for
//! staff: the journal is never silently emptied or recreated. Neither is a
//! missing or empty main file whose `-wal` (or `-journal`) still holds
//! acknowledged events ([`JournalErrorKind::OrphanLog`]).
//!
//! Opening does not read the whole file: SQLite's `quick_check` (seconds
//! on a year of data) runs only in [`Journal::verify_full`]; a damaged page
//! is still reported ([`JournalErrorKind::Corrupt`]) by the first call that
//! reads it.
//!
//! # Tamper evidence: the hash chain
//!
//! Every audit row is a link of a hash chain: SHA-256 over the previous
//! row's hash and its own canonical bytes, which include the money facts of
//! the session, note, payment or clearing it names (the encoding is defined
//! in `chain`, and `chain_check.py` beside it recomputes the chain with
//! Python's standard library alone). A row stores the first 4 bytes of its
//! hash (every 64th row and every clearing the whole 32), which is enough
//! to name the row an edit changed (see `chain` for exactly what that
//! guarantees). Editing, deleting or inserting rows outside the kiosk
//! breaks the chain at that row: [`Journal::open`] re-hashes the rows since
//! the last verified mark and the newest [`CHAIN_TAIL`] (every row when the
//! audit trail's guard triggers were touched), [`Journal::verify_full`]
//! every row, and a broken chain is [`JournalErrorKind::ChainBroken`],
//! naming the first bad row ([`JournalError::first_bad_row`]). An edit older
//! than what the open re-hashes, with every later hash recomputed, is only
//! caught against a head kept outside the file: [`Journal::chain_head`],
//! printed on every clearing ([`ClearingRecord::chain_head`]).
//!
//! # Limits
//!
//! One [`Journal`] per file and process: it is `Send` but not `Sync`.
//! [`Journal::cash_totals`] covers the whole life of the file (clearings
//! record what they took out); the file is not yet rotated per clearing, so
//! a year of history stays in it. Nothing on the open path reads that
//! history, but [`Journal::verify_full`] does (and the full check on open
//! when the books' triggers are missing).
//!
//! # Layout
//!
//! `schema` (tables, safe open), `sessions`, `notes`, `settle`, `payments`,
//! `receipts`, `clearing` (dual-control clearings), `tickets` (fault
//! tickets), `queries` (read-only reports), `books` (running totals),
//! `verify` (whether the books balance), `events` (audit rows), `chain`
//! (the hash chain over them), `codec`
//! (how records are spelled in the file), `migrate_v3` (format 3 → 4),
//! `counts` (cash counts by denomination, and a clearing's per-denomination
//! figures), `fail` (internal errors).

mod books;
mod chain;
mod clearing;
mod codec;
mod counts;
mod events;
mod fail;
mod migrate_v3;
mod notes;
mod payments;
mod queries;
mod readonly;
mod receipts;
mod schema;
mod sessions;
mod settle;
mod staff;
mod tickets;
mod types;
mod verify;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use kiosk_hal::{Currency, IdempotencyKey, Money, NoteFate, Receipt, RejectReason};

use crate::ids::{Millis, SessionId};
pub use chain::{ChainHead, CHAIN_TAIL, FULL_HASH_EVERY, HASH_LEN, TAG_LEN};
pub use clearing::ClearingRecord;
pub use counts::{
    denomination, differences, total_of, CashCounts, CountLang, DenominationLine, NoteCount,
};
pub use readonly::{AuditRow, PaymentFacts, ReadOnlyJournal, ReadVia};
pub use staff::{StaffEvent, StaffEventKind};
pub use types::*;
pub use verify::{BooksCheck, CheckKind, RECENT_TAIL};

/// Why the journal could not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JournalErrorKind {
    /// The file is not a kiosk journal (another database, or not a database at all).
    NotAJournal,
    /// The file is a kiosk journal but damaged; it is left untouched for staff.
    Corrupt,
    /// The journal was written by a newer schema version than this build knows.
    SchemaVersion,
    /// The file system or SQLite failed (disk full, permissions).
    Storage,
    /// The request does not fit the record's state (stacking a returned note,
    /// crediting an unknown key). A bug in the caller; nothing was written.
    IllegalTransition,
    /// No record with that id or key.
    UnknownRecord,
    /// The main file is missing or empty but its `-wal` or `-journal` holds
    /// acknowledged events: the main file was lost. Nothing was opened or
    /// written; staff must restore the main file next to the log.
    OrphanLog,
    /// The books do not balance (a payment is not the sum of its notes, the
    /// running totals disagree with the rows, …). The file is left as it
    /// was, for staff to reconcile.
    Unbalanced,
    /// The audit trail's hash chain does not hold: a row was edited,
    /// deleted or inserted outside the kiosk (see
    /// [`JournalError::first_bad_row`]). The file is left as it was.
    ChainBroken,
}

/// An error from the journal. Nothing was written when one is returned.
#[derive(Debug)]
pub struct JournalError {
    kind: JournalErrorKind,
    message: String,
    row: Option<i64>,
}

impl JournalError {
    /// An error of `kind`.
    pub fn new(kind: JournalErrorKind, message: impl Into<String>) -> JournalError {
        JournalError {
            kind,
            message: message.into(),
            row: None,
        }
    }
    /// The kind.
    pub fn kind(&self) -> JournalErrorKind {
        self.kind
    }
    /// For [`JournalErrorKind::ChainBroken`]: the id of the first audit row
    /// (`events.id`) whose hash does not hold, for staff to look at first.
    pub fn first_bad_row(&self) -> Option<i64> {
        self.row
    }
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "journal {:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for JournalError {}

/// The SQLite `application_id` that marks a file as a kiosk journal (`"KIOS"`).
pub const APPLICATION_ID: i32 = 0x4B49_4F53;

/// Commits without a [`Journal::checkpoint`] after which ending a session
/// checkpoints anyway (about 30 MB of WAL; see [`Journal::end_session`]).
pub const BACKSTOP_CHECKPOINT_COMMITS: u64 = 2_000;

/// The schema version this build writes (SQLite `user_version`); files of
/// versions 1 to 4 are migrated to it on open (see [`Journal::open`]).
/// Version 5 added a clearing's per-denomination figures (`counts`).
pub const SCHEMA_VERSION: i32 = 5;

/// The durable journal of one kiosk: one SQLite file. See the module docs.
///
/// Every `&mut self` method is one synced transaction that either happened
/// completely or (when it returns an error) not at all; `&self` methods never
/// write.
pub struct Journal {
    conn: rusqlite::Connection,
    path: PathBuf,
    commits: u64,
    /// Commits since the last checkpoint (for the backstop in `end_session`).
    since_checkpoint: u64,
    /// The chain's head as the last committed money event left it (`None`
    /// after an open or a failed event: the next append recomputes it).
    head: Option<ChainHead>,
    opened_with: BooksCheck,
    closed: bool,
}

/// What a [`Journal::checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Frames (pages) in the WAL before the checkpoint.
    pub wal_frames: u64,
    /// Of those, how many are now in the main file. Fewer than
    /// `wal_frames` only while another process (staff reading the file)
    /// holds an old snapshot; the rest follow at the next checkpoint.
    pub checkpointed: u64,
}

impl Checkpoint {
    /// Whether the whole WAL is in the main file (the next commit starts the
    /// WAL from its beginning again).
    pub fn complete(&self) -> bool {
        self.checkpointed == self.wal_frames
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal at `path`, creating the file if it does not exist.
    ///
    /// An existing file is checked before anything is written to it: not an
    /// SQLite database, or another application's database →
    /// [`JournalErrorKind::NotAJournal`]; a journal written by a newer schema
    /// → [`JournalErrorKind::SchemaVersion`] (a journal of an older version
    /// is migrated to [`SCHEMA_VERSION`] in the opening transaction, or
    /// refused with that error, untouched, if a row cannot be carried over); a
    /// journal whose books do not balance → [`JournalErrorKind::Unbalanced`]
    /// (the bounded check from the mark, the full one when the books'
    /// triggers or the marks are missing: see [`Journal::opened_with`]);
    /// a damaged page met on the way → [`JournalErrorKind::Corrupt`]. The
    /// error names the path, and the file is left exactly as it was. An empty
    /// (0-byte) or missing file is taken as a new journal, unless a non-empty
    /// `-wal` or `-journal` lies beside it → [`JournalErrorKind::OrphanLog`].
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        let (conn, opened_with) = schema::open(&path).map_err(|f| f.at(&path))?;
        Ok(Journal {
            conn,
            path,
            commits: 0,
            since_checkpoint: 0,
            head: None,
            opened_with,
            closed: false,
        })
    }

    /// The check of the books that [`Journal::open`] ran, and what it cost.
    pub fn opened_with(&self) -> BooksCheck {
        self.opened_with
    }

    /// Checks every note and payment against the definition of balanced books
    /// (see the `verify` module: each cash payment is exactly its notes, no
    /// note is assigned twice or to nothing, in the box = credited + pending +
    /// refused, the running totals agree with the rows) and every page of
    /// the file (`quick_check`). Reads the whole file: run it between
    /// sessions, at a clearing, or in maintenance, not on a customer's path.
    /// Unbalanced → [`JournalErrorKind::Unbalanced`]; damaged →
    /// [`JournalErrorKind::Corrupt`]. On success, later opens check only
    /// what is written after it.
    pub fn verify_full(&mut self) -> Result<BooksCheck, JournalError> {
        let started = std::time::Instant::now();
        let head = self.head;
        let run = |conn: &mut rusqlite::Connection| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            verify::pages(&tx)?;
            let payments = verify::full(&tx)?;
            let rows = chain::check_all(&tx)?;
            verify::set_marks(&tx, false, head)?;
            tx.commit()?;
            Ok((payments, rows))
        };
        let (payments, rows) = run(&mut self.conn).map_err(|f: fail::Fail| f.at(&self.path))?;
        Ok(BooksCheck {
            kind: CheckKind::FullWithPages,
            after_unclean_shutdown: false,
            payments_checked: payments,
            chain_rows_checked: rows,
            took: started.elapsed(),
        })
    }

    /// The head of the audit trail's hash chain: how many rows it has and
    /// the last one's hash (see the `chain` module). Print it, send it: a
    /// copy kept outside the file is what an edit of the file cannot reach.
    /// Every [`ClearingRecord`] carries the head at its clearing.
    pub fn chain_head(&self) -> Result<ChainHead, JournalError> {
        self.read(chain::head)
    }

    /// Copies the WAL into the main file: call it between sessions, never
    /// while a customer waits (a money event's commit never checkpoints).
    ///
    /// PASSIVE: it never waits for, or blocks, a reader (staff looking at the
    /// file with `sqlite3`); with none, it copies everything, and the next
    /// commit writes the WAL from its start again, so the `-wal` file stays
    /// the size of what is written between two checkpoints (a session or
    /// so) and is overwritten in place rather than grown. (TRUNCATE would
    /// wait on readers and make every next commit grow the file again; a
    /// clean close truncates.)
    ///
    /// Before copying, it checks the payments written since the last mark
    /// (the cheap check of the `verify` module, between sessions) and moves
    /// the mark past them, in one commit (none when nothing was written since
    /// the last mark): an open after a later crash checks only what came
    /// after this checkpoint. Books that do not balance →
    /// [`JournalErrorKind::Unbalanced`], the mark and the WAL left as they
    /// were.
    pub fn checkpoint(&mut self) -> Result<Checkpoint, JournalError> {
        if self.since_checkpoint > 0 {
            self.advance_mark()
                .map_err(|f: fail::Fail| f.at(&self.path))?;
        }
        let (busy, log, done): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| fail::Fail::from(e).at(&self.path))?;
        debug_assert_eq!(busy, 0, "a PASSIVE checkpoint is never busy");
        self.since_checkpoint = 0;
        // -1 / -1 when the journal is not in WAL mode: nothing to copy.
        let frames = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Checkpoint {
            wal_frames: frames(log),
            checkpointed: frames(done),
        })
    }

    /// Closes the journal cleanly: checks the payments written since the
    /// last verification, sets the clean-shutdown mark (so the next open runs
    /// only the cheap check) and checkpoints the WAL into the main file.
    /// Dropping a `Journal` does the same and logs a failure; `close` returns
    /// it. If the check fails the mark is not set, and the next open checks
    /// everything.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.closed = true;
        let path = self.path.clone();
        self.shut().map_err(|f| f.at(&path))
    }

    /// Lets go of the file the way a power cut would: no clean-shutdown
    /// mark, no checkpoint (what is in the WAL stays there). For drills and
    /// tests that simulate power loss, so that the next open takes the path
    /// a real one would (the check from the mark, as after a crash).
    pub fn abandon(mut self) {
        self.closed = true;
        if let Err(e) = self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        ) {
            tracing::warn!(error = %e, "journal: abandoned with a checkpoint on close");
        }
    }

    /// Checks the payments written since the verified mark and moves the
    /// mark to the newest rows (the journal stays marked in use).
    fn advance_mark(&mut self) -> Result<(), fail::Fail> {
        let head = self.head;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(marks) = verify::marks(&tx)? {
            verify::since(&tx, marks)?;
            verify::set_marks(&tx, false, head)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The clean close (see [`Journal::close`]).
    fn shut(&mut self) -> Result<(), fail::Fail> {
        let head = self.head;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(marks) = verify::marks(&tx)? {
            verify::cheap(&tx, marks)?;
            verify::set_marks(&tx, true, head)?;
        }
        tx.commit()?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The file the journal lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `op` as one immediate transaction and commits it (synced); on an
    /// error nothing is written.
    fn write<T>(
        &mut self,
        op: impl FnOnce(&chain::Writer<'_>) -> Result<T, fail::Fail>,
    ) -> Result<T, JournalError> {
        let head = self.head.take();
        let run = |conn: &mut rusqlite::Connection| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let w = chain::Writer::new(&tx, head);
            let out = op(&w)?;
            let head = w.into_head();
            tx.commit()?;
            Ok((out, head))
        };
        let (out, head) = run(&mut self.conn).map_err(|f: fail::Fail| f.at(&self.path))?;
        self.head = head;
        self.commits += 1;
        self.since_checkpoint += 1;
        Ok(out)
    }

    /// Synced commits of money events made through this handle since it was
    /// opened: one per successful recording call (every `&mut self` method
    /// but [`Journal::checkpoint`], [`Journal::verify_full`] and
    /// [`Journal::close`], which run between sessions). Tests and benchmarks
    /// use it to check that a money event costs exactly one commit.
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// Runs `op` on one consistent read snapshot; writes nothing.
    fn read<T>(
        &self,
        op: impl FnOnce(&rusqlite::Connection) -> Result<T, fail::Fail>,
    ) -> Result<T, JournalError> {
        let run = || {
            let tx = self.conn.unchecked_transaction()?;
            let out = op(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|f: fail::Fail| f.at(&self.path))
    }

    /// Records a new session. An id that exists already →
    /// [`JournalErrorKind::IllegalTransition`].
    pub fn begin_session(&mut self, start: &SessionStart) -> Result<(), JournalError> {
        self.write(|c| sessions::begin(c, start))
    }

    /// Ends a session with `outcome`, once. Unknown session →
    /// [`JournalErrorKind::UnknownRecord`]; ended already →
    /// [`JournalErrorKind::IllegalTransition`]. Its notes and payments are not
    /// touched: pending payments and in-doubt notes stay listed until settled.
    ///
    /// A backstop, not the plan: when [`BACKSTOP_CHECKPOINT_COMMITS`] commits
    /// have passed without a [`Journal::checkpoint`] (the runner never
    /// called it), the session's end, after its commit, checkpoints, so the
    /// WAL cannot grow without bound. A runner that checkpoints between
    /// sessions never reaches it.
    pub fn end_session(
        &mut self,
        session: &SessionId,
        outcome: SessionOutcome,
        at: Millis,
    ) -> Result<(), JournalError> {
        self.write(|c| sessions::end(c, session, outcome, at))?;
        if self.since_checkpoint >= BACKSTOP_CHECKPOINT_COMMITS {
            if let Err(e) = self.checkpoint() {
                // The session is journaled; the checkpoint is only retried.
                tracing::warn!(error = %e, "journal: backstop checkpoint failed");
            }
        }
        Ok(())
    }

    /// Records a note held in escrow (not in the box, not credited) and returns
    /// its id. The value must be positive and in the currency of the session's
    /// other notes, else [`JournalErrorKind::IllegalTransition`].
    pub fn note_escrowed(
        &mut self,
        session: &SessionId,
        value: Money,
        at: Millis,
    ) -> Result<NoteId, JournalError> {
        self.write(|c| notes::escrowed(c, session, value, at))
    }

    /// Records a note past the credit point, in the cash box; returns its id.
    ///
    /// With `Some(note)`: the escrowed note of this session moves to
    /// `Stacked`; it must be `Escrowed` (a note is never stacked twice) and
    /// `value` must equal its escrowed value, else
    /// [`JournalErrorKind::IllegalTransition`]. With `None` (the device
    /// reported a stack with no escrow journaled): a new `Stacked` note.
    /// Either way the note counts as pending money until a payment takes it.
    pub fn note_stacked(
        &mut self,
        session: &SessionId,
        note: Option<NoteId>,
        value: Money,
        at: Millis,
    ) -> Result<NoteId, JournalError> {
        self.write(|c| notes::stacked(c, session, note, value, at))
    }

    /// Records an escrowed note given back to the customer (`Escrowed` →
    /// `Returned`); any other state → [`JournalErrorKind::IllegalTransition`].
    pub fn note_returned(&mut self, note: NoteId, at: Millis) -> Result<(), JournalError> {
        self.write(|c| notes::returned(c, note, at))
    }

    /// Records a note the acceptor refused before escrow (no money) and returns
    /// how many the session has had, this one included.
    pub fn note_rejected(
        &mut self,
        session: &SessionId,
        reason: RejectReason,
        at: Millis,
    ) -> Result<u32, JournalError> {
        self.write(|c| notes::rejected(c, session, reason, at))
    }

    /// Records a note whose fate is unknown (jam, power loss); returns its id.
    ///
    /// With `Some(note)`: the escrowed note of this session moves to `InDoubt`,
    /// keeping its escrowed value unless `value` is given; any state but
    /// `Escrowed` → [`JournalErrorKind::IllegalTransition`]. With `None`: a new
    /// `InDoubt` note with `value` (if the device had validated it). An
    /// in-doubt note is never credited until [`Journal::settle_in_doubt`].
    pub fn note_in_doubt(
        &mut self,
        session: &SessionId,
        note: Option<NoteId>,
        value: Option<Money>,
        at: Millis,
    ) -> Result<NoteId, JournalError> {
        self.write(|c| notes::in_doubt(c, session, note, value, at))
    }

    /// Records a note the acceptor reported in the cash box outside any
    /// session, which no row accounts for: a new `InDoubt` note of `session`
    /// (with `value` if the device gave one), its audit row saying it was
    /// unaccounted; returns its id. Like every in-doubt note it is never
    /// credited until settled; unlike a note that went in doubt in the
    /// acceptor's path, no later device report settles it after a restart
    /// ([`Journal::last_note_unaccounted`]): staff do, at a clearing.
    pub fn note_unaccounted(
        &mut self,
        session: &SessionId,
        value: Option<Money>,
        at: Millis,
    ) -> Result<NoteId, JournalError> {
        self.write(|c| notes::unaccounted(c, session, value, at))
    }

    /// Settles an in-doubt note from the device's report, exactly once (any
    /// state but `InDoubt` → [`JournalErrorKind::IllegalTransition`]).
    ///
    /// - `InCashBox` with a known value: the note is `SettledInBox` and, in the
    ///   same transaction, a pending cash payment for the session's account
    ///   credits it, key `"{session}-n{note}"` → [`Settlement::Credit`].
    /// - `InCashBox` with an unknown value: `SettledInBox`, held for staff →
    ///   [`Settlement::InBoxValueUnknown`].
    /// - `Returned`: `SettledReturned` → [`Settlement::Returned`].
    /// - `Unknown`: unchanged (still in doubt), only the report is recorded →
    ///   [`Settlement::StillInDoubt`].
    pub fn settle_in_doubt(
        &mut self,
        note: NoteId,
        fate: NoteFate,
        at: Millis,
    ) -> Result<Settlement, JournalError> {
        self.write(|c| settle::settle(c, note, fate, settle::SettledBy::Device, at))
    }

    /// Settles an in-doubt note on the word of two staff members at a
    /// dual-control clearing (the device could not tell): exactly what
    /// [`Journal::settle_in_doubt`] does with `fate` (found in the box with a
    /// known value: a pending payment credits it under the note's key
    /// `"{session}-n{note}"`; returned: `SettledReturned`; `Unknown`: still
    /// in doubt, the report recorded), and the audit row
    /// (`note-settled-by-staff`) names both `operators`.
    ///
    /// Settle before [`Journal::record_clearing`]: a note found in the box
    /// then counts in the clearing's expectation, and the clearing balances.
    /// Not two different, named people →
    /// [`JournalErrorKind::IllegalTransition`], nothing written.
    pub fn settle_in_doubt_by_staff(
        &mut self,
        note: NoteId,
        fate: NoteFate,
        operators: &[String; 2],
        at: Millis,
    ) -> Result<Settlement, JournalError> {
        self.write(|c| settle::settle(c, note, fate, settle::SettledBy::Staff(operators), at))
    }

    /// Journals a payment before it is posted, under its idempotency key.
    ///
    /// For a cash session `amount` must equal the sum of the session's stacked
    /// notes not yet in a payment, and those notes become this payment's; for
    /// a code session no notes are involved. The amount must be positive.
    /// Idempotent: the same key with the same session and amount returns the
    /// existing record (whatever its state; see [`Journal::payment_state`])
    /// and writes nothing; the same key otherwise →
    /// [`JournalErrorKind::IllegalTransition`].
    pub fn payment_pending(
        &mut self,
        session: &SessionId,
        key: &IdempotencyKey,
        amount: Money,
        at: Millis,
    ) -> Result<PendingPayment, JournalError> {
        self.write(|c| payments::pending(c, session, key, amount, at))
    }

    /// Counts a posting attempt of a pending payment (call it before posting)
    /// and returns the new count. Not pending →
    /// [`JournalErrorKind::IllegalTransition`].
    pub fn posting_attempted(
        &mut self,
        key: &IdempotencyKey,
        at: Millis,
    ) -> Result<u32, JournalError> {
        self.write(|c| payments::attempted(c, key, at))
    }

    /// Records the backend's credit: `Pending` → `Credited` with its reference
    /// and the new balance → [`CreditOutcome::Credited`]. Credited already →
    /// [`CreditOutcome::AlreadyCredited`], the stored record unchanged (the
    /// repeated answer is only added to the audit trail). Refused →
    /// [`JournalErrorKind::IllegalTransition`]; unknown key →
    /// [`JournalErrorKind::UnknownRecord`].
    pub fn payment_credited(
        &mut self,
        key: &IdempotencyKey,
        backend_ref: &str,
        new_balance: Money,
        at: Millis,
    ) -> Result<CreditOutcome, JournalError> {
        self.write(|c| payments::credited(c, key, backend_ref, new_balance, at))
    }

    /// Records the backend's refusal: `Pending` → `Refused` with `reason`. For
    /// cash the notes stay in the books as refused money, held for staff.
    /// Refused already → `Ok`, record unchanged (a repeated answer); credited →
    /// [`JournalErrorKind::IllegalTransition`]; unknown key →
    /// [`JournalErrorKind::UnknownRecord`].
    pub fn payment_refused(
        &mut self,
        key: &IdempotencyKey,
        reason: &str,
        at: Millis,
    ) -> Result<(), JournalError> {
        self.write(|c| payments::refused(c, key, reason, at))
    }

    /// Records a clearing: the box emptied in front of `operators` (two
    /// different people) and `counted`. The journal's expectation is every
    /// note in the box since the previous clearing; pending payments and
    /// in-doubt notes are untouched (still retried, still for staff).
    /// One operator, or the same name twice →
    /// [`JournalErrorKind::IllegalTransition`].
    ///
    /// The record keeps, per denomination, the notes expected (see
    /// [`Journal::cash_counts`]) and, with `counted_notes` (the count by
    /// denomination), the notes counted, so the over/short names which
    /// notes ([`ClearingRecord::notes`]). `counted_notes` that do not add
    /// up to `counted`, or name another currency or a denomination twice →
    /// [`JournalErrorKind::IllegalTransition`], nothing recorded.
    pub fn record_clearing(
        &mut self,
        at: Millis,
        operators: &[String; 2],
        counted: Money,
        counted_notes: Option<&[NoteCount]>,
        counterfeit_found: u32,
    ) -> Result<ClearingRecord, JournalError> {
        self.write(|c| {
            clearing::record(c, at, operators, counted, counted_notes, counterfeit_found)
        })
    }

    /// The notes the journal expects in the cash box now, by denomination,
    /// in `currency`: every note in it since the last clearing of
    /// `currency` (what the next clearing will expect), and the notes in
    /// doubt (see [`CashCounts`]). A range of the audit trail since that
    /// clearing, not a scan of every note.
    pub fn cash_counts(&self, currency: Currency) -> Result<CashCounts, JournalError> {
        self.read(|c| counts::cash_counts(c, currency))
    }

    /// Every clearing, oldest first.
    pub fn clearings(&self) -> Result<Vec<ClearingRecord>, JournalError> {
        self.read(clearing::all)
    }

    /// The state of the payment with `key`, `None` if none was journaled.
    pub fn payment_state(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<PaymentState>, JournalError> {
        self.read(|c| queries::payment_state(c, key))
    }

    /// Keeps a receipt that could not be printed, for reprint. Keeping again
    /// for the same session replaces it and marks it owed again. Unknown
    /// session → [`JournalErrorKind::UnknownRecord`].
    pub fn keep_receipt(
        &mut self,
        session: &SessionId,
        receipt: &Receipt,
        at: Millis,
    ) -> Result<(), JournalError> {
        self.write(|c| receipts::keep(c, session, receipt, at))
    }

    /// Marks the session's kept receipt as reprinted, once: no receipt kept →
    /// [`JournalErrorKind::UnknownRecord`]; reprinted already →
    /// [`JournalErrorKind::IllegalTransition`].
    pub fn receipt_reprinted(
        &mut self,
        session: &SessionId,
        at: Millis,
    ) -> Result<(), JournalError> {
        self.write(|c| receipts::reprinted(c, session, at))
    }

    /// Receipts kept and not reprinted yet, oldest first.
    pub fn unprinted_receipts(&self) -> Result<Vec<UnprintedReceipt>, JournalError> {
        self.read(receipts::unprinted)
    }

    /// Sessions begun and never ended (the kiosk stopped mid-session), oldest
    /// first, with their escrowed notes, the sum of their stacked notes not in
    /// any payment, and whether any payment was journaled for them.
    pub fn open_sessions(&self) -> Result<Vec<OpenSession>, JournalError> {
        self.read(queries::open_sessions)
    }

    /// Payments journaled and not answered yet, in creation order: post each
    /// again with its key.
    pub fn pending_payments(&self) -> Result<Vec<PendingPayment>, JournalError> {
        self.read(queries::pending_payments)
    }

    /// Notes in doubt, in creation order.
    pub fn in_doubt_notes(&self) -> Result<Vec<InDoubtNote>, JournalError> {
        self.read(queries::in_doubt_notes)
    }

    /// The journal's money totals in `currency` (see [`CashTotals`]), with
    /// `in_box == credited + pending + refused`. Only cash payments count.
    /// Notes of unknown value (settled in the box, or in doubt) count in
    /// `notes_in_box` / `in_doubt_notes` but add no value.
    pub fn cash_totals(&self, currency: Currency) -> Result<CashTotals, JournalError> {
        self.read(|c| books::cash_totals(c, currency))
    }

    /// Rejected notes journaled with `from <= at < to` (e.g. one day's).
    pub fn rejects_between(&self, from: Millis, to: Millis) -> Result<u32, JournalError> {
        self.read(|c| queries::rejects_between(c, from, to))
    }

    /// The largest trailing sequence number of any session id (`"K01-000042"`
    /// → 42), 0 if there is none: start numbering after it.
    pub fn max_session_seq(&self) -> Result<u64, JournalError> {
        self.read(queries::max_session_seq)
    }

    /// The newest note row (escrowed, stacked, in doubt, …), if any. Recovery
    /// uses it to tell whether an in-doubt note can still be the one in the
    /// acceptor's path: only if no note came after it.
    pub fn last_note(&self) -> Result<Option<NoteId>, JournalError> {
        self.read(queries::last_note)
    }

    /// Whether the newest note row is in doubt because the acceptor reported
    /// it in the cash box outside any session ([`Journal::note_unaccounted`]):
    /// such a note was never in the acceptor's path, so recovery must not
    /// let the device's next report settle it (and credit someone).
    pub fn last_note_unaccounted(&self) -> Result<bool, JournalError> {
        self.read(queries::last_note_unaccounted)
    }

    /// Number of rows in the audit trail (tests check that errors write nothing).
    #[cfg(test)]
    fn event_count(&self) -> i64 {
        self.conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("count events")
    }

    /// Trades durability for speed in property tests that run thousands of
    /// commits; the logic under test is the same.
    #[cfg(test)]
    fn unsynced_for_tests(&self) {
        self.conn
            .pragma_update(None, "synchronous", "OFF")
            .expect("synchronous=OFF");
    }
}

impl Drop for Journal {
    /// A clean close (see [`Journal::close`]); a failure is logged, and the
    /// next open then checks everything.
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        if let Err(f) = self.shut() {
            let e = f.at(&self.path);
            tracing::warn!(error = %e, "journal: not closed cleanly; the next open checks everything");
        }
    }
}
