//! [`FaultyLink`]: a network link that fails, slows down, loses answers or
//! garbles them according to a [`FaultPlan`].

use async_trait::async_trait;
use kiosk_hal::{
    AccountAnswer, AccountNumber, DeviceError, ErrorKind, NetworkLink, PaymentPosting,
    PostingAnswer,
};
use serde::{Deserialize, Serialize};

use super::{ConfigError, FaultLog, FaultPlan, FaultRule, LogSink};
use crate::clock::SimClock;
use crate::rng::SimRng;

/// Which link calls a [`LinkFault`] applies to (and which calls its
/// `nth-call` trigger counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkOp {
    /// Every call; `nth-call` counts lookups and postings together. The default.
    #[default]
    Any,
    /// Account lookups only; `nth-call` counts lookups.
    Lookup,
    /// Payment postings only; `nth-call` counts postings.
    Post,
}

fn default_fail_after_ms() -> u64 {
    1000
}

fn default_slow_latency_ms() -> u64 {
    3000
}

fn default_answer_timeout_ms() -> u64 {
    5000
}

/// What goes wrong on the link.
///
/// Serialised tagged by `type`, fields kebab-case, every field optional:
///
/// ```toml
/// fault = { type = "down" }                                 # fail-after-ms = 1000, on = "any"
/// fault = { type = "slow", latency-ms = 8000, on = "post" }
/// fault = { type = "lose-answer", timeout-ms = 5000, on = "post" }
/// fault = { type = "nonsense", on = "lookup" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum LinkFault {
    /// Backend unreachable: after `fail_after_ms` (a connect timeout) the
    /// call fails with [`ErrorKind::Offline`]. The request never reaches
    /// the backend.
    Down {
        /// How long the failed attempt takes. Default 1000.
        #[serde(default = "default_fail_after_ms")]
        fail_after_ms: u64,
        /// Which calls. Default `any`.
        #[serde(default)]
        on: LinkOp,
    },
    /// Extra latency: sleeps `latency_ms`, then delegates normally.
    Slow {
        /// The extra delay. Default 3000.
        #[serde(default = "default_slow_latency_ms")]
        latency_ms: u64,
        /// Which calls. Default `any`.
        #[serde(default)]
        on: LinkOp,
    },
    /// The request reaches the backend and is applied, but the answer is
    /// lost: the call fails with [`ErrorKind::Timeout`] once `timeout_ms`
    /// have passed since it started (the client's timeout).
    LoseAnswer {
        /// The client's timeout, counted from the start of the call. Default 5000.
        #[serde(default = "default_answer_timeout_ms")]
        timeout_ms: u64,
        /// Which calls. Default `any`.
        #[serde(default)]
        on: LinkOp,
    },
    /// The request reaches the backend **and is applied** (for a posting:
    /// the money is credited), but the answer is garbage: the call fails
    /// with [`ErrorKind::Protocol`]. This is the harsher of the two possible
    /// readings, and what the HAL contract demands the core survive: treat
    /// it like a lost answer and retry with the same key.
    Nonsense {
        /// Which calls. Default `any`.
        #[serde(default)]
        on: LinkOp,
    },
}

impl LinkFault {
    /// Which calls the fault applies to.
    pub fn on(&self) -> LinkOp {
        match self {
            LinkFault::Down { on, .. }
            | LinkFault::Slow { on, .. }
            | LinkFault::LoseAnswer { on, .. }
            | LinkFault::Nonsense { on } => *on,
        }
    }
}

/// A [`NetworkLink`] wrapper that injects [`LinkFault`]s into an inner link.
///
/// Before each call it consults its plan (with the call's 1-based index
/// among the calls the rule counts, see [`LinkOp`]) and then fails, delays,
/// loses or garbles as the fault says. Without a fault it delegates.
pub struct FaultyLink<L> {
    inner: L,
    plan: FaultPlan<LinkFault>,
    clock: SimClock,
    calls: u64,
    lookups: u64,
    posts: u64,
    log: LogSink,
}

