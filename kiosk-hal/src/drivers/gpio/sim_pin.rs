//! A simulated GPIO pin.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use tokio::sync::Notify;

/// A pin whose level a test (or another task) sets. Clones share the level.
#[derive(Debug, Clone, Default)]
pub struct SimPin {
    high: Arc<AtomicBool>,
    changed: Arc<Notify>,
}

impl SimPin {
    /// A pin at `high`.
    pub fn new(high: bool) -> SimPin {
        let pin = SimPin::default();
        pin.high.store(high, Ordering::SeqCst);
        pin
    }

    /// Sets the level (wakes every task waiting for an edge).
    pub fn set(&self, high: bool) {
        if self.high.swap(high, Ordering::SeqCst) != high {
            self.changed.notify_waiters();
        }
    }

    /// The level.
    pub fn level(&self) -> bool {
        self.high.load(Ordering::SeqCst)
    }

    async fn wait_until(&self, high: bool) {
        loop {
            let changed = self.changed.notified();
            if self.level() == high {
                return;
            }
            changed.await;
        }
    }

    async fn wait_change(&self) {
        self.changed.notified().await;
    }
}

impl ErrorType for SimPin {
    type Error = Infallible;
}

impl InputPin for SimPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.level())
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.level())
    }
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.set(true);
        Ok(())
    }
}

impl embedded_hal_async::digital::Wait for SimPin {
    async fn wait_for_high(&mut self) -> Result<(), Infallible> {
        self.wait_until(true).await;
        Ok(())
    }

    async fn wait_for_low(&mut self) -> Result<(), Infallible> {
        self.wait_until(false).await;
        Ok(())
    }

    async fn wait_for_rising_edge(&mut self) -> Result<(), Infallible> {
        self.wait_until(false).await;
        self.wait_until(true).await;
        Ok(())
    }

    async fn wait_for_falling_edge(&mut self) -> Result<(), Infallible> {
        self.wait_until(true).await;
        self.wait_until(false).await;
        Ok(())
    }

    async fn wait_for_any_edge(&mut self) -> Result<(), Infallible> {
        self.wait_change().await;
        Ok(())
    }
}
