//! The kiosk in the hall's fleet: telemetry to the MQTT broker, signed
//! remote commands from it (configuration section `[fleet]`, optional).
//!
//! Telemetry never slows the payment path: the kiosk's observer only puts
//! messages into a bounded queue ([`kiosk_fleet::outbox::Outbox`]) and
//! marks the status changed; a task of its own hands them to the MQTT
//! client while the broker is connected. While it is not, the queue keeps
//! the newest `queue-capacity` tickets and events and drops the oldest
//! (counted in `kioskd_fleet_messages_dropped` and in the status); the
//! retained status is sent again at every (re)connection. The broker holds
//! a retained last will ("offline", not clean) that it publishes when the
//! connection is lost; a clean stop publishes "offline" (clean) itself.
//!
//! A command on `…/cmd` is checked as the operator API checks a request:
//! the signature of a configured sender (Ed25519, [`kiosk_fleet::signing`]),
//! the clock window and the nonce, then the sender's role (operator or
//! above, as `POST /v1/commands`). A refusal is written to the audit log,
//! counted, and sent to the kiosk to be journaled as a security event; a
//! command is audited and queued to the kiosk with its sender exactly as
//! the API queues it, and its result is the answer on `…/cmd/result`.
//! Clearing steps are never taken over MQTT: dual control needs two people
//! present with their own logins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kiosk_core::{
    AuthorisedCommand, Clock, KioskEvent, KioskObserver, Millis, Remote, StaffCommand,
};
use kiosk_fleet::broker::{retained_will, BrokerConfig};
use kiosk_fleet::messages::{
    is_published, DeviceStatus, EventMessage, KioskState, KioskStatus, Offline, SessionState,
    StatusMessage, TicketChange, TicketInfo, TicketMessage,
};
use kiosk_fleet::outbox::{Outbox, Outgoing};
use kiosk_fleet::rumqttc::{AsyncClient, Event, Outgoing as MqttOutgoing, Packet, QoS};
use kiosk_fleet::signing::{CommandAnswer, Outcome, Refusal, Verifier};
use kiosk_fleet::topics::{Channel, HallTopics};
use kiosk_hal::AcceptorEvent;
use serde::Deserialize;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::audit::{wall_ms, AuditKind, AuditLine, AuditLog};
use crate::auth::Role;
use crate::identity::Identities;
use crate::metrics::{Metrics, DEVICES};
use crate::watch::Watch;

/// The `[fleet]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FleetConfig {
    /// The hall's id (a topic level).
    pub hall: String,
    /// The kiosk's id in the hall's topics and its broker login; default
    /// `[kiosk] kiosk-id`.
    #[serde(default)]
    pub kiosk_id: Option<String>,
    /// The broker and the kiosk's login (`[fleet.broker]`).
    pub broker: BrokerConfig,
    /// Tickets and events kept while the broker is away (default 256); the
    /// oldest go first.
    #[serde(default = "queue_capacity")]
    pub queue_capacity: usize,
    /// The status is sent again at least this often, even unchanged
    /// (default 300 s), so the hall's clock of it stays fresh.
    #[serde(default = "status_interval_s")]
    pub status_interval_s: u64,
    /// A command's time may be this far from the kiosk's clock either way;
    /// its nonce is remembered this long (default 120 s).
    #[serde(default = "replay_window_s")]
    pub replay_window_s: u64,
    /// Who may send commands (`[[fleet.senders]]`).
    #[serde(default)]
    pub senders: Vec<SenderConfig>,
}

fn queue_capacity() -> usize {
    256
}
fn status_interval_s() -> u64 {
    300
}
fn replay_window_s() -> u64 {
    120
}

/// One sender of remote commands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SenderConfig {
    /// Their name, as signed into their commands and journaled.
    pub name: String,
    /// What they may do (as an operator API login of that role).
    pub role: Role,
    /// Their Ed25519 public key, 64 hex digits (`kiosk-hall keygen`).
    pub public_key: String,
}

