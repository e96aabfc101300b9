//! Idempotency keys: the one place that builds them.
//!
//! A key names one payment for its whole life: the first posting, every
//! retry, a retry after a restart and a retry on the backup link all carry
//! it unchanged, so the backend applies the payment at most once. Building
//! keys in one place means a change of scheme cannot leave two callers
//! disagreeing about what a payment is called.
//!
//! | payment | key |
//! |---|---|
//! | a session's own payment (cash total or code charge) | `{session}-p1` |
//! | stacked notes of a session cut short by a restart, when the session had already journaled its own payment | `{session}-r1` |
//! | an in-doubt note later found in the cash box | `{session}-n{note}` |

use kiosk_hal::IdempotencyKey;

use crate::ids::SessionId;
use crate::journal::NoteId;

/// The key of a session's own payment.
pub fn session_payment(session: &SessionId) -> IdempotencyKey {
    // Joined, not `format!`ed: one per customer, and the formatting
    // machinery cost more than building the rest of the key.
    IdempotencyKey([&*session.0, "-p1"].concat().into())
}

/// The key of the payment that recovery journals for stacked notes of an
/// interrupted session. It is the session's own key unless the session
/// already journaled a payment under that one.
pub fn recovered_payment(session: &SessionId, session_had_payment: bool) -> IdempotencyKey {
    if session_had_payment {
        IdempotencyKey(format!("{session}-r1").into())
    } else {
        session_payment(session)
    }
}

/// The key of the payment that credits an in-doubt note found in the box.
pub fn settled_note(session: &SessionId, note: NoteId) -> IdempotencyKey {
    IdempotencyKey(format!("{session}-n{}", note.0).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_session_never_collide() {
        let s = SessionId("K01-000007".into());
        let keys = [
            session_payment(&s),
            recovered_payment(&s, true),
            settled_note(&s, NoteId(1)),
            settled_note(&s, NoteId(11)),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(recovered_payment(&s, false), session_payment(&s));
        assert_eq!(&*session_payment(&s).0, "K01-000007-p1");
    }
}
