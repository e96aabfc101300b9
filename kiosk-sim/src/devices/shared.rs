//! The shell shared by the event-driven virtual devices.
//!
//! A device's state is a plain struct (a sans-IO machine) that knows its
//! next deadline and how to advance to a given time. Every access, from the
//! device or from a drill-side handle, first advances the machine to
//! "now", so whoever looks sees the device as if it had run continuously.
//! Waiting costs nothing: a waiter sleeps until the machine's next deadline
//! or until a handle changes the state, never on a polling timer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use kiosk_core::Millis;
use tokio::sync::Notify;

use crate::clock::SimClock;

/// A device state machine driven by virtual time.
pub(crate) trait Machine: Send + 'static {
    /// Processes everything due at or before `now`, in time order.
    fn advance(&mut self, now: Millis);
    /// When something is next due, if anything is.
    fn next_deadline(&self) -> Option<Millis>;
}

struct Inner<M> {
    state: Mutex<M>,
    changed: Notify,
    clock: SimClock,
    wakeups: AtomicU64,
}

/// A machine shared between a device and its handles.
pub(crate) struct Shared<M> {
    inner: Arc<Inner<M>>,
}

impl<M> Clone for Shared<M> {
    fn clone(&self) -> Self {
        Shared {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<M: Machine> Shared<M> {
    pub(crate) fn new(machine: M, clock: SimClock) -> Shared<M> {
        Shared {
            inner: Arc::new(Inner {
                state: Mutex::new(machine),
                changed: Notify::new(),
                clock,
                wakeups: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn clock(&self) -> &SimClock {
        &self.inner.clock
    }

    fn lock_at_now(&self) -> (MutexGuard<'_, M>, Millis) {
        let now = self.inner.clock.now();
        let mut m = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        m.advance(now);
        (m, now)
    }

    /// A callback that advances the machine to now, holding it only weakly
    /// (so a log holding it keeps no device alive).
    pub(crate) fn catch_up(&self) -> Box<dyn Fn() + Send + Sync> {
        let weak: Weak<Inner<M>> = Arc::downgrade(&self.inner);
        Box::new(move || {
            if let Some(inner) = weak.upgrade() {
                Shared { inner }.with(|_, _| ());
            }
        })
    }

    /// Runs `f` on the machine advanced to now, then wakes a waiter.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut M, Millis) -> R) -> R {
        let result = {
            let (mut m, now) = self.lock_at_now();
            f(&mut m, now)
        };
        self.inner.changed.notify_one();
        result
    }

    /// Waits until `take` returns something. Cancel safe: `take` runs
    /// without an await between it and the return, so dropping the future
    /// loses nothing.
    pub(crate) async fn wait_for<R>(&self, mut take: impl FnMut(&mut M, Millis) -> Option<R>) -> R {
        loop {
            let changed = self.inner.changed.notified();
            let deadline = {
                let (mut m, now) = self.lock_at_now();
                if let Some(r) = take(&mut m, now) {
                    return r;
                }
                m.next_deadline()
            };
            match deadline {
                Some(at) => {
                    let at = self.inner.clock.instant_at(at);
                    tokio::select! {
                        biased;
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => changed.await,
            }
            self.inner.wakeups.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many times a waiter woke up (tests use it to prove idleness is free).
    #[cfg(test)]
    pub(crate) fn wakeups(&self) -> u64 {
        self.inner.wakeups.load(Ordering::Relaxed)
    }
}
