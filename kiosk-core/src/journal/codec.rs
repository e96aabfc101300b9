//! How records are spelled in the SQLite file: enums as small integer
//! codes (format 4; kebab-case text before), money as `(minor INTEGER,
//! currency TEXT)`.
//!
//! The codes are part of the file format: changing one needs a schema
//! version bump. Codes 0 and 1 take no bytes in a row (SQLite stores them
//! in the row's header), so the commonest value of each gets one of them.
//! The names (`*_text`) are what messages, the JSON of the audit trail and
//! format 3 used; the tables' SQL lists each code with its name.

use kiosk_hal::{Currency, Money, PaymentMethod};

use super::fail::Fail;
use super::{NoteState, PaymentState, SessionOutcome};

/// A [`PaymentMethod`] as stored: cash 0, code 1.
pub(super) fn method_code(m: PaymentMethod) -> i64 {
    match m {
        PaymentMethod::Cash => 0,
        PaymentMethod::Code => 1,
    }
}

/// A stored [`PaymentMethod`].
pub(super) fn method_from(code: i64) -> Result<PaymentMethod, Fail> {
    match code {
        0 => Ok(PaymentMethod::Cash),
        1 => Ok(PaymentMethod::Code),
        _ => Err(Fail::corrupt(format!("unknown payment method code {code}"))),
    }
}

/// Every [`NoteState`] by code (the index).
const NOTE_STATES: [NoteState; 6] = [
    NoteState::Escrowed,
    NoteState::Stacked,
    NoteState::Returned,
    NoteState::InDoubt,
    NoteState::SettledInBox,
    NoteState::SettledReturned,
];

/// A [`NoteState`] as stored: escrowed 0, stacked 1, returned 2, in-doubt
/// 3, settled-in-box 4, settled-returned 5.
pub(super) fn note_state_code(s: NoteState) -> i64 {
    let code = NOTE_STATES.iter().position(|x| *x == s).unwrap_or(0) as i64;
    debug_assert_eq!(NOTE_STATES[code as usize], s, "every state has a code");
    code
}

/// A [`NoteState`]'s name (format 3's text; messages).
pub(super) fn note_state_text(s: NoteState) -> &'static str {
    match s {
        NoteState::Escrowed => "escrowed",
        NoteState::Stacked => "stacked",
        NoteState::Returned => "returned",
        NoteState::InDoubt => "in-doubt",
        NoteState::SettledInBox => "settled-in-box",
        NoteState::SettledReturned => "settled-returned",
    }
}

/// A stored [`NoteState`].
pub(super) fn note_state_from(code: i64) -> Result<NoteState, Fail> {
    usize::try_from(code)
        .ok()
        .and_then(|i| NOTE_STATES.get(i).copied())
        .ok_or_else(|| Fail::corrupt(format!("unknown note state code {code}")))
}

/// A [`PaymentState`] as stored: pending 0, credited 1, refused 2.
pub(super) fn payment_state_code(s: PaymentState) -> i64 {
    match s {
        PaymentState::Pending => 0,
        PaymentState::Credited => 1,
        PaymentState::Refused => 2,
    }
}

/// A [`PaymentState`]'s name (format 3's text; messages).
pub(super) fn payment_state_text(s: PaymentState) -> &'static str {
    match s {
        PaymentState::Pending => "pending",
        PaymentState::Credited => "credited",
        PaymentState::Refused => "refused",
    }
}

/// A stored [`PaymentState`].
pub(super) fn payment_state_from(code: i64) -> Result<PaymentState, Fail> {
    Ok(match code {
        0 => PaymentState::Pending,
        1 => PaymentState::Credited,
        2 => PaymentState::Refused,
        _ => return Err(Fail::corrupt(format!("unknown payment state code {code}"))),
    })
}

/// A [`SessionOutcome`] as stored: credited 0, pending 1, refused 2,
/// no-payment 3, aborted 4, interrupted 5.
pub(super) fn outcome_code(o: SessionOutcome) -> i64 {
    match o {
        SessionOutcome::Credited => 0,
        SessionOutcome::Pending => 1,
        SessionOutcome::Refused => 2,
        SessionOutcome::NoPayment => 3,
        SessionOutcome::Aborted => 4,
        SessionOutcome::Interrupted => 5,
    }
}

/// A value's serde name (`"counterfeit"`, …), for enums from other crates.
pub(super) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("unserialisable: {e}"),
    }
}

/// Money from its two columns.
pub(super) fn money(minor: i64, currency: String) -> Result<Money, Fail> {
    let currency = Currency::try_from(currency).map_err(Fail::corrupt)?;
    Ok(Money::new(minor, currency))
}

/// Optional money from two nullable columns (both set or both null).
pub(super) fn opt_money(
    minor: Option<i64>,
    currency: Option<String>,
) -> Result<Option<Money>, Fail> {
    match (minor, currency) {
        (Some(m), Some(c)) => money(m, c).map(Some),
        (None, None) => Ok(None),
        _ => Err(Fail::corrupt(
            "money stored with only one of amount and currency",
        )),
    }
}

/// The columns of optional money.
pub(super) fn money_cols(m: Option<Money>) -> (Option<i64>, Option<String>) {
    match m {
        Some(m) => (Some(m.minor), Some(m.currency.code().to_string())),
        None => (None, None),
    }
}

/// JSON for a money amount in event details.
pub(super) fn money_json(m: Money) -> serde_json::Value {
    serde_json::json!({ "minor": m.minor, "currency": m.currency.code() })
}
