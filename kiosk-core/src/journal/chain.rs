//! The hash chain over the audit trail: an edit of the file outside the
//! kiosk breaks it, and the chain head kept outside the file shows it.
//!
//! Every change the journal records (a money event, a fault ticket, a
//! clearing, a receipt, a staff command, a security event) is one `events`
//! row written in the same transaction (see `events`). Each row has a chain
//! hash, SHA-256 over the previous row's chain hash and the row's canonical
//! bytes, which include the money facts of the record it names (a
//! payment's key, session, amount and method; a note's session and
//! currency; a session's id, kiosk, account and method; a clearing's
//! counts). Changing any of them, a row of `events`, or deleting or
//! reordering rows, makes the recomputed hash of that row (or the next one)
//! differ from the one stored.
//!
//! # What a row stores (format 4)
//!
//! The column `hash` holds either the row's whole chain hash (32 bytes) or
//! its first [`TAG_LEN`] bytes, its tag. The journal stores the whole hash
//! on every row whose id is a multiple of [`FULL_HASH_EVERY`] and on every
//! clearing row (whose hash is the head its report prints), the tag on the
//! others; rows of format 3 all store their whole hash. A stored value
//! *holds* when it is that prefix of the recomputed chain hash; anything
//! else (another length, `NULL`, other bytes) does not. The chain itself
//! (what is hashed, and onto what) does not depend on what is stored: every
//! row's chain hash is always the whole SHA-256 over the previous row's
//! whole chain hash, so the head printed on a clearing report pins every
//! row before it, whatever each row stores.
//!
//! Storing a tag instead of the whole hash costs the check nothing it
//! relied on. A check recomputes the whole hashes anyway (from the anchor,
//! or from a row that stores its whole hash) and compares each row's
//! stored value: an edit of row *r* makes *r*'s recomputed hash differ,
//! so *r*'s tag fails to hold except with probability 2⁻³² (one in four
//! billion); and since every later chain hash differs too, the next rows'
//! tags fail as well, so an edit is missed only if every tag up to the next
//! whole hash matches by chance, and never past a whole hash or the head.
//! The first bad row named is the edited one except with probability 2⁻³²,
//! when it is a later one. What tags do not do, and whole hashes never did
//! either: stop someone who recomputes the chain after an edit (the file
//! holds no secret). That is caught, as before, by the verified mark (see
//! below) while it is not also rewritten, and always by a head kept outside
//! the file.
//!
//! 28 bytes less per row: 250 of the 870 bytes of file a payment cost in
//! format 3 (9 rows per payment).
//!
//! # Canonical bytes (encoding 2)
//!
//! So that an auditor can recompute the chain with nothing but SQLite and
//! SHA-256 (`chain_check.py` beside this file does it in Python):
//!
//! ```text
//! hash(row) = SHA-256( hash(previous row) || canonical(row) )
//! canonical(row) = field(v1) || field(v2) || … || field(v29) [ || field(v30) ]
//! field(NULL)      = 0x00
//! field(integer i) = 0x01 || i as 8 bytes, big-endian two's complement
//! field(text t)    = 0x02 || length of t's UTF-8 bytes, 4 bytes big-endian || the bytes
//! field(blob b)    = 0x03 || length, 4 bytes big-endian || b
//! field(real r)    = 0x04 || r's IEEE 754 bits, 8 bytes big-endian
//! ```
//!
//! `v1 … v29` are the columns `rows_sql` selects after `hash`, in order: the
//! row's own `id, at, kind, session, note, payment, amount, detail`, then the
//! named session's `id, kiosk, account, method, started_at`, the named
//! note's `session, value_currency`, the named payment's `key, session,
//! amount_minor, amount_currency, method`, and for a clearing row (kind 18)
//! the clearing's `at, operator_a, operator_b, currency, expected_minor,
//! counted_minor, counterfeit_found, pending_minor, in_doubt_notes` (all
//! `NULL` where the row names no such record). A method is hashed by its
//! name, `'cash'` or `'code'` (format 4 stores it as the code 0 or 1; the
//! query spells it out), so the bytes are those format 3 hashed.
//!
//! `v30` (encoding 2, format 5) is there only for a clearing row whose
//! clearing has per-denomination figures (`clearing_counts`): the text of
//! its rows in ascending `value_minor`, each `value_minor:expected:counted`
//! in decimal (`-` for a `NULL` count), joined by `,` (e.g.
//! `5000:3:3,10000:12:11`). `rows_sql` selects the clearing's id after
//! `v29` for it (not hashed). Every row without such figures (every row a
//! format-4 build wrote) hashes exactly as in encoding 1, so migrating a
//! file changes no hash; adding figures to an old clearing, or changing or
//! deleting a clearing's figures, changes its row's hash.
//!
//! Every one of those facts is fixed once the row is written: the guard
//! triggers keep a payment's and a clearing's (and its figures'), and the
//! journal never changes a session's or a note's.
//!
//! # Where the chain starts
//!
//! `chain` holds the anchor: the rows written before the chain (a journal
//! from an older format; `anchor_event` is the last of them, 0 for a
//! journal born with the chain) are folded into `anchor_hash` the same way,
//! from 32 zero bytes, without a hash of their own; the first chained row's
//! previous hash is the anchor. Row ids are consecutive (a row is appended
//! as the last id + 1), so the row count is the last row's id.
//!
//! # What is checked when
//!
//! - **On every open** (bounded, like the books): the rows from the last
//!   whole hash at or before the older of the last verified mark and the
//!   newest [`CHAIN_TAIL`] rows, to the end: each row's stored value must
//!   hold, none may be missing, and the row at the mark must recompute to
//!   the whole hash recorded at the mark (else the chain was recomputed
//!   over an edit). When the audit trail's guard triggers are missing or
//!   not as this build writes them, every row.
//! - **[`crate::journal::Journal::verify_full`]**: every row, the anchor
//!   and the mark.
//! - **Outside the file**: [`crate::journal::Journal::chain_head`] (on every
//!   clearing record): an edit before the mark, with the hashes after it
//!   recomputed and the mark rewritten, is only caught by comparing the head
//!   with one printed or sent earlier, whose row must still hash the same.
//!
//! The next row chains onto the head, which the journal keeps in memory
//! from one committed money event to the next ([`Writer`]: a failed
//! transaction's head is dropped with it, and the head is used only while
//! it is that of the trail's last row); the first append after an open or
//! a failed event, or after another connection appended, recomputes it
//! from the last whole hash (at most [`FULL_HASH_EVERY`] rows).
//!
//! # What it costs (measured, `cargo bench -p kiosk-benches --bench journal`)
//!
//! 5 bytes per audit row (a 4-byte tag; the whole 33 on one row in 64),
//! about 10 µs of CPU per money event (a lookup of the last row, one of the
//! facts, one SHA-256), no extra page per commit (the hash is in the row
//! the commit writes anyway; the head's cache is in memory). The open
//! re-hashes at most what was written since the last checkpoint plus
//! [`CHAIN_TAIL`] + [`FULL_HASH_EVERY`] rows: about 1 ms warm, 3 ms cold
//! on a journal of 500,000 payments.

