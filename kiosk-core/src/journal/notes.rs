//! Notes: escrow, stack, return, reject, in-doubt.
//!
//! Every transition is a conditional state change checked here before the
//! row is touched; a note leaves `escrowed` at most once, so it is stacked
//! at most once.

use kiosk_hal::{Money, RejectReason};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use super::chain::Writer;
use super::codec::{
    money_cols, note_state_code, note_state_from, note_state_text, opt_money, serde_name,
};
use super::events::{Event, EventKind};
use super::fail::{count, Fail};
use super::{sessions, NoteId, NoteState};
use crate::ids::{Millis, SessionId};

/// What a stored note says.
pub(super) struct NoteRow {
    /// Its id.
    pub id: i64,
    /// Its session.
    pub session: SessionId,
    /// Its value, if known.
    pub value: Option<Money>,
    /// Its state.
    pub state: NoteState,
}

/// The note `id`, or `UnknownRecord`.
pub(super) fn load(conn: &Connection, id: NoteId) -> Result<NoteRow, Fail> {
    let row = conn
        .prepare_cached(
            "SELECT s.id, n.value_minor, n.value_currency, n.state
             FROM notes n JOIN sessions s ON s.n = n.session WHERE n.id = ?1",
        )?
        .query_row([id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .optional()?;
    let (session, minor, currency, state) =
        row.ok_or_else(|| Fail::unknown(format!("no note {}", id.0)))?;
    Ok(NoteRow {
        id: id.0,
        session: SessionId(session.into()),
        value: opt_money(minor, currency)?,
        state: note_state_from(state)?,
    })
}

/// A note of `session` in state `expected`, or why not.
fn load_in(
    conn: &Connection,
    session: &SessionId,
    id: NoteId,
    expected: NoteState,
) -> Result<NoteRow, Fail> {
    let note = load(conn, id)?;
    if &note.session != session {
        return Err(Fail::illegal(format!(
            "note {} belongs to session {}, not {session}",
            id.0, note.session
        )));
    }
    expect_state(&note, expected)?;
    Ok(note)
}

/// `IllegalTransition` unless `note` is in state `expected`.
pub(super) fn expect_state(note: &NoteRow, expected: NoteState) -> Result<(), Fail> {
    if note.state != expected {
        return Err(Fail::illegal(format!(
            "note {} is {}, not {}",
            note.id,
            note_state_text(note.state),
            note_state_text(expected)
        )));
    }
    Ok(())
}

/// A note value must be positive and in the currency of the session's other
/// notes (`n` is the session's row number).
fn check_value(conn: &Connection, session: &SessionId, n: i64, value: Money) -> Result<(), Fail> {
    if value.minor <= 0 {
        return Err(Fail::illegal(format!("note value {value} is not positive")));
    }
    let other: Option<String> = conn
        .prepare_cached(
            "SELECT value_currency FROM notes
             WHERE session = ?1 AND value_currency IS NOT NULL AND value_currency <> ?2 LIMIT 1",
        )?
        .query_row(params![n, value.currency.code()], |r| r.get(0))
        .optional()?;
    match other {
        Some(c) => Err(Fail::illegal(format!(
            "session {session} has {c} notes; a {value} note cannot join them"
        ))),
        None => Ok(()),
    }
}

/// Inserts a note row for the session with row number `session`.
fn insert(
    conn: &Connection,
    session: i64,
    value: Option<Money>,
    state: NoteState,
    at: Millis,
) -> Result<i64, Fail> {
    let (minor, currency) = money_cols(value);
    conn.prepare_cached(
        "INSERT INTO notes (session, value_minor, value_currency, state, in_doubt_since)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        session,
        minor,
        currency,
        note_state_code(state),
        in_doubt_since(state, at)
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Moves note `id` to `state` with `value`.
pub(super) fn set_state(
    conn: &Connection,
    id: i64,
    state: NoteState,
    value: Option<Money>,
    at: Millis,
) -> Result<(), Fail> {
    let (minor, currency) = money_cols(value);
    conn.prepare_cached(
        "UPDATE notes SET state = ?2, value_minor = ?3, value_currency = ?4, in_doubt_since = ?5
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        note_state_code(state),
        minor,
        currency,
        in_doubt_since(state, at)
    ])?;
    Ok(())
}

/// The time a note in `state` since `at` keeps: `at` if it is in doubt
/// (recovery lists it with it), none otherwise (the audit trail has every
/// change's time).
fn in_doubt_since(state: NoteState, at: Millis) -> Option<u64> {
    (state == NoteState::InDoubt).then_some(at.0)
}

/// An audit row for note `id`, worth `value` then (its session is the
/// note's own, its currency the note's: neither is repeated).
fn event(kind: EventKind, at: Millis, id: i64, value: Option<Money>) -> Event {
    Event::new(kind, at).note(id).amount(value.map(|v| v.minor))
}

/// A new escrowed note.
pub(super) fn escrowed(
    conn: &Writer<'_>,
    session: &SessionId,
    value: Money,
    at: Millis,
) -> Result<NoteId, Fail> {
    let s = sessions::load(conn, session)?;
    check_value(conn, session, s.n, value)?;
    let id = insert(conn, s.n, Some(value), NoteState::Escrowed, at)?;
    event(EventKind::NoteEscrowed, at, id, Some(value)).append(conn)?;
    Ok(NoteId(id))
}

/// Escrowed → stacked, or a new stacked note.
pub(super) fn stacked(
    conn: &Writer<'_>,
    session: &SessionId,
    note: Option<NoteId>,
    value: Money,
    at: Millis,
) -> Result<NoteId, Fail> {
    let s = sessions::load(conn, session)?;
    let id = match note {
        Some(note) => {
            let row = load_in(conn, session, note, NoteState::Escrowed)?;
            if row.value != Some(value) {
                return Err(Fail::illegal(format!(
                    "note {} was escrowed as {}, stacked as {value}",
                    note.0,
                    row.value.map_or("unknown".to_string(), |v| v.to_string())
                )));
            }
            set_state(conn, row.id, NoteState::Stacked, Some(value), at)?;
            row.id
        }
        None => {
            check_value(conn, session, s.n, value)?;
            insert(conn, s.n, Some(value), NoteState::Stacked, at)?
        }
    };
    // Whether its escrow was journaled is whether a note-escrowed row names it.
    event(EventKind::NoteStacked, at, id, Some(value)).append(conn)?;
    Ok(NoteId(id))
}

/// Escrowed → returned.
pub(super) fn returned(conn: &Writer<'_>, note: NoteId, at: Millis) -> Result<(), Fail> {
    let row = load(conn, note)?;
    expect_state(&row, NoteState::Escrowed)?;
    set_state(conn, row.id, NoteState::Returned, row.value, at)?;
    event(EventKind::NoteReturned, at, row.id, row.value).append(conn)
}

/// A rejected note; returns the session's reject count.
pub(super) fn rejected(
    conn: &Writer<'_>,
    session: &SessionId,
    reason: RejectReason,
    at: Millis,
) -> Result<u32, Fail> {
    let s = sessions::load(conn, session)?;
    let reason = serde_name(&reason);
    conn.prepare_cached("INSERT INTO rejects (session, reason, at) VALUES (?1, ?2, ?3)")?
        .execute(params![session.0, reason, at.0])?;
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM rejects WHERE session = ?1")?
        .query_row([&session.0], |r| r.get(0))?;
    // The reason is also in `rejects`, but nothing links that row to this
    // one; the count in the session is a count of these rows.
    Event::new(EventKind::NoteRejected, at)
        .session(s.n)
        .detail(json!({ "reason": reason }))
        .append(conn)?;
    Ok(count(n))
}

/// The `cause` an unaccounted note's audit row carries (see
/// [`unaccounted`]).
pub(super) const UNACCOUNTED: &str = "unaccounted";

/// A new in-doubt note the acceptor reported in the cash box outside any
/// session (no row accounted for it): its audit row says so, so that a
/// restart never takes it for a note in the acceptor's path.
pub(super) fn unaccounted(
    conn: &Writer<'_>,
    session: &SessionId,
    value: Option<Money>,
    at: Millis,
) -> Result<NoteId, Fail> {
    into_doubt(conn, session, None, value, at, Some(UNACCOUNTED))
}

/// Escrowed → in-doubt, or a new in-doubt note.
pub(super) fn in_doubt(
    conn: &Writer<'_>,
    session: &SessionId,
    note: Option<NoteId>,
    value: Option<Money>,
    at: Millis,
) -> Result<NoteId, Fail> {
    into_doubt(conn, session, note, value, at, None)
}

/// [`in_doubt`], its audit row naming `cause` if given.
fn into_doubt(
    conn: &Writer<'_>,
    session: &SessionId,
    note: Option<NoteId>,
    value: Option<Money>,
    at: Millis,
    cause: Option<&str>,
) -> Result<NoteId, Fail> {
    let s = sessions::load(conn, session)?;
    if let Some(v) = value {
        check_value(conn, session, s.n, v)?;
    }
    let (id, value) = match note {
        Some(note) => {
            let row = load_in(conn, session, note, NoteState::Escrowed)?;
            let value = value.or(row.value);
            set_state(conn, row.id, NoteState::InDoubt, value, at)?;
            (row.id, value)
        }
        None => (insert(conn, s.n, value, NoteState::InDoubt, at)?, value),
    };
    let mut row = event(EventKind::NoteInDoubt, at, id, value);
    if let Some(cause) = cause {
        row = row.detail(json!({ "cause": cause }));
    }
    row.append(conn)?;
    Ok(NoteId(id))
}
