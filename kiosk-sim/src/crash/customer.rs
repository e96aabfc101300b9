//! Seeded cash customers, one after another, at the real kiosk's screen and
//! at the physical note slot: enter an account, choose cash, insert one to
//! four notes (now and then a note the kiosk does not take, or a
//! counterfeit), then confirm, cancel, slip in a late note after
//! confirming, or walk away and let the insert idle timeout end it.
//!
//! The customer only reacts to what the kiosk shows; every wait is bounded,
//! so a kiosk that stops answering stalls nobody.

use std::time::Duration;

use kiosk_core::{CustomerAction, KioskEvent, Screen};
use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::acceptor::NoteSlot;
use super::backend::FROZEN_ACCOUNT;
use crate::rng::SimRng;

/// The accounts customers pay: two open, one the backend refuses.
const ACCOUNTS: [&str; 3] = ["1001", "1002", FROZEN_ACCOUNT];

/// A stream of customers at one kiosk.
pub struct Customers {
    /// Where customer actions go (the kiosk's customer channel).
    pub actions: mpsc::Sender<CustomerAction>,
    /// What the kiosk emits.
    pub events: mpsc::UnboundedReceiver<KioskEvent>,
    /// The note slot.
    pub slot: NoteSlot,
    /// The seeded choices.
    pub rng: SimRng,
    /// The kiosk's insert idle timeout (a customer who walks away waits it out).
    pub insert_idle_timeout_ms: u64,
}

/// What the customer waits for.
enum Seen {
    /// A screen the customer waited for.
    Screen,
    /// The session ended first.
    SessionEnded,
}

impl Customers {
    /// Plays customers until the kiosk closes its event stream.
    pub async fn play(mut self) {
        let mut last_screen: Option<Screen> = None;
        loop {
            let welcome = |s: &Screen| matches!(s, Screen::Welcome { methods } if methods.contains(&PaymentMethod::Cash));
            if !last_screen.as_ref().is_some_and(welcome)
                && !self.wait_screen(&mut last_screen, welcome, 3_000).await
            {
                if self.closed() {
                    return;
                }
                continue;
            }
            self.pause(20).await;
            let account = ACCOUNTS[self.rng.below(ACCOUNTS.len() as u64) as usize];
            let account = AccountNumber(account.into());
            if !self.act(CustomerAction::EnterAccount { account }).await {
                return;
            }
            if self.closed() {
                return;
            }
            let confirm = |s: &Screen| matches!(s, Screen::ConfirmAccount { .. });
            if !self.wait_screen(&mut last_screen, confirm, 1_000).await {
                continue;
            }
            if self.rng.chance(0.05) {
                self.act(CustomerAction::Cancel).await;
                self.wait_session_end(&mut last_screen, 1_000).await;
                continue;
            }
            let cash = CustomerAction::ChooseMethod {
                method: PaymentMethod::Cash,
            };
            if !self.act(cash).await {
                return;
            }
            let inserting = |s: &Screen| matches!(s, Screen::InsertNotes { .. });
            if !self.wait_screen(&mut last_screen, inserting, 1_000).await {
                continue;
            }
            let notes = 1 + self.rng.below(4);
            let mut ended = false;
            for _ in 0..notes {
                self.pause(30).await;
                self.insert_note();
                let counted = |s: &Screen| {
                    matches!(
                        s,
                        Screen::NoteAccepted { .. }
                            | Screen::NoteRejected { .. }
                            | Screen::InsertionStopped { .. }
                            | Screen::AskStaff { .. }
                    )
                };
                match self.wait(&mut last_screen, counted, 800).await {
                    Some(Seen::SessionEnded) => {
                        ended = true;
                        break;
                    }
                    Some(Seen::Screen) | None => {}
                }
            }
            if ended {
                continue;
            }
            match self.rng.below(100) {
                0..=59 => {
                    self.act(CustomerAction::Confirm).await;
                }
                60..=69 => {
                    self.act(CustomerAction::Cancel).await;
                }
                70..=79 => {
                    // A note slipped in just as the customer confirms.
                    self.act(CustomerAction::Confirm).await;
                    self.insert_note();
                }
                _ => {} // walks away: the idle timeout confirms
            }
            let patience = self.insert_idle_timeout_ms + 2_000;
            self.wait_session_end(&mut last_screen, patience).await;
        }
    }

    /// The kiosk stopped: it takes no more actions or sends no more events.
    fn closed(&self) -> bool {
        self.actions.is_closed() || self.events.is_closed()
    }

    /// Puts one note in the slot: mostly a note the kiosk takes, sometimes
    /// a 5-yuan note it does not, sometimes a counterfeit.
    fn insert_note(&mut self) {
        let accepted = [10, 20, 50, 100];
        let (value, counterfeit) = match self.rng.below(20) {
            0 => (5, false),
            1 => (100, true),
            _ => (accepted[self.rng.below(4) as usize], false),
        };
        let value = Money::major(value, Currency::CNY);
        if let Err(e) = self.slot.insert(value, counterfeit) {
            tracing::warn!(error = %e, "the slot did not take the note");
        }
    }

    async fn pause(&mut self, max_ms: u64) {
        let ms = self.rng.below(max_ms + 1);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Sends one action; `false` once the kiosk stopped listening.
    async fn act(&mut self, action: CustomerAction) -> bool {
        self.actions.send(action).await.is_ok()
    }

    async fn wait_session_end(&mut self, last: &mut Option<Screen>, ms: u64) {
        self.wait(last, |_| false, ms).await;
    }

    async fn wait_screen(
        &mut self,
        last: &mut Option<Screen>,
        want: impl Fn(&Screen) -> bool,
        ms: u64,
    ) -> bool {
        matches!(self.wait(last, want, ms).await, Some(Seen::Screen))
    }

    /// Waits up to `ms` for a screen `want` accepts or the end of the
    /// session, whichever comes first; `None` on timeout.
    async fn wait(
        &mut self,
        last: &mut Option<Screen>,
        want: impl Fn(&Screen) -> bool,
        ms: u64,
    ) -> Option<Seen> {
        let until = Instant::now() + Duration::from_millis(ms);
        loop {
            let event = tokio::time::timeout_at(until, self.events.recv()).await;
            match event {
                Err(_) | Ok(None) => return None,
                Ok(Some(KioskEvent::Screen { screen })) => {
                    *last = Some(screen.clone());
                    if want(&screen) {
                        return Some(Seen::Screen);
                    }
                }
                Ok(Some(KioskEvent::SessionEnded { .. })) => return Some(Seen::SessionEnded),
                Ok(Some(_)) => {}
            }
        }
    }
}