use std::cell::Cell;
use std::sync::LazyLock;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::counts;
use super::events::EventKind;
use super::fail::Fail;

/// Bytes of a hash.
pub const HASH_LEN: usize = 32;

/// Bytes of a row's hash stored on most rows (format 4): the first
/// `TAG_LEN` bytes of its chain hash (see the module docs).
pub const TAG_LEN: usize = 4;

/// Rows whose id is a multiple of this store their whole hash (so do
/// clearing rows): where a bounded check or the head starts its fold.
pub const FULL_HASH_EVERY: i64 = 64;

/// How many of the newest audit rows every open re-hashes, on top of those
/// written since the last verification.
pub const CHAIN_TAIL: i64 = 1024;

/// The head of the hash chain: the number of audit rows and the last row's
/// hash. Printed on each clearing report and sent off the kiosk, it pins
/// the whole history up to it: a later head must extend it (its row must
/// still hash to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHead {
    /// Rows in the audit trail (the last row's id).
    pub rows: u64,
    /// That row's hash (the anchor for a journal whose rows all predate the chain).
    pub hash: [u8; HASH_LEN],
}

impl ChainHead {
    /// The hash in lowercase hex (64 characters), as printed.
    pub fn hex(&self) -> String {
        self.hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Display for ChainHead {
    /// `rows:hash-in-hex`, e.g. `1042:9f86d0…`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.rows, self.hex())
    }
}

/// The anchor table (see the module docs). Added in schema version 3.
pub(super) const SCHEMA_CHAIN: &str = r#"
CREATE TABLE IF NOT EXISTS chain (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    anchor_event    INTEGER NOT NULL,
    anchor_hash     BLOB NOT NULL CHECK (length(anchor_hash) = 32),
    verified_event  INTEGER NOT NULL,
    verified_hash   BLOB NOT NULL CHECK (length(verified_hash) = 32)
) STRICT;
"#;

/// The audit trail's guards: checked on open like the books' triggers (one
/// missing or replaced → every row is re-hashed), and put back as written.
pub(super) const SCHEMA_EVENTS_GUARDS: &str = r#"
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS chain_no_delete BEFORE DELETE ON chain
    BEGIN SELECT RAISE(ABORT, 'the chain anchor is never deleted'); END;
"#;

/// The facts a row's hash covers (see the module docs), for the row `e`.
const FACTS_JOINS: &str = "
LEFT JOIN sessions s ON s.n = e.session
LEFT JOIN notes n ON n.id = e.note
LEFT JOIN payments p ON p.id = e.payment
LEFT JOIN clearings c ON c.id = iif(e.kind = 18 AND json_valid(e.detail),
                                    json_extract(e.detail, '$.clearing'), NULL)";

/// The columns hashed, after the stored `hash`: `v1 … v29` of the module
/// docs, then the clearing's id (for `v30`).
const FACTS_COLUMNS: &str = "e.id, e.at, e.kind, e.session, e.note, e.payment, e.amount, e.detail,
       s.id, s.kiosk, s.account,
       CASE s.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' ELSE s.method END, s.started_at,
       n.session, n.value_currency,
       p.key, p.session, p.amount_minor, p.amount_currency,
       CASE p.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' ELSE p.method END,
       c.at, c.operator_a, c.operator_b, c.currency, c.expected_minor, c.counted_minor,
       c.counterfeit_found, c.pending_minor, c.in_doubt_notes,
       c.id";

/// Columns hashed per row (`v1 … v29`; a clearing's figures are `v30`,
/// see [`push_clearing_counts`]).
const FIELDS: usize = 29;

/// Appends `v30` for a clearing row whose clearing (`clearing`, the
/// column after `v29`) has per-denomination figures; nothing otherwise.
fn push_clearing_counts(
    conn: &Connection,
    buf: &mut Vec<u8>,
    clearing: ValueRef<'_>,
) -> Result<(), Fail> {
    if let ValueRef::Integer(id) = clearing {
        if let Some(text) = counts::chain_text(conn, id)? {
            push(buf, ValueRef::Text(text.as_bytes()));
        }
    }
    Ok(())
}

/// The stored hash and the hashed columns of the rows with
/// `?1 < id <= ?2`, in order (what an independent check selects too).
pub(super) fn rows_sql() -> String {
    format!(
        "SELECT e.hash, {FACTS_COLUMNS}
         FROM events e {FACTS_JOINS}
         WHERE e.id > ?1 AND e.id <= ?2 ORDER BY e.id"
    )
}

/// One field of the canonical bytes.
fn push(buf: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => buf.push(0x00),
        ValueRef::Integer(i) => {
            buf.push(0x01);
            buf.extend_from_slice(&i.to_be_bytes());
        }
        ValueRef::Text(t) => {
            buf.push(0x02);
            buf.extend_from_slice(&(t.len() as u32).to_be_bytes());
            buf.extend_from_slice(t);
        }
        ValueRef::Blob(b) => {
            buf.push(0x03);
            buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        ValueRef::Real(r) => {
            buf.push(0x04);
            buf.extend_from_slice(&r.to_bits().to_be_bytes());
        }
    }
}

/// `SHA-256(prev || canonical)`.
fn link(prev: &[u8; HASH_LEN], canonical: &[u8]) -> [u8; HASH_LEN] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

/// The stored anchor: (last row before the chain, its fold).
fn anchor(conn: &Connection) -> Result<(i64, [u8; HASH_LEN]), Fail> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT anchor_event, anchor_hash FROM chain WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (event, hash) =
        row.ok_or_else(|| broken(0, "the chain's anchor row is missing".to_string()))?;
    Ok((
        event,
        to_hash(&hash).ok_or_else(|| broken(event, "bad anchor".into()))?,
    ))
}

