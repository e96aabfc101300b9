//! The thin async shell: drives [`Session`]s over HAL devices.
//!
//! The runner owns the devices, the journal and the clock. It performs the
//! actions a session asks for, in order, and feeds their results back; it
//! retries pending payments with bounded backoff; it watches device health
//! between sessions; and on start it recovers whatever a crash left in the
//! journal. All decisions about money are the session's and the journal's:
//! the runner only moves data between them and the devices.
//!
//! Every `select!` here is `biased`, so a run on a paused tokio clock is
//! deterministic.

mod commands;
mod config;
mod health;
mod perform;
mod recovery;
mod retry;
mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kiosk_hal::{
    AcceptorEvent, AccountNumber, BillAcceptor, CashBox, ErrorKind, NetworkLink, PaymentMethod,
    PaymentReader, ReceiptPrinter,
};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::commands::StaffCommand;
use crate::events::{DeviceKind, KioskEvent, KioskObserver};
use crate::failover::FailoverHandle;
use crate::health::HealthMonitor;
use crate::ids::{Millis, SessionId};
use crate::journal::{Journal, JournalError};
use crate::machine::{Availability, NotePath, RetryPolicy, RetrySchedule};
use crate::screen::Screen;
use crate::session::{CustomerAction, Input, Session};
use crate::supervise::SupervisorReport;
use crate::tickets::{TicketBook, TicketKind};

pub use config::KioskConfig;

/// Where the kiosk gets the time. The core never reads a clock itself.
///
/// Kiosk time must be **monotonic**: deadlines (idle timeouts, retries,
/// escalation windows) are measured on it, so a wall clock stepped by NTP
/// or by hand must not fire every deadline at once or stall retries. It is
/// also written into journal rows and receipts, so it should read as wall
/// time: [`SystemClock`] does both by anchoring a monotonic clock to the
/// wall clock once, at start.
pub trait Clock: Send + Sync {
    /// Now, in kiosk milliseconds. Never goes backwards.
    fn now(&self) -> Millis;
}

/// The real clock: milliseconds since the Unix epoch as read once at
/// start, advanced by the OS's monotonic clock from then on.
///
/// A wall-clock step while the kiosk runs therefore moves neither its
/// deadlines nor its retries; records drift from the stepped wall clock by
/// the size of the step until the next start re-anchors.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    anchor_wall_ms: u64,
    anchor: std::time::Instant,
}

impl SystemClock {
    /// A clock anchored to the wall clock now.
    pub fn new() -> SystemClock {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        SystemClock {
            anchor_wall_ms: since.as_millis() as u64,
            anchor: std::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let elapsed = self.anchor.elapsed().as_millis() as u64;
        Millis(self.anchor_wall_ms.saturating_add(elapsed))
    }
}

/// The devices a kiosk drives. Any driver, real or virtual, behind the HAL traits.
pub struct Devices {
    /// The bill acceptor.
    pub acceptor: Box<dyn BillAcceptor>,
    /// The cash box behind it.
    pub cash_box: Box<dyn CashBox>,
    /// The receipt printer.
    pub printer: Box<dyn ReceiptPrinter>,
    /// The card / QR reader, if fitted.
    pub reader: Option<Box<dyn PaymentReader>>,
    /// The link to the backend.
    pub link: Box<dyn NetworkLink>,
}

/// A fatal error: the kiosk cannot go on safely and goes out of service.
#[derive(Debug)]
pub enum KioskError {
    /// The journal failed: no money event may be acknowledged without it.
    Journal(JournalError),
}

impl std::fmt::Display for KioskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KioskError::Journal(e) => write!(f, "kiosk out of service: {e}"),
        }
    }
}

impl std::error::Error for KioskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KioskError::Journal(e) => Some(e),
        }
    }
}

impl From<JournalError> for KioskError {
    fn from(e: JournalError) -> Self {
        KioskError::Journal(e)
    }
}