/// What [`start`] needs from the service.
pub struct FleetParts {
    /// The section.
    pub config: FleetConfig,
    /// `[kiosk] kiosk-id`.
    pub kiosk_id: String,
    /// The kiosk's view.
    pub watch: Watch,
    /// Device identities and the cash box's last reading.
    pub identities: Identities,
    /// Commands to the kiosk, and refusals to journal.
    pub commands: mpsc::Sender<Remote>,
    /// The audit log.
    pub audit: AuditLog,
    /// How long a command's answer waits for the kiosk.
    pub command_wait: Duration,
    /// The kiosk's clock.
    pub clock: Arc<dyn Clock>,
}

/// What the observer keeps beyond the view.
#[derive(Default)]
struct Extras {
    session_started_at: Option<u64>,
    notes_stacked: u64,
}

struct Shared {
    outbox: Mutex<Outbox>,
    extras: Mutex<Extras>,
    notify: Notify,
    metrics: Metrics,
    topics: HallTopics,
    kiosk_id: String,
}

impl Shared {
    fn outbox(&self) -> MutexGuard<'_, Outbox> {
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
    fn on_event(&self, at: Millis, event: &KioskEvent) {
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

/// A handle the service keeps: marks the status changed (when it starts
/// stopping, which is no kiosk event).
#[derive(Clone)]
pub struct FleetHandle {
    shared: Arc<Shared>,
}

impl FleetHandle {
    /// The status is to be sent again.
    pub fn status_changed(&self) {
        self.shared.outbox().mark_status();
        self.shared.notify.notify_one();
    }

    /// The observer to chain with the others.
    pub fn observer(&self) -> Box<dyn KioskObserver> {
        let shared = self.shared.clone();
        Box::new(move |at: Millis, event: &KioskEvent| shared.on_event(at, event))
    }
}

/// The running link: its tasks and the client, until [`Fleet::stop`].
pub struct Fleet {
    handle: FleetHandle,
    client: AsyncClient,
    events: JoinHandle<()>,
    sender: JoinHandle<()>,
    commander: JoinHandle<()>,
}

/// Connects (in the background: a broker that is away is retried, never
/// waited for) and starts the tasks. Call inside a tokio runtime.
pub fn start(parts: FleetParts) -> Result<Fleet, String> {
    let cfg = &parts.config;
    let kiosk_id = cfg
        .kiosk_id
        .clone()
        .unwrap_or_else(|| parts.kiosk_id.clone());
    let topics = HallTopics::new(&cfg.hall).map_err(|e| format!("[fleet] hall: {e}"))?;
    kiosk_fleet::topics::check_id(&kiosk_id).map_err(|e| format!("[fleet] kiosk-id: {e}"))?;
    let mut keys = HashMap::new();
    let mut roles = HashMap::new();
    for s in &cfg.senders {
        let key = kiosk_fleet::signing::parse_public_key(&s.public_key)
            .map_err(|e| format!("[fleet] sender {:?}: {e}", s.name))?;
        keys.insert(s.name.clone(), key);
        roles.insert(s.name.clone(), s.role);
    }
    let verifier = Verifier::new(&kiosk_id, keys, cfg.replay_window_s * 1000);
    let will = StatusMessage::Offline(Offline {
        kiosk_id: kiosk_id.clone(),
        clean: false,
        at_ms: None,
    });
    let status_topic = topics.topic(&kiosk_id, Channel::Status);
    let client_id = format!("kioskd-{}-{kiosk_id}", cfg.hall);
    let opts = cfg.broker.options(
        &client_id,
        Some(retained_will(status_topic, will.to_payload())),
    )?;
    let (client, eventloop) = AsyncClient::new(opts, 64);
    let metrics = parts.watch.metrics().clone();
    let shared = Arc::new(Shared {
        outbox: Mutex::new(Outbox::new(cfg.queue_capacity)),
        extras: Mutex::new(Extras::default()),
        notify: Notify::new(),
        metrics: metrics.clone(),
        topics: topics.clone(),
        kiosk_id: kiosk_id.clone(),
    });
    let (connected_tx, connected) = watch::channel(false);
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    let events = tokio::spawn(drive(
        eventloop,
        client.clone(),
        topics.topic(&kiosk_id, Channel::Command),
        cfg.broker.address.clone(),
        connected_tx,
        cmd_tx,
        shared.clone(),
    ));
    let sender = tokio::spawn(send_telemetry(
        client.clone(),
        shared.clone(),
        connected,
        parts.watch.clone(),
        parts.identities.clone(),
        Duration::from_secs(cfg.status_interval_s.max(1)),
    ));
    let commander = tokio::spawn(
        Commander {
            client: client.clone(),
            verifier,
            roles,
            watch: parts.watch,
            commands: parts.commands,
            audit: parts.audit,
            command_wait: parts.command_wait,
            clock: parts.clock,
            metrics,
            kiosk_id,
            request: format!("MQTT {}", topics.topic(&shared.kiosk_id, Channel::Command)),
            result_topic: topics.topic(&shared.kiosk_id, Channel::CommandResult),
        }
        .run(cmd_rx),
    );
    Ok(Fleet {
        handle: FleetHandle { shared },
        client,
        events,
        sender,
        commander,
    })
}

impl Fleet {
    /// The handle for the observer and the service.
    pub fn handle(&self) -> FleetHandle {
        self.handle.clone()
    }

    /// A clean stop: "offline" (clean) replaces the retained status, then
    /// the client disconnects (so the broker does not publish the will).
    /// Waits at most `wait` for the broker.
    pub async fn stop(self, wait: Duration) {
        self.sender.abort();
        self.commander.abort();
        let shared = &self.handle.shared;
        let offline = StatusMessage::Offline(Offline {
            kiosk_id: shared.kiosk_id.clone(),
            clean: true,
            at_ms: Some(wall_ms()),
        });
        let topic = shared.topics.topic(&shared.kiosk_id, Channel::Status);
        let sent = async {
            self.client
                .publish(topic, QoS::AtLeastOnce, true, offline.to_payload())
                .await?;
            self.client.disconnect().await
        };
        match tokio::time::timeout(wait, sent).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "fleet: could not say offline"),
            Err(_) => tracing::warn!("fleet: the broker did not take the offline status in time"),
        }
        let events = self.events;
        if tokio::time::timeout(wait, events).await.is_err() {
            tracing::warn!("fleet: the broker connection did not close in time");
        }
    }
}

