//! Performing retries of pending payments. What to post, when, and with
//! which key is the [`RetrySchedule`](crate::machine::RetrySchedule)'s to
//! decide; this only posts and reports back.

use kiosk_hal::PostingAnswer;

use super::{with_timeout, Kiosk, KioskError};
use crate::events::{DeviceKind, KioskEvent};
use crate::ids::Millis;

impl Kiosk {
    /// Adds journaled pending payments that are not yet scheduled.
    pub(super) fn schedule_pending(&mut self, now: Millis) -> Result<(), KioskError> {
        for pending in self.journal.pending_payments()? {
            self.retries.track(pending, now);
        }
        Ok(())
    }

    /// Number of payments waiting for a retry.
    pub fn pending_retries(&self) -> usize {
        self.retries.len()
    }

    /// Posts every pending payment whose retry time has come.
    ///
    /// The posting reuses the payment's key, so a payment the backend had
    /// applied (its answer lost) is answered again without a second credit.
    pub(super) async fn retry_due(&mut self) -> Result<(), KioskError> {
        let now = self.clock.now();
        for key in self.retries.due(now) {
            let Some(posting) = self.retries.posting(&key) else {
                continue;
            };
            let now = self.clock.now();
            let attempt = self.journal.posting_attempted(&key, now)?;
            self.emit(KioskEvent::PostingAttempt {
                key: key.clone(),
                attempt,
            });
            let started = self.clock.now();
            let answer = with_timeout(
                self.config.post_timeout_ms,
                self.devices.link.post_payment(&posting),
            )
            .await;
            let now = self.clock.now();
            self.note_link_latency(
                answer.as_ref().map(|_| ()).map_err(|k| *k),
                now.since(started),
            )?;
            match answer {
                Ok(PostingAnswer::Credited {
                    backend_ref,
                    new_balance,
                }) => {
                    self.fault_cleared(DeviceKind::Link);
                    self.journal
                        .payment_credited(&key, &backend_ref, new_balance, now)?;
                    self.retries.answered(&key);
                    tracing::info!(%key, attempt, "pending payment credited");
                    self.emit(KioskEvent::PaymentCredited {
                        key,
                        amount: posting.amount,
                    });
                }
                Ok(PostingAnswer::Refused { reason }) => {
                    self.fault_cleared(DeviceKind::Link);
                    self.journal.payment_refused(&key, &reason, now)?;
                    self.retries.answered(&key);
                    self.emit(KioskEvent::PaymentRefused { key, reason });
                }
                Err(kind) => {
                    self.fault_detected(DeviceKind::Link, kind);
                    if let Some(at) = self.retries.unanswered(&key, now) {
                        self.emit(KioskEvent::PaymentRetryScheduled { key, at });
                    }
                }
            }
        }
        Ok(())
    }
}
