//! The operator API (axum, HTTP/1, JSON): login, status, tickets, commands,
//! dual-control clearings, and `/metrics`.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /v1/login` | anyone | `{name, password}` → `{token, role, expires_in_s}` |
//! | `POST /v1/logout` | any login | ends the token |
//! | `GET /v1/status` | viewer | devices and faults, offered methods, screen, pending payments, notes in doubt, open tickets, clearing |
//! | `GET /v1/tickets` | viewer | open tickets with their times and escalation |
//! | `GET /v1/cash-counts` | viewer | the notes the journal expects in the cash box by denomination since the last clearing, and those in doubt (UnifiedPOS `ReadCashCounts`) |
//! | `POST /v1/commands` | operator | a `StaffCommand` as JSON (`{"type": "disable", "reason": "…"}`) |
//! | `GET /v1/clearing` | viewer | clearing steps waiting for their second person |
//! | `POST /v1/clearing/{id}/confirm` | operator | the second person confirms a clearing step |
//! | `GET /metrics` | anyone | Prometheus / OpenMetrics text |
//! | `POST /v1/customer` | (screen) | a `CustomerAction`, if `api.customer-actions` or `--simulate` |
//! | `GET /screen/` | (screen) | the customer's page (kiosk-screen), if `api.customer-actions` or `--simulate` |
//! | `POST /v1/sim/notes` | (demo) | `{value, counterfeit}`: a note into the simulated slot (`--simulate` only) |
//!
//! Every answer is JSON with `message_zh` and `message_en`. A request
//! without valid credentials is answered 401, a valid login whose role does
//! not allow the request 403; both are written to the audit log and sent
//! to the kiosk, which journals them as security events in its hash chain
//! and raises a security alarm. Every command reaches the kiosk with the
//! people who gave it (both, for a clearing) and is journaled with them
//! and its result.
//!
//! `begin-clearing` and `end-clearing` sent to `/v1/commands` are not sent
//! to the kiosk: they wait (202, with an id) until a second, different
//! person confirms them with their own login ([`crate::dual`]).

// A refusal is an early `Err(Response)`, axum's idiom; the 128-byte move
// happens only on the refusal path.
#![allow(clippy::result_large_err)]

mod reply;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use kiosk_core::{Clock, CustomerAction, Remote};
use kiosk_hal::Currency;
use kiosk_sim::crash::NoteSlot;
use tokio::sync::mpsc;

use crate::audit::AuditLog;
use crate::auth::{Staffing, Tokens};
use crate::dual::DualControl;
use crate::identity::Identities;
use crate::watch::Watch;

pub use reply::answer;

/// Where customer actions go until the service stops taking customers.
#[derive(Clone, Default)]
pub struct CustomerGate {
    tx: Arc<Mutex<Option<mpsc::Sender<CustomerAction>>>>,
}

impl CustomerGate {
    /// A gate in front of `tx` (the kiosk's customer channel).
    pub fn new(tx: mpsc::Sender<CustomerAction>) -> CustomerGate {
        CustomerGate {
            tx: Arc::new(Mutex::new(Some(tx))),
        }
    }

    /// The sender, while open.
    pub fn sender(&self) -> Option<mpsc::Sender<CustomerAction>> {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Closes the gate: once in-flight sends finish, the kiosk sees its
    /// customer channel close, ends the session in progress and returns.
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Everything the routes share.
#[derive(Clone)]
pub struct ApiState {
    /// The kiosk's id.
    pub kiosk_id: String,
    /// The configured staff.
    pub staffing: Arc<Staffing>,
    tokens: Arc<Mutex<Tokens>>,
    dual: Arc<Mutex<DualControl>>,
    /// The kiosk's events, as a view.
    pub watch: Watch,
    /// Commands to the kiosk with who gave them, and refusals to journal.
    pub commands: mpsc::Sender<Remote>,
    /// Customer actions, if the API takes them.
    pub customers: Option<CustomerGate>,
    /// The simulated note slot (`--simulate` only).
    pub slot: Option<NoteSlot>,
    /// The audit log.
    pub audit: AuditLog,
    /// The kiosk's clock (for the times of the API's own events).
    pub clock: Arc<dyn Clock>,
    /// How long a command's answer waits for the kiosk.
    pub command_wait: Duration,
    /// Each device's last reported identity.
    pub identities: Identities,
    /// The journal's file, read (read-only) for the cash counts.
    pub journal: PathBuf,
    /// The kiosk's currency.
    pub currency: Currency,
}

/// What [`ApiState::new`] needs.
pub struct ApiParts {
    /// The kiosk's id.
    pub kiosk_id: String,
    /// The configured staff.
    pub staffing: Staffing,
    /// How long a token lives.
    pub token_ttl: Duration,
    /// How long a clearing step waits for its second person.
    pub dual_control_window: Duration,
    /// The kiosk's events, as a view.
    pub watch: Watch,
    /// Commands to the kiosk with who gave them, and refusals to journal.
    pub commands: mpsc::Sender<Remote>,
    /// Customer actions, if the API takes them.
    pub customers: Option<CustomerGate>,
    /// The simulated note slot.
    pub slot: Option<NoteSlot>,
    /// The audit log.
    pub audit: AuditLog,
    /// The kiosk's clock.
    pub clock: Arc<dyn Clock>,
    /// How long a command's answer waits for the kiosk.
    pub command_wait: Duration,
    /// Each device's last reported identity.
    pub identities: Identities,
    /// The journal's file, read (read-only) for the cash counts.
    pub journal: PathBuf,
    /// The kiosk's currency.
    pub currency: Currency,
}

impl ApiState {
    /// The shared state of the routes.
    pub fn new(parts: ApiParts) -> ApiState {
        ApiState {
            kiosk_id: parts.kiosk_id,
            staffing: Arc::new(parts.staffing),
            tokens: Arc::new(Mutex::new(Tokens::new(parts.token_ttl))),
            dual: Arc::new(Mutex::new(DualControl::new(parts.dual_control_window))),
            watch: parts.watch,
            commands: parts.commands,
            customers: parts.customers,
            slot: parts.slot,
            audit: parts.audit,
            clock: parts.clock,
            command_wait: parts.command_wait,
            identities: parts.identities,
            journal: parts.journal,
            currency: parts.currency,
        }
    }

    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dual(&self) -> MutexGuard<'_, DualControl> {
        self.dual.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/login", post(routes::login))
        .route("/v1/logout", post(routes::logout))
        .route("/v1/status", get(routes::status))
        .route("/v1/tickets", get(routes::tickets))
        .route("/v1/cash-counts", get(routes::cash_counts))
        .route("/v1/commands", post(routes::command))
        .route("/v1/clearing", get(routes::clearing))
        .route("/v1/clearing/{id}/confirm", post(routes::confirm))
        .route("/v1/customer", post(routes::customer))
        .route("/v1/sim/notes", post(routes::sim_note))
        .route("/metrics", get(routes::metrics))
        .with_state(state)
}

/// Serves the API on `listener` until `stop` resolves, with the
/// customer's screen under `/screen/` when one is given.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    screen: Option<kiosk_screen::ScreenService>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut app = router(state);
    if let Some(screen) = screen {
        // As a service: `/screen/` reaches the page at its own `/`, so its
        // relative paths (`api/view`, `events`) resolve under `/screen/`.
        app = app.nest_service("/screen", kiosk_screen::router(screen));
    }
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}
