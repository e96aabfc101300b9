//! Driver sabotage: makes a driver panic or hang once, at a time, so a drill
//! can check that the kiosk's supervisor notices and restarts it
//! (`module-failure`). It wraps any [`ReceiptPrinter`] or [`BillAcceptor`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use kiosk_core::Millis;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, Money, PrintOutcome, PrinterStatus,
    Receipt, ReceiptPrinter,
};
use serde::{Deserialize, Serialize};

use crate::clock::SimClock;

/// How the driver fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SabotageMode {
    /// The driver panics.
    Panic,
    /// The driver stops answering (its call never returns).
    Hang,
}

/// One planned driver failure, shared by every driver instance built for
/// the device, so it strikes once however often the driver is restarted.
#[derive(Debug, Clone)]
pub struct Sabotage {
    at: Millis,
    mode: SabotageMode,
    fired: Arc<AtomicBool>,
    clock: SimClock,
}

impl Sabotage {
    /// A failure of `mode` at the first call at or after `at`.
    pub fn new(at: Millis, mode: SabotageMode, clock: SimClock) -> Sabotage {
        Sabotage {
            at,
            mode,
            fired: Arc::new(AtomicBool::new(false)),
            clock,
        }
    }

    /// Strikes if due (once): panics, or never returns.
    async fn strike(&self, what: &str) {
        if self.clock.now() >= self.at && !self.fired.swap(true, Ordering::SeqCst) {
            match self.mode {
                SabotageMode::Panic => panic!("sabotaged driver panics in {what}"),
                SabotageMode::Hang => std::future::pending::<()>().await,
            }
        }
    }
}

/// A driver with a planned failure.
pub struct Sabotaged<D> {
    inner: D,
    sabotage: Sabotage,
}

impl<D> Sabotaged<D> {
    /// Wraps `inner`.
    pub fn new(inner: D, sabotage: Sabotage) -> Sabotaged<D> {
        Sabotaged { inner, sabotage }
    }
}

#[async_trait]
impl<P: ReceiptPrinter> ReceiptPrinter for Sabotaged<P> {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        self.sabotage.strike("status").await;
        self.inner.status().await
    }
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        self.sabotage.strike("print").await;
        self.inner.print(receipt).await
    }
    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        self.inner.identity().await
    }
}

#[async_trait]
impl<A: BillAcceptor> BillAcceptor for Sabotaged<A> {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        self.sabotage.strike("enable").await;
        self.inner.enable(accepted).await
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.inner.inhibit().await
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        self.inner.next_event().await
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        self.inner.stack().await
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        self.inner.return_note().await
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        self.sabotage.strike("status").await;
        self.inner.status().await
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.inner.reset().await
    }
    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        self.inner.identity().await
    }
}
