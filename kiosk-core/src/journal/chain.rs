//! The hash chain over the audit trail: an edit of the file outside the
//! kiosk breaks it, and the chain head kept outside the file shows it.
//!
//! Every change the journal records (a money event, a fault ticket, a
//! clearing, a receipt) is one `events` row written in the same
//! transaction (see `events`). Each row carries `hash`, SHA-256 over the
//! previous row's hash and the row's canonical bytes, which include the
//! money facts of the record it names (a payment's key, session, amount and
//! method; a note's session and currency; a session's id, kiosk, account
//! and method; a clearing's counts). Changing any of them, a row of
//! `events`, or deleting or reordering rows, makes the recomputed hash of
//! that row (or the next one) differ from the stored one.
//!
//! # Canonical bytes (encoding 1)
//!
//! So that an auditor can recompute the chain with nothing but SQLite and
//! SHA-256 (`chain_check.py` beside this file does it in Python):
//!
//! ```text
//! hash(row) = SHA-256( hash(previous row) || canonical(row) )
//! canonical(row) = field(v1) || field(v2) || … || field(v29)
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
//! `NULL` where the row names no such record). Every one of those facts is
//! fixed once the row is written: the guard triggers keep a payment's and a
//! clearing's, and the journal never changes a session's or a note's.
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
//! - **On every open** (bounded, like the books): the rows after the last
//!   verified mark and the newest [`CHAIN_TAIL`]; that the row at the mark
//!   still has the hash recorded at the mark (a chain recomputed over an
//!   edit before it is noticed); and, when the audit trail's guard
//!   triggers are missing or not as this build writes them, every row.
//! - **[`crate::journal::Journal::verify_full`]**: every row and the anchor.
//! - **Outside the file**: [`crate::journal::Journal::chain_head`] (on every
//!   clearing record): an edit before the mark, with the hashes after it
//!   recomputed and the mark rewritten, is only caught by comparing the head
//!   with one printed or sent earlier, whose row must still hash the same.

//!
//! # What it costs (measured, `cargo bench -p kiosk-benches --bench journal`)
//!
//! 33 bytes per audit row (9 per cash payment of two notes: about 300 bytes
//! per payment; 879 bytes of file per payment at 500,000 payments, from
//! 575), about 10 µs of CPU per money event (a lookup of the last row, one
//! of the facts, one SHA-256), no extra page per commit (the hash is in the
//! row the commit writes anyway: WAL bytes per money event 14.29 → 14.35
//! KB). The open re-hashes at most what was
//! written since the last checkpoint plus [`CHAIN_TAIL`] rows: about 1 ms
//! warm, 3 ms cold on a journal of 500,000 payments.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::events::EventKind;
use super::fail::Fail;

/// Bytes of a hash.
pub const HASH_LEN: usize = 32;

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

/// The columns hashed, after the stored `hash`: `v1 … v29` of the module docs.
const FACTS_COLUMNS: &str = "e.id, e.at, e.kind, e.session, e.note, e.payment, e.amount, e.detail,
       s.id, s.kiosk, s.account, s.method, s.started_at,
       n.session, n.value_currency,
       p.key, p.session, p.amount_minor, p.amount_currency, p.method,
       c.at, c.operator_a, c.operator_b, c.currency, c.expected_minor, c.counted_minor,
       c.counterfeit_found, c.pending_minor, c.in_doubt_notes";

/// Columns hashed per row.
const FIELDS: usize = 29;

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

/// The id and hash of the last row, and the hash the next row chains to.
pub(super) fn head(conn: &Connection) -> Result<ChainHead, Fail> {
    let last: Option<(i64, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, Some(h))) = &last {
        // The common case: the last row is chained.
        if let Some(hash) = to_hash(h) {
            return Ok(ChainHead {
                rows: u64::try_from(*id).unwrap_or(0),
                hash,
            });
        }
    }
    let (anchor_event, anchor_hash) = anchor(conn)?;
    let (rows, hash) = match last {
        None => (0, anchor_hash),
        Some((id, _)) if id == anchor_event => (id, anchor_hash),
        Some((id, Some(h))) if id > anchor_event => (
            id,
            to_hash(&h).ok_or_else(|| broken(id, "its hash is not 32 bytes".into()))?,
        ),
        Some((id, _)) => {
            return Err(broken(
                id,
                format!("it has no hash, or the chain's anchor (row {anchor_event}) is past it"),
            ))
        }
    };
    Ok(ChainHead {
        rows: u64::try_from(rows).unwrap_or(0),
        hash,
    })
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

/// Appends `row` as the last row + 1 with its hash (inside the caller's
/// transaction).
pub(super) fn append(conn: &Connection, row: &NewRow<'_>) -> Result<(), Fail> {
    let prev = head(conn)?;
    let id = i64::try_from(prev.rows).unwrap_or(i64::MAX) + 1;
    // The facts are read exactly as the check reads them: the same joins
    // over a one-row stand-in for the row.
    let sql = format!(
        "SELECT {FACTS_COLUMNS}
         FROM (SELECT ?1 AS id, ?2 AS at, ?3 AS kind, ?4 AS session, ?5 AS note,
                      ?6 AS payment, ?7 AS amount, ?8 AS detail) e {FACTS_JOINS}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
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
    let hash = link(&prev.hash, &canonical);
    drop(rows);
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
        &hash[..]
    ])?;
    Ok(())
}

