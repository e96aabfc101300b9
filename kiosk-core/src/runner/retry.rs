//! Retrying pending payments: same key, bounded backoff, until the backend answers.

use kiosk_hal::{PaymentPosting, PostingAnswer};

use super::{with_timeout, Kiosk, KioskError, RetryState};
use crate::events::{DeviceKind, KioskEvent};
use crate::ids::Millis;

impl Kiosk {
    /// Adds journaled pending payments that are not yet scheduled.
    pub(super) fn schedule_pending(&mut self, now: Millis) -> Result<(), KioskError> {
        for pending in self.journal.pending_payments()? {
            if !self.retries.contains_key(&pending.key) {
                let next_at = now.plus_ms(self.config.retry_initial_ms);
                self.retries.insert(
                    pending.key.clone(),
                    RetryState {
                        pending,
                        next_at,
                        backoff_ms: self.config.retry_initial_ms,
                    },
                );
            }
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
        let due: Vec<_> = self
            .retries
            .iter()
            .filter(|(_, r)| r.next_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(state) = self.retries.get(&key).cloned() else {
                continue;
            };
            let p = &state.pending;
            let now = self.clock.now();
            let attempt = self.journal.posting_attempted(&key, now)?;
            self.emit(KioskEvent::PostingAttempt {
                key: key.clone(),
                attempt,
            });
            // A payment code is a single-use token and is never stored: a
            // retry asks the backend to settle the key as it stands.
            let posting = PaymentPosting {
                key: key.clone(),
                account: p.account.clone(),
                amount: p.amount,
                method: p.method,
                code: None,
            };
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
                    self.retries.remove(&key);
                    tracing::info!(%key, attempt, "pending payment credited");
                    self.emit(KioskEvent::PaymentCredited {
                        key,
                        amount: posting.amount,
                    });
                }
                Ok(PostingAnswer::Refused { reason }) => {
                    self.fault_cleared(DeviceKind::Link);
                    self.journal.payment_refused(&key, &reason, now)?;
                    self.retries.remove(&key);
                    self.emit(KioskEvent::PaymentRefused { key, reason });
                }
                Err(kind) => {
                    self.fault_detected(DeviceKind::Link, kind);
                    let backoff_ms = (state.backoff_ms * 2).min(self.config.retry_max_ms);
                    let next_at = now.plus_ms(backoff_ms);
                    if let Some(r) = self.retries.get_mut(&key) {
                        r.backoff_ms = backoff_ms;
                        r.next_at = next_at;
                    }
                    self.emit(KioskEvent::PaymentRetryScheduled { key, at: next_at });
                }
            }
        }
        Ok(())
    }
}
