//! The screen service: the kiosk's observer on one side, the page's HTTP
//! routes on the other.
//!
//! - [`ScreenService::observer`] is a [`KioskObserver`]: it keeps the
//!   [`ScreenState`] up to date from the kiosk's events and wakes every
//!   connected page.
//! - [`router`] serves the page (`GET /`), a server-sent event stream of
//!   [`View`]s in the page's language (`GET /events?lang=zh`), the current
//!   view as JSON (`GET /api/view?lang=en`), the customer's actions
//!   (`POST /api/action`, a [`CustomerAction`] as JSON, forwarded to the
//!   kiosk's action channel) and Done on a held outcome
//!   (`POST /api/dismiss`). Every path is relative in the page, so the
//!   router can be nested under a prefix.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use kiosk_core::{CustomerAction, KioskEvent, KioskObserver, Millis};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::catalog::{Catalog, Lang};
use crate::state::{ScreenConfig, ScreenState};
use crate::view::{present, View};

const PAGE: &str = include_str!("../assets/index.html");

/// The router's state and the kiosk's side of the screen (cheap to clone).
#[derive(Clone)]
pub struct ScreenService {
    catalog: Arc<Catalog>,
    state: watch::Sender<ScreenState>,
    actions: mpsc::Sender<CustomerAction>,
}

impl ScreenService {
    /// A screen whose page's actions go into `actions` (the channel the
    /// kiosk's `run` reads).
    pub fn new(
        config: ScreenConfig,
        catalog: Catalog,
        actions: mpsc::Sender<CustomerAction>,
    ) -> ScreenService {
        let (state, _) = watch::channel(ScreenState::new(config));
        ScreenService {
            catalog: Arc::new(catalog),
            state,
            actions,
        }
    }

    /// The observer to give the kiosk (or to call from the service's own
    /// observer, for every event).
    pub fn observer(&self) -> ScreenObserver {
        ScreenObserver {
            state: self.state.clone(),
        }
    }

    /// The current view in `lang`.
    pub fn view(&self, lang: Lang) -> View {
        let now = Instant::now();
        present(&self.catalog, lang, &self.state.borrow().shown(now), now)
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// Forwards the kiosk's screens and faults to every connected page.
pub struct ScreenObserver {
    state: watch::Sender<ScreenState>,
}

impl KioskObserver for ScreenObserver {
    fn on_event(&mut self, _at: Millis, event: &KioskEvent) {
        // The time of arrival, not the kiosk's `at`: countdowns run in the
        // page's real time, and the kiosk calls this as the event happens.
        let now = Instant::now();
        self.state.send_if_modified(|s| s.apply(event, now));
    }
}

/// The page's routes over `service`. See the module docs.
pub fn router(service: ScreenService) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/events", get(events))
        .route("/api/view", get(view))
        .route("/api/action", post(action))
        .route("/api/dismiss", post(dismiss))
        .with_state(service)
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    /// The language asked for; Chinese when none or an unknown one is.
    fn lang(&self) -> Lang {
        self.lang
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_default()
    }
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
}

async fn view(State(s): State<ScreenService>, Query(q): Query<LangQuery>) -> Json<View> {
    Json(s.view(q.lang()))
}

async fn events(
    State(s): State<ScreenService>,
    Query(q): Query<LangQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let lang = q.lang();
    let rx = s.state.subscribe();
    let catalog = Arc::clone(&s.catalog);
    let stream = futures_util::stream::unfold((rx, true), move |(mut rx, first)| {
        let catalog = Arc::clone(&catalog);
        async move {
            if !first {
                let wake = rx.borrow().next_change(Instant::now());
                let timer = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    changed = rx.changed() => changed.ok()?,
                    () = timer => {}
                }
            }
            let now = Instant::now();
            let view = present(&catalog, lang, &rx.borrow_and_update().shown(now), now);
            let event = Event::default()
                .event("view")
                .json_data(&view)
                .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()));
            Some((Ok(event), (rx, false)))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn action(
    State(s): State<ScreenService>,
    body: Result<Json<CustomerAction>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(action) = match body {
        Ok(a) => a,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if let CustomerAction::EnterAccount { account } = &action {
        // The one rule for a typed account number, shared with scenario files.
        if let Err(e) = kiosk_hal::AccountNumber::parse(&account.0) {
            return refuse(StatusCode::BAD_REQUEST, &e.to_string());
        }
    }
    match s.actions.try_send(action) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(mpsc::error::TrySendError::Full(_)) => refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "the kiosk is busy: press again",
        ),
        Err(mpsc::error::TrySendError::Closed(_)) => {
            refuse(StatusCode::SERVICE_UNAVAILABLE, "the kiosk is not running")
        }
    }
}

async fn dismiss(State(s): State<ScreenService>) -> StatusCode {
    s.state.send_if_modified(ScreenState::dismiss);
    StatusCode::NO_CONTENT
}
