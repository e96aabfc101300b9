//! The simulated customer: follows a script, reacting to what the screen shows.

use std::time::Duration;

use kiosk_core::{CustomerAction, Screen};
use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};
use tokio::sync::mpsc;

use super::scenario::{CustomerScript, Finish};
use crate::clock::SimClock;
use crate::devices::{CodeWindow, CustomerSlot};

/// Longest a customer waits for the screen to change before walking away.
const PATIENCE_MS: u64 = 120_000;

/// What a customer can reach: the screen, the buttons, the note slot, the reader.
pub(crate) struct Counter {
    pub clock: SimClock,
    pub buttons: mpsc::Sender<CustomerAction>,
    pub screens: mpsc::UnboundedReceiver<Screen>,
    pub slot: CustomerSlot,
    pub window: Option<CodeWindow>,
    pub currency: Currency,
}

impl Counter {
    /// Waits for a screen that `pred` accepts; `None` after [`PATIENCE_MS`].
    async fn wait_for(&mut self, pred: impl Fn(&Screen) -> bool) -> Option<Screen> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(PATIENCE_MS);
        loop {
            match tokio::time::timeout_at(deadline, self.screens.recv()).await {
                Ok(Some(screen)) if pred(&screen) => return Some(screen),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return None,
            }
        }
    }

    async fn think(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    async fn press(&self, action: CustomerAction) {
        // The kiosk stops listening only when the drill ends.
        let _ = self.buttons.send(action).await;
    }

    /// Plays one customer's script to the end of their session.
    pub async fn serve(&mut self, script: &CustomerScript) {
        self.clock
            .sleep_until(kiosk_core::Millis(script.arrive_ms))
            .await;
        // Wait for the kiosk to be free (the welcome screen is the last
        // thing shown after a session).
        while let Ok(screen) = self.screens.try_recv() {
            let _ = screen;
        }
        self.press(CustomerAction::EnterAccount {
            account: AccountNumber(script.account.clone().into()),
        })
        .await;
        let confirm = self
            .wait_for(|s| {
                matches!(
                    s,
                    Screen::ConfirmAccount { .. }
                        | Screen::AccountRefused { .. }
                        | Screen::CannotCheckAccount { .. }
                        | Screen::OutOfService { .. }
                )
            })
            .await;
        if !matches!(confirm, Some(Screen::ConfirmAccount { .. })) {
            return; // told to go elsewhere
        }
        self.think(script.think_ms).await;
        self.press(CustomerAction::ChooseMethod {
            method: script.method,
        })
        .await;
        let ready = self
            .wait_for(|s| {
                matches!(
                    s,
                    Screen::InsertNotes { .. }
                        | Screen::PresentCode { .. }
                        | Screen::MethodUnavailable { .. }
                        | Screen::NothingPaid
                )
            })
            .await;
        match (script.method, ready) {
            (PaymentMethod::Cash, Some(Screen::InsertNotes { .. })) => self.pay_cash(script).await,
            (PaymentMethod::Code, Some(Screen::PresentCode { .. })) => {
                self.think(script.think_ms).await;
                if let (Some(window), Some(code)) = (&self.window, &script.code) {
                    window.present_code(code);
                }
            }
            _ => return,
        }
        // Stay until the session is over: the kiosk shows its welcome (or
        // out-of-service) screen again.
        self.wait_for(|s| matches!(s, Screen::Welcome { .. } | Screen::OutOfService { .. }))
            .await;
    }

    async fn pay_cash(&mut self, script: &CustomerScript) {
        for note in &script.notes {
            let (value, genuine) = note.parts();
            let value = Money::major(value, self.currency);
            self.think(script.think_ms).await;
            let mut tries = 0;
            while self.slot.insert_note(value, genuine).is_err() && tries < 10 {
                tries += 1;
                self.think(500).await;
            }
            let verdict = self
                .wait_for(|s| {
                    matches!(
                        s,
                        Screen::NoteAccepted { .. }
                            | Screen::NoteRejected { .. }
                            | Screen::InsertionStopped { .. }
                            | Screen::AskStaff { .. }
                            | Screen::Processing { .. }
                            | Screen::NothingPaid
                    )
                })
                .await;
            match verdict {
                Some(Screen::NoteAccepted { .. } | Screen::NoteRejected { .. }) => {}
                _ => return, // insertion is over
            }
        }
        self.think(script.think_ms).await;
        match script.finish {
            Finish::Confirm => self.press(CustomerAction::Confirm).await,
            Finish::Cancel => self.press(CustomerAction::Cancel).await,
            Finish::IdleTimeout => {}
        }
    }
}
