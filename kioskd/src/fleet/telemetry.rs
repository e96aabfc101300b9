//! Telemetry: what the kiosk's observer queues (never blocking), and the
//! task that hands it to the MQTT client while connected.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kiosk_core::{KioskEvent, Millis};
use kiosk_fleet::messages::{
    is_published, DeviceStatus, EventMessage, KioskState, KioskStatus, SessionState, StatusMessage,
    TicketChange, TicketInfo, TicketMessage,
};
use kiosk_fleet::outbox::{Outbox, Outgoing};
use kiosk_fleet::rumqttc::{AsyncClient, QoS};
use kiosk_fleet::topics::{Channel, HallTopics};
use kiosk_hal::AcceptorEvent;
use tokio::sync::{watch, Notify};

use crate::audit::wall_ms;
use crate::identity::Identities;
use crate::metrics::{Metrics, DEVICES};
use crate::watch::Watch;

/// What the observer keeps beyond the view.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) session_started_at: Option<u64>,
    pub(super) notes_stacked: u64,
}

pub(super) struct Shared {
    pub(super) outbox: Mutex<Outbox>,
    pub(super) extras: Mutex<Extras>,
    pub(super) notify: Notify,
    pub(super) metrics: Metrics,
    pub(super) topics: HallTopics,
    pub(super) kiosk_id: String,
}

impl Shared {
    pub(super) fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn extras(&self) -> MutexGuard<'_, Extras> {
        self.extras.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, channel: Channel, payload: Vec<u8>, at_least_once: bool) {
        let dropped = self.outbox().push(Outgoing {
            topic: self.topics.topic(&self.kiosk_id, channel),
            payload,
            at_least_once,
        });
        if dropped {
            self.metrics.fleet_dropped();
        }
    }

    /// The observer's work: never blocks (two short locks, no I/O).
    pub(super) fn on_event(&self, at: Millis, event: &KioskEvent) {
        {
            let mut x = self.extras();
            match event {
                KioskEvent::SessionStarted { .. } => x.session_started_at = Some(at.0),
                KioskEvent::SessionEnded { .. } => x.session_started_at = None,
                KioskEvent::Acceptor {
                    acceptor: AcceptorEvent::Stacked { .. },
                } => x.notes_stacked += 1,
                _ => {}
            }
        }
        let ticket = |change, ticket, device, kind, severity, open_ms| TicketMessage {
            kiosk_id: self.kiosk_id.clone(),
            at_ms: at.0,
            change,
            ticket,
            device,
            kind,
            severity,
            open_ms,
        };
        let ticket = match event {
            KioskEvent::TicketOpened {
                ticket: t,
                device,
                kind,
                severity,
            } => Some(ticket(
                TicketChange::Opened,
                *t,
                *device,
                *kind,
                Some(*severity),
                None,
            )),
            KioskEvent::TicketEscalated {
                ticket: t,
                device,
                kind,
            } => Some(ticket(
                TicketChange::Escalated,
                *t,
                *device,
                *kind,
                None,
                None,
            )),
            KioskEvent::TicketResolved {
                ticket: t,
                device,
                kind,
                open_ms,
            } => Some(ticket(
                TicketChange::Resolved,
                *t,
                *device,
                *kind,
                None,
                Some(*open_ms),
            )),
            _ => None,
        };
        if let Some(t) = ticket {
            self.push(
                Channel::Ticket,
                serde_json::to_vec(&t).unwrap_or_default(),
                true,
            );
        }
        if is_published(event) {
            let m = EventMessage {
                kiosk_id: self.kiosk_id.clone(),
                at_ms: at.0,
                event: event.clone(),
            };
            self.push(
                Channel::Event,
                serde_json::to_vec(&m).unwrap_or_default(),
                false,
            );
        }
        if changes_status(event) {
            self.outbox().mark_status();
        }
        self.notify.notify_one();
    }
}

/// Whether `event` can change what the status shows.
fn changes_status(event: &KioskEvent) -> bool {
    match event {
        KioskEvent::Screen { screen } => matches!(
            screen,
            kiosk_core::Screen::Welcome { .. } | kiosk_core::Screen::OutOfService { .. }
        ),
        KioskEvent::Acceptor { acceptor } => matches!(acceptor, AcceptorEvent::Stacked { .. }),
        KioskEvent::PostingAttempt { attempt, .. } => *attempt == 1,
        _ => true,
    }
}