impl<L: NetworkLink> FaultyLink<L> {
    /// Wraps `inner` with the planned `faults`, drawing probabilities from `rng`.
    pub fn new(
        inner: L,
        faults: Vec<FaultRule<LinkFault>>,
        clock: SimClock,
        rng: SimRng,
    ) -> Result<FaultyLink<L>, ConfigError> {
        Ok(FaultyLink {
            inner,
            plan: FaultPlan::new(faults, rng)?,
            clock,
            calls: 0,
            lookups: 0,
            posts: 0,
            log: LogSink::default(),
        })
    }

    /// Records every fault it injects in `log` under the name `device`.
    pub fn with_fault_log(mut self, log: FaultLog, device: &str) -> FaultyLink<L> {
        self.log = LogSink::new(log, device);
        self
    }

    /// The wrapped link.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// The wrapped link, mutably.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    fn fault_for(&mut self, op: LinkOp) -> Option<LinkFault> {
        self.calls += 1;
        let own = match op {
            LinkOp::Lookup => {
                self.lookups += 1;
                self.lookups
            }
            LinkOp::Post => {
                self.posts += 1;
                self.posts
            }
            LinkOp::Any => self.calls,
        };
        let calls = self.calls;
        let now = self.clock.now();
        let fault = self
            .plan
            .active_by(now, |rule| match rule.fault.on() {
                LinkOp::Any => Some(calls),
                wanted if wanted == op => Some(own),
                _ => None,
            })
            .cloned();
        if let Some(fault) = &fault {
            self.log.record(now, fault);
        }
        fault
    }
}

fn offline() -> DeviceError {
    DeviceError::new(
        ErrorKind::Offline,
        "backend unreachable (virtual link down)",
    )
}

fn lost() -> DeviceError {
    DeviceError::new(ErrorKind::Timeout, "no answer from backend (answer lost)")
}

fn nonsense() -> DeviceError {
    DeviceError::new(ErrorKind::Protocol, "backend answered nonsense")
}

#[async_trait]
impl<L: NetworkLink> NetworkLink for FaultyLink<L> {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        let started = self.clock.now();
        match self.fault_for(LinkOp::Lookup) {
            None => self.inner.lookup_account(account).await,
            Some(LinkFault::Down { fail_after_ms, .. }) => {
                self.clock.sleep_ms(fail_after_ms).await;
                Err(offline())
            }
            Some(LinkFault::Slow { latency_ms, .. }) => {
                self.clock.sleep_ms(latency_ms).await;
                self.inner.lookup_account(account).await
            }
            Some(LinkFault::LoseAnswer { timeout_ms, .. }) => {
                self.inner.lookup_account(account).await?;
                self.clock.sleep_until(started.plus_ms(timeout_ms)).await;
                Err(lost())
            }
            Some(LinkFault::Nonsense { .. }) => {
                self.inner.lookup_account(account).await?;
                Err(nonsense())
            }
        }
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        let started = self.clock.now();
        match self.fault_for(LinkOp::Post) {
            None => self.inner.post_payment(posting).await,
            Some(LinkFault::Down { fail_after_ms, .. }) => {
                self.clock.sleep_ms(fail_after_ms).await;
                Err(offline())
            }
            Some(LinkFault::Slow { latency_ms, .. }) => {
                self.clock.sleep_ms(latency_ms).await;
                self.inner.post_payment(posting).await
            }
            Some(LinkFault::LoseAnswer { timeout_ms, .. }) => {
                self.inner.post_payment(posting).await?;
                self.clock.sleep_until(started.plus_ms(timeout_ms)).await;
                Err(lost())
            }
            Some(LinkFault::Nonsense { .. }) => {
                self.inner.post_payment(posting).await?;
                Err(nonsense())
            }
        }
    }
}
