//! Payments: pending → credited | refused, keyed by idempotency key.

use kiosk_hal::{AccountNumber, IdempotencyKey, Money, PaymentMethod};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::json;

use super::chain::Writer;
use super::codec::{
    method_code, method_from, money, money_json, payment_state_code, payment_state_from,
    payment_state_text,
};
use super::events::{Event, EventKind};
use super::fail::{count, Fail};
use super::{sessions, CreditOutcome, PaymentState, PendingPayment};
use crate::ids::{Millis, SessionId};

/// The columns [`Raw::read`] reads, in order.
/// (A payment's account is its session's: read from there.)
pub(super) const COLUMNS: &str = "key,
    (SELECT s.id FROM sessions s WHERE s.n = payments.session),
    (SELECT s.account FROM sessions s WHERE s.n = payments.session),
    amount_minor, amount_currency, method, created_at, attempts, state, id";

/// A payment row as SQLite hands it over (selected with [`COLUMNS`]).
pub(super) struct Raw {
    key: String,
    session: String,
    account: String,
    minor: i64,
    currency: String,
    method: i64,
    created_at: u64,
    attempts: i64,
    state: i64,
    id: i64,
}

impl Raw {
    /// Reads a row selected with [`COLUMNS`].
    pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            key: r.get(0)?,
            session: r.get(1)?,
            account: r.get(2)?,
            minor: r.get(3)?,
            currency: r.get(4)?,
            method: r.get(5)?,
            created_at: r.get(6)?,
            attempts: r.get(7)?,
            state: r.get(8)?,
            id: r.get(9)?,
        })
    }

    /// The record and its state.
    pub(super) fn finish(self) -> Result<(PendingPayment, PaymentState), Fail> {
        let (record, state, _) = self.finish_with_id()?;
        Ok((record, state))
    }

    /// The record, its state and its row id.
    fn finish_with_id(self) -> Result<(PendingPayment, PaymentState, i64), Fail> {
        let id = self.id;
        let record = PendingPayment {
            key: IdempotencyKey(self.key.into()),
            session: SessionId(self.session.into()),
            account: AccountNumber(self.account.into()),
            amount: money(self.minor, self.currency)?,
            method: method_from(self.method)?,
            created_at: Millis(self.created_at),
            attempts: count(self.attempts),
        };
        Ok((record, payment_state_from(self.state)?, id))
    }
}

