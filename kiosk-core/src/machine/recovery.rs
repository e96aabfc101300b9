//! What the journal's open state means after a crash or power loss.
//!
//! Pure: the executor reads the open sessions from the journal and performs
//! the steps this returns, in order; each step is one journal call, so a
//! crash in the middle of recovery leaves a state the next recovery plans
//! from again (every step is idempotent on the journal's side: a note
//! leaves `escrowed` once, a pending payment with an existing key is
//! returned unchanged, an ended session stays ended).
//!
//! Nothing half-done is trusted:
//! - a note that was in escrow becomes in doubt, and is the note in the
//!   acceptor's path (its next report describes it);
//! - stacked notes not yet part of a payment become a pending payment under
//!   the key [`keys::recovered_payment`] gives, so recovering twice never
//!   makes two payments;
//! - the session ends as interrupted.

use kiosk_hal::{IdempotencyKey, Money};

use super::keys;
use crate::ids::SessionId;
use crate::journal::{NoteId, OpenSession};

/// One journal step of recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryStep {
    /// The escrowed note's fate is unknown: journal it in doubt.
    NoteInDoubt {
        /// Its session.
        session: SessionId,
        /// The escrowed note.
        note: NoteId,
        /// Its value.
        value: Money,
    },
    /// Stacked notes with no payment: journal one, pending.
    PaymentPending {
        /// Its session.
        session: SessionId,
        /// Its key.
        key: IdempotencyKey,
        /// The stacked total.
        amount: Money,
    },
    /// Close the session as interrupted.
    EndInterrupted {
        /// The session.
        session: SessionId,
    },
}

/// The steps that close every open session, in order.
pub fn plan(open: &[OpenSession]) -> Vec<RecoveryStep> {
    let mut steps = Vec::new();
    for session in open {
        for (note, value) in &session.escrowed {
            steps.push(RecoveryStep::NoteInDoubt {
                session: session.id.clone(),
                note: *note,
                value: *value,
            });
        }
        if let Some(amount) = session.unposted_stacked {
            steps.push(RecoveryStep::PaymentPending {
                session: session.id.clone(),
                key: keys::recovered_payment(&session.id, session.has_payment),
                amount,
            });
        }
        steps.push(RecoveryStep::EndInterrupted {
            session: session.id.clone(),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{AccountNumber, Currency, PaymentMethod};

    fn open(id: &str, escrowed: &[i64], stacked: Option<i64>, has_payment: bool) -> OpenSession {
        OpenSession {
            id: SessionId(id.into()),
            account: AccountNumber("1001".into()),
            method: PaymentMethod::Cash,
            escrowed: escrowed
                .iter()
                .map(|n| (NoteId(*n), Money::major(10, Currency::CNY)))
                .collect(),
            unposted_stacked: stacked.map(|v| Money::major(v, Currency::CNY)),
            has_payment,
        }
    }

    #[test]
    fn every_open_session_ends_and_its_money_is_kept() {
        let steps = plan(&[
            open("S1", &[3], Some(70), false),
            open("S2", &[], None, true),
        ]);
        assert_eq!(steps.len(), 4);
        assert!(matches!(&steps[0], RecoveryStep::NoteInDoubt { note, .. } if *note == NoteId(3)));
        assert!(
            matches!(&steps[1], RecoveryStep::PaymentPending { key, amount, .. }
                if &*key.0 == "S1-p1" && amount.minor == 7000)
        );
        assert!(
            matches!(&steps[2], RecoveryStep::EndInterrupted { session } if &*session.0 == "S1")
        );
        assert!(
            matches!(&steps[3], RecoveryStep::EndInterrupted { session } if &*session.0 == "S2")
        );
    }

    #[test]
    fn a_session_that_had_journaled_its_payment_gets_a_second_key() {
        let steps = plan(&[open("S1", &[], Some(10), true)]);
        assert!(
            matches!(&steps[0], RecoveryStep::PaymentPending { key, .. } if &*key.0 == "S1-r1")
        );
    }
}
