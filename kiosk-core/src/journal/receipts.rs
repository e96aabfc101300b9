//! Receipts that could not be printed, kept (as JSON) until reprinted.

use kiosk_hal::Receipt;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use super::chain::Writer;
use super::events::{Event, EventKind};
use super::fail::Fail;
use super::{sessions, JournalErrorKind, UnprintedReceipt};
use crate::ids::{Millis, SessionId};

/// Keeps (or replaces) the session's receipt as owed.
pub(super) fn keep(
    conn: &Writer<'_>,
    session: &SessionId,
    receipt: &Receipt,
    at: Millis,
) -> Result<(), Fail> {
    let s = sessions::load(conn, session)?;
    let text = serde_json::to_string(receipt)
        .map_err(|e| Fail::new(JournalErrorKind::Storage, format!("receipt to JSON: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO receipts (session, receipt, kept_at, reprinted_at) VALUES (?1, ?2, ?3, NULL)
         ON CONFLICT (session) DO UPDATE
             SET receipt = excluded.receipt, kept_at = excluded.kept_at, reprinted_at = NULL",
    )?
    .execute(params![session.0, text, at.0])?;
    // Keeping again replaces the row: the reference kept then stays here.
    Event::new(EventKind::ReceiptKept, at)
        .session(s.n)
        .detail(json!({ "reference": receipt.reference }))
        .append(conn)
}

/// Marks the session's kept receipt reprinted, once.
pub(super) fn reprinted(conn: &Writer<'_>, session: &SessionId, at: Millis) -> Result<(), Fail> {
    let s = sessions::load(conn, session)?;
    let reprinted: Option<Option<u64>> = conn
        .prepare_cached("SELECT reprinted_at FROM receipts WHERE session = ?1")?
        .query_row([&session.0], |r| r.get(0))
        .optional()?;
    match reprinted {
        None => {
            return Err(Fail::unknown(format!(
                "no receipt kept for session {session}"
            )))
        }
        Some(Some(when)) => {
            return Err(Fail::illegal(format!(
                "the receipt of session {session} was reprinted already (at {})",
                Millis(when)
            )))
        }
        Some(None) => {}
    }
    conn.prepare_cached("UPDATE receipts SET reprinted_at = ?2 WHERE session = ?1")?
        .execute(params![session.0, at.0])?;
    Event::new(EventKind::ReceiptReprinted, at)
        .session(s.n)
        .append(conn)
}

/// Receipts kept and not reprinted, oldest first.
pub(super) fn unprinted(conn: &Connection) -> Result<Vec<UnprintedReceipt>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT session, receipt, kept_at FROM receipts
         WHERE reprinted_at IS NULL ORDER BY kept_at, session",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (session, text, at) = row?;
        let receipt = serde_json::from_str(&text).map_err(|e| {
            Fail::corrupt(format!(
                "kept receipt of session {session} is unreadable: {e}"
            ))
        })?;
        out.push(UnprintedReceipt {
            session: SessionId(session.into()),
            receipt,
            at: Millis(at),
        });
    }
    Ok(out)
}
