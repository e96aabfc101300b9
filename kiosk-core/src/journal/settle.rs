//! Settling an in-doubt note, exactly once: from the device's own report, or
//! by two staff members at a dual-control clearing.

use kiosk_hal::{NoteFate, PaymentMethod};
use rusqlite::params;
use serde_json::json;

use super::chain::Writer;
use super::clearing::dual_control;
use super::codec::serde_name;
use super::events::{Event, EventKind};
use super::fail::Fail;
use super::notes::{self, expect_state};
use super::{payments, sessions, NoteId, NoteState, PendingPayment, Settlement};
use crate::ids::Millis;

/// Who settled a note.
#[derive(Debug, Clone, Copy)]
pub(super) enum SettledBy<'a> {
    /// The device reported the note's fate.
    Device,
    /// Two staff members found it (dual control), at a clearing.
    Staff(&'a [String; 2]),
}

/// In-doubt → settled (or still in doubt), with the credit in the same transaction.
pub(super) fn settle(
    conn: &Writer<'_>,
    note: NoteId,
    fate: NoteFate,
    by: SettledBy<'_>,
    at: Millis,
) -> Result<Settlement, Fail> {
    if let SettledBy::Staff(operators) = by {
        dual_control(operators, "settling an in-doubt note")?;
    }
    let row = notes::load(conn, note)?;
    expect_state(&row, NoteState::InDoubt)?;
    let mut payment = None;
    let settlement = match (fate, row.value) {
        (NoteFate::InCashBox, Some(value)) => {
            let session = sessions::load(conn, &row.session)?;
            let key = crate::machine::keys::settled_note(&row.session, NoteId(row.id));
            if payments::load(conn, &key)?.is_some() {
                return Err(Fail::illegal(format!(
                    "payment key {key} for note {} is taken",
                    row.id
                )));
            }
            let pending = PendingPayment {
                key,
                session: row.session.clone(),
                account: session.account,
                amount: value,
                method: PaymentMethod::Cash,
                created_at: at,
                attempts: 0,
            };
            let cause = match by {
                SettledBy::Device => "in-doubt note settled in the cash box",
                SettledBy::Staff(_) => "in-doubt note found in the cash box by staff",
            };
            let id = payments::insert(conn, &pending, Some(cause))?;
            payment = Some(id);
            notes::set_state(conn, row.id, NoteState::SettledInBox, Some(value), at)?;
            conn.prepare_cached("UPDATE notes SET payment = ?2 WHERE id = ?1")?
                .execute(params![row.id, id])?;
            Settlement::Credit(pending)
        }
        (NoteFate::InCashBox, None) => {
            notes::set_state(conn, row.id, NoteState::SettledInBox, None, at)?;
            Settlement::InBoxValueUnknown
        }
        (NoteFate::Returned, value) => {
            notes::set_state(conn, row.id, NoteState::SettledReturned, value, at)?;
            Settlement::Returned
        }
        (NoteFate::Unknown, _) => Settlement::StillInDoubt,
    };
    // The fate as the device (or staff) reported it: `unknown` leaves no
    // trace in the note's row.
    let (kind, detail) = match by {
        SettledBy::Device => (EventKind::NoteSettled, json!({ "fate": serde_name(&fate) })),
        SettledBy::Staff(operators) => (
            EventKind::NoteSettledByStaff,
            json!({ "fate": serde_name(&fate), "operators": operators }),
        ),
    };
    let mut event = Event::new(kind, at)
        .note(row.id)
        .amount(row.value.map(|v| v.minor))
        .detail(detail);
    event.payment = payment;
    event.append(conn)?;
    Ok(settlement)
}