/// The payment with `key`, if any, and its state.
pub(super) fn load(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<Option<(PendingPayment, PaymentState)>, Fail> {
    Ok(load_with_id(conn, key)?.map(|(p, state, _)| (p, state)))
}

/// The payment with `key`, if any, its state and its row id.
fn load_with_id(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<Option<(PendingPayment, PaymentState, i64)>, Fail> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE key = ?1");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([&key.0], Raw::read)
        .optional()?;
    row.map(Raw::finish_with_id).transpose()
}

/// The payment with `key` (its state, its row id), or `UnknownRecord`.
fn load_known(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<(PendingPayment, PaymentState, i64), Fail> {
    load_with_id(conn, key)?.ok_or_else(|| Fail::unknown(format!("no payment {key}")))
}

/// Inserts a pending payment and its audit row; returns its row id.
/// `cause` says why, when it is not its session's own payment (the row's
/// session, account, amount and method are not repeated in the audit row).
pub(super) fn insert(
    conn: &Writer<'_>,
    p: &PendingPayment,
    cause: Option<&str>,
) -> Result<i64, Fail> {
    conn.prepare_cached(
        "INSERT INTO payments (key, session, amount_minor, amount_currency, method,
                               state, attempts, created_at)
         VALUES (?1, (SELECT n FROM sessions WHERE id = ?2), ?3, ?4, ?5, ?7, 0, ?6)",
    )?
    .execute(params![
        p.key.0,
        p.session.0,
        p.amount.minor,
        p.amount.currency.code(),
        method_code(p.method),
        p.created_at.0,
        payment_state_code(PaymentState::Pending)
    ])?;
    let id = conn.last_insert_rowid();
    let mut event = Event::new(EventKind::PaymentPending, p.created_at).payment(id);
    if let Some(cause) = cause {
        event = event.detail(json!({ "cause": cause }));
    }
    event.append(conn)?;
    Ok(id)
}

/// A new pending payment for `session`, or the existing one with that key.
pub(super) fn pending(
    conn: &Writer<'_>,
    session: &SessionId,
    key: &IdempotencyKey,
    amount: Money,
    at: Millis,
) -> Result<PendingPayment, Fail> {
    let s = sessions::load(conn, session)?;
    if let Some((existing, _)) = load(conn, key)? {
        if &existing.session == session && existing.amount == amount {
            return Ok(existing);
        }
        return Err(Fail::illegal(format!(
            "payment {key} exists already for {} in session {}",
            existing.amount, existing.session
        )));
    }
    if amount.minor <= 0 {
        return Err(Fail::illegal(format!(
            "payment amount {amount} is not positive"
        )));
    }
    let record = PendingPayment {
        key: key.clone(),
        session: session.clone(),
        account: s.account,
        amount,
        method: s.method,
        created_at: at,
        attempts: 0,
    };
    let id = insert(conn, &record, None)?;
    if s.method == PaymentMethod::Cash {
        assign_stacked(conn, session, s.n, key, id, amount)?;
    }
    Ok(record)
}

/// Assigns the session's unassigned stacked notes to payment `key` (row id
/// `payment`); they must add up to exactly `amount`. `row` is the session's
/// row number.
fn assign_stacked(
    conn: &Connection,
    session: &SessionId,
    row: i64,
    key: &IdempotencyKey,
    payment: i64,
    amount: Money,
) -> Result<(), Fail> {
    let (n, other, sum): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), count(*) FILTER (WHERE value_currency <> ?2),
                    coalesce(sum(value_minor) FILTER (WHERE value_currency = ?2), 0)
             FROM notes WHERE session = ?1 AND state = 1 AND payment IS NULL",
        )?
        .query_row(params![row, amount.currency.code()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if other > 0 || sum != amount.minor {
        return Err(Fail::illegal(format!(
            "cash payment {key} of {amount} does not match the {n} unposted stacked notes \
             of session {session} ({}{})",
            Money::new(sum, amount.currency),
            if other > 0 {
                ", plus notes in another currency"
            } else {
                ""
            }
        )));
    }
    conn.prepare_cached(
        "UPDATE notes SET payment = ?2
         WHERE session = ?1 AND state = 1 AND payment IS NULL",
    )?
    .execute(params![row, payment])?;
    Ok(())
}

/// `IllegalTransition` unless the payment is pending.
fn expect_pending(p: &PendingPayment, state: PaymentState) -> Result<(), Fail> {
    if state != PaymentState::Pending {
        return Err(Fail::illegal(format!(
            "payment {} is {}, not pending",
            p.key,
            payment_state_text(state)
        )));
    }
    Ok(())
}

/// Counts one more posting attempt of a pending payment.
pub(super) fn attempted(conn: &Writer<'_>, key: &IdempotencyKey, at: Millis) -> Result<u32, Fail> {
    let (p, state, id) = load_known(conn, key)?;
    expect_pending(&p, state)?;
    let attempts = p.attempts.saturating_add(1);
    conn.prepare_cached("UPDATE payments SET attempts = ?2 WHERE id = ?1")?
        .execute(params![id, attempts])?;
    // The n-th of these rows for a payment is its attempt n.
    Event::new(EventKind::PostingAttempted, at)
        .payment(id)
        .append(conn)?;
    Ok(attempts)
}

/// Pending → credited, once.
pub(super) fn credited(
    conn: &Writer<'_>,
    key: &IdempotencyKey,
    backend_ref: &str,
    new_balance: Money,
    at: Millis,
) -> Result<CreditOutcome, Fail> {
    let (p, state, id) = load_known(conn, key)?;
    match state {
        PaymentState::Credited => {
            // The repeated answer is in no row: it is kept here.
            Event::new(EventKind::PaymentCreditRepeated, at)
                .payment(id)
                .detail(json!({
                    "backend_ref": backend_ref,
                    "new_balance": money_json(new_balance),
                }))
                .append(conn)?;
            return Ok(CreditOutcome::AlreadyCredited);
        }
        PaymentState::Refused => expect_pending(&p, state)?,
        PaymentState::Pending => {}
    }
    conn.prepare_cached(
        "UPDATE payments SET state = ?5, backend_ref = ?2, balance_minor = ?3,
                             balance_currency = ?4
         WHERE id = ?1 AND state = ?6",
    )?
    .execute(params![
        id,
        backend_ref,
        new_balance.minor,
        new_balance.currency.code(),
        payment_state_code(PaymentState::Credited),
        payment_state_code(PaymentState::Pending),
    ])?;
    // The reference and the balance are the row's own now.
    Event::new(EventKind::PaymentCredited, at)
        .payment(id)
        .append(conn)?;
    Ok(CreditOutcome::Credited)
}

/// Pending → refused; a repeated refusal changes nothing.
pub(super) fn refused(
    conn: &Writer<'_>,
    key: &IdempotencyKey,
    reason: &str,
    at: Millis,
) -> Result<(), Fail> {
    let (p, state, id) = load_known(conn, key)?;
    match state {
        PaymentState::Refused => {
            return Event::new(EventKind::PaymentRefusalRepeated, at)
                .payment(id)
                .detail(json!({ "reason": reason }))
                .append(conn);
        }
        PaymentState::Credited => expect_pending(&p, state)?,
        PaymentState::Pending => {}
    }
    conn.prepare_cached(
        "UPDATE payments SET state = ?3, reason = ?2
         WHERE id = ?1 AND state = ?4",
    )?
    .execute(params![
        id,
        reason,
        payment_state_code(PaymentState::Refused),
        payment_state_code(PaymentState::Pending)
    ])?;
    // The reason is the row's own now.
    Event::new(EventKind::PaymentRefused, at)
        .payment(id)
        .append(conn)
}