/// A stored hash as an array, `None` unless 32 bytes.
fn to_hash(b: &[u8]) -> Option<[u8; HASH_LEN]> {
    b.try_into().ok()
}

/// `ChainBroken` at row `row`.
fn broken(row: i64, what: String) -> Fail {
    Fail::chain(
        row,
        format!(
            "the audit trail's hash chain breaks at row {row}: {what}. The file was changed \
             outside the kiosk; it is left as it was: compare it with the chain head on the \
             last clearing report and a backup before the kiosk takes money again"
        ),
    )
}

/// The head: the last row's id and its whole hash (the anchor's when no
/// row follows it), re-hashed from the last row that stores its whole
/// hash: at most [`FULL_HASH_EVERY`] rows. (A [`Writer`] keeps it between
/// its appends.)
pub(super) fn head(conn: &Connection) -> Result<ChainHead, Fail> {
    head_at(conn, last_id(conn)?)
}

/// [`head`] when the last row is known to be `last`.
fn head_at(conn: &Connection, last: i64) -> Result<ChainHead, Fail> {
    let anchor = anchor(conn)?;
    if last < anchor.0 {
        return Err(broken(
            last + 1,
            format!(
                "the trail ends at row {last}, before the chain's anchor (row {})",
                anchor.0
            ),
        ));
    }
    let (from, start) = full_at_or_before(conn, last, anchor)?;
    let (hash, _) = fold(conn, from, last, start, Stored::Ignore, None)?;
    Ok(ChainHead {
        rows: u64::try_from(last).unwrap_or(0),
        hash,
    })
}

