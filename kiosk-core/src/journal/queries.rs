//! Read-only reports: what recovery and the cash statement rely on.

use kiosk_hal::{AccountNumber, IdempotencyKey, Money};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{method_from, money, note_state_code, opt_money};
use super::events::EventKind;
use super::fail::{count, Fail};
use super::payments::{Raw, COLUMNS};
use super::{InDoubtNote, NoteId, NoteState, OpenSession, PaymentState, PendingPayment};
use crate::ids::{Millis, SessionId};

/// The state of the payment with `key`.
pub(super) fn payment_state(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<Option<PaymentState>, Fail> {
    Ok(super::payments::load(conn, key)?.map(|(_, state)| state))
}

/// Sessions never ended, oldest first.
pub(super) fn open_sessions(conn: &Connection) -> Result<Vec<OpenSession>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT n, id, account, method FROM sessions WHERE (ended_at IS NULL) = 1
         ORDER BY started_at, id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (n, id, account, method) in rows {
        let id = SessionId(id.into());
        out.push(OpenSession {
            escrowed: escrowed_notes(conn, n)?,
            unposted_stacked: unposted_stacked(conn, &id, n)?,
            has_payment: conn
                .prepare_cached(HAS_PAYMENT)?
                .query_row([n], |r| r.get(0))?,
            account: AccountNumber(account.into()),
            method: method_from(method)?,
            id,
        });
    }
    Ok(out)
}

/// Whether the session with row number `?1` has a payment (both groups of
/// `payments_state_session`).
pub(super) const HAS_PAYMENT: &str = "SELECT EXISTS (SELECT 1 FROM payments
    WHERE (state = 0) IN (0, 1) AND session = ?1)";

/// The notes still in escrow of the session with row number `n`.
fn escrowed_notes(conn: &Connection, n: i64) -> Result<Vec<(NoteId, Money)>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, value_minor, value_currency FROM notes
         WHERE session = ?1 AND state = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([n], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (id, minor, currency) = row?;
        Ok((NoteId(id), money(minor, currency)?))
    })
    .collect()
}

/// Sum of the session's stacked notes not yet part of a payment (`n`: its
/// row number).
fn unposted_stacked(conn: &Connection, session: &SessionId, n: i64) -> Result<Option<Money>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT value_minor, value_currency FROM notes
         WHERE session = ?1 AND state = 1 AND payment IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([n], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut sum: Option<Money> = None;
    for row in rows {
        let (minor, currency) = row?;
        let value = money(minor, currency)?;
        sum = Some(match sum {
            None => value,
            Some(s) => s.checked_add(value).ok_or_else(|| {
                Fail::corrupt(format!("stacked notes of session {session} do not add up"))
            })?,
        });
    }
    Ok(sum)
}

/// Payments not answered yet, in creation order.
pub(super) fn pending_payments(conn: &Connection) -> Result<Vec<PendingPayment>, Fail> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE (state = 0) = 1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], Raw::read)?;
    rows.map(|row| Ok(row?.finish()?.0)).collect()
}

/// In-doubt notes, in creation order.
pub(super) fn in_doubt_notes(conn: &Connection) -> Result<Vec<InDoubtNote>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.id, s.id, n.value_minor, n.value_currency, n.in_doubt_since
         FROM notes n JOIN sessions s ON s.n = n.session
         WHERE n.state = 3 ORDER BY n.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, u64>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (id, session, minor, currency, since) = row?;
        Ok(InDoubtNote {
            id: NoteId(id),
            session: SessionId(session.into()),
            value: opt_money(minor, currency)?,
            since: Millis(since),
        })
    })
    .collect()
}

/// Rejected notes with `from <= at < to`.
pub(super) fn rejects_between(conn: &Connection, from: Millis, to: Millis) -> Result<u32, Fail> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM rejects WHERE at >= ?1 AND at < ?2")?
        .query_row(params![from.0, to.0], |r| r.get(0))?;
    Ok(count(n))
}

/// The largest seq of the ended and of the open sessions, the larger of the
/// two: two lookups at the ends of `sessions_state_seq`'s groups.
/// (`max(a, b)` of SQL is `NULL` if either is: each side defaults to 0.)
pub(super) const MAX_SEQ: &str = "SELECT max(
    coalesce((SELECT max(seq) FROM sessions WHERE (ended_at IS NULL) = 0), 0),
    coalesce((SELECT max(seq) FROM sessions WHERE (ended_at IS NULL) = 1), 0))";

/// The largest trailing sequence number of any session id, 0 if none.
pub(super) fn max_session_seq(conn: &Connection) -> Result<u64, Fail> {
    let max: Option<i64> = conn.prepare_cached(MAX_SEQ)?.query_row([], |r| r.get(0))?;
    Ok(max.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// Whether the newest note row is in doubt as unaccounted (see
/// `notes::unaccounted`): its newest in-doubt audit row names the cause.
pub(super) fn last_note_unaccounted(conn: &Connection) -> Result<bool, Fail> {
    let newest: Option<(i64, i64)> = conn
        .prepare_cached("SELECT id, state FROM notes ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let in_doubt = note_state_code(NoteState::InDoubt);
    let Some((note, state)) = newest else {
        return Ok(false);
    };
    if state != in_doubt {
        return Ok(false);
    }
    // The note's newest in-doubt row is near the end of the trail: the
    // backward scan from the end stops there.
    let cause: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(detail, '$.cause') FROM events
             WHERE note = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![note, EventKind::NoteInDoubt.code()], |r| r.get(0))
        .optional()?;
    Ok(cause.flatten().as_deref() == Some(super::notes::UNACCOUNTED))
}

/// The newest note row's id.
pub(super) fn last_note(conn: &Connection) -> Result<Option<NoteId>, Fail> {
    let max: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM notes")?
        .query_row([], |r| r.get(0))?;
    Ok(max.map(NoteId))
}
