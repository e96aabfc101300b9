//! Opening a journal read-only, for staff and auditors: a report never writes.
//!
//! [`Journal::open_read_only`] opens the file with `SQLITE_OPEN_READONLY`
//! (never `CREATE`: a missing path stays missing), runs the same check a
//! normal open runs (the `verify` module's check on open: the books balance,
//! the hash chain holds from the mark), and hands back a
//! [`ReadOnlyJournal`]. That derefs to `&Journal` only, so every read
//! method of the journal works on it and no recording method can be
//! called; [`ReadOnlyJournal::verify_all`] is the full check of
//! [`Journal::verify_full`] without the marks it writes.
//!
//! # What "never writes" covers, and the write-ahead log
//!
//! The main file and its `-wal` are never written: the connection is
//! read-only, `query_only` is set, and checkpoint-on-close is off. The
//! `-shm` beside them is SQLite's shared-memory index of the WAL (not
//! journal data): a reader of a WAL database takes its read locks there.
//!
//! A read-only connection to a WAL database needs the `-wal` and the
//! `-shm` beside it, and creates them when they are missing (measured: a
//! plain read-only open of a cleanly closed journal leaves an empty `-wal`
//! and a `-shm` behind, which it cannot remove). So which way the file is
//! read depends on what lies beside it:
//!
//! - **No `-wal`, or an empty one without a `-shm`** (closed cleanly, every
//!   commit in the main file): read in place as `immutable`, which takes no
//!   locks and creates nothing. (`immutable` reads the main file alone, so
//!   it is only used when the log holds nothing.)
//! - **A `-wal` and its `-shm`** (a kiosk still running, or one killed or
//!   cut off mid-work): read in place through the `-shm`, SQLite's
//!   shared-memory index of the log, where readers take their locks (it is
//!   not journal data; its bytes may change). A running kiosk's commits
//!   after the report's snapshot are not seen.
//! - **A non-empty `-wal` without a `-shm`** (files copied off a kiosk, the
//!   `-shm` left behind): reading in place would create a `-shm` beside the
//!   journal. Instead both files are copied into a private temporary
//!   directory and read there ([`ReadVia::PrivateCopy`]); the copy is
//!   removed when the [`ReadOnlyJournal`] is dropped.
//!
//! What `immutable` cannot see: a kiosk that starts writing the file after
//! the open found no log. Its commits go to a new `-wal`, so the report
//! reads the state at its open; but a checkpoint (between two sessions)
//! that copies them into the main file while the report reads it can make
//! the report fail (SQLite then reports the file damaged, or the check
//! fails): run it again. A kiosk that is running has its `-wal` and
//! `-shm`, and is read through them, safely.
//!
//! A journal of an older schema version (or lacking a table a newer build
//! adds) is migrated the way [`Journal::open`] migrates it, but in a
//! private copy, and read there: the original stays as it was.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use kiosk_hal::{Currency, IdempotencyKey, Money, PaymentMethod};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::codec::{method_from, payment_state_from};
use super::fail::Fail;
use super::verify::{self, BooksCheck, CheckKind};
use super::{
    chain, Journal, JournalError, JournalErrorKind, NoteId, PaymentState, APPLICATION_ID,
    SCHEMA_VERSION,
};
use crate::ids::{KioskId, Millis, SessionId};

/// Tables a journal of [`SCHEMA_VERSION`] has once a build of it has
/// opened it for writing; one missing means the file needs what
/// [`Journal::open`] adds (done in a private copy).
const EXPECTED_TABLES: &[&str] = &["tickets", "books", "marks", "chain"];

/// Where the journal is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVia {
    /// The file itself, read-only.
    InPlace,
    /// A private copy (see the module docs: a `-wal` without its `-shm`, or
    /// an older format migrated in the copy).
    PrivateCopy,
}

/// A journal opened read-only (see [`Journal::open_read_only`]): every
/// `&self` method of [`Journal`] through `Deref`, and nothing that writes.
pub struct ReadOnlyJournal {
    // Dropped first: the connection is closed before the copy is removed.
    journal: Journal,
    source: PathBuf,
    copy: Option<PrivateDir>,
}