/// The last row at or before `id` (and after the anchor) that stores its
/// whole hash, with that hash; the anchor when there is none.
fn full_at_or_before(
    conn: &Connection,
    id: i64,
    anchor: (i64, [u8; HASH_LEN]),
) -> Result<(i64, [u8; HASH_LEN]), Fail> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, hash FROM events WHERE id <= ?1 AND id > ?2 AND length(hash) = 32
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([id, anchor.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((id, h)) => (
            id,
            to_hash(&h).ok_or_else(|| broken(id, "bad hash".into()))?,
        ),
        None => anchor,
    })
}

/// Whether the whole hash `id`'s row stores: every [`FULL_HASH_EVERY`]-th
/// row and every clearing row (whose hash is the head its report prints).
fn stores_whole(id: i64, kind: EventKind) -> bool {
    id % FULL_HASH_EVERY == 0 || kind == EventKind::Clearing
}

/// The values of an audit row about to be written.
pub(super) struct NewRow<'a> {
    /// When.
    pub at: i64,
    /// What.
    pub kind: EventKind,
    /// The session's row number.
    pub session: Option<i64>,
    /// The note's id.
    pub note: Option<i64>,
    /// The payment's row id.
    pub payment: Option<i64>,
    /// The note's value then.
    pub amount: Option<i64>,
    /// The JSON detail.
    pub detail: Option<&'a str>,
}

