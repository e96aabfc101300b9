//! What the operator API shows about the running kiosk, kept from its events.
//!
//! The runner owns the kiosk and its journal while it runs; the service
//! sees it only through [`KioskObserver`]. [`KioskView`] starts from the
//! journal as it was before the kiosk started (pending payments, notes in
//! doubt, open tickets) and then follows the events. It is exact for
//! faults, offered methods, tickets and notes in doubt; a payment is
//! counted pending from its first posting attempt (recovery's new payments
//! are posted at once, so the gap is one call) until the backend answers it.
//!
//! [`Watch`] is the observer: it updates the view and the metrics, logs
//! every event, and hands each `CommandDone` to the API request that sent
//! the command (the runner performs commands in the order sent).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use kiosk_core::events::SettlementKind;
use kiosk_core::journal::{Journal, JournalError, NoteId};
use kiosk_core::tickets::{Severity, Ticket, TicketId, TicketKind};
use kiosk_core::{DeviceKind, KioskEvent, KioskObserver, Millis, Screen, SessionId};
use kiosk_hal::{AcceptorEvent, ErrorKind, IdempotencyKey, PaymentMethod};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// One ticket as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketView {
    /// Its id.
    pub id: TicketId,
    /// The device.
    pub device: DeviceKind,
    /// What it is about (`paper-out`, `link-slow`, …).
    pub kind: TicketKind,
    /// How urgent.
    pub severity: Severity,
    /// When the fault was detected (kiosk time, ms since the Unix epoch).
    pub opened_at: Millis,
    /// When it was escalated (someone dispatched on site), if it was.
    pub escalated_at: Option<Millis>,
}

impl TicketView {
    fn of(t: &Ticket) -> TicketView {
        TicketView {
            id: t.id,
            device: t.device,
            kind: t.kind,
            severity: t.severity,
            opened_at: t.opened_at,
            escalated_at: t.dispatched_at,
        }
    }
}

/// The result of a staff command, as the kiosk reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandResult {
    /// The command's name (`self-test`, `begin-clearing`, …).
    pub command: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// What happened, in the kiosk's words.
    pub detail: String,
}

/// The kiosk as the API shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KioskView {
    /// Devices with a fault now, and the fault.
    pub faults: BTreeMap<DeviceKind, ErrorKind>,
    /// Methods offered to customers now (empty: out of service).
    pub offered_methods: Vec<PaymentMethod>,
    /// The screen shown now.
    pub screen: Option<Screen>,
    /// The session in progress, if any.
    pub session: Option<SessionId>,
    /// Payments not yet answered by the backend.
    pub pending_payments: BTreeSet<IdempotencyKey>,
    /// Notes whose fate is unknown.
    pub in_doubt_notes: BTreeSet<NoteId>,
    /// Tickets not resolved.
    pub open_tickets: BTreeMap<TicketId, TicketView>,
    /// Whether a clearing is open (between its begin and its end).
    pub clearing_open: bool,
    /// Whether the kiosk has recovered its journal and is serving.
    pub serving: bool,
    /// Whether kioskd is stopping (no new customers).
    pub stopping: bool,
}

impl KioskView {
    /// The view of the journal as it is now (before the kiosk runs).
    pub fn from_journal(journal: &Journal) -> Result<KioskView, JournalError> {
        Ok(KioskView {
            pending_payments: journal
                .pending_payments()?
                .into_iter()
                .map(|p| p.key)
                .collect(),
            in_doubt_notes: journal
                .in_doubt_notes()?
                .into_iter()
                .map(|n| n.id)
                .collect(),
            open_tickets: journal
                .open_tickets()?
                .iter()
                .map(|t| (t.id, TicketView::of(t)))
                .collect(),
            ..KioskView::default()
        })
    }

