//! Every money event of the audit trail as CSV (RFC 4180, written by the
//! `csv` crate): one row per audit row, in the trail's order.
//!
//! What a row can hold is what the `audit` view and the payment it names
//! hold: ids, times, amounts, keys, and the JSON detail (a backend
//! reference, a refusal reason, who settled a note). A customer's payment
//! code is never among them: the journal does not store it (it goes to the
//! backend only; `tests/tests/payment_code_leaks.rs` greps the journal
//! file for one).

use std::io::Write;

use kiosk_core::journal::{JournalError, PaymentState, ReadOnlyJournal};
use kiosk_hal::PaymentMethod;

use crate::catalog::{Lang, Msg};
use crate::kind::Kind;
use crate::text::amount;
use crate::time::{self, UtcOffset};

/// The columns, in order.
pub const COLUMNS: [Msg; 13] = [
    Msg::ColId,
    Msg::ColTime,
    Msg::ColAtMs,
    Msg::ColKind,
    Msg::ColSession,
    Msg::ColNote,
    Msg::ColPaymentKey,
    Msg::ColNoteValue,
    Msg::ColCurrency,
    Msg::ColPaymentAmount,
    Msg::ColPaymentMethod,
    Msg::ColPaymentState,
    Msg::ColDetail,
];

/// Why an export failed.
#[derive(Debug)]
pub enum ExportError {
    /// Reading the journal.
    Journal(JournalError),
    /// Writing the CSV.
    Write(csv::Error),
}

/// Writes every money event row to `out`; returns how many rows (without the header).
pub fn write(
    journal: &ReadOnlyJournal,
    out: impl Write,
    lang: Lang,
    offset: UtcOffset,
) -> Result<u64, ExportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS.iter().map(|m| m.text(lang)))
        .map_err(ExportError::Write)?;
    let mut failed = None;
    let mut rows = 0u64;
    journal
        .for_each_audit_row(None, |r| {
            if failed.is_some() || !Kind::parse(&r.kind).is_money() {
                return;
            }
            let currency = r
                .note_value
                .map(|v| v.currency)
                .or(r.payment.as_ref().map(|p| p.amount.currency));
            let record = [
                r.id.to_string(),
                time::format(r.at, offset),
                r.at.0.to_string(),
                r.kind.clone(),
                r.session
                    .as_ref()
                    .map(|s| s.0.to_string())
                    .unwrap_or_default(),
                r.note.map(|n| n.0.to_string()).unwrap_or_default(),
                r.payment_key
                    .as_ref()
                    .map(|k| k.0.to_string())
                    .unwrap_or_default(),
                r.note_value.map(amount).unwrap_or_default(),
                currency.map(|c| c.code().to_string()).unwrap_or_default(),
                r.payment
                    .as_ref()
                    .map(|p| amount(p.amount))
                    .unwrap_or_default(),
                r.payment
                    .as_ref()
                    .map(|p| match p.method {
                        PaymentMethod::Cash => "cash",
                        PaymentMethod::Code => "code",
                    })
                    .unwrap_or_default()
                    .to_string(),
                r.payment
                    .as_ref()
                    .map(|p| match p.state {
                        PaymentState::Pending => "pending",
                        PaymentState::Credited => "credited",
                        PaymentState::Refused => "refused",
                    })
                    .unwrap_or_default()
                    .to_string(),
                r.detail.clone().unwrap_or_default(),
            ];
            match w.write_record(&record) {
                Ok(()) => rows += 1,
                Err(e) => failed = Some(e),
            }
        })
        .map_err(ExportError::Journal)?;
    if let Some(e) = failed {
        return Err(ExportError::Write(e));
    }
    w.flush().map_err(|e| ExportError::Write(e.into()))?;
    Ok(rows)
}
