//! The thin async shell: performs what the [`KioskMachine`] decides.
//!
//! The runner owns the devices, the journal and the clock. It feeds the
//! machine what happened (device events, customer actions, staff commands,
//! timeouts), performs the machine's outputs in order (journal writes,
//! device and backend calls, events) and feeds their answers back. It makes
//! no decision of its own; a journal failure stops it, because no money
//! event may be acknowledged without the journal.
//!
//! Every `select!` here is `biased`, so a run on a paused tokio clock is
//! deterministic.

mod perform;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kiosk_hal::{
    BillAcceptor, CashBox, ErrorKind, NetworkLink, PaymentMethod, PaymentReader, ReceiptPrinter,
};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::commands::{Remote, StaffCommand};
use crate::events::{DeviceKind, KioskObserver};
use crate::failover::FailoverHandle;
use crate::ids::Millis;
use crate::journal::{Journal, JournalError};
use crate::machine::kiosk::Input;
use crate::machine::KioskMachine;
use crate::session::CustomerAction;
use crate::supervise::SupervisorReport;
use crate::tickets::TicketBook;

pub use crate::machine::KioskConfig;

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

/// Told how long each journal write took (a metrics exporter's hook: a
/// slow disk shows here before customers feel it). Reads are not timed.
pub trait JournalTimings: Send {
    /// One write of the journal (one synced commit) took `took`.
    fn write_took(&mut self, took: Duration);
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

/// A kiosk: devices, journal, clock, and the [`KioskMachine`] that decides.
pub struct Kiosk {
    machine: KioskMachine,
    devices: Devices,
    journal: Journal,
    clock: Arc<dyn Clock>,
    observer: Box<dyn KioskObserver>,
    /// Staff commands given on the kiosk, read between sessions only.
    commands: Option<mpsc::Receiver<StaffCommand>>,
    /// Authenticated commands and refusals from operations, read between
    /// sessions only.
    remote: Option<mpsc::Receiver<Remote>>,
    /// The failover link's handle, if the link is one.
    failover: Option<FailoverHandle>,
    /// Supervised drivers' reports.
    supervisors: Vec<(DeviceKind, SupervisorReport)>,
    /// Told how long each journal write took, if anyone asked.
    journal_timings: Option<Box<dyn JournalTimings>>,
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
        let machine = KioskMachine::new(config, devices.reader.is_some());
        Kiosk {
            machine,
            devices,
            journal,
            clock,
            observer,
            commands: None,
            remote: None,
            failover: None,
            supervisors: Vec::new(),
            journal_timings: None,
        }
    }

    /// Takes staff and remote commands from `commands`. They are performed
    /// between sessions only, never while a customer's money is in play.
    pub fn set_commands(&mut self, commands: mpsc::Receiver<StaffCommand>) {
        self.commands = Some(commands);
    }

    /// Takes commands from operations with who gave them, and requests
    /// they refused (journaled as security events). Performed between
    /// sessions only, like [`Kiosk::set_commands`].
    pub fn set_remote(&mut self, remote: mpsc::Receiver<Remote>) {
        self.remote = Some(remote);
    }

    /// Gives the command channel back (before [`Kiosk::into_parts`], to hand
    /// it to the next kiosk after a restart).
    pub fn take_commands(&mut self) -> Option<mpsc::Receiver<StaffCommand>> {
        self.commands.take()
    }

    /// Lets the kiosk switch the link to its backup when the machine sees
    /// sustained slowness, and report switches.
    pub fn set_failover(&mut self, handle: FailoverHandle) {
        self.failover = Some(handle);
        self.machine.set_failover(true);
    }

    /// Reports restarts of a supervised driver as events and faults.
    pub fn watch_supervisor(&mut self, device: DeviceKind, report: SupervisorReport) {
        self.supervisors.push((device, report));
        self.machine.set_supervised(true);
    }

    /// Reports how long each journal write takes (for metrics).
    pub fn set_journal_timings(&mut self, timings: Box<dyn JournalTimings>) {
        self.journal_timings = Some(timings);
    }

