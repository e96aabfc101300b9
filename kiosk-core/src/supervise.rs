//! Supervised drivers (`module-failure`): a driver that panics or hangs is
//! dropped and restarted from its factory; only its function degrades.
//!
//! [`SupervisedAcceptor`], [`SupervisedPrinter`] and [`SupervisedReader`]
//! implement their HAL trait over an inner driver made by a
//! [`DriverFactory`]. Every call runs under [`std::panic::catch_unwind`] and
//! (except the calls that legitimately wait for a customer:
//! [`BillAcceptor::next_event`], [`PaymentReader::read_code`]) a hang limit of
//! [`SupervisorPolicy::call_timeout_ms`].
//!
//! # When the driver fails
//!
//! A panic or hang **fails** the driver: the call returns an error with
//! message `"driver task failed: …"`, the inner driver is dropped, and the
//! next call makes a new one from the factory — not before a backoff of
//! `restart_backoff_ms`, doubling with each failure in a row up to
//! `restart_backoff_max_ms` (a call in that time fails at once, except
//! `next_event` / `read_code`, which wait it out). Each failure and restart
//! is reported as a [`SupervisorEvent`] through the [`SupervisorReport`]
//! handle, which the runner keeps after boxing the driver; events carry no
//! time: the runner timestamps what it takes.
//!
//! The error kind is [`ErrorKind::Offline`], except for the calls that move
//! a note — [`BillAcceptor::stack`] and [`BillAcceptor::return_note`] —
//! where it is [`ErrorKind::Indeterminate`]: the request may have reached
//! the device, so the note's fate is unknown and must be journaled in doubt.
//!
//! # Time and cancellation
//!
//! The hang limit and the backoff use tokio's timer (the runtime's clock,
//! virtual under a paused runtime in drills); nothing else reads a clock.
//! Dropping a call's future drops the inner driver's future: a call is as
//! cancel safe as the inner driver's.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::machine::retry::{RetryPolicy, Waits};

use async_trait::async_trait;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, DeviceIdentity, ErrorKind, Money,
    PaymentCode, PaymentReader, PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter,
};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The most events a [`SupervisorReport`] holds untaken; the oldest go first.
pub const EVENTS_MAX: usize = 64;

/// Makes a fresh driver (opens the port, resets the device). Called for the
/// first call and after every failure; it may block briefly.
pub type DriverFactory<T> = Box<dyn FnMut() -> Result<Box<T>, DeviceError> + Send>;

/// How a supervisor watches and restarts its driver. Every field has a
/// documented default (kebab-case keys, unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SupervisorPolicy {
    /// A call that has not finished after this long has hung (not applied to
    /// `next_event` and `read_code`). Default 5 000.
    pub call_timeout_ms: u64,
    /// The wait before the first restart after a failure. Default 500.
    pub restart_backoff_ms: u64,
    /// The longest wait between restarts (the backoff doubles up to it).
    /// Default 30 000.
    pub restart_backoff_max_ms: u64,
}

impl Default for SupervisorPolicy {
    fn default() -> Self {
        SupervisorPolicy {
            call_timeout_ms: 5_000,
            restart_backoff_ms: 500,
            restart_backoff_max_ms: 30_000,
        }
    }
}

/// A driver failure or restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorEvent {
    /// Restarts made so far, this one included if it is a restart.
    pub at_restart_count: u32,
    /// What happened (`"panicked in stack: …"`, `"hung in status for 5000 ms"`,
    /// `"restarted"`, `"restart failed: …"`).
    pub reason: String,
}

#[derive(Debug, Default)]
struct ReportState {
    restarts: u32,
    failed: bool,
    events: VecDeque<SupervisorEvent>,
}

/// A shared view of one supervisor, for the runner to keep after the driver
/// is boxed behind its trait. Cloning shares the same view.
#[derive(Debug, Clone, Default)]
pub struct SupervisorReport {
    state: Arc<Mutex<ReportState>>,
}

impl SupervisorReport {
    /// Restarts made so far (the first start does not count).
    pub fn restarts(&self) -> u32 {
        self.lock().restarts
    }

    /// Whether the driver is failed now (dropped, not yet restarted).
    pub fn is_failed(&self) -> bool {
        self.lock().failed
    }

    /// The events since the last call, oldest first (at most [`EVENTS_MAX`]).
    pub fn take_events(&self) -> Vec<SupervisorEvent> {
        self.lock().events.drain(..).collect()
    }

