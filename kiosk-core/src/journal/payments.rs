//! Payments: pending → credited | refused, keyed by idempotency key.

use kiosk_hal::{AccountNumber, IdempotencyKey, Money, PaymentMethod};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::json;

use super::codec::{
    method_from, method_text, money, money_json, payment_state_from, payment_state_text,
};
use super::events::Event;
use super::fail::{count, Fail};
use super::{sessions, CreditOutcome, PaymentState, PendingPayment};
use crate::ids::{Millis, SessionId};

/// The columns [`Raw::read`] reads, in order.
pub(super) const COLUMNS: &str =
    "key, session, account, amount_minor, amount_currency, method, created_at, attempts, state";

/// A payment row as SQLite hands it over (selected with [`COLUMNS`]).
pub(super) struct Raw {
    key: String,
    session: String,
    account: String,
    minor: i64,
    currency: String,
    method: String,
    created_at: u64,
    attempts: i64,
    state: String,
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
        })
    }

    /// The record and its state.
    pub(super) fn finish(self) -> Result<(PendingPayment, PaymentState), Fail> {
        let record = PendingPayment {
            key: IdempotencyKey(self.key),
            session: SessionId(self.session),
            account: AccountNumber(self.account),
            amount: money(self.minor, self.currency)?,
            method: method_from(&self.method)?,
            created_at: Millis(self.created_at),
            attempts: count(self.attempts),
        };
        Ok((record, payment_state_from(&self.state)?))
    }
}

/// The payment with `key`, if any, and its state.
pub(super) fn load(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<Option<(PendingPayment, PaymentState)>, Fail> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE key = ?1");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([&key.0], Raw::read)
        .optional()?;
    row.map(Raw::finish).transpose()
}

/// The payment with `key`, or `UnknownRecord`.
fn load_known(
    conn: &Connection,
    key: &IdempotencyKey,
) -> Result<(PendingPayment, PaymentState), Fail> {
    load(conn, key)?.ok_or_else(|| Fail::unknown(format!("no payment {key}")))
}

/// Inserts a pending payment and its audit row.
pub(super) fn insert(conn: &Connection, p: &PendingPayment, cause: &str) -> Result<(), Fail> {
    conn.prepare_cached(
        "INSERT INTO payments (key, session, account, amount_minor, amount_currency, method,
                               state, attempts, created_at, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)",
    )?
    .execute(params![
        p.key.0,
        p.session.0,
        p.account.0,
        p.amount.minor,
        p.amount.currency.code(),
        method_text(p.method),
        p.created_at.0
    ])?;
    Event::new("payment-pending", p.created_at)
        .session(&p.session)
        .key(&p.key.0)
        .detail(json!({
            "amount": money_json(p.amount),
            "account": p.account.0,
            "method": method_text(p.method),
            "cause": cause,
        }))
        .append(conn)
}

/// A new pending payment for `session`, or the existing one with that key.
pub(super) fn pending(
    conn: &Connection,
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
    insert(conn, &record, "session")?;
    if s.method == PaymentMethod::Cash {
        assign_stacked(conn, session, key, amount)?;
    }
    Ok(record)
}

/// Assigns the session's unassigned stacked notes to payment `key`; they must
/// add up to exactly `amount`.
fn assign_stacked(
    conn: &Connection,
    session: &SessionId,
    key: &IdempotencyKey,
    amount: Money,
) -> Result<(), Fail> {
    let (n, other, sum): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), count(*) FILTER (WHERE value_currency <> ?2),
                    coalesce(sum(value_minor) FILTER (WHERE value_currency = ?2), 0)
             FROM notes WHERE session = ?1 AND state = 'stacked' AND payment_key IS NULL",
        )?
        .query_row(params![session.0, amount.currency.code()], |r| {
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
        "UPDATE notes SET payment_key = ?2
         WHERE session = ?1 AND state = 'stacked' AND payment_key IS NULL",
    )?
    .execute(params![session.0, key.0])?;
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
pub(super) fn attempted(conn: &Connection, key: &IdempotencyKey, at: Millis) -> Result<u32, Fail> {
    let (p, state) = load_known(conn, key)?;
    expect_pending(&p, state)?;
    let attempts = p.attempts.saturating_add(1);
    conn.prepare_cached("UPDATE payments SET attempts = ?2, changed_at = ?3 WHERE key = ?1")?
        .execute(params![key.0, attempts, at.0])?;
    Event::new("posting-attempted", at)
        .session(&p.session)
        .key(&key.0)
        .detail(json!({ "attempt": attempts }))
        .append(conn)?;
    Ok(attempts)
}

/// Pending → credited, once.
pub(super) fn credited(
    conn: &Connection,
    key: &IdempotencyKey,
    backend_ref: &str,
    new_balance: Money,
    at: Millis,
) -> Result<CreditOutcome, Fail> {
    let (p, state) = load_known(conn, key)?;
    let detail = json!({ "backend_ref": backend_ref, "new_balance": money_json(new_balance) });
    let event = Event::new("payment-credited", at)
        .session(&p.session)
        .key(&key.0);
    match state {
        PaymentState::Credited => {
            Event {
                kind: "payment-credit-repeated",
                ..event
            }
            .detail(detail)
            .append(conn)?;
            return Ok(CreditOutcome::AlreadyCredited);
        }
        PaymentState::Refused => expect_pending(&p, state)?,
        PaymentState::Pending => {}
    }
    conn.prepare_cached(
        "UPDATE payments SET state = 'credited', backend_ref = ?2, balance_minor = ?3,
                             balance_currency = ?4, changed_at = ?5
         WHERE key = ?1 AND state = 'pending'",
    )?
    .execute(params![
        key.0,
        backend_ref,
        new_balance.minor,
        new_balance.currency.code(),
        at.0
    ])?;
    event.detail(detail).append(conn)?;
    Ok(CreditOutcome::Credited)
}

/// Pending → refused; a repeated refusal changes nothing.
pub(super) fn refused(
    conn: &Connection,
    key: &IdempotencyKey,
    reason: &str,
    at: Millis,
) -> Result<(), Fail> {
    let (p, state) = load_known(conn, key)?;
    let event = Event::new("payment-refused", at)
        .session(&p.session)
        .key(&key.0)
        .detail(json!({ "reason": reason }));
    match state {
        PaymentState::Refused => {
            return Event {
                kind: "payment-refusal-repeated",
                ..event
            }
            .append(conn);
        }
        PaymentState::Credited => expect_pending(&p, state)?,
        PaymentState::Pending => {}
    }
    conn.prepare_cached(
        "UPDATE payments SET state = 'refused', reason = ?2, changed_at = ?3
         WHERE key = ?1 AND state = 'pending'",
    )?
    .execute(params![key.0, reason, at.0])?;
    event.append(conn)
}