/// A kiosk: devices, journal, clock and the loop that serves customers.
pub struct Kiosk {
    config: KioskConfig,
    devices: Devices,
    journal: Journal,
    clock: Arc<dyn Clock>,
    observer: Box<dyn KioskObserver>,
    session_seq: u64,
    /// Pending payments and when to post each next (pure; see [`crate::machine::retry`]).
    retries: RetrySchedule,
    /// Faults, the link's reachability and staff's orders: what can be
    /// offered (pure; see [`crate::machine::availability`]).
    availability: Availability,
    /// The in-doubt note the acceptor's next report describes, if any
    /// (pure; see [`crate::machine::note_path`]). It never blocks payments.
    note_path: NotePath,
    /// The last session the journal holds: a note that reaches the box
    /// outside any session is journaled in doubt against it. Only a
    /// journaled session will do (the journal refuses a note of a session
    /// it does not know), so it is set when a session's start is journaled.
    last_session: Option<SessionId>,
    next_health_at: Millis,
    /// The screen shown last, so an unchanged idle screen is not re-sent.
    last_screen: Option<Screen>,
    /// The open clearing's two operators.
    clearing: Option<[String; 2]>,
    /// Staff and remote commands, read between sessions only.
    commands: Option<mpsc::Receiver<StaffCommand>>,
    /// Fault tickets.
    tickets: TicketBook,
    /// Transaction failure rate and link latency.
    health: HealthMonitor,
    /// The failover link's handle, if the link is one.
    failover: Option<FailoverHandle>,
    /// Supervised drivers' reports.
    supervisors: Vec<(DeviceKind, SupervisorReport)>,
    /// A journal error from a place that could not return it.
    deferred_error: Option<KioskError>,
    /// When the backend last answered (or failed to), for the idle heartbeat.
    last_link_call: Millis,
    /// When to try resetting a faulty acceptor next, and the current interval.
    reset_backoff: Option<(Millis, crate::machine::retry::Waits)>,
}

impl Kiosk {
    /// A kiosk over `devices`, journaling to `journal`.
    ///
    /// Nothing happens until [`Kiosk::run`] (or [`Kiosk::recover`]).
    pub fn new(
        config: KioskConfig,
        devices: Devices,
        journal: Journal,
        clock: Arc<dyn Clock>,
        observer: Box<dyn KioskObserver>,
    ) -> Kiosk {
        let tickets = TicketBook::new(
            config.kiosk_id.clone(),
            config.session.site.clone(),
            config.tickets.clone(),
        );
        let health = HealthMonitor::new(config.health.clone());
        let availability = Availability::new(devices.reader.is_some());
        let retry_policy = RetryPolicy {
            initial_ms: config.retry_initial_ms,
            max_ms: config.retry_max_ms,
        };
        Kiosk {
            tickets,
            health,
            failover: None,
            supervisors: Vec::new(),
            deferred_error: None,
            reset_backoff: None,
            config,
            devices,
            journal,
            clock,
            observer,
            session_seq: 0,
            retries: RetrySchedule::new(retry_policy),
            availability,
            note_path: NotePath::new(),
            last_session: None,
            next_health_at: Millis(0),
            last_link_call: Millis(0),

            last_screen: None,

            clearing: None,
            commands: None,
        }
    }

    /// Takes staff and remote commands from `commands`. They are performed
    /// between sessions only, never while a customer's money is in play.
    pub fn set_commands(&mut self, commands: mpsc::Receiver<StaffCommand>) {
        self.commands = Some(commands);
    }

    /// Gives the command channel back (before [`Kiosk::into_parts`], to hand
    /// it to the next kiosk after a restart).
    pub fn take_commands(&mut self) -> Option<mpsc::Receiver<StaffCommand>> {
        self.commands.take()
    }

    /// The journal (read it for reports and checks).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The configuration.
    pub fn config(&self) -> &KioskConfig {
        &self.config
    }

    /// Gives the devices and journal back (after [`Kiosk::run`] returned).
    pub fn into_parts(self) -> (Devices, Journal) {
        (self.devices, self.journal)
    }

    /// Devices currently faulty.
    pub fn faults(&self) -> &BTreeMap<DeviceKind, ErrorKind> {
        self.availability.faults()
    }

    /// Payment methods the kiosk can offer now, from device health.
    pub fn offered_methods(&self) -> Vec<PaymentMethod> {
        self.availability.offered()
    }

