//! Supervised drivers with a deliberately panicking and a deliberately
//! hanging fake driver, on tokio's paused clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, ErrorKind, Money, NoteAtPowerUp,
    PaymentCode, PaymentReader, PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter,
};
use tokio::time::Instant;

use super::*;

/// What the fake driver does on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Works,
    Panics,
    Hangs,
}

/// A driver that works, panics or hangs as its shared mode says.
struct Fake {
    mode: Arc<Mutex<Mode>>,
}

impl Fake {
    async fn act<T>(&self, value: T) -> Result<T, DeviceError> {
        let mode = *self.mode.lock().unwrap();
        match mode {
            Mode::Works => Ok(value),
            Mode::Panics => panic!("deliberate driver panic"),
            Mode::Hangs => std::future::pending().await,
        }
    }
}

#[async_trait]
impl BillAcceptor for Fake {
    async fn enable(&mut self, _accepted: &[Money]) -> Result<(), DeviceError> {
        self.act(()).await
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.act(()).await
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        self.act(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None,
        })
        .await
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        self.act(()).await
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        self.act(()).await
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        self.act(AcceptorStatus::Inhibited).await
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.act(()).await
    }
}

#[async_trait]
impl ReceiptPrinter for Fake {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        self.act(PrinterStatus::Ready).await
    }
    async fn print(&mut self, _receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        self.act(PrintOutcome::Printed).await
    }
}

#[async_trait]
impl PaymentReader for Fake {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        Err(self
            .act(DeviceError::new(ErrorKind::Protocol, "no code"))
            .await?)
    }
    async fn check(&mut self) -> Result<(), DeviceError> {
        self.act(()).await
    }
}

/// The shared mode, the count of drivers made, and a factory for `T`.
struct Rig {
    mode: Arc<Mutex<Mode>>,
    made: Arc<AtomicU32>,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            mode: Arc::new(Mutex::new(Mode::Works)),
            made: Arc::new(AtomicU32::new(0)),
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn made(&self) -> u32 {
        self.made.load(Ordering::SeqCst)
    }

    fn factory<T: ?Sized + 'static>(&self, wrap: fn(Fake) -> Box<T>) -> DriverFactory<T> {
        let (mode, made) = (self.mode.clone(), self.made.clone());
        Box::new(move || {
            made.fetch_add(1, Ordering::SeqCst);
            Ok(wrap(Fake { mode: mode.clone() }))
        })
    }

    fn acceptor(&self) -> SupervisedAcceptor {
        SupervisedAcceptor::new(
            self.factory(|f| Box::new(f) as Box<dyn BillAcceptor>),
            SupervisorPolicy::default(),
        )
    }
}