    /// Follows one event.
    pub fn apply(&mut self, at: Millis, event: &KioskEvent) {
        match event {
            KioskEvent::Recovered { .. } => self.serving = true,
            KioskEvent::Screen { screen } => {
                match screen {
                    Screen::Welcome { methods } => self.offered_methods = methods.clone(),
                    Screen::OutOfService { .. } => self.offered_methods.clear(),
                    _ => {}
                }
                self.screen = Some(screen.clone());
            }
            KioskEvent::FaultDetected { device, kind } => {
                self.faults.insert(*device, *kind);
            }
            KioskEvent::FaultCleared { device } => {
                self.faults.remove(device);
            }
            KioskEvent::SessionStarted { session } => self.session = Some(session.clone()),
            KioskEvent::SessionEnded { .. } => self.session = None,
            KioskEvent::PostingAttempt { key, .. } => {
                self.pending_payments.insert(key.clone());
            }
            KioskEvent::PaymentCredited { key, .. } | KioskEvent::PaymentRefused { key, .. } => {
                self.pending_payments.remove(key);
            }
            KioskEvent::NoteInDoubt { note } => {
                self.in_doubt_notes.insert(*note);
            }
            KioskEvent::InDoubtSettled { note, settlement }
                if *settlement != SettlementKind::StillInDoubt =>
            {
                self.in_doubt_notes.remove(note);
            }
            KioskEvent::TicketOpened {
                ticket,
                device,
                kind,
                severity,
            } => {
                self.open_tickets.insert(
                    *ticket,
                    TicketView {
                        id: *ticket,
                        device: *device,
                        kind: *kind,
                        severity: *severity,
                        opened_at: at,
                        escalated_at: None,
                    },
                );
            }
            KioskEvent::TicketEscalated { ticket, .. } => {
                if let Some(t) = self.open_tickets.get_mut(ticket) {
                    t.escalated_at = Some(at);
                }
            }
            KioskEvent::TicketResolved { ticket, .. } => {
                self.open_tickets.remove(ticket);
            }
            KioskEvent::CommandDone { command, ok, .. } if *ok => match command.as_str() {
                "begin-clearing" => self.clearing_open = true,
                "end-clearing" => self.clearing_open = false,
                _ => {}
            },
            _ => {}
        }
    }
}

struct Inner {
    view: KioskView,
    waiters: VecDeque<oneshot::Sender<CommandResult>>,
}

/// The kiosk's observer and the API's window on it. Cloning shares it.
#[derive(Clone)]
pub struct Watch {
    inner: Arc<Mutex<Inner>>,
    metrics: Metrics,
}