/// Appends `row` as the last row + 1 with its hash, whole or its tag (see
/// [`stores_whole`]), inside the caller's transaction.
pub(super) fn append(w: &Writer<'_>, row: &NewRow<'_>) -> Result<(), Fail> {
    let conn = w.conn;
    let prev = w.head()?;
    let id = i64::try_from(prev.rows).unwrap_or(i64::MAX) + 1;
    // The facts are read exactly as the check reads them: the same joins
    // over a one-row stand-in for the row.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {FACTS_COLUMNS}
             FROM (SELECT ?1 AS id, ?2 AS at, ?3 AS kind, ?4 AS session, ?5 AS note,
                          ?6 AS payment, ?7 AS amount, ?8 AS detail) e {FACTS_JOINS}"
        )
    });
    let mut stmt = conn.prepare_cached(&SQL)?;
    let mut rows = stmt.query(params![
        id,
        row.at,
        row.kind.code(),
        row.session,
        row.note,
        row.payment,
        row.amount,
        row.detail
    ])?;
    let r = rows.next()?.ok_or_else(|| Fail::corrupt("no facts row"))?;
    let mut canonical = Vec::with_capacity(256);
    for i in 0..FIELDS {
        push(&mut canonical, r.get_ref(i)?);
    }
    push_clearing_counts(conn, &mut canonical, r.get_ref(FIELDS)?)?;
    let hash = link(&prev.hash, &canonical);
    drop(rows);
    let kept = if stores_whole(id, row.kind) {
        &hash[..]
    } else {
        &hash[..TAG_LEN]
    };
    conn.prepare_cached(
        "INSERT INTO events (id, at, kind, session, note, payment, amount, detail, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        row.at,
        row.kind.code(),
        row.session,
        row.note,
        row.payment,
        row.amount,
        row.detail,
        kept
    ])?;
    w.head.set(Some(ChainHead {
        rows: u64::try_from(id).unwrap_or(0),
        hash,
    }));
    Ok(())
}

/// One write transaction of the journal's connection (it derefs to the
/// connection), with the chain's head as this transaction's appends leave
/// it, so that the next row chains onto it without a query or a re-hash.
/// The journal takes the head back only from a committed transaction.
pub(super) struct Writer<'c> {
    conn: &'c Connection,
    head: Cell<Option<ChainHead>>,
}

impl<'c> Writer<'c> {
    /// A writer on `conn` (inside its open transaction), starting from the
    /// head the last committed transaction left, if the journal has it.
    pub(super) fn new(conn: &'c Connection, head: Option<ChainHead>) -> Writer<'c> {
        Writer {
            conn,
            head: Cell::new(head),
        }
    }

    /// The head after this transaction's appends (for the journal to keep
    /// once it has committed).
    pub(super) fn into_head(self) -> Option<ChainHead> {
        self.head.into_inner()
    }

    /// The chain's head: the kept one while it is that of the trail's last
    /// row (another connection may have appended since), else recomputed.
    pub(super) fn head(&self) -> Result<ChainHead, Fail> {
        let last = last_id(self.conn)?;
        match self.head.get() {
            Some(h) if i64::try_from(h.rows) == Ok(last) => Ok(h),
            _ => {
                let h = head_at(self.conn, last)?;
                self.head.set(Some(h));
                Ok(h)
            }
        }
    }
}

impl std::ops::Deref for Writer<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// What [`fold`] does with the stored hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// The rows have none: they are folded into the anchor.
    Absent,
    /// Each row's must hold (its whole hash, or its tag), and no row may
    /// be missing, else `ChainBroken` naming the row.
    Check,
    /// Not looked at: the head computed for the next row.
    Ignore,
}

/// Whether `kept` is what a row whose chain hash is `hash` may store: the
/// whole hash, or its first [`TAG_LEN`] bytes.
fn holds(kept: Option<&[u8]>, hash: &[u8; HASH_LEN]) -> bool {
    match kept {
        Some(k) if k.len() == HASH_LEN || k.len() == TAG_LEN => k == &hash[..k.len()],
        _ => false,
    }
}

/// `ChainBroken` at the verified mark: the chain no longer reaches the
/// hash it had there.
fn recomputed(row: i64) -> Fail {
    broken(
        row,
        "its hash is not the one it had when it was verified (the chain was recomputed)".into(),
    )
}