/// Polls the connection: subscribes to the command topic at every
/// connection, hands commands to the commander, and ends after the
/// disconnect of a clean stop.
async fn drive(
    mut eventloop: kiosk_fleet::rumqttc::EventLoop,
    client: AsyncClient,
    command_topic: String,
    broker: String,
    connected: watch::Sender<bool>,
    commands: mpsc::Sender<Vec<u8>>,
    shared: Arc<Shared>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(%broker, "fleet: connected to the broker");
                backoff = Duration::from_millis(200);
                shared.metrics.fleet_connected(true);
                if let Err(e) = client.try_subscribe(command_topic.clone(), QoS::AtLeastOnce) {
                    tracing::warn!(error = %e, "fleet: cannot subscribe to commands");
                }
                // Whatever the broker had may be stale: send the status again.
                shared.outbox().mark_status();
                let _ = connected.send(true);
                shared.notify.notify_one();
            }
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == command_topic => {
                if commands.try_send(p.payload.to_vec()).is_err() {
                    tracing::warn!("fleet: too many commands at once: one ignored");
                }
            }
            Ok(Event::Outgoing(MqttOutgoing::Disconnect)) => {
                let _ = connected.send(false);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if *connected.borrow() {
                    tracing::warn!(error = %e, %broker, "fleet: broker connection lost; retrying");
                }
                shared.metrics.fleet_connected(false);
                let _ = connected.send(false);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Hands queued telemetry to the client while connected; the status when
/// it changed (at most every 100 ms) and every `interval`.
async fn send_telemetry(
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
            id: s.0.clone(),
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

/// Checks and performs remote commands, one at a time, in arrival order.
struct Commander {
    client: AsyncClient,
    verifier: Verifier,
    roles: HashMap<String, Role>,
    watch: Watch,
    commands: mpsc::Sender<Remote>,
    audit: AuditLog,
    command_wait: Duration,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    kiosk_id: String,
    request: String,
    result_topic: String,
}

/// The nonce of a command, read without trusting it (for the answer only).
fn nonce_of(payload: &[u8]) -> Option<String> {
    let signed: kiosk_fleet::signing::SignedCommand = serde_json::from_slice(payload).ok()?;
    let body: serde_json::Value = serde_json::from_str(&signed.body).ok()?;
    body.get("nonce")?.as_str().map(String::from)
}

impl Commander {
    async fn run(mut self, mut rx: mpsc::Receiver<Vec<u8>>) {
        while let Some(payload) = rx.recv().await {
            let nonce = nonce_of(&payload);
            let answer = self.handle(&payload, nonce.clone()).await;
            self.answer(&answer);
        }
    }

    fn answer(&self, answer: &CommandAnswer) {
        if let Err(e) = self.client.try_publish(
            self.result_topic.clone(),
            QoS::AtLeastOnce,
            false,
            answer.to_payload(),
        ) {
            tracing::warn!(error = %e, "fleet: the command's answer could not be queued");
        }
    }

    fn reply(
        &self,
        nonce: Option<String>,
        command: Option<&str>,
        outcome: Outcome,
        refusal: Option<Refusal>,
        detail: String,
        zh: String,
        en: String,
    ) -> CommandAnswer {
        CommandAnswer {
            kiosk_id: self.kiosk_id.clone(),
            nonce,
            command: command.map(String::from),
            outcome,
            refusal,
            detail,
            message_zh: zh,
            message_en: en,
        }
    }

    async fn handle(&mut self, payload: &[u8], nonce: Option<String>) -> CommandAnswer {
        let body = match self.verifier.verify(payload, wall_ms()) {
            Ok(body) => body,
            Err(refusal) => return self.refuse(nonce, None, refusal),
        };
        let name = body.command.name();
        let sender = body.sender.clone();
        let role = self.roles.get(&sender).copied().unwrap_or(Role::Viewer);
        match &body.command {
            StaffCommand::BeginClearing { .. } | StaffCommand::EndClearing { .. } => {
                let refusal = Refusal::NotRemote {
                    sender,
                    command: name.into(),
                };
                return self.refuse(nonce, Some(name), refusal);
            }
            _ if role < Role::Operator => {
                let refusal = Refusal::Forbidden {
                    sender,
                    command: name.into(),
                    role: role.name().into(),
                };
                return self.refuse(nonce, Some(name), refusal);
            }
            StaffCommand::ReportDamage { reporter, .. } if *reporter != sender => {
                return self.reply(
                    nonce,
                    Some(name),
                    Outcome::Refused,
                    None,
                    String::new(),
                    "报告人须为发送者本人".into(),
                    format!("the reporter must be the sender ({sender}), not {reporter:?}"),
                );
            }
            _ => {}
        }
        if self.watch.view().stopping {
            return self.reply(
                nonce,
                Some(name),
                Outcome::Refused,
                None,
                String::new(),
                "终端正在停止，不再接受新请求".into(),
                "the kiosk is stopping and takes nothing new".into(),
            );
        }
        let line = AuditLine {
            at_ms: wall_ms(),
            kind: AuditKind::Command,
            who: Some(&sender),
            from: None,
            request: &self.request,
            detail: name,
        };
        if let Err(e) = self.audit.record(&line) {
            return self.reply(
                nonce,
                Some(name),
                Outcome::Failed,
                None,
                e.to_string(),
                "审计日志无法写入，命令未执行".into(),
                "the audit log cannot be written: the command was not carried out".into(),
            );
        }
        // The operator API's path: queued with who gave it, answered with
        // the kiosk's own result.
        let remote = Remote::Command(AuthorisedCommand {
            command: body.command.clone(),
            by: vec![sender],
        });
        let waiter = match self.watch.queue_command(|| self.commands.try_send(remote)) {
            Ok(w) => w,
            Err(_) => {
                return self.reply(
                    nonce,
                    Some(name),
                    Outcome::Failed,
                    None,
                    String::new(),
                    "终端忙，命令未排队，请稍后再试".into(),
                    "the kiosk is busy: the command was not queued, try again".into(),
                )
            }
        };
        match tokio::time::timeout(self.command_wait, waiter).await {
            Ok(Ok(result)) => self.reply(
                nonce,
                Some(name),
                if result.ok {
                    Outcome::Done
                } else {
                    Outcome::Failed
                },
                None,
                result.detail,
                if result.ok {
                    "命令已执行".into()
                } else {
                    "命令执行失败".into()
                },
                if result.ok {
                    "the command was carried out".into()
                } else {
                    "the command failed".into()
                },
            ),
            _ => self.reply(
                nonce,
                Some(name),
                Outcome::Queued,
                None,
                String::new(),
                "命令已排队，将在当前顾客交易结束后执行".into(),
                "queued: the kiosk performs it when the customer in progress is done".into(),
            ),
        }
    }

    /// A refusal: audited, counted, journaled as a security event (or, if
    /// the kiosk's queue is full, raised as an alarm at once), answered.
    fn refuse(
        &self,
        nonce: Option<String>,
        command: Option<&str>,
        refusal: Refusal,
    ) -> CommandAnswer {
        let (zh, en) = refusal.messages();
        let (kind, counted) = if refusal.is_unauthenticated() {
            (
                AuditKind::Unauthenticated,
                crate::metrics::Refusal::Unauthenticated,
            )
        } else {
            (AuditKind::Forbidden, crate::metrics::Refusal::Forbidden)
        };
        self.metrics.refused(counted);
        let sender = refusal.sender().map(String::from);
        let _ = self.audit.record(&AuditLine {
            at_ms: wall_ms(),
            kind,
            who: sender.as_deref(),
            from: None,
            request: &self.request,
            detail: &en,
        });
        let reason = format!("{}: {en}", self.request);
        let refused = Remote::Refused {
            reason: reason.clone(),
            claimed: sender,
        };
        if self.commands.try_send(refused).is_err() {
            tracing::warn!(%reason, "the kiosk's queue is full: the refusal is in the audit log only");
            self.watch
                .on_event(self.clock.now(), &KioskEvent::SecurityAlarm { reason });
        }
        self.reply(
            nonce,
            command,
            Outcome::Refused,
            Some(refusal),
            String::new(),
            zh,
            en,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_reads_with_its_defaults() {
        let text = r#"
            hall = "H1"
            [broker]
            address = "127.0.0.1:1883"
            username = "K01"
            password-file = "/etc/kioskd/mqtt.pw"
            [[senders]]
            name = "desk"
            role = "operator"
            public-key = "00"
        "#;
        let c: FleetConfig = toml::from_str(text).unwrap();
        assert_eq!(c.hall, "H1");
        assert_eq!(c.queue_capacity, 256);
        assert_eq!(c.replay_window_s, 120);
        assert_eq!(c.senders[0].role, Role::Operator);
        assert_eq!(c.broker.keep_alive_s, 5);
        assert!(toml::from_str::<FleetConfig>("hall = \"H1\"\nbrokr = 1\n").is_err());
    }

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