fn failed_with(r: Result<impl std::fmt::Debug, DeviceError>, kind: ErrorKind, text: &str) {
    let e = r.expect_err("the call must fail");
    assert_eq!(e.kind(), kind, "{e}");
    assert!(e.message().contains(text), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_driver_is_dropped_and_restarted_after_the_backoff() {
    let rig = Rig::new();
    let mut a = rig.acceptor();
    assert_eq!(a.status().await.unwrap(), AcceptorStatus::Inhibited);
    assert_eq!(rig.made(), 1);

    rig.set(Mode::Panics);
    failed_with(
        a.status().await,
        ErrorKind::Offline,
        "driver task failed: panicked in status: deliberate driver panic",
    );
    assert_eq!(a.restarts(), 0);
    assert!(a.report().is_failed());

    // Within the backoff: refused at once, no new driver.
    rig.set(Mode::Works);
    failed_with(a.status().await, ErrorKind::Offline, "restart in 500 ms");
    assert_eq!(rig.made(), 1);

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(a.status().await.unwrap(), AcceptorStatus::Inhibited);
    assert_eq!(rig.made(), 2);
    assert_eq!(a.restarts(), 1);
    assert!(!a.report().is_failed());
    let events = a.take_events();
    assert_eq!(
        events,
        vec![
            SupervisorEvent {
                at_restart_count: 0,
                reason: "panicked in status: deliberate driver panic".into()
            },
            SupervisorEvent {
                at_restart_count: 1,
                reason: "restarted".into()
            },
        ]
    );
    assert!(a.take_events().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_hanging_call_fails_at_the_call_timeout() {
    let rig = Rig::new();
    let mut a = rig.acceptor();
    rig.set(Mode::Hangs);
    let start = Instant::now();
    failed_with(
        a.enable(&[]).await,
        ErrorKind::Offline,
        "hung in enable for 5000 ms",
    );
    assert_eq!(start.elapsed(), Duration::from_millis(5_000));
    rig.set(Mode::Works);
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.enable(&[]).await.unwrap();
    assert_eq!((rig.made(), a.restarts()), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn a_failed_stack_or_return_is_indeterminate_not_offline() {
    let rig = Rig::new();
    let mut a = rig.acceptor();
    rig.set(Mode::Panics);
    failed_with(
        a.stack().await,
        ErrorKind::Indeterminate,
        "panicked in stack",
    );
    rig.set(Mode::Hangs);
    tokio::time::sleep(Duration::from_millis(500)).await;
    failed_with(
        a.return_note().await,
        ErrorKind::Indeterminate,
        "hung in return_note",
    );
}

#[tokio::test(start_paused = true)]
async fn next_event_may_wait_forever_but_not_panic() {
    let rig = Rig::new();
    let mut a = rig.acceptor();
    rig.set(Mode::Hangs);
    let waited = tokio::time::timeout(Duration::from_secs(3_600), a.next_event()).await;
    assert!(
        waited.is_err(),
        "next_event is not cut short by the hang limit"
    );
    assert_eq!(a.restarts(), 0);
    assert!(a.take_events().is_empty());

    rig.set(Mode::Panics);
    failed_with(
        a.next_event().await,
        ErrorKind::Offline,
        "panicked in next_event",
    );
    // The next wait sits out the backoff, then restarts the driver.
    rig.set(Mode::Works);
    let start = Instant::now();
    assert!(a.next_event().await.is_ok());
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert_eq!(a.restarts(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_backoff_doubles_up_to_its_limit_while_restarts_fail() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let log = attempts.clone();
    let factory: DriverFactory<dyn BillAcceptor> = Box::new(move || {
        log.lock().unwrap().push(Instant::now());
        Err(DeviceError::new(ErrorKind::Offline, "port gone"))
    });
    let policy = SupervisorPolicy {
        restart_backoff_max_ms: 3_000,
        ..SupervisorPolicy::default()
    };
    let mut a = SupervisedAcceptor::new(factory, policy);
    failed_with(a.status().await, ErrorKind::Offline, "start failed");
    for _ in 0..5 {
        // next_event waits for each restart: no busy loop.
        failed_with(
            a.next_event().await,
            ErrorKind::Offline,
            "start failed: offline: port gone",
        );
    }
    let at = attempts.lock().unwrap();
    let gaps: Vec<u128> = at.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    assert_eq!(gaps, vec![500, 1_000, 2_000, 3_000, 3_000]);
    assert_eq!(a.restarts(), 0, "no restart succeeded");
    assert_eq!(a.take_events().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_factory_is_a_failed_restart() {
    let rig = Rig::new();
    let mut calls = 0;
    let factory: DriverFactory<dyn ReceiptPrinter> = Box::new(move || {
        calls += 1;
        if calls == 1 {
            panic!("factory exploded");
        }
        Ok(Box::new(Fake {
            mode: Arc::new(Mutex::new(Mode::Works)),
        }))
    });
    let mut p = SupervisedPrinter::new(factory, SupervisorPolicy::default());
    failed_with(p.status().await, ErrorKind::Offline, "factory panicked");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p.status().await.unwrap(), PrinterStatus::Ready);
    let _ = rig;
}

#[tokio::test(start_paused = true)]
async fn printer_and_reader_are_supervised_the_same_way() {
    let rig = Rig::new();
    let mut p = SupervisedPrinter::new(
        rig.factory(|f| Box::new(f) as Box<dyn ReceiptPrinter>),
        SupervisorPolicy::default(),
    );
    let mut r = SupervisedReader::new(
        rig.factory(|f| Box::new(f) as Box<dyn PaymentReader>),
        SupervisorPolicy::default(),
    );
    rig.set(Mode::Panics);
    let receipt = Receipt {
        reference: "K01-000001".into(),
        lines: vec![],
    };
    failed_with(
        p.print(&receipt).await,
        ErrorKind::Offline,
        "panicked in print",
    );
    failed_with(r.check().await, ErrorKind::Offline, "panicked in check");
    rig.set(Mode::Hangs);
    tokio::time::sleep(Duration::from_millis(500)).await;
    failed_with(r.check().await, ErrorKind::Offline, "hung in check");
    rig.set(Mode::Works);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p.print(&receipt).await.unwrap(), PrintOutcome::Printed);
    assert_eq!((p.restarts(), r.restarts()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn the_report_handle_outlives_boxing() {
    let rig = Rig::new();
    let a = rig.acceptor();
    let report = a.report();
    let mut boxed: Box<dyn BillAcceptor> = Box::new(a);
    rig.set(Mode::Panics);
    assert!(boxed.reset().await.is_err());
    rig.set(Mode::Works);
    tokio::time::sleep(Duration::from_millis(500)).await;
    boxed.reset().await.unwrap();
    assert_eq!(report.restarts(), 1);
    assert_eq!(report.take_events().len(), 2);
}