/// Folds the rows `after < id <= to` onto `prev`: with `stored`, each row's
/// hash must equal the stored one (else `ChainBroken` naming it); without,
/// the rows have none (the anchored rows). Returns the last hash and rows seen.
fn fold(
    conn: &Connection,
    after: i64,
    to: i64,
    mut prev: [u8; HASH_LEN],
    stored: bool,
) -> Result<([u8; HASH_LEN], u64), Fail> {
    let mut stmt = conn.prepare_cached(&rows_sql())?;
    let mut rows = stmt.query([after, to])?;
    let mut expected_id = after + 1;
    let mut canonical = Vec::with_capacity(256);
    let mut seen = 0u64;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(1)?;
        if stored && id != expected_id {
            return Err(broken(
                id,
                format!("rows {expected_id} to {} are missing before it", id - 1),
            ));
        }
        canonical.clear();
        for i in 1..=FIELDS {
            push(&mut canonical, r.get_ref(i)?);
        }
        let hash = link(&prev, &canonical);
        if stored {
            let kept: Option<Vec<u8>> = r.get(0)?;
            if kept.as_deref() != Some(&hash[..]) {
                // The audit view may be gone too: the row is named anyway.
                let what = describe(conn, id).unwrap_or_else(|_| {
                    "its stored hash does not match its content and the row before it".into()
                });
                return Err(broken(id, what));
            }
        }
        prev = hash;
        expected_id = id + 1;
        seen += 1;
    }
    if stored && expected_id <= to {
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

/// The stored hash of row `id` (the anchor at the anchor row).
fn stored_hash(
    conn: &Connection,
    id: i64,
    anchor: (i64, [u8; HASH_LEN]),
) -> Result<[u8; HASH_LEN], Fail> {
    if id == anchor.0 {
        return Ok(anchor.1);
    }
    let h: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT hash FROM events WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match h {
        None => Err(broken(id, "the row is missing".into())),
        Some(h) => h
            .as_deref()
            .and_then(to_hash)
            .ok_or_else(|| broken(id, "it has no 32-byte hash".into())),
    }
}

/// Creates the anchor of a journal (a new one: nothing before the chain; an
/// older one: every row so far folded in), inside the caller's transaction.
pub(super) fn start(conn: &Connection) -> Result<(), Fail> {
    conn.execute_batch(SCHEMA_CHAIN)?;
    let last = last_id(conn)?;
    let (anchor_hash, _) = fold(conn, 0, last, [0; HASH_LEN], false)?;
    conn.prepare_cached(
        "INSERT INTO chain (id, anchor_event, anchor_hash, verified_event, verified_hash)
         VALUES (1, ?1, ?2, ?1, ?2)",
    )?
    .execute(params![last, &anchor_hash[..]])?;
    Ok(())
}

/// Records the head as verified (with the books' marks).
pub(super) fn set_verified(conn: &Connection) -> Result<(), Fail> {
    let h = head(conn)?;
    conn.prepare_cached("UPDATE chain SET verified_event = ?1, verified_hash = ?2 WHERE id = 1")?
        .execute(params![h.rows as i64, &h.hash[..]])?;
    Ok(())
}

/// The verified mark: (row, its hash then).
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

/// The bounded check on open (see the module docs); returns the rows hashed.
pub(super) fn check_recent(conn: &Connection) -> Result<u64, Fail> {
    let anchor = anchor(conn)?;
    let (verified_event, verified_hash) = verified(conn)?;
    let last = last_id(conn)?;
    reaches(last, verified_event)?;
    if stored_hash(conn, verified_event, anchor)?[..] != verified_hash[..] {
        return Err(broken(
            verified_event,
            "its hash is not the one it had when it was verified (the chain was recomputed)".into(),
        ));
    }
    let from = verified_event.min(last - CHAIN_TAIL).max(anchor.0);
    let prev = stored_hash(conn, from, anchor)?;
    let (_, seen) = fold(conn, from, last, prev, true)?;
    Ok(seen)
}

/// Every row and the anchor; returns the rows hashed.
pub(super) fn check_all(conn: &Connection) -> Result<u64, Fail> {
    let (anchor_event, anchor_hash) = anchor(conn)?;
    let (folded, before) = fold(conn, 0, anchor_event, [0; HASH_LEN], false)?;
    if folded != anchor_hash {
        return Err(broken(
            anchor_event,
            format!("the {anchor_event} rows from before the chain no longer hash to its anchor"),
        ));
    }
    let last = last_id(conn)?;
    let (_, seen) = fold(conn, anchor_event, last, anchor_hash, true)?;
    reaches(last, verified(conn)?.0)?;
    Ok(before + seen)
}

/// The hash row `id` would have on `prev` (tests play the forger with it).
#[cfg(test)]
pub(super) fn rehash(conn: &Connection, id: i64, prev: &[u8]) -> Result<[u8; HASH_LEN], Fail> {
    let prev = to_hash(prev).ok_or_else(|| Fail::corrupt("prev is not 32 bytes"))?;
    let mut stmt = conn.prepare(&rows_sql())?;
    let mut rows = stmt.query([id - 1, id])?;
    let r = rows.next()?.ok_or_else(|| Fail::unknown("no such row"))?;
    let mut canonical = Vec::new();
    for i in 1..=FIELDS {
        push(&mut canonical, r.get_ref(i)?);
    }
    Ok(link(&prev, &canonical))
}
