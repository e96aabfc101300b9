//! What the customer's screen shows, kept from the kiosk's events.
//!
//! Pure bookkeeping over [`KioskEvent`]s and the time they arrived: the
//! kiosk's latest screen, the countdown that runs on it, the device faults
//! the customer must be told about, and the **hold**: the kiosk shows its
//! welcome screen the moment a session ends, so the outcome (amount paid,
//! new balance, reference) would flash by unread. An idle screen that
//! follows a session's screen is therefore held back for
//! [`ScreenConfig::outcome_hold_ms`] or until the customer presses Done.

use std::collections::BTreeMap;
use std::time::Duration;

use kiosk_core::{DeviceKind, KioskEvent, Screen, SessionConfig, SessionId};
use kiosk_hal::{ErrorKind, Money};
use tokio::time::Instant;

/// Timings of the screen; the first three must match the kiosk's
/// [`SessionConfig`] so the countdowns tell the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenConfig {
    /// Insertion ends this long after the last note (the kiosk's
    /// `insert-idle-timeout-ms`).
    pub insert_idle_timeout_ms: u64,
    /// The account screen returns to welcome after this long.
    pub confirm_timeout_ms: u64,
    /// The code screen returns to welcome after this long.
    pub code_timeout_ms: u64,
    /// How long an outcome stays on screen after the session ended
    /// (default 15 000 ms), unless the customer presses Done.
    pub outcome_hold_ms: u64,
}

impl ScreenConfig {
    /// Countdowns from the kiosk's session settings, the default hold.
    pub fn from_session(session: &SessionConfig) -> ScreenConfig {
        ScreenConfig {
            insert_idle_timeout_ms: session.insert_idle_timeout_ms,
            confirm_timeout_ms: session.confirm_timeout_ms,
            code_timeout_ms: session.code_timeout_ms,
            outcome_hold_ms: 15_000,
        }
    }
}

impl Default for ScreenConfig {
    fn default() -> Self {
        ScreenConfig::from_session(&SessionConfig::default())
    }
}

/// A payment the backend credited, remembered so that a following
/// "receipt unavailable" screen can still show the amount and balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credited {
    /// The transaction reference.
    pub reference: SessionId,
    /// Amount paid.
    pub amount: Money,
    /// New balance.
    pub new_balance: Money,
}

/// The screen's state. See the module docs.
#[derive(Debug, Clone)]
pub struct ScreenState {
    config: ScreenConfig,
    /// The kiosk's latest screen (`None` until the kiosk shows one).
    current: Option<Screen>,
    /// A session's last screen, shown until the instant while `current`
    /// is the idle screen behind it.
    held: Option<(Screen, Instant)>,
    /// When the countdown on `current` runs out, if one runs.
    deadline: Option<Instant>,
    faults: BTreeMap<DeviceKind, ErrorKind>,
    credited: Option<Credited>,
    /// Bumped on every change, so a page can tell views apart.
    version: u64,
}

/// What is on screen at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    /// The screen.
    pub screen: Option<&'a Screen>,
    /// It is a finished session's screen, held: only Done applies.
    pub held: bool,
    /// When its countdown runs out (the hold's end, for a held screen).
    pub deadline: Option<Instant>,
    /// Devices at fault now.
    pub faults: &'a BTreeMap<DeviceKind, ErrorKind>,
    /// The last credited payment.
    pub credited: Option<&'a Credited>,
    /// The state's version.
    pub version: u64,
}

/// Whether `screen` is what an idle kiosk shows (no session).
pub fn is_idle(screen: &Screen) -> bool {
    matches!(screen, Screen::Welcome { .. } | Screen::OutOfService { .. })
}

impl ScreenState {
    /// Nothing shown yet.
    pub fn new(config: ScreenConfig) -> ScreenState {
        ScreenState {
            config,
            current: None,
            held: None,
            deadline: None,
            faults: BTreeMap::new(),
            credited: None,
            version: 0,
        }
    }