/// Hands queued telemetry to the client while connected; the status when
/// it changed (at most every 100 ms) and every `interval`.
pub(super) async fn send_telemetry(
    client: AsyncClient,
    shared: Arc<Shared>,
    mut connected: watch::Receiver<bool>,
    watch: Watch,
    identities: Identities,
    interval: Duration,
) {
    let started_at_ms = wall_ms();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tokio::select! {
            () = shared.notify.notified() => {}
            _ = tick.tick() => shared.outbox().mark_status(),
            changed = connected.changed() => if changed.is_err() { return },
        }
        if !*connected.borrow() {
            continue;
        }
        loop {
            let Some(m) = shared.outbox().pop() else {
                break;
            };
            let qos = if m.at_least_once {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            match client.try_publish(m.topic.clone(), qos, false, m.payload.clone()) {
                Ok(()) => shared.metrics.fleet_published(),
                Err(_) => {
                    // The client's own queue is full (the connection is
                    // slow or just dropped): keep it and wait.
                    shared.outbox().unpop(m);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    break;
                }
            }
        }
        if shared.outbox().take_status() {
            seq += 1;
            let status = build_status(&shared, &watch, &identities, started_at_ms, seq);
            let payload = StatusMessage::Online(status).to_payload();
            let topic = shared.topics.topic(&shared.kiosk_id, Channel::Status);
            match client.try_publish(topic, QoS::AtLeastOnce, true, payload) {
                Ok(()) => shared.metrics.fleet_published(),
                Err(_) => shared.outbox().mark_status(),
            }
            // Coalesce: a burst of changes is one status.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !shared.outbox().is_empty() || {
                let mut o = shared.outbox();
                let dirty = o.take_status();
                if dirty {
                    o.mark_status();
                }
                dirty
            } {
                shared.notify.notify_one();
            }
        }
    }
}

fn build_status(
    shared: &Shared,
    watch: &Watch,
    identities: &Identities,
    started_at_ms: u64,
    seq: u64,
) -> KioskStatus {
    let v = watch.view();
    let (session_started_at, notes_stacked) = {
        let x = shared.extras();
        (x.session_started_at, x.notes_stacked)
    };
    let state = if v.stopping {
        KioskState::Stopping
    } else if !v.serving {
        KioskState::Starting
    } else if v.offered_methods.is_empty() {
        KioskState::OutOfService
    } else {
        KioskState::InService
    };
    let now = wall_ms();
    KioskStatus {
        kiosk_id: shared.kiosk_id.clone(),
        seq,
        started_at_ms,
        at_ms: now,
        state,
        devices: DEVICES
            .iter()
            .map(|d| DeviceStatus {
                device: *d,
                fault: v.faults.get(d).copied(),
                identity: identities.get(*d),
            })
            .collect(),
        offered_methods: v.offered_methods.clone(),
        session: v.session.as_ref().map(|s| SessionState {
            id: s.0.to_string(),
            started_at_ms: session_started_at.unwrap_or(now),
        }),
        queue: None,
        cash_box: identities.cash_box(),
        notes_stacked,
        open_tickets: v
            .open_tickets
            .values()
            .map(|t| TicketInfo {
                id: t.id,
                device: t.device,
                kind: t.kind,
                severity: t.severity,
                opened_at_ms: t.opened_at.0,
                escalated_at_ms: t.escalated_at.map(|m| m.0),
            })
            .collect(),
        pending_payments: v.pending_payments.len() as u32,
        in_doubt_notes: v.in_doubt_notes.len() as u32,
        clearing_open: v.clearing_open,
        telemetry_dropped: shared.outbox().dropped(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_steps_inside_a_session_do_not_resend_the_status() {
        assert!(!changes_status(&KioskEvent::Screen {
            screen: kiosk_core::Screen::CheckingAccount
        }));
        assert!(changes_status(&KioskEvent::Screen {
            screen: kiosk_core::Screen::Welcome { methods: vec![] }
        }));
        assert!(changes_status(&KioskEvent::FaultCleared {
            device: kiosk_core::DeviceKind::Printer
        }));
    }
}
