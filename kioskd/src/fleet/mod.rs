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

mod commands;
mod telemetry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_core::{Clock, KioskEvent, KioskObserver, Millis, Remote};
use kiosk_fleet::broker::{retained_will, BrokerConfig};
use kiosk_fleet::messages::{Offline, StatusMessage};
use kiosk_fleet::outbox::Outbox;
use kiosk_fleet::rumqttc::{AsyncClient, Event, Outgoing as MqttOutgoing, Packet, QoS};
use kiosk_fleet::signing::Verifier;
use kiosk_fleet::topics::{Channel, HallTopics};
use serde::Deserialize;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::audit::{wall_ms, AuditLog};
use crate::auth::Role;
use crate::identity::Identities;
use crate::watch::Watch;
use commands::Commander;
use telemetry::{send_telemetry, Extras, Shared};

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
    let mut disconnecting = false;
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
                // Keep reading until the broker closes the connection: a
                // socket closed here with the broker's acknowledgement
                // still unread goes out as a reset, which can discard the
                // DISCONNECT before the broker reads it, and then the
                // broker publishes the will ("lost") for a clean stop.
                disconnecting = true;
                let _ = connected.send(false);
            }
            Ok(_) => {}
            Err(_) if disconnecting => return,
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
}