/// Folds the rows `after < id <= to` onto `prev`, doing `stored` with the
/// stored hashes; with `mark` (a row and the hash it had when verified),
/// that row's computed hash must be the one kept. Returns the last hash and
/// the rows seen.
fn fold(
    conn: &Connection,
    after: i64,
    to: i64,
    mut prev: [u8; HASH_LEN],
    stored: Stored,
    mark: Option<(i64, &[u8])>,
) -> Result<([u8; HASH_LEN], u64), Fail> {
    let mut stmt = conn.prepare_cached(&rows_sql())?;
    let mut rows = stmt.query([after, to])?;
    let mut expected_id = after + 1;
    let mut canonical = Vec::with_capacity(256);
    let mut seen = 0u64;
    let checked = stored == Stored::Check;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(1)?;
        if checked && id != expected_id {
            return Err(broken(
                id,
                format!("rows {expected_id} to {} are missing before it", id - 1),
            ));
        }
        canonical.clear();
        for i in 1..=FIELDS {
            push(&mut canonical, r.get_ref(i)?);
        }
        push_clearing_counts(conn, &mut canonical, r.get_ref(FIELDS + 1)?)?;
        let hash = link(&prev, &canonical);
        let kept = match r.get_ref(0)? {
            ValueRef::Blob(b) => Some(b),
            _ => None,
        };
        if checked && !holds(kept, &hash) {
            // The audit view may be gone too: the row is named anyway.
            let what = describe(conn, id).unwrap_or_else(|_| {
                "its stored hash does not match its content and the row before it".into()
            });
            return Err(broken(id, what));
        }
        if let Some((m, kept)) = mark {
            if id == m && hash[..] != *kept {
                return Err(recomputed(m));
            }
        }
        prev = hash;
        expected_id = id + 1;
        seen += 1;
    }
    if checked && expected_id <= to {
        return Err(broken(
            expected_id,
            format!("rows {expected_id} to {to} are missing"),
        ));
    }
    Ok((prev, seen))
}

