//! What the fleet tests share: a kioskd configuration with `[fleet]`, the
//! hall service in this process, and a plain MQTT client.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kiosk_fleet::broker::BrokerConfig;
use kiosk_fleet::rumqttc::{AsyncClient, Event, EventLoop, Packet, QoS};
use kiosk_fleet::service::{self, HallState};
use kiosk_fleet::topics::HallTopics;
use serde_json::Value;

/// The common test configuration for kiosk `id`, with `fleet` (the body
/// of the `[fleet]` section and its sub-tables) appended.
pub fn write_fleet_config(dir: &Path, id: &str, fleet: &str) -> PathBuf {
    let path = crate::common::write_config(dir, 50);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("kiosk-id = \"T01\"", &format!("kiosk-id = \"{id}\""));
    std::fs::write(&path, format!("{text}\n{fleet}\n")).unwrap();
    path
}

/// `[fleet]` for hall `hall` on a plain broker at `address`.
pub fn plain_fleet(hall: &str, address: &str, extra: &str) -> String {
    format!(
        "[fleet]\nhall = \"{hall}\"\n{extra}\n[fleet.broker]\naddress = \"{address}\"\nkeep-alive-s = 2\n"
    )
}

/// The hall service, in this process, on a free port.
pub struct HallService {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its live state.
    pub state: HallState,
}

/// Starts the hall service for `hall` against `broker`.
pub async fn start_hall(broker: BrokerConfig, hall: &str) -> HallService {
    let state = HallState::new(HallTopics::new(hall).unwrap());
    tokio::spawn(service::follow(
        broker,
        format!("test-hall-{}", std::process::id()),
        state.clone(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = service::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    HallService { base, state }
}

impl HallService {
    /// `GET /v1/hall`.
    pub async fn view(&self) -> Value {
        reqwest::get(format!("{}/v1/hall", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// One kiosk's row, if the hall knows it.
    pub async fn row(&self, kiosk: &str) -> Option<Value> {
        let view = self.view().await;
        view["kiosks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == kiosk)
            .cloned()
    }

    /// `GET` (`direct` false) or `POST` `/v1/guidance?method=…`.
    pub async fn guidance(&self, method: &str, direct: bool) -> Value {
        let url = format!("{}/v1/guidance?method={method}", self.base);
        let c = reqwest::Client::new();
        let req = if direct { c.post(url) } else { c.get(url) };
        req.send().await.unwrap().json().await.unwrap()
    }

    /// Polls the hall's view until `want` holds; how long it took.
    pub async fn until(
        &self,
        what: &str,
        limit: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let view = self.view().await;
            if want(&view) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "{what}: not within {limit:?}: {view:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The state of `kiosk` in a hall view (`in-service`, `lost`, …).
pub fn state_of<'v>(view: &'v Value, kiosk: &str) -> &'v str {
    view["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == kiosk)
        .and_then(|k| k["state"].as_str())
        .unwrap_or("absent")
}

/// A plain MQTT client, connected (ConnAck seen) and subscribed to `filters`.
pub async fn client(
    broker: &BrokerConfig,
    id: &str,
    filters: &[String],
) -> Result<(AsyncClient, EventLoop), String> {
    let opts = broker.options(id, None)?;
    let (c, mut events) = AsyncClient::new(opts, 32);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let polled = tokio::time::timeout(Duration::from_secs(10), events.poll())
            .await
            .map_err(|_| "no answer from the broker".to_string())?;
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => break,
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        if Instant::now() > until {
            return Err("not connected".into());
        }
    }
    for f in filters {
        c.subscribe(f.clone(), QoS::AtLeastOnce).await.unwrap();
    }
    let mut acked = 0;
    while acked < filters.len() {
        if let Ok(Event::Incoming(Packet::SubAck(_))) = events.poll().await {
            acked += 1;
        }
    }
    Ok((c, events))
}

/// The next message published to the client (topic, payload), within `limit`.
pub async fn next_message(events: &mut EventLoop, limit: Duration) -> Option<(String, Vec<u8>)> {
    let until = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(until, events.poll()).await {
            Err(_) => return None,
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                return Some((p.topic.clone(), p.payload.to_vec()))
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("broker connection: {e}"),
        }
    }
}

/// A client connected and subscribed like [`client`], its connection
/// driven in the background (so its publishes go out at once); what it
/// receives comes out of the channel.
pub async fn live_client(
    broker: &BrokerConfig,
    id: &str,
    filters: &[String],
) -> Result<
    (
        AsyncClient,
        tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    ),
    String,
> {
    let (c, mut events) = client(broker, id, filters).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send((p.topic.clone(), p.payload.to_vec())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    Ok((c, rx))
}

/// Everything received within `quiet` of the last message.
pub async fn drain(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    quiet: Duration,
) -> Vec<(String, Vec<u8>)> {
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(quiet, rx.recv()).await {
        got.push(m);
    }
    got
}