impl Watch {
    /// Starts from `view` (see [`KioskView::from_journal`]).
    pub fn new(view: KioskView, metrics: Metrics) -> Watch {
        let watch = Watch {
            inner: Arc::new(Mutex::new(Inner {
                view,
                waiters: VecDeque::new(),
            })),
            metrics,
        };
        watch.publish(&watch.lock().view);
        watch
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the view now.
    pub fn view(&self) -> KioskView {
        self.lock().view.clone()
    }

    /// The metrics it feeds.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Marks the service as stopping.
    pub fn set_stopping(&self) {
        self.lock().view.stopping = true;
    }

    /// Runs `send` (which queues a command to the kiosk) and, if it
    /// succeeded, registers a waiter for that command's result, under one
    /// lock so that waiters stay in the order the commands were queued.
    pub fn queue_command<E>(
        &self,
        send: impl FnOnce() -> Result<(), E>,
    ) -> Result<oneshot::Receiver<CommandResult>, E> {
        let mut inner = self.lock();
        send()?;
        let (tx, rx) = oneshot::channel();
        inner.waiters.push_back(tx);
        Ok(rx)
    }

    /// Takes one event (from the kiosk, or a security alarm of the API's own).
    pub fn on_event(&self, at: Millis, event: &KioskEvent) {
        log_event(event);
        match event {
            KioskEvent::SessionEnded { outcome, .. } => self.metrics.session_ended(*outcome),
            KioskEvent::PaymentCredited { .. } => self.metrics.payment_answered(true),
            KioskEvent::PaymentRefused { .. } => self.metrics.payment_answered(false),
            KioskEvent::PostingAttempt { .. } => self.metrics.posting_attempt(),
            KioskEvent::Acceptor {
                acceptor: AcceptorEvent::Stacked { .. },
            } => self.metrics.note_stacked(),
            KioskEvent::SecurityAlarm { .. } => self.metrics.security_alarm(),
            _ => {}
        }
        let mut inner = self.lock();
        inner.view.apply(at, event);
        if let KioskEvent::CommandDone {
            command,
            ok,
            detail,
        } = event
        {
            if let Some(waiter) = inner.waiters.pop_front() {
                // The request may have stopped waiting: nothing to do then.
                let _ = waiter.send(CommandResult {
                    command: command.clone(),
                    ok: *ok,
                    detail: detail.clone(),
                });
            }
        }
        self.publish(&inner.view);
    }

    fn publish(&self, view: &KioskView) {
        self.metrics
            .set_open_money(view.pending_payments.len(), view.in_doubt_notes.len());
        self.metrics.set_tickets_open(view.open_tickets.len());
        for device in crate::metrics::DEVICES {
            self.metrics
                .set_fault(device, view.faults.contains_key(&device));
        }
    }

    /// The observer to hand to [`kiosk_core::Kiosk::new`].
    pub fn observer(&self) -> Box<dyn KioskObserver> {
        let watch = self.clone();
        Box::new(move |at: Millis, event: &KioskEvent| watch.on_event(at, event))
    }
}

/// Logs an event at a level that fits it (inside the runner's kiosk and
/// session spans).
fn log_event(event: &KioskEvent) {
    let json = serde_json::to_string(event).unwrap_or_default();
    match event {
        KioskEvent::Screen { .. } | KioskEvent::Acceptor { .. } => {
            tracing::debug!(event = %json, "kiosk event")
        }
        KioskEvent::SecurityAlarm { reason } => tracing::error!(%reason, "security alarm"),
        KioskEvent::FaultDetected { .. }
        | KioskEvent::NoteInDoubt { .. }
        | KioskEvent::PaymentRetryScheduled { .. }
        | KioskEvent::FrequentFailures { .. }
        | KioskEvent::LinkSlow { .. }
        | KioskEvent::DriverRestarted { .. }
        | KioskEvent::TicketOpened { .. }
        | KioskEvent::TicketEscalated { .. }
        | KioskEvent::ReceiptKept { .. }
        | KioskEvent::Alert { .. } => tracing::warn!(event = %json, "kiosk event"),
        _ => tracing::info!(event = %json, "kiosk event"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{Currency, Money};

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey(k.into())
    }

    #[test]
    fn the_view_follows_faults_money_and_tickets() {
        let watch = Watch::new(KioskView::default(), Metrics::new());
        let t = |ms| Millis(ms);
        watch.on_event(
            t(1),
            &KioskEvent::FaultDetected {
                device: DeviceKind::Printer,
                kind: ErrorKind::PaperOut,
            },
        );
        watch.on_event(
            t(2),
            &KioskEvent::Screen {
                screen: Screen::Welcome {
                    methods: vec![PaymentMethod::Cash],
                },
            },
        );
        watch.on_event(
            t(3),
            &KioskEvent::PostingAttempt {
                key: key("K01-1"),
                attempt: 1,
            },
        );
        watch.on_event(t(4), &KioskEvent::NoteInDoubt { note: NoteId(7) });
        watch.on_event(
            t(5),
            &KioskEvent::TicketOpened {
                ticket: TicketId(3),
                device: DeviceKind::Printer,
                kind: TicketKind::Device(ErrorKind::PaperOut),
                severity: Severity::Medium,
            },
        );
        let v = watch.view();
        assert_eq!(
            v.faults.get(&DeviceKind::Printer),
            Some(&ErrorKind::PaperOut)
        );
        assert_eq!(v.offered_methods, vec![PaymentMethod::Cash]);
        assert_eq!(v.pending_payments.len(), 1);
        assert_eq!(v.in_doubt_notes.len(), 1);
        assert_eq!(v.open_tickets[&TicketId(3)].opened_at, Millis(5));
        let text = watch.metrics().render();
        assert!(text.contains("kioskd_pending_payments 1"), "{text}");
        assert!(
            text.contains("kioskd_device_fault{device=\"printer\"} 1"),
            "{text}"
        );

        watch.on_event(
            t(6),
            &KioskEvent::PaymentCredited {
                key: key("K01-1"),
                amount: Money::major(50, Currency::CNY),
            },
        );
        watch.on_event(
            t(7),
            &KioskEvent::InDoubtSettled {
                note: NoteId(7),
                settlement: SettlementKind::StillInDoubt,
            },
        );
        watch.on_event(
            t(8),
            &KioskEvent::FaultCleared {
                device: DeviceKind::Printer,
            },
        );
        let v = watch.view();
        assert!(v.pending_payments.is_empty());
        assert_eq!(v.in_doubt_notes.len(), 1, "still in doubt");
        assert!(v.faults.is_empty());
    }

    #[tokio::test]
    async fn command_results_reach_their_requests_in_order() {
        let watch = Watch::new(KioskView::default(), Metrics::new());
        let first = watch.queue_command(|| Ok::<(), ()>(())).unwrap();
        let second = watch.queue_command(|| Ok::<(), ()>(())).unwrap();
        assert!(watch.queue_command(|| Err::<(), _>("full")).is_err());
        for (name, ok) in [("self-test", true), ("begin-clearing", true)] {
            watch.on_event(
                Millis(1),
                &KioskEvent::CommandDone {
                    command: name.into(),
                    ok,
                    detail: String::new(),
                },
            );
        }
        assert_eq!(first.await.unwrap().command, "self-test");
        assert_eq!(second.await.unwrap().command, "begin-clearing");
        assert!(watch.view().clearing_open);
    }
}
