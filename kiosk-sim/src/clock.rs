//! The drill's virtual clock.
//!
//! A drill runs on a tokio current-thread runtime whose clock is paused
//! (`tokio::time::pause()` or `#[tokio::test(start_paused = true)]`): time
//! moves only when every task waits on a timer, and then jumps straight to
//! the next deadline. A drill of hours runs in milliseconds and one seed
//! gives one run.
//!
//! [`SimClock`] turns tokio's [`Instant`] into the [`Millis`] the core speaks:
//! milliseconds since the clock was created. It never reads `std::time`.

use kiosk_core::Millis;
use tokio::time::{Duration, Instant};

/// Milliseconds since the start of the drill, on tokio's (paused) clock.
///
/// Cheap to clone; every clone shares the same start instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimClock {
    start: Instant,
}

impl SimClock {
    /// A clock whose zero is tokio's `Instant::now()` at this call.
    pub fn new() -> SimClock {
        SimClock {
            start: Instant::now(),
        }
    }

    /// A clock whose zero is `start`.
    pub fn starting_at(start: Instant) -> SimClock {
        SimClock { start }
    }

    /// The instant this clock counts from.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Milliseconds elapsed since the start (rounded down).
    pub fn now(&self) -> Millis {
        let elapsed = Instant::now().saturating_duration_since(self.start);
        Millis(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    /// The tokio instant that is `at` on this clock.
    pub fn instant_at(&self, at: Millis) -> Instant {
        self.start + Duration::from_millis(at.0)
    }

    /// Sleeps until this clock reads `at` (returns at once if it already has).
    pub async fn sleep_until(&self, at: Millis) {
        tokio::time::sleep_until(self.instant_at(at)).await;
    }

    /// Sleeps for `ms` milliseconds of virtual time.
    pub async fn sleep_ms(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Default for SimClock {
    /// Same as [`SimClock::new`].
    fn default() -> SimClock {
        SimClock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn counts_virtual_milliseconds() {
        let clock = SimClock::new();
        assert_eq!(clock.now(), Millis(0));
        clock.sleep_until(Millis(1500)).await;
        assert_eq!(clock.now(), Millis(1500));
        clock.sleep_ms(250).await;
        assert_eq!(clock.now(), Millis(1750));
        // An hour passes instantly in virtual time.
        clock.sleep_until(Millis(3_600_000)).await;
        assert_eq!(clock.now(), Millis(3_600_000));
        assert_eq!(clock.instant_at(Millis(0)), clock.start());
    }
}
