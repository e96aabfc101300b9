//! Sessions: begin and end.

use kiosk_hal::{AccountNumber, PaymentMethod};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use super::codec::{method_from, method_text, outcome_text};
use super::events::Event;
use super::fail::Fail;
use super::{SessionOutcome, SessionStart};
use crate::ids::{Millis, SessionId};

/// What a stored session says.
pub(super) struct SessionRow {
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
        .prepare_cached("SELECT account, method, ended_at IS NOT NULL FROM sessions WHERE id = ?1")?
        .query_row([&id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    let (account, method, ended) = row.ok_or_else(|| Fail::unknown(format!("no session {id}")))?;
    Ok(SessionRow {
        account: AccountNumber(account),
        method: method_from(&method)?,
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
pub(super) fn begin(conn: &Connection, s: &SessionStart) -> Result<(), Fail> {
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
        method_text(s.method),
        s.at.0
    ])?;
    Event::new("session-begun", s.at)
        .session(&s.id)
        .detail(json!({
            "kiosk": s.kiosk.0,
            "account": s.account.0,
            "method": method_text(s.method),
        }))
        .append(conn)
}

/// Ends a session once.
pub(super) fn end(
    conn: &Connection,
    id: &SessionId,
    outcome: SessionOutcome,
    at: Millis,
) -> Result<(), Fail> {
    if load(conn, id)?.ended {
        return Err(Fail::illegal(format!("session {id} has ended already")));
    }
    conn.prepare_cached("UPDATE sessions SET ended_at = ?2, outcome = ?3 WHERE id = ?1")?
        .execute(params![id.0, at.0, outcome_text(outcome)])?;
    Event::new("session-ended", at)
        .session(id)
        .detail(json!({ "outcome": outcome_text(outcome) }))
        .append(conn)
}
