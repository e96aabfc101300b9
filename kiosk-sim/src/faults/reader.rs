//! [`FaultyReader`]: a payment-code reader that goes offline or returns
//! garbage according to a [`FaultPlan`].

use async_trait::async_trait;
use kiosk_hal::{DeviceError, ErrorKind, PaymentCode, PaymentReader};
use serde::{Deserialize, Serialize};

use super::{ConfigError, FaultLog, FaultPlan, FaultRule, LogSink};
use crate::clock::SimClock;
use crate::rng::SimRng;

fn default_fail_after_ms() -> u64 {
    1000
}

/// What goes wrong with the reader.
///
/// ```toml
/// fault = { type = "offline" }                       # fail-after-ms = 1000
/// fault = { type = "offline", fail-after-ms = 2000 }
/// fault = { type = "garbage" }
/// ```
///
/// Triggers: `nth-call` counts `read_code` calls. `check` consults only
/// the timed (`at`, `between`) `offline` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum ReaderFault {
    /// The reader stops answering: the call fails with
    /// [`ErrorKind::Offline`] after `fail_after_ms` (the driver's answer
    /// timeout). A `read_code` already waiting when an offline window
    /// opens fails too. No presented code is consumed.
    Offline {
        /// How long the failing call takes. Default 1000.
        #[serde(default = "default_fail_after_ms")]
        fail_after_ms: u64,
    },
    /// The reader reads the presented code but returns garbage: the call
    /// fails with [`ErrorKind::Protocol`] and the code is consumed. The
    /// reader stays usable.
    Garbage {},
}

/// A [`PaymentReader`] wrapper that injects [`ReaderFault`]s.
pub struct FaultyReader<R> {
    inner: R,
    plan: FaultPlan<ReaderFault>,
    clock: SimClock,
    reads: u64,
    log: LogSink,
}

impl<R: PaymentReader> FaultyReader<R> {
    /// Wraps `inner` with the planned `faults`, drawing probabilities from `rng`.
    pub fn new(
        inner: R,
        faults: Vec<FaultRule<ReaderFault>>,
        clock: SimClock,
        rng: SimRng,
    ) -> Result<FaultyReader<R>, ConfigError> {
        Ok(FaultyReader {
            inner,
            plan: FaultPlan::new(faults, rng)?,
            clock,
            reads: 0,
            log: LogSink::default(),
        })
    }

    /// Records every fault it injects in `log` under the name `device`.
    pub fn with_fault_log(mut self, log: FaultLog, device: &str) -> FaultyReader<R> {
        self.log = LogSink::new(log, device);
        self
    }

    /// The wrapped reader.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably.
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The offline fault hitting now, if any (`timed_only` for checks and
    /// for windows opening while a read waits).
    fn offline_now(&mut self, index: u64, timed_only: bool) -> Option<u64> {
        let now = self.clock.now();
        let hit = self.plan.active_by(now, |rule| {
            let wanted = matches!(rule.fault, ReaderFault::Offline { .. })
                && (!timed_only || rule.trigger.is_timed());
            wanted.then_some(index)
        });
        match hit {
            Some(fault @ ReaderFault::Offline { fail_after_ms }) => {
                self.log.record(now, fault);
                Some(*fail_after_ms)
            }
            _ => None,
        }
    }
}

async fn fail_offline(clock: SimClock, fail_after_ms: u64) -> DeviceError {
    clock.sleep_ms(fail_after_ms).await;
    DeviceError::new(ErrorKind::Offline, "reader does not answer")
}

#[async_trait]
impl<R: PaymentReader> PaymentReader for FaultyReader<R> {
    /// Cancel safe: the inner read is cancel safe and a code is consumed
    /// only in the same step that returns it (or its garbage).
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        self.reads += 1;
        let index = self.reads;
        if let Some(ms) = self.offline_now(index, false) {
            return Err(fail_offline(self.clock, ms).await);
        }
        loop {
            let next = self.plan.next_start_after(self.clock.now(), |rule| {
                matches!(rule.fault, ReaderFault::Offline { .. }) && rule.trigger.is_timed()
            });
            let wake = self.clock.instant_at(next.unwrap_or_default());
            let read = tokio::select! {
                biased;
                read = self.inner.read_code() => Some(read),
                _ = tokio::time::sleep_until(wake), if next.is_some() => None,
            };
            match read {
                Some(Ok(code)) => {
                    let now = self.clock.now();
                    let garbage = self.plan.active_by(now, |rule| {
                        matches!(rule.fault, ReaderFault::Garbage {}).then_some(index)
                    });
                    if let Some(fault) = garbage {
                        self.log.record(now, fault);
                    }
                    let garbage = garbage.is_some();
                    return if garbage {
                        Err(DeviceError::new(
                            ErrorKind::Protocol,
                            "reader returned garbage instead of a code",
                        ))
                    } else {
                        Ok(code)
                    };
                }
                Some(Err(e)) => return Err(e),
                None => {
                    if let Some(ms) = self.offline_now(index, true) {
                        return Err(fail_offline(self.clock, ms).await);
                    }
                }
            }
        }
    }

    async fn check(&mut self) -> Result<(), DeviceError> {
        if let Some(ms) = self.offline_now(self.reads, true) {
            return Err(fail_offline(self.clock, ms).await);
        }
        self.inner.check().await
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        self.inner.identity().await
    }
}