    fn push(&self, reason: String, restarted: bool, failed: bool) {
        let mut s = self.lock();
        if restarted {
            s.restarts = s.restarts.saturating_add(1);
        }
        s.failed = failed;
        if s.events.len() >= EVENTS_MAX {
            s.events.pop_front();
        }
        let at_restart_count = s.restarts;
        s.events.push_back(SupervisorEvent {
            at_restart_count,
            reason,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReportState> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How a guarded call ended.
enum Guarded<R> {
    Done(R),
    Panicked(String),
    Hung(u64),
}

/// The driver, its factory and its failure bookkeeping.
struct Supervisor<T: ?Sized> {
    factory: DriverFactory<T>,
    driver: Option<Box<T>>,
    policy: SupervisorPolicy,
    report: SupervisorReport,
    started: bool,
    /// Waits before each restart in a row (backon's exponential waits, no
    /// jitter); reset by a call that completes.
    restart_waits: Waits,
    retry_at: Option<Instant>,
}

impl<T: ?Sized> Supervisor<T> {
    fn new(factory: DriverFactory<T>, policy: SupervisorPolicy) -> Self {
        let restart_waits = restart_waits(&policy);
        Supervisor {
            factory,
            driver: None,
            policy,
            report: SupervisorReport::default(),
            started: false,
            restart_waits,
            retry_at: None,
        }
    }

    /// When the failed driver may be restarted, if it is failed.
    fn restart_at(&self) -> Option<Instant> {
        self.retry_at.filter(|_| self.driver.is_none())
    }

    /// The driver, made from the factory if there is none and the backoff
    /// has passed.
    fn driver(&mut self) -> Result<&mut Box<T>, DeviceError> {
        if self.driver.is_none() {
            let now = Instant::now();
            if let Some(at) = self.retry_at.filter(|at| *at > now) {
                let ms = at.duration_since(now).as_millis();
                return Err(offline(format!("driver failed, restart in {ms} ms")));
            }
            let made = catch_unwind(AssertUnwindSafe(&mut self.factory));
            match made {
                Ok(Ok(driver)) => {
                    self.driver = Some(driver);
                    self.retry_at = None;
                    if self.started {
                        self.report.push("restarted".into(), true, false);
                    }
                    self.started = true;
                }
                Ok(Err(e)) => {
                    let what = if self.started { "restart" } else { "start" };
                    return Err(offline(self.fail(format!("{what} failed: {e}"))));
                }
                Err(p) => {
                    let reason = format!("factory panicked: {}", panic_text(&*p));
                    return Err(offline(self.fail(reason)));
                }
            }
        }
        Ok(self.driver.as_mut().expect("driver was just made"))
    }

    /// The call's result, or the error for a failed driver.
    fn settle<R>(
        &mut self,
        out: Guarded<Result<R, DeviceError>>,
        call: &str,
        kind: ErrorKind,
    ) -> Result<R, DeviceError> {
        let reason = match out {
            Guarded::Done(result) => {
                self.restart_waits = restart_waits(&self.policy);
                return result;
            }
            Guarded::Panicked(msg) => format!("panicked in {call}: {msg}"),
            Guarded::Hung(ms) => format!("hung in {call} for {ms} ms"),
        };
        Err(DeviceError::new(kind, self.fail(reason)))
    }

    /// Drops the driver, schedules the restart, reports; the error message.
    fn fail(&mut self, reason: String) -> String {
        self.driver = None;
        let backoff_ms = self.restart_waits.next_ms();
        self.retry_at = Some(Instant::now() + Duration::from_millis(backoff_ms));
        tracing::warn!(%reason, backoff_ms, "supervised driver failed");
        let message = format!("driver task failed: {reason}");
        self.report.push(reason, false, true);
        message
    }
}

/// The restart waits under `policy`: `restart_backoff_ms`, doubling up to
/// `restart_backoff_max_ms`.
fn restart_waits(policy: &SupervisorPolicy) -> Waits {
    Waits::new(RetryPolicy {
        initial_ms: policy.restart_backoff_ms,
        max_ms: policy.restart_backoff_max_ms,
    })
}

fn offline(message: String) -> DeviceError {
    DeviceError::new(ErrorKind::Offline, message)
}

/// Runs `fut` catching panics and, with a limit, hangs.
async fn guard<F: Future + Unpin>(fut: F, limit_ms: Option<u64>) -> Guarded<F::Output> {
    let caught = CatchUnwind(fut);
    let out = match limit_ms {
        Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), caught).await {
            Ok(out) => out,
            Err(_) => return Guarded::Hung(ms),
        },
        None => caught.await,
    };
    match out {
        Ok(v) => Guarded::Done(v),
        Err(msg) => Guarded::Panicked(msg),
    }
}

/// A future that turns a panic while polling `F` into `Err(message)`.
///
/// Written out here (a dozen lines) rather than taken from `futures-util`,
/// whose `FutureExt::catch_unwind` does the same, to keep the core's
/// dependencies to what it already has.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_text(&*payload))),
        }
    }
}