impl std::fmt::Debug for ReadOnlyJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyJournal")
            .field("source", &self.source)
            .field("via", &self.via())
            .finish_non_exhaustive()
    }
}

impl Deref for ReadOnlyJournal {
    type Target = Journal;
    fn deref(&self) -> &Journal {
        &self.journal
    }
}

/// The facts of the payment an audit row names, as stored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    /// Its amount.
    pub amount: Money,
    /// Cash or code.
    pub method: PaymentMethod,
    /// Its state now (the audit rows say when it got there).
    pub state: PaymentState,
}

/// One row of the audit trail as the `audit` view reads it, with the facts
/// reports need from the records it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// The row's id (its place in the hash chain).
    pub id: i64,
    /// When (kiosk clock: milliseconds since the Unix epoch).
    pub at: Millis,
    /// What happened, as the file spells it (`note-stacked`, `clearing`, …;
    /// the `event_kinds` table).
    pub kind: String,
    /// The session it concerns, directly or through its note or payment.
    pub session: Option<SessionId>,
    /// The note it concerns.
    pub note: Option<NoteId>,
    /// The payment it concerns.
    pub payment_key: Option<IdempotencyKey>,
    /// The note's value at that moment, when the row names a note of known value.
    pub note_value: Option<Money>,
    /// What no row keeps (JSON), as stored.
    pub detail: Option<String>,
    /// The named payment's facts.
    pub payment: Option<PaymentFacts>,
    /// The payment the named note belongs to now, if any.
    pub note_payment: Option<IdempotencyKey>,
}

impl Journal {
    /// Opens the journal at `path` for reading only (see the module docs):
    /// the file and its `-wal` are never written, and a missing path is
    /// never created.
    ///
    /// The checks of [`Journal::open`] run and refuse the same files: a
    /// missing or non-regular path → [`JournalErrorKind::Storage`] /
    /// [`JournalErrorKind::NotAJournal`]; not a journal →
    /// [`JournalErrorKind::NotAJournal`]; a newer format →
    /// [`JournalErrorKind::SchemaVersion`]; books that do not balance →
    /// [`JournalErrorKind::Unbalanced`]; a broken hash chain →
    /// [`JournalErrorKind::ChainBroken`] naming the first bad row; an empty
    /// main file whose `-wal` holds events → [`JournalErrorKind::OrphanLog`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<ReadOnlyJournal, JournalError> {
        let source = path.as_ref().to_path_buf();
        open(&source).map_err(|f| f.at(&source))
    }
}

impl ReadOnlyJournal {
    /// How the journal is read.
    pub fn via(&self) -> ReadVia {
        match self.copy {
            Some(_) => ReadVia::PrivateCopy,
            None => ReadVia::InPlace,
        }
    }

    /// The path the journal was opened from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The full check of [`Journal::verify_full`] (every page, every note
    /// and payment, every link of the hash chain and its anchor) on one
    /// read snapshot, without moving the marks: nothing is written.
    pub fn verify_all(&self) -> Result<BooksCheck, JournalError> {
        let started = Instant::now();
        let (payments, rows) = self.journal.read(|c| {
            verify::pages(c)?;
            let payments = verify::full(c)?;
            let rows = chain::check_all(c)?;
            Ok((payments, rows))
        })?;
        Ok(BooksCheck {
            kind: CheckKind::FullWithPages,
            after_unclean_shutdown: self.journal.opened_with().after_unclean_shutdown,
            payments_checked: payments,
            chain_rows_checked: rows,
            took: started.elapsed(),
        })
    }

