//! What travels on the topics: JSON payloads, each a serde type.
//!
//! The status topic holds one retained [`StatusMessage`]: the kiosk's whole
//! status while it runs, or [`Offline`] (its last will, set at connect, or
//! what it publishes itself at a clean stop). A status is complete on its
//! own, so a hall that subscribes late, or a broker node that lost every
//! message but the retained one, still has the full picture; tickets and
//! events are the increments between two statuses.

use kiosk_core::tickets::{Severity, TicketId, TicketKind};
use kiosk_core::{DeviceKind, KioskEvent};
use kiosk_hal::{CashBoxStatus, DeviceIdentity, ErrorKind, PaymentMethod};
use serde::{Deserialize, Serialize};

/// The retained message on `…/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "presence", rename_all = "kebab-case")]
pub enum StatusMessage {
    /// The kiosk is connected; its status.
    Online(KioskStatus),
    /// The kiosk is gone.
    Offline(Offline),
}

impl StatusMessage {
    /// The JSON bytes to publish.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A kiosk that is not connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Offline {
    /// The kiosk.
    pub kiosk_id: String,
    /// `true`: it stopped cleanly (its own message); `false`: its
    /// connection was lost (the broker published its last will).
    pub clean: bool,
    /// When it stopped (its clock), if it said so itself.
    pub at_ms: Option<u64>,
}

/// What a kiosk is doing, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KioskState {
    /// Recovering its journal; not yet taking customers.
    Starting,
    /// Taking customers with at least one payment method.
    InService,
    /// No payment method works, or staff took it out of service.
    OutOfService,
    /// Stopping: finishing the session in progress, no new customers.
    Stopping,
}

impl KioskState {
    /// Whether an arriving customer may be sent there.
    pub fn takes_customers(self) -> bool {
        self == KioskState::InService
    }
}

/// One device's health and identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeviceStatus {
    /// Which device.
    pub device: DeviceKind,
    /// Its fault now, if any.
    pub fault: Option<ErrorKind>,
    /// What it said about itself (model, firmware, serial), once asked.
    pub identity: Option<DeviceIdentity>,
}

/// The customer at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SessionState {
    /// The session's id.
    pub id: String,
    /// When it started (kiosk clock, ms since the Unix epoch).
    pub started_at_ms: u64,
}

/// An open fault ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TicketInfo {
    /// Its id (per kiosk).
    pub id: TicketId,
    /// The device.
    pub device: DeviceKind,
    /// What it is about.
    pub kind: TicketKind,
    /// How urgent.
    pub severity: Severity,
    /// When the fault was detected (kiosk clock, ms since the Unix epoch).
    pub opened_at_ms: u64,
    /// When someone was dispatched on site, if yet.
    pub escalated_at_ms: Option<u64>,
}

/// The kiosk's whole status (retained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct KioskStatus {
    /// The kiosk (the same as its topic level).
    pub kiosk_id: String,
    /// Counts up with every status this process publishes; with
    /// `started_at_ms` it orders statuses across restarts.
    pub seq: u64,
    /// When this kioskd process started.
    pub started_at_ms: u64,
    /// When this status was taken.
    pub at_ms: u64,
    /// In one word.
    pub state: KioskState,
    /// Every device's health and identity.
    pub devices: Vec<DeviceStatus>,
    /// The payment methods offered to customers now.
    pub offered_methods: Vec<PaymentMethod>,
    /// The customer at the kiosk, if any.
    pub session: Option<SessionState>,
    /// Customers waiting in front of the kiosk, if it can tell (a queue
    /// sensor); `None`: the hall estimates it from whom it sent there.
    pub queue: Option<u32>,
    /// The cash box as last read (presence, fill level, contents if it counts).
    pub cash_box: Option<CashBoxStatus>,
    /// Notes stacked since kioskd started (a box that cannot count shows
    /// its fill this way between clearings).
    pub notes_stacked: u64,
    /// Open fault tickets.
    pub open_tickets: Vec<TicketInfo>,
    /// Payments not yet answered by the backend.
    pub pending_payments: u32,
    /// Notes whose fate is unknown.
    pub in_doubt_notes: u32,
    /// Whether a clearing is open.
    pub clearing_open: bool,
    /// Telemetry messages dropped since start because the broker was away.
    pub telemetry_dropped: u64,
}

/// How a ticket changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketChange {
    /// A fault was detected and a ticket opened.
    Opened,
    /// Someone was dispatched on site.
    Escalated,
    /// The fault is gone; the ticket is closed.
    Resolved,
}

/// A message on `…/ticket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TicketMessage {
    /// The kiosk.
    pub kiosk_id: String,
    /// When (kiosk clock).
    pub at_ms: u64,
    /// What happened to the ticket.
    pub change: TicketChange,
    /// Its id.
    pub ticket: TicketId,
    /// The device.
    pub device: DeviceKind,
    /// What it is about.
    pub kind: TicketKind,
    /// How urgent (known when opened).
    pub severity: Option<Severity>,
    /// How long it was open (resolved only).
    pub open_ms: Option<u64>,
}

/// A message on `…/event`: one of the kiosk's events, as kiosk-core
/// serialises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EventMessage {
    /// The kiosk.
    pub kiosk_id: String,
    /// When (kiosk clock).
    pub at_ms: u64,
    /// The event.
    pub event: KioskEvent,
}

/// Which events go on `…/event`: what the hall acts on or an operator
/// reads (sessions, payments, faults, alarms, commands), not the screen's
/// and the acceptor's step-by-step chatter (the status carries their
/// result), so a busy kiosk sends tens of messages an hour, not thousands.
pub fn is_published(event: &KioskEvent) -> bool {
    !matches!(
        event,
        KioskEvent::Screen { .. }
            | KioskEvent::Acceptor { .. }
            | KioskEvent::PostingAttempt { .. }
            | KioskEvent::TicketOpened { .. }
            | KioskEvent::TicketEscalated { .. }
            | KioskEvent::TicketResolved { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_will_and_a_status_are_both_status_messages() {
        let will = StatusMessage::Offline(Offline {
            kiosk_id: "K01".into(),
            clean: false,
            at_ms: None,
        });
        let text = String::from_utf8(will.to_payload()).unwrap();
        assert!(text.contains("\"presence\":\"offline\""), "{text}");
        assert_eq!(serde_json::from_str::<StatusMessage>(&text).unwrap(), will);
        let online = StatusMessage::Online(KioskStatus {
            kiosk_id: "K01".into(),
            seq: 3,
            started_at_ms: 1,
            at_ms: 2,
            state: KioskState::InService,
            devices: vec![DeviceStatus {
                device: DeviceKind::Printer,
                fault: Some(ErrorKind::PaperOut),
                identity: None,
            }],
            offered_methods: vec![PaymentMethod::Cash],
            session: None,
            queue: None,
            cash_box: None,
            notes_stacked: 0,
            open_tickets: vec![],
            pending_payments: 0,
            in_doubt_notes: 0,
            clearing_open: false,
            telemetry_dropped: 0,
        });
        let back: StatusMessage = serde_json::from_slice(&online.to_payload()).unwrap();
        assert_eq!(back, online);
    }

    #[test]
    fn screen_chatter_is_not_published_but_faults_are() {
        assert!(!is_published(&KioskEvent::Screen {
            screen: kiosk_core::Screen::Welcome { methods: vec![] }
        }));
        assert!(is_published(&KioskEvent::FaultCleared {
            device: DeviceKind::Printer
        }));
    }
}