/// A panic's message, if it has one.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// One supervised call, `$d` being the driver in `$body`: with the hang
/// limit, or (`waits`) a call that may wait forever, guarded against panics
/// only and sitting out the restart backoff first.
macro_rules! supervised {
    ($sup:expr, $call:literal, $kind:ident, $d:ident => $body:expr) => {{
        let limit = Some($sup.policy.call_timeout_ms);
        let $d = $sup.driver()?;
        let out = guard($body, limit).await;
        $sup.settle(out, $call, ErrorKind::$kind)
    }};
    (waits $sup:expr, $call:literal, $d:ident => $body:expr) => {{
        if let Some(at) = $sup.restart_at() {
            tokio::time::sleep_until(at).await;
        }
        let $d = $sup.driver()?;
        let out = guard($body, None).await;
        $sup.settle(out, $call, ErrorKind::Offline)
    }};
}

/// A supervised driver type over `dyn $trait`.
macro_rules! supervised_type {
    ($(#[$doc:meta])* $name:ident, $trait:ident) => {
        $(#[$doc])*
        pub struct $name {
            sup: Supervisor<dyn $trait>,
        }

        impl $name {
            /// A supervisor that makes its driver from `factory` at the first call.
            pub fn new(factory: DriverFactory<dyn $trait>, policy: SupervisorPolicy) -> Self {
                $name {
                    sup: Supervisor::new(factory, policy),
                }
            }

            /// Restarts made so far (the first start does not count).
            pub fn restarts(&self) -> u32 {
                self.sup.report.restarts()
            }

            /// Failures and restarts since the last call, oldest first.
            pub fn take_events(&mut self) -> Vec<SupervisorEvent> {
                self.sup.report.take_events()
            }

            /// A handle on the same report, to keep after boxing this driver.
            pub fn report(&self) -> SupervisorReport {
                self.sup.report.clone()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("running", &self.sup.driver.is_some())
                    .field("report", &self.sup.report)
                    .finish_non_exhaustive()
            }
        }
    };
}

supervised_type!(
    /// A [`BillAcceptor`] whose driver is restarted when it panics or hangs.
    SupervisedAcceptor,
    BillAcceptor
);
supervised_type!(
    /// A [`ReceiptPrinter`] whose driver is restarted when it panics or hangs.
    SupervisedPrinter,
    ReceiptPrinter
);
supervised_type!(
    /// A [`PaymentReader`] whose driver is restarted when it panics or hangs.
    SupervisedReader,
    PaymentReader
);

#[async_trait]
impl BillAcceptor for SupervisedAcceptor {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        supervised!(self.sup, "enable", Offline, d => d.enable(accepted))
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        supervised!(self.sup, "inhibit", Offline, d => d.inhibit())
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        supervised!(waits self.sup, "next_event", d => d.next_event())
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        supervised!(self.sup, "stack", Indeterminate, d => d.stack())
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        supervised!(self.sup, "return_note", Indeterminate, d => d.return_note())
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        supervised!(self.sup, "status", Offline, d => d.status())
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        supervised!(self.sup, "reset", Offline, d => d.reset())
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        supervised!(self.sup, "identity", Offline, d => d.identity())
    }
}

#[async_trait]
impl ReceiptPrinter for SupervisedPrinter {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        supervised!(self.sup, "status", Offline, d => d.status())
    }
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        supervised!(self.sup, "print", Offline, d => d.print(receipt))
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        supervised!(self.sup, "identity", Offline, d => d.identity())
    }
}

#[async_trait]
impl PaymentReader for SupervisedReader {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        supervised!(waits self.sup, "read_code", d => d.read_code())
    }
    async fn check(&mut self) -> Result<(), DeviceError> {
        supervised!(self.sup, "check", Offline, d => d.check())
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        supervised!(self.sup, "identity", Offline, d => d.identity())
    }
}

#[cfg(test)]
#[path = "supervise_tests.rs"]
mod tests;