    /// The kiosks the journal's sessions and tickets name, sorted (one, on
    /// a kiosk's own journal).
    pub fn kiosks(&self) -> Result<Vec<KioskId>, JournalError> {
        self.journal.read(|c| {
            let mut stmt =
                c.prepare("SELECT kiosk FROM sessions UNION SELECT kiosk FROM tickets ORDER BY 1")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows
                .map(|r| r.map(KioskId))
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Calls `each` with every audit row before `until` (all rows when
    /// `None`), in order, on one read snapshot; returns how many.
    pub fn for_each_audit_row(
        &self,
        until: Option<Millis>,
        mut each: impl FnMut(&AuditRow),
    ) -> Result<u64, JournalError> {
        let until = until.map_or(i64::MAX, |m| i64::try_from(m.0).unwrap_or(i64::MAX));
        self.journal.read(|c| {
            let mut stmt = c.prepare(
                "SELECT a.id, a.at, a.kind, a.session, a.note, a.payment_key, a.amount_minor,
                        a.currency, a.detail, p.amount_minor, p.amount_currency, p.method,
                        p.state, np.key
                 FROM audit a
                 LEFT JOIN payments p ON p.key = a.payment_key
                 LEFT JOIN notes n ON n.id = a.note
                 LEFT JOIN payments np ON np.id = n.payment
                 WHERE a.at < ?1
                 ORDER BY a.id",
            )?;
            let mut rows = stmt.query([until])?;
            let mut seen = 0u64;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let money = |minor: Option<i64>, code: Option<String>| -> Result<_, Fail> {
                    match (minor, code) {
                        (Some(minor), Some(code)) => Ok(Some(Money::new(
                            minor,
                            Currency::try_from(code)
                                .map_err(|e| Fail::corrupt(format!("audit row {id}: {e}")))?,
                        ))),
                        _ => Ok(None),
                    }
                };
                let payment = match (r.get::<_, Option<i64>>(11)?, r.get(12)?) {
                    (Some(method), Some(state)) => {
                        let state: i64 = state;
                        Some(PaymentFacts {
                            amount: money(r.get(9)?, r.get(10)?)?.ok_or_else(|| {
                                Fail::corrupt(format!("audit row {id}: payment without amount"))
                            })?,
                            method: method_from(method)?,
                            state: payment_state_from(state)?,
                        })
                    }
                    _ => None,
                };
                let row = AuditRow {
                    id,
                    at: Millis(u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)),
                    kind: r.get(2)?,
                    session: r.get::<_, Option<String>>(3)?.map(|s| SessionId(s.into())),
                    note: r.get::<_, Option<i64>>(4)?.map(NoteId),
                    payment_key: r
                        .get::<_, Option<String>>(5)?
                        .map(|s| IdempotencyKey(s.into())),
                    note_value: money(r.get(6)?, r.get(7)?)?,
                    detail: r.get(8)?,
                    payment,
                    note_payment: r
                        .get::<_, Option<String>>(13)?
                        .map(|s| IdempotencyKey(s.into())),
                };
                each(&row);
                seen += 1;
            }
            Ok(seen)
        })
    }
}

/// `path` with `suffix` appended (`journal.sqlite` → `journal.sqlite-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The size of `path`, `None` if it does not exist.
fn size(path: &Path) -> Result<Option<u64>, Fail> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage(e)),
    }
}

fn storage(e: std::io::Error) -> Fail {
    Fail::new(JournalErrorKind::Storage, e.to_string())
}