    /// Takes in one kiosk event that arrived at `now`. Returns whether the
    /// screen may look different (only then need pages hear of it).
    pub fn apply(&mut self, event: &KioskEvent, now: Instant) -> bool {
        let changed = match event {
            KioskEvent::Screen { screen } => {
                self.show(screen.clone(), now);
                true
            }
            KioskEvent::FaultDetected { device, kind } => {
                self.faults.insert(*device, *kind) != Some(*kind)
            }
            KioskEvent::FaultCleared { device } => self.faults.remove(device).is_some(),
            _ => false,
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    fn show(&mut self, screen: Screen, now: Instant) {
        let ms = |ms: u64| Some(now + Duration::from_millis(ms));
        if let Screen::PaymentSuccess {
            amount,
            new_balance,
            reference,
        } = &screen
        {
            self.credited = Some(Credited {
                reference: reference.clone(),
                amount: *amount,
                new_balance: *new_balance,
            });
        }
        let previous = self.current.take();
        self.deadline = match &screen {
            Screen::ConfirmAccount { .. } => ms(self.config.confirm_timeout_ms),
            Screen::InsertNotes { .. }
            | Screen::NoteAccepted { .. }
            | Screen::NoteRejected { .. } => ms(self.config.insert_idle_timeout_ms),
            Screen::PresentCode { .. } => ms(self.config.code_timeout_ms),
            // The session's timer keeps running behind these.
            Screen::CodeUnreadable | Screen::MethodUnavailable { .. } => self.deadline,
            _ => None,
        };
        if is_idle(&screen) {
            if let Some(prev) = previous.filter(|p| !is_idle(p)) {
                self.held = Some((
                    prev,
                    now + Duration::from_millis(self.config.outcome_hold_ms),
                ));
            }
        } else {
            // A new session (or a screen of the same one) replaces any hold.
            self.held = None;
        }
        self.current = Some(screen);
    }

    /// The customer pressed Done on a held screen: show the idle screen now.
    pub fn dismiss(&mut self) -> bool {
        let had = self.held.take().is_some();
        if had {
            self.version += 1;
        }
        had
    }

    /// What is on screen at `now`.
    pub fn shown(&self, now: Instant) -> Shown<'_> {
        let held = self.held.as_ref().filter(|(_, until)| now < *until);
        Shown {
            screen: held.map(|(s, _)| s).or(self.current.as_ref()),
            held: held.is_some(),
            deadline: held.map(|(_, until)| *until).or(self.deadline),
            faults: &self.faults,
            credited: self.credited.as_ref(),
            version: self.version,
        }
    }

    /// When what is shown changes by itself (a hold ends), if it will.
    pub fn next_change(&self, now: Instant) -> Option<Instant> {
        self.held
            .as_ref()
            .map(|(_, until)| *until)
            .filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{Currency, PaymentMethod};

    fn screen(s: Screen) -> KioskEvent {
        KioskEvent::Screen { screen: s }
    }

    fn welcome() -> Screen {
        Screen::Welcome {
            methods: vec![PaymentMethod::Cash],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_outcome_is_held_over_the_welcome_screen_until_done_or_the_hold_ends() {
        let mut s = ScreenState::new(ScreenConfig::default());
        let t0 = Instant::now();
        s.apply(&screen(welcome()), t0);
        assert!(!s.shown(t0).held);
        let success = Screen::PaymentSuccess {
            amount: Money::major(70, Currency::CNY),
            new_balance: Money::major(-50, Currency::CNY),
            reference: SessionId("K01-000001".into()),
        };
        s.apply(&screen(success.clone()), t0);
        s.apply(&screen(welcome()), t0);
        let shown = s.shown(t0);
        assert_eq!(shown.screen, Some(&success));
        assert!(shown.held);
        assert_eq!(shown.deadline, Some(t0 + Duration::from_secs(15)));
        assert_eq!(s.next_change(t0), Some(t0 + Duration::from_secs(15)));
        let later = t0 + Duration::from_secs(15);
        assert_eq!(s.shown(later).screen, Some(&welcome()));
        assert_eq!(s.next_change(later), None);
        // Done ends the hold at once.
        s.apply(&screen(success.clone()), t0);
        s.apply(&screen(welcome()), t0);
        assert!(s.dismiss());
        assert_eq!(s.shown(t0).screen, Some(&welcome()));
        assert!(!s.dismiss(), "nothing held any more");
        assert_eq!(
            s.shown(t0).credited.unwrap().amount,
            Money::major(70, Currency::CNY)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn countdowns_follow_the_session_timers_and_faults_are_kept() {
        let mut s = ScreenState::new(ScreenConfig::default());
        let t0 = Instant::now();
        let cny = |v| Money::major(v, Currency::CNY);
        s.apply(
            &screen(Screen::InsertNotes {
                accepted: vec![cny(50)],
                total: cny(0),
            }),
            t0,
        );
        assert_eq!(s.shown(t0).deadline, Some(t0 + Duration::from_secs(30)));
        let t1 = t0 + Duration::from_secs(10);
        s.apply(
            &screen(Screen::NoteAccepted {
                value: cny(50),
                total: cny(50),
            }),
            t1,
        );
        assert_eq!(s.shown(t1).deadline, Some(t1 + Duration::from_secs(30)));
        s.apply(&screen(Screen::Processing { amount: cny(50) }), t1);
        assert_eq!(s.shown(t1).deadline, None);
        s.apply(&screen(Screen::PresentCode { amount: cny(50) }), t0);
        s.apply(&screen(Screen::CodeUnreadable), t1);
        assert_eq!(
            s.shown(t1).deadline,
            Some(t0 + Duration::from_secs(60)),
            "the code timer runs on"
        );
        let v = s.shown(t1).version;
        let fault = KioskEvent::FaultDetected {
            device: DeviceKind::Printer,
            kind: ErrorKind::PaperOut,
        };
        assert!(s.apply(&fault, t1));
        assert!(!s.apply(&fault, t1), "not news");
        assert_eq!(
            s.shown(t1).faults.get(&DeviceKind::Printer),
            Some(&ErrorKind::PaperOut)
        );
        assert!(s.shown(t1).version > v);
        assert!(s.apply(
            &KioskEvent::FaultCleared {
                device: DeviceKind::Printer
            },
            t1
        ));
        assert!(s.shown(t1).faults.is_empty());
    }
}
