//! How records are spelled in the SQLite file: enum names as kebab-case text,
//! money as `(minor INTEGER, currency TEXT)`.
//!
//! The texts are part of the file format (since schema version 1): changing one
//! needs a schema version bump.

use kiosk_hal::{Currency, Money, PaymentMethod};

use super::fail::Fail;
use super::{NoteState, PaymentState, SessionOutcome};

/// A [`PaymentMethod`] as stored.
pub(super) fn method_text(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "cash",
        PaymentMethod::Code => "code",
    }
}

/// A stored [`PaymentMethod`].
pub(super) fn method_from(s: &str) -> Result<PaymentMethod, Fail> {
    match s {
        "cash" => Ok(PaymentMethod::Cash),
        "code" => Ok(PaymentMethod::Code),
        _ => Err(Fail::corrupt(format!("unknown payment method {s:?}"))),
    }
}

/// A [`NoteState`] as stored.
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
pub(super) fn note_state_from(s: &str) -> Result<NoteState, Fail> {
    Ok(match s {
        "escrowed" => NoteState::Escrowed,
        "stacked" => NoteState::Stacked,
        "returned" => NoteState::Returned,
        "in-doubt" => NoteState::InDoubt,
        "settled-in-box" => NoteState::SettledInBox,
        "settled-returned" => NoteState::SettledReturned,
        _ => return Err(Fail::corrupt(format!("unknown note state {s:?}"))),
    })
}

/// A [`PaymentState`] as stored.
pub(super) fn payment_state_text(s: PaymentState) -> &'static str {
    match s {
        PaymentState::Pending => "pending",
        PaymentState::Credited => "credited",
        PaymentState::Refused => "refused",
    }
}

/// A stored [`PaymentState`].
pub(super) fn payment_state_from(s: &str) -> Result<PaymentState, Fail> {
    Ok(match s {
        "pending" => PaymentState::Pending,
        "credited" => PaymentState::Credited,
        "refused" => PaymentState::Refused,
        _ => return Err(Fail::corrupt(format!("unknown payment state {s:?}"))),
    })
}

/// A [`SessionOutcome`] as stored.
pub(super) fn outcome_text(o: SessionOutcome) -> &'static str {
    match o {
        SessionOutcome::Credited => "credited",
        SessionOutcome::Pending => "pending",
        SessionOutcome::Refused => "refused",
        SessionOutcome::NoPayment => "no-payment",
        SessionOutcome::Aborted => "aborted",
        SessionOutcome::Interrupted => "interrupted",
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
