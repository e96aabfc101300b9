//! Sessions: begin and end.

use kiosk_hal::{AccountNumber, PaymentMethod};
use rusqlite::{params, Connection, OptionalExtension};

use super::chain::Writer;
use super::codec::{method_code, method_from, outcome_code};
use super::events::{Event, EventKind};
use super::fail::Fail;
use super::{SessionOutcome, SessionStart};
use crate::ids::{Millis, SessionId};

/// What a stored session says.
pub(super) struct SessionRow {
    /// Its row number (what the audit trail refers to).
    pub n: i64,
    /// The account it pays.
    pub account: AccountNumber,
    /// How.
    pub method: PaymentMethod,
    /// Whether it has ended.
    pub ended: bool,
}

/// The session `id`, or `UnknownRecord`.
pub(super) fn load(conn: &Connection, id: &SessionId) -> Result<SessionRow, Fail> {
    let row = conn
        .prepare_cached(
            "SELECT n, account, method, ended_at IS NOT NULL FROM sessions WHERE id = ?1",
        )?
        .query_row([&id.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })
        .optional()?;
    let (n, account, method, ended) =
        row.ok_or_else(|| Fail::unknown(format!("no session {id}")))?;
    Ok(SessionRow {
        n,
        account: AccountNumber(account.into()),
        method: method_from(method)?,
        ended,
    })
}

/// The trailing sequence number of a session id (`"K01-000042"` → 42).
pub(super) fn seq_of(id: &SessionId) -> Option<i64> {
    let tail = id.0.rsplit('-').next()?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok()
}

/// Records a new session.
pub(super) fn begin(conn: &Writer<'_>, s: &SessionStart) -> Result<(), Fail> {
    match load(conn, &s.id) {
        Ok(_) => return Err(Fail::illegal(format!("session {} exists already", s.id))),
        Err(e) if e.is_unknown() => {}
        Err(e) => return Err(e),
    }
    conn.prepare_cached(
        "INSERT INTO sessions (id, seq, kiosk, account, method, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        s.id.0,
        seq_of(&s.id),
        s.kiosk.0,
        s.account.0,
        method_code(s.method),
        s.at.0
    ])?;
    // Kiosk, account and method are the session row's own: not repeated.
    Event::new(EventKind::SessionBegun, s.at)
        .session(conn.last_insert_rowid())
        .append(conn)
}

/// Ends a session once.
pub(super) fn end(
    conn: &Writer<'_>,
    id: &SessionId,
    outcome: SessionOutcome,
    at: Millis,
) -> Result<(), Fail> {
    let row = load(conn, id)?;
    if row.ended {
        return Err(Fail::illegal(format!("session {id} has ended already")));
    }
    conn.prepare_cached("UPDATE sessions SET ended_at = ?2, outcome = ?3 WHERE id = ?1")?
        .execute(params![id.0, at.0, outcome_code(outcome)])?;
    // The outcome is the row's own (a session ends once).
    Event::new(EventKind::SessionEnded, at)
        .session(row.n)
        .append(conn)
}