    /// The machine that decides (read its state for reports and checks).
    pub fn machine(&self) -> &KioskMachine {
        &self.machine
    }

    /// The journal (read it for reports and checks).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The configuration.
    pub fn config(&self) -> &KioskConfig {
        self.machine.config()
    }

    /// Gives the devices and journal back (after [`Kiosk::run`] returned).
    pub fn into_parts(self) -> (Devices, Journal) {
        (self.devices, self.journal)
    }

    /// Devices currently faulty.
    pub fn faults(&self) -> &BTreeMap<DeviceKind, ErrorKind> {
        self.machine.faults()
    }

    /// Payment methods the kiosk can offer now, from device health.
    pub fn offered_methods(&self) -> Vec<PaymentMethod> {
        self.machine.offered_methods()
    }

    /// The fault tickets (open and recently resolved).
    pub fn tickets(&self) -> &TicketBook {
        self.machine.tickets()
    }

    /// Number of payments waiting for a retry.
    pub fn pending_retries(&self) -> usize {
        self.machine.pending_retries()
    }

    /// Recovers what a crash or power loss left in the journal (see
    /// [`Input::Start`]); [`Kiosk::run`] does this first.
    pub async fn recover(&mut self) -> Result<(), KioskError> {
        self.feed(Input::Start).await
    }

    /// Serves customers until `customers` closes. Recovers the journal first.
    ///
    /// Returns `Err` only for a journal failure: the kiosk must then stay
    /// out of service, because no money event could be made durable.
    pub async fn run(
        &mut self,
        customers: &mut mpsc::Receiver<CustomerAction>,
    ) -> Result<(), KioskError> {
        let span = tracing::info_span!("kiosk", kiosk = %self.machine.config().kiosk_id);
        async {
            self.recover().await?;
            loop {
                if self.machine.finished() {
                    return Ok(());
                }
                let wants = self.machine.wants();
                let wake = self.machine.poll_timeout().unwrap_or(Millis(u64::MAX));
                let input = {
                    let acceptor = &mut self.devices.acceptor;
                    let reader = &mut self.devices.reader;
                    let commands = &mut self.commands;
                    let remote = &mut self.remote;
                    let sleep = sleep_until(self.clock.as_ref(), wake);
                    tokio::select! {
                        biased;
                        event = acceptor.next_event(), if wants.acceptor => {
                            Some(Input::Acceptor(event.map_err(|e| e.kind())))
                        }
                        code = read_code(reader), if wants.code => {
                            Some(Input::CodeRead(code.map_err(|e| e.kind())))
                        }
                        action = customers.recv(), if wants.customers => Some(match action {
                            Some(a) => Input::Customer(a),
                            None => Input::CustomersGone,
                        }),
                        command = next_command(commands), if wants.commands => match command {
                            Some(c) => Some(Input::Command(c)),
                            None => {
                                *commands = None;
                                continue;
                            }
                        },
                        message = next_command(remote), if wants.commands => match message {
                            Some(m) => Some(Input::Remote(m)),
                            None => {
                                *remote = None;
                                continue;
                            }
                        },
                        _ = sleep => None,
                    }
                };
                match input {
                    Some(input) => self.feed(input).await?,
                    None => {
                        let now = self.clock.now();
                        self.machine.handle_timeout(now);
                        self.drain().await?;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Gives the machine one input and performs what follows from it.
    async fn feed(&mut self, input: Input) -> Result<(), KioskError> {
        let now = self.clock.now();
        self.machine.handle(input, now);
        self.drain().await
    }

    /// Performs the machine's outputs in order, answering each that asks.
    async fn drain(&mut self) -> Result<(), KioskError> {
        let span = match self.machine.session_id() {
            Some(id) => tracing::info_span!("session", session = %id),
            None => tracing::Span::none(),
        };
        async {
            while let Some(output) = self.machine.poll_output() {
                if let Some(answer) = self.perform(output).await? {
                    let now = self.clock.now();
                    self.machine.handle(answer, now);
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}

async fn next_command<T>(commands: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
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

#[cfg(test)]
mod tests;
