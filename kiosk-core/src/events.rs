//! What a running kiosk reports: screens, faults, money outcomes.
//!
//! An integrator's UI and monitoring subscribe through [`KioskObserver`];
//! drills record every event with its time and hash the trace.

use std::fmt;

use kiosk_hal::{AcceptorEvent, ErrorKind, IdempotencyKey, Money};
use serde::{Deserialize, Serialize};

use crate::ids::{Millis, SessionId};
use crate::journal::{NoteId, SessionOutcome};
use crate::screen::Screen;
use crate::session::SessionAlert;
use crate::tickets::TicketKind;

/// A device of the kiosk, for fault reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// The bill acceptor.
    Acceptor,
    /// The cash box.
    CashBox,
    /// The receipt printer.
    Printer,
    /// The card / QR reader.
    Reader,
    /// The link to the backend.
    Link,
    /// The kiosk as a whole (its transaction failure rate).
    Kiosk,
}

/// How a settled in-doubt note ended, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettlementKind {
    /// In the box: a payment credits it.
    Credit,
    /// Back with the customer.
    Returned,
    /// Still unknown: staff settle it at clearing.
    StillInDoubt,
    /// In the box, value unknown: staff settle it at clearing.
    InBoxValueUnknown,
}

/// Something a kiosk did or noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum KioskEvent {
    /// The kiosk started and recovered its journal.
    Recovered {
        /// Sessions that were open when it stopped (now closed as interrupted).
        interrupted_sessions: u32,
        /// Payments pending after recovery.
        pending_payments: u32,
        /// Notes in doubt after recovery.
        in_doubt_notes: u32,
    },
    /// A screen was shown.
    Screen {
        /// The screen.
        screen: Screen,
    },
    /// The acceptor reported something.
    Acceptor {
        /// What.
        acceptor: AcceptorEvent,
    },
    /// A device fault was detected.
    FaultDetected {
        /// Which device.
        device: DeviceKind,
        /// What kind.
        kind: ErrorKind,
    },
    /// A device is healthy again.
    FaultCleared {
        /// Which device.
        device: DeviceKind,
    },
    /// A device still works but needs attention soon (paper running low,
    /// the cash box nearly full).
    WarningRaised {
        /// Which device.
        device: DeviceKind,
        /// What needs attention.
        warning: DeviceWarning,
    },
    /// The device's warning has gone (paper replenished, box emptied).
    WarningCleared {
        /// Which device.
        device: DeviceKind,
    },
    /// An alert for operations.
    Alert {
        /// The session it arose in.
        session: SessionId,
        /// What.
        alert: SessionAlert,
    },
    /// A session started.
    SessionStarted {
        /// Its id.
        session: SessionId,
    },
    /// A session ended.
    SessionEnded {
        /// Its id.
        session: SessionId,
        /// How.
        outcome: SessionOutcome,
    },
    /// A payment was posted (first try or retry).
    PostingAttempt {
        /// Its key.
        key: IdempotencyKey,
        /// 1 for the first try.
        attempt: u32,
    },
    /// The backend credited a payment (recorded in the journal).
    PaymentCredited {
        /// Its key.
        key: IdempotencyKey,
        /// The amount.
        amount: Money,
    },
    /// The backend refused a payment.
    PaymentRefused {
        /// Its key.
        key: IdempotencyKey,
        /// Why.
        reason: String,
    },
    /// A payment stays pending; the next try is scheduled.
    PaymentRetryScheduled {
        /// Its key.
        key: IdempotencyKey,
        /// When.
        at: Millis,
    },
    /// A note went in doubt.
    NoteInDoubt {
        /// Its journal id.
        note: NoteId,
    },
    /// An in-doubt note was settled by the device's own report.
    InDoubtSettled {
        /// Its journal id.
        note: NoteId,
        /// How.
        settlement: SettlementKind,
    },
    /// A staff or remote command was performed.
    CommandDone {
        /// Which (`"restart"`, `"self-test"`, …).
        command: String,
        /// Whether it succeeded.
        ok: bool,
        /// What happened.
        detail: String,
    },
    /// A self-test ran.
    SelfTest {
        /// Its report.
        report: crate::commands::SelfTestReport,
    },
    /// A fault ticket was opened (or a resolved one reopened).
    TicketOpened {
        /// Its id.
        ticket: crate::tickets::TicketId,
        /// The device.
        device: DeviceKind,
        /// What it is about (`paper-out`, `link-slow`, …).
        kind: TicketKind,
        /// How urgent.
        severity: crate::tickets::Severity,
    },
    /// A ticket was escalated: dispatched on site.
    TicketEscalated {
        /// Its id.
        ticket: crate::tickets::TicketId,
        /// The device.
        device: DeviceKind,
        /// What it is about.
        kind: TicketKind,
    },
    /// A ticket was resolved.
    TicketResolved {
        /// Its id.
        ticket: crate::tickets::TicketId,
        /// The device.
        device: DeviceKind,
        /// What it is about.
        kind: TicketKind,
        /// How long it was open.
        open_ms: u64,
    },
    /// Too many payments are failing on this kiosk.
    FrequentFailures {
        /// Failure rate over the window, percent.
        rate_pct: u32,
        /// Payments in the window.
        samples: u32,
        /// The failures by kind.
        pattern: String,
    },
    /// The backend answers slowly, sustained.
    LinkSlow {
        /// Median answer time.
        p50_ms: u64,
    },
    /// The link switched between primary and backup.
    LinkSwitched {
        /// The link now in use (`"backup"`, `"primary"`).
        to: String,
        /// Why.
        reason: String,
    },
    /// A supervised driver failed (panicked or hung) or was restarted.
    DriverRestarted {
        /// The device.
        device: DeviceKind,
        /// What happened.
        reason: String,
    },
    /// A security alarm: fraud, or the cash box taken out outside a clearing.
    SecurityAlarm {
        /// What happened.
        reason: String,
    },
    /// A clearing was closed and checked against the journal.
    ClearingReport {
        /// The clearing (boxed: every event is as large as its largest
        /// variant, and this one is rare).
        record: Box<crate::journal::ClearingRecord>,
    },
    /// Staff reported physical damage.
    DamageReported {
        /// Who.
        reporter: String,
        /// What.
        description: String,
    },
    /// A kept receipt was printed after all.
    ReceiptReprinted {
        /// Its session.
        session: SessionId,
    },
    /// A receipt could not be printed and is kept for reprint.
    ReceiptKept {
        /// Its session.
        session: SessionId,
    },
}

/// A condition that needs attention soon but stops nothing: not an
/// [`ErrorKind`], because a device with a warning still does its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceWarning {
    /// The paper roll is nearly used up: printing still works, replenish soon.
    PaperLow,
    /// The cash box is nearly full: it still takes notes, schedule a clearing.
    NearFull,
}

impl DeviceWarning {
    /// A short, stable, lower-case name (`"paper-low"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceWarning::PaperLow => "paper-low",
            DeviceWarning::NearFull => "near-full",
        }
    }

    /// The warning named `name` (the inverse of [`DeviceWarning::as_str`]).
    pub fn from_name(name: &str) -> Option<DeviceWarning> {
        [DeviceWarning::PaperLow, DeviceWarning::NearFull]
            .into_iter()
            .find(|w| w.as_str() == name)
    }
}

impl fmt::Display for DeviceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Receives every [`KioskEvent`] with the kiosk time it happened at.
pub trait KioskObserver: Send {
    /// Called once per event, in order.
    fn on_event(&mut self, at: Millis, event: &KioskEvent);
}

impl<F: FnMut(Millis, &KioskEvent) + Send> KioskObserver for F {
    fn on_event(&mut self, at: Millis, event: &KioskEvent) {
        self(at, event)
    }
}