/// The read-only open (see [`Journal::open_read_only`]).
fn open(source: &Path) -> Result<ReadOnlyJournal, Fail> {
    // The write path's checks first (an orphaned log, not a regular file,
    // not SQLite): one definition of what is not a journal.
    super::schema::check_header(source)?;
    // What that path would create, a read never does.
    match size(source)? {
        None => {
            return Err(Fail::new(
                JournalErrorKind::Storage,
                "no such file (nothing was created)",
            ))
        }
        Some(0) => {
            return Err(Fail::new(
                JournalErrorKind::NotAJournal,
                "an empty file, not a journal",
            ))
        }
        Some(_) => {}
    }
    let wal = size(&sibling(source, "-wal"))?;
    let wal_exists = wal.is_some();
    let wal = wal.unwrap_or(0);
    let shm = size(&sibling(source, "-shm"))?.is_some();
    let mut copy = None;
    let mut file = source.to_path_buf();
    let mut immutable = false;
    if wal > 0 && !shm {
        let dir = PrivateDir::with_copy_of(source)?;
        file = dir.journal();
        copy = Some(dir);
    } else if !(wal_exists && shm) {
        immutable = true;
    }
    let mut conn = connect(&file, immutable)?;
    if !current(&conn)? {
        // An older format: migrated the way a kiosk would, in a copy.
        drop(conn);
        if copy.is_none() {
            let dir = PrivateDir::with_copy_of(source)?;
            file = dir.journal();
            copy = Some(dir);
        }
        Journal::open(&file)
            .and_then(Journal::close)
            .map_err(|e| Fail::new(e.kind(), format!("in a private copy: {e}")))?;
        conn = connect(&file, false)?;
        if !current(&conn)? {
            return Err(Fail::new(
                JournalErrorKind::SchemaVersion,
                "the migrated copy is still not of this build's format",
            ));
        }
    }
    let check = {
        let tx = conn.unchecked_transaction()?;
        let check = verify::on_open(&tx, false)?;
        tx.commit()?;
        check
    };
    Ok(ReadOnlyJournal {
        journal: Journal {
            conn,
            path: source.to_path_buf(),
            commits: 0,
            since_checkpoint: 0,
            head: None,
            opened_with: check,
            // Nothing to close: no clean-shutdown mark, no checkpoint.
            closed: true,
        },
        source: source.to_path_buf(),
        copy,
    })
}

/// A read-only connection to `file` that never checkpoints or writes;
/// `immutable`: one that takes no locks and opens no `-wal` or `-shm`
/// (only for a file whose log holds nothing).
fn connect(file: &Path, immutable: bool) -> Result<Connection, Fail> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        let absolute = std::fs::canonicalize(file).map_err(storage)?;
        Connection::open_with_flags(
            format!("file:{}?mode=ro&immutable=1", uri_path(&absolute)),
            flags | OpenFlags::SQLITE_OPEN_URI,
        )?
    } else {
        Connection::open_with_flags(file, flags)?
    };
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// `path` for a `file:` URI: every byte but unreserved characters and `/`
/// percent-encoded (a `?`, `#` or `%` in a directory name must not end
/// the path).
fn uri_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut out = String::with_capacity(bytes.len());
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether the file is a journal of this build's format with every table
/// (`false`: an older one, to migrate in a copy); refuses what is not a
/// journal, or a newer one. What `schema` checks before it writes.
fn current(conn: &Connection) -> Result<bool, Fail> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if app_id != APPLICATION_ID {
        return Err(Fail::new(
            JournalErrorKind::NotAJournal,
            format!("an SQLite database of another application (application_id {app_id:#x})"),
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
            "a kiosk journal with invalid schema version {version}"
        )));
    }
    let mut tables = 0;
    for name in EXPECTED_TABLES {
        tables += conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )?;
    }
    Ok(version == SCHEMA_VERSION && tables == EXPECTED_TABLES.len() as i64)
}

/// A private temporary directory holding a copy of a journal and its
/// `-wal`; removed on drop.
struct PrivateDir {
    dir: PathBuf,
}

impl PrivateDir {
    /// The file name of the copy inside the directory.
    const NAME: &'static str = "journal.sqlite";

    /// A new directory (only its owner may enter it) with `source` and its
    /// `-wal`, if any, copied in.
    fn with_copy_of(source: &Path) -> Result<PrivateDir, Fail> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let dir = loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                "kiosk-journal-{}-{}-{nanos}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            );
            let dir = base.join(name);
            // `create_dir` fails if the name exists: never a directory
            // someone else put there.
            match builder.create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(storage(e)),
            }
        };
        let private = PrivateDir { dir };
        let copy = private.journal();
        std::fs::copy(source, &copy).map_err(storage)?;
        let wal = sibling(source, "-wal");
        if size(&wal)?.is_some() {
            std::fs::copy(&wal, sibling(&copy, "-wal")).map_err(storage)?;
        }
        Ok(private)
    }

    /// The copy of the journal.
    fn journal(&self) -> PathBuf {
        self.dir.join(Self::NAME)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "journal: private copy not removed");
        }
    }
}