    /// Serves customers until `customers` closes. Recovers the journal first.
    ///
    /// Returns `Err` only for a journal failure: the kiosk must then stay
    /// out of service, because no money event could be made durable.
    pub async fn run(
        &mut self,
        customers: &mut mpsc::Receiver<CustomerAction>,
    ) -> Result<(), KioskError> {
        let span = tracing::info_span!("kiosk", kiosk = %self.config.kiosk_id);
        async {
            self.recover().await?;
            self.show_welcome();
            loop {
                self.take_deferred_error()?;
                let wake = self.next_wake();
                let sleep = sleep_until(self.clock.as_ref(), wake);
                tokio::select! {
                    biased;
                    event = self.devices.acceptor.next_event() => {
                        self.on_idle_acceptor(event).await?;
                        self.show_welcome();
                    }
                    action = customers.recv() => match action {
                        None => return Ok(()),
                        Some(CustomerAction::EnterAccount { .. })
                            if self.offered_methods().is_empty() =>
                        {
                            // Nothing can be paid here now: say so again
                            // rather than start a session that cannot end well.
                            self.last_screen = None;
                            self.show_welcome();
                        }
                        Some(CustomerAction::EnterAccount { account }) => {
                            self.serve(account, customers).await?;
                            self.retry_due().await?;
                            self.checkpoint_journal();
                            self.show_welcome();
                        }
                        Some(other) => {
                            tracing::debug!(?other, "customer action outside a session ignored");
                        }
                    },
                    command = next_command(&mut self.commands) => {
                        match command {
                            Some(c) => self.perform_command(c).await?,
                            None => self.commands = None,
                        }
                        self.show_welcome();
                    }
                    _ = sleep => {
                        self.retry_due().await?;
                        self.poll_watch()?;
                        if self.clock.now() >= self.next_health_at {
                            self.check_health().await;
                            self.show_welcome();
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    fn next_wake(&self) -> Millis {
        self.retries
            .next_deadline()
            .into_iter()
            .chain(self.tickets.next_deadline())
            .chain(self.health.next_deadline())
            .fold(self.next_health_at, Millis::min)
    }

    /// Moves the journal's write-ahead log into the main file between
    /// customers, never inside a money event's commit. A failed checkpoint
    /// loses nothing (every commit is already durable in the log) and is
    /// only logged; the journal checkpoints by itself as a backstop.
    fn checkpoint_journal(&mut self) {
        if let Err(e) = self.journal.checkpoint() {
            tracing::warn!(error = %e, "journal checkpoint between sessions failed");
        }
    }

    fn emit(&mut self, event: KioskEvent) {
        let now = self.clock.now();
        self.observer.on_event(now, &event);
    }

    fn show(&mut self, screen: Screen) {
        self.last_screen = Some(screen.clone());
        self.emit(KioskEvent::Screen { screen });
    }

    /// Shows the idle screen for the kiosk's current health, unless it is
    /// already showing.
    fn show_welcome(&mut self) {
        let screen = self.availability.idle_screen();
        if self.last_screen.as_ref() != Some(&screen) {
            self.show(screen);
        }
    }

    /// One customer session, start to end.
    async fn serve(
        &mut self,
        account: AccountNumber,
        customers: &mut mpsc::Receiver<CustomerAction>,
    ) -> Result<(), KioskError> {
        self.session_seq += 1;
        let id = SessionId::new(&self.config.kiosk_id, self.session_seq);
        let span = tracing::info_span!("session", kiosk = %self.config.kiosk_id, session = %id);
        async {
            let (mut session, actions) = Session::start(
                id,
                self.config.kiosk_id.clone(),
                account,
                self.offered_methods(),
                self.config.session.clone(),
            );
            let mut ctx = perform::SessionCtx::default();
            self.perform(&mut session, actions, &mut ctx).await?;
            let mut customers_open = true;
            while session.outcome().is_none() {
                let deadline = session.deadline();
                let input = {
                    let acceptor = &mut self.devices.acceptor;
                    let reader = &mut self.devices.reader;
                    let wants_acceptor = session.wants_acceptor_events();
                    let wants_code = session.wants_code() && reader.is_some();
                    let sleep =
                        sleep_until(self.clock.as_ref(), deadline.unwrap_or(Millis(u64::MAX)));
                    tokio::select! {
                        biased;
                        event = acceptor.next_event(), if wants_acceptor => Some(match event {
                            Ok(e) => Input::Acceptor(e),
                            Err(e) => Input::AcceptorFailed(e.kind()),
                        }),
                        code = read_code(reader), if wants_code => {
                            Some(Input::CodeRead(code.map_err(|e| e.kind())))
                        }
                        action = customers.recv(), if customers_open => Some(match action {
                            Some(a) => Input::Customer(a),
                            None => {
                                customers_open = false;
                                Input::Customer(CustomerAction::Cancel)
                            }
                        }),
                        _ = sleep, if deadline.is_some() => None,
                        // Nothing can move the session (checked below).
                        else => None,
                    }
                };
                if let Some(Input::Acceptor(e)) = &input {
                    self.emit(KioskEvent::Acceptor { acceptor: *e });
                    self.note_device_condition(e);
                    if matches!(e, AcceptorEvent::Stacked { .. })
                        && self.availability.fault_of(DeviceKind::CashBox) != Some(ErrorKind::Full)
                    {
                        self.check_cash_box().await;
                    }
                }
                if let Some(Input::AcceptorFailed(kind)) = &input {
                    self.fault_detected(DeviceKind::Acceptor, *kind);
                }
                // A report about the acceptor's path that is not about this
                // session's own escrowed note goes to the note path, after
                // the session has acted on it.
                let path_report = match &input {
                    Some(Input::Acceptor(
                        e @ (AcceptorEvent::PowerUp { .. } | AcceptorEvent::JamCleared { .. }),
                    )) if !session.claims_report(e) => Some(*e),
                    _ => None,
                };
                let now = self.clock.now();
                let actions = match input {
                    Some(i) => session.handle(i, now),
                    None => session.on_timeout(now),
                };
                self.perform(&mut session, actions, &mut ctx).await?;
                if let Some(report) = path_report {
                    let decision = self.note_path.on_report(&report);
                    self.apply_path_decision(decision)?;
                }
                if deadline.is_none()
                    && !session.wants_acceptor_events()
                    && !session.wants_code()
                    && !customers_open
                    && session.outcome().is_none()
                {
                    // Nothing can ever move this session again: it stays
                    // open in the journal, and recovery closes it as
                    // interrupted, crediting what it stacked.
                    break;
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    fn fault_detected(&mut self, device: DeviceKind, kind: ErrorKind) {
        if self.availability.fault(device, kind) {
            tracing::warn!(?device, %kind, "fault detected");
            self.emit(KioskEvent::FaultDetected { device, kind });
            let symptom = format!("{device:?} reports {kind}").to_lowercase();
            if let Err(e) = self.ticket_for(device, TicketKind::Device(kind), symptom) {
                self.deferred_error.get_or_insert(e);
            }
        }
    }

    fn fault_cleared(&mut self, device: DeviceKind) {
        if self.availability.cleared(device) {
            tracing::info!(?device, "fault cleared");
            self.emit(KioskEvent::FaultCleared { device });
            if let Err(e) = self.resolve_device_tickets(device) {
                self.deferred_error.get_or_insert(e);
            }
        }
    }

    /// A journal failure met where it could not be returned (in a health
    /// update): the loop stops with it at the next step.
    fn take_deferred_error(&mut self) -> Result<(), KioskError> {
        match self.deferred_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Whether an answer to an account check or heartbeat says the backend
/// cannot be reached at all.
pub(super) fn unreachable<T>(answer: &Result<T, ErrorKind>) -> bool {
    matches!(answer, Err(ErrorKind::Offline | ErrorKind::Timeout))
}

async fn next_command(commands: &mut Option<mpsc::Receiver<StaffCommand>>) -> Option<StaffCommand> {
    match commands {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn read_code(
    reader: &mut Option<Box<dyn PaymentReader>>,
) -> Result<kiosk_hal::PaymentCode, kiosk_hal::DeviceError> {
    match reader {
        Some(r) => r.read_code().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until kiosk time `at` (never, for `Millis(u64::MAX)`).
async fn sleep_until(clock: &dyn Clock, at: Millis) {
    if at.0 == u64::MAX {
        return std::future::pending().await;
    }
    let wait = at.since(clock.now());
    tokio::time::sleep(Duration::from_millis(wait)).await
}

/// Runs `f` with a timeout of `ms`, mapping both failures to an [`ErrorKind`].
async fn with_timeout<T>(
    ms: u64,
    f: impl std::future::Future<Output = Result<T, kiosk_hal::DeviceError>>,
) -> Result<T, ErrorKind> {
    match tokio::time::timeout(Duration::from_millis(ms), f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.kind()),
        Err(_) => Err(ErrorKind::Timeout),
    }
}

#[cfg(test)]
mod tests;
