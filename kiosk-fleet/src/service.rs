//! The hall service: subscribes to every kiosk of a hall, keeps the live
//! [`Hall`], answers guidance and serves the operator dashboard.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the operator dashboard (Chinese first, large text) |
//! | `GET /v1/hall` | every kiosk's row as JSON |
//! | `GET /v1/events` | server-sent events: the rows on every change, and every 2 s for ticket ages |
//! | `GET /v1/guidance?method=cash\|code\|either` | where an arriving customer should go, with reasons (nothing counted) |
//! | `POST /v1/guidance?method=…` | the same, and the customer is counted into that kiosk's queue (the entrance's ticket printer or greeter calls this) |
//!
//! Several hall services may run against one hall (each its own client id,
//! each with the whole picture from retained statuses): nothing here is
//! shared between them but the broker.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use rumqttc::{AsyncClient, Event as MqttEvent, Packet, QoS};
use serde::Deserialize;
use tokio::sync::watch;

use crate::broker::BrokerConfig;
use crate::guidance::Wants;
use crate::hall::{Applied, Hall};
use crate::topics::{Channel, HallTopics};

const DASHBOARD: &str = include_str!("dashboard.html");

/// Wall time, ms since the Unix epoch.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The hall and a counter that moves on every change (for the page's stream).
#[derive(Clone)]
pub struct HallState {
    hall: Arc<Mutex<Hall>>,
    changed: watch::Sender<u64>,
}

impl HallState {
    /// An empty hall.
    pub fn new(topics: HallTopics) -> HallState {
        HallState {
            hall: Arc::new(Mutex::new(Hall::new(topics))),
            changed: watch::Sender::new(0),
        }
    }

    /// The hall, locked.
    pub fn lock(&self) -> MutexGuard<'_, Hall> {
        self.hall.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one MQTT message.
    pub fn apply(&self, topic: &str, payload: &[u8]) {
        let applied = self.lock().apply(topic, payload, wall_ms());
        match applied {
            Applied::Changed(kiosk) => {
                tracing::debug!(%kiosk, topic, "kiosk changed");
                self.changed.send_modify(|n| *n += 1);
            }
            Applied::Unreadable(why) => tracing::warn!(%why, "unreadable telemetry"),
            Applied::Ignored => {}
        }
    }
}

/// Subscribes to the hall's status, ticket and event topics on every
/// (re)connection and feeds every message to `state`, until the process
/// stops. Reconnects after 1 s when the broker is away.
pub async fn follow(
    broker: BrokerConfig,
    client_id: String,
    state: HallState,
) -> Result<(), String> {
    let opts = broker.options(&client_id, None)?;
    let (client, mut events) = AsyncClient::new(opts, 64);
    let topics = state.lock().topics().clone();
    loop {
        match events.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(broker = %broker.address, "connected to the broker");
                for channel in [Channel::Status, Channel::Ticket, Channel::Event] {
                    let filter = topics.every_kiosk(channel);
                    if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                        tracing::warn!(error = %e, "cannot subscribe");
                    }
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                state.apply(&p.topic, &p.payload);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, broker = %broker.address, "broker connection lost; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The HTTP routes.
pub fn router(state: HallState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/v1/hall", get(hall))
        .route("/v1/events", get(events))
        .route("/v1/guidance", get(guidance).post(direct))
        .with_state(state)
}

async fn dashboard() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(DASHBOARD)).into_response()
}

async fn hall(State(s): State<HallState>) -> Response {
    Json(s.lock().view(wall_ms())).into_response()
}

#[derive(Deserialize)]
struct MethodQuery {
    method: Option<String>,
}

/// The method asked for; an unknown one is answered 400.
fn wants(q: &MethodQuery) -> Result<Wants, Box<Response>> {
    match q.method.as_deref() {
        None | Some("either") => Ok(Wants::Either),
        Some("cash") => Ok(Wants::Cash),
        Some("code") => Ok(Wants::Code),
        Some(other) => Err(Box::new(
            (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "message_zh": "缴费方式无效（cash、code 或 either）",
                    "message_en": format!("unknown method {other:?}: cash, code or either"),
                })),
            )
                .into_response(),
        )),
    }
}

async fn guidance(State(s): State<HallState>, Query(q): Query<MethodQuery>) -> Response {
    match wants(&q) {
        Ok(w) => Json(s.lock().advise(w, wall_ms(), false)).into_response(),
        Err(e) => *e,
    }
}

async fn direct(State(s): State<HallState>, Query(q): Query<MethodQuery>) -> Response {
    let w = match wants(&q) {
        Ok(w) => w,
        Err(e) => return *e,
    };
    let advice = s.lock().advise(w, wall_ms(), true);
    s.changed.send_modify(|n| *n += 1);
    Json(advice).into_response()
}

async fn events(State(s): State<HallState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.changed.subscribe();
    let stream = futures_util::stream::unfold((rx, s, true), |(mut rx, s, first)| async move {
        if !first {
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
        rx.borrow_and_update();
        let view = s.lock().view(wall_ms());
        let event = Event::default()
            .event("hall")
            .json_data(&view)
            .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()));
        Some((Ok(event), (rx, s, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