/// What row `id` records, for the error that names it.
fn describe(conn: &Connection, id: i64) -> Result<String, Fail> {
    let (kind, session, note, payment): (String, Option<String>, Option<i64>, Option<String>) =
        conn.query_row(
            "SELECT a.kind, a.session, a.note, a.payment_key FROM audit a WHERE a.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    let mut what = format!("its stored hash does not match its content ({kind}");
    if let Some(p) = payment {
        what.push_str(&format!(", payment {p}"));
    }
    if let Some(n) = note {
        what.push_str(&format!(", note {n}"));
    }
    if let Some(s) = session {
        what.push_str(&format!(", session {s}"));
    }
    what.push_str(") and the row before it");
    Ok(what)
}

/// The last row's id.
fn last_id(conn: &Connection) -> Result<i64, Fail> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// Creates the anchor of a journal (a new one: nothing before the chain; an
/// older one: every row so far folded in), inside the caller's transaction.
pub(super) fn start(conn: &Connection) -> Result<(), Fail> {
    conn.execute_batch(SCHEMA_CHAIN)?;
    let last = last_id(conn)?;
    let (anchor_hash, _) = fold(conn, 0, last, [0; HASH_LEN], Stored::Absent, None)?;
    conn.prepare_cached(
        "INSERT INTO chain (id, anchor_event, anchor_hash, verified_event, verified_hash)
         VALUES (1, ?1, ?2, ?1, ?2)",
    )?
    .execute(params![last, &anchor_hash[..]])?;
    Ok(())
}

/// Records the head as verified (with the books' marks); `known` is the
/// head the journal kept from its last committed event, used while it is
/// that of the last row (else the head is recomputed).
pub(super) fn set_verified(conn: &Connection, known: Option<ChainHead>) -> Result<(), Fail> {
    let h = Writer::new(conn, known).head()?;
    conn.prepare_cached("UPDATE chain SET verified_event = ?1, verified_hash = ?2 WHERE id = 1")?
        .execute(params![h.rows as i64, &h.hash[..]])?;
    Ok(())
}

/// The verified mark: (row, its whole hash then).
fn verified(conn: &Connection) -> Result<(i64, Vec<u8>), Fail> {
    Ok(conn
        .prepare_cached("SELECT verified_event, verified_hash FROM chain WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// `ChainBroken` unless the trail still reaches the verified mark.
fn reaches(last: i64, verified_event: i64) -> Result<(), Fail> {
    if last < verified_event {
        return Err(broken(
            last + 1,
            format!(
                "the trail ends at row {last} but reached row {verified_event} when verified: \
                 acknowledged rows are missing"
            ),
        ));
    }
    Ok(())
}

/// Checks rows `from < id <= last` from `start` (the whole hash of row
/// `from`), and the verified mark on the way (or at `from`); returns the
/// rows hashed.
fn check_from(
    conn: &Connection,
    from: i64,
    start: [u8; HASH_LEN],
    last: i64,
    mark: (i64, &[u8]),
) -> Result<u64, Fail> {
    if from == mark.0 && start[..] != *mark.1 {
        return Err(recomputed(mark.0));
    }
    let (_, seen) = fold(conn, from, last, start, Stored::Check, Some(mark))?;
    Ok(seen)
}

/// The bounded check on open (see the module docs); returns the rows hashed.
pub(super) fn check_recent(conn: &Connection) -> Result<u64, Fail> {
    let anchor = anchor(conn)?;
    let (verified_event, verified_hash) = verified(conn)?;
    let last = last_id(conn)?;
    reaches(last, verified_event)?;
    let target = verified_event.min(last - CHAIN_TAIL).max(anchor.0);
    let (from, start) = full_at_or_before(conn, target, anchor)?;
    check_from(conn, from, start, last, (verified_event, &verified_hash))
}

/// Every row, the anchor and the verified mark; returns the rows hashed.
pub(super) fn check_all(conn: &Connection) -> Result<u64, Fail> {
    let (anchor_event, anchor_hash) = anchor(conn)?;
    let (folded, before) = fold(conn, 0, anchor_event, [0; HASH_LEN], Stored::Absent, None)?;
    if folded != anchor_hash {
        return Err(broken(
            anchor_event,
            format!("the {anchor_event} rows from before the chain no longer hash to its anchor"),
        ));
    }
    let last = last_id(conn)?;
    let (verified_event, verified_hash) = verified(conn)?;
    reaches(last, verified_event)?;
    let seen = check_from(
        conn,
        anchor_event,
        anchor_hash,
        last,
        (verified_event, &verified_hash),
    )?;
    Ok(before + seen)
}

/// What a forger with this code would do after editing row `from`:
/// recompute every stored hash from it on as the journal writes them
/// (whole or tag; with `whole`, every one whole, as format 3 stored them),
/// and the verified mark. Tests play the forger (and format 3) with it.
#[cfg(test)]
pub(super) fn forge_from(conn: &Connection, from: i64, whole: bool) -> Result<(), Fail> {
    let anchor = anchor(conn)?;
    let (start_id, start) = full_at_or_before(conn, from - 1, anchor)?;
    let (mut prev, _) = fold(conn, start_id, from - 1, start, Stored::Ignore, None)?;
    let last = last_id(conn)?;
    for id in from..=last {
        let (hash, _) = fold(conn, id - 1, id, prev, Stored::Ignore, None)?;
        let kind: i64 =
            conn.query_row("SELECT kind FROM events WHERE id = ?1", [id], |r| r.get(0))?;
        let whole = whole || id % FULL_HASH_EVERY == 0 || kind == EventKind::Clearing.code();
        let kept = if whole { &hash[..] } else { &hash[..TAG_LEN] };
        conn.execute(
            "UPDATE events SET hash = ?2 WHERE id = ?1",
            params![id, kept],
        )?;
        prev = hash;
    }
    let (verified_event, _) = verified(conn)?;
    let (start_id, start) = full_at_or_before(conn, verified_event, anchor)?;
    let (at_mark, _) = fold(conn, start_id, verified_event, start, Stored::Ignore, None)?;
    conn.execute("UPDATE chain SET verified_hash = ?1", params![&at_mark[..]])?;
    Ok(())
}
