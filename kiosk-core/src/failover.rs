//! A backup link to the backend (`link-down`, `link-slow`).
//!
//! [`FailoverLink`] is a [`NetworkLink`] over a primary and an optional
//! backup link. It uses the primary until a call to it fails with
//! [`ErrorKind::Offline`] or [`ErrorKind::Timeout`] (or the runner calls
//! [`FailoverLink::switch_to_backup`], e.g. on sustained slowness), then the
//! backup; after [`FailoverPolicy::primary_retry_ms`] the next call tries the
//! primary again. Every switch is kept as a [`LinkSwitch`] for the runner to
//! report ([`FailoverLink::take_switches`]).
//!
//! The heartbeat goes the same way as a lookup (the active link's own
//! [`NetworkLink::heartbeat`], the other link after `Offline` or `Timeout`),
//! so a link with a real health endpoint keeps using it behind the
//! failover; [`NetworkLink::identity`] is the active link's, so the
//! operator status and the self-test name the backend that actually
//! carries the traffic ([`FailoverLink::active`] says which link that is).
//!
//! # The money rule
//!
//! A call that fails on the active link with `Offline` or `Timeout` is tried
//! once more, at once, on the other link, **with the same posting**: the
//! same [`IdempotencyKey`](kiosk_hal::IdempotencyKey). The first try may have
//! reached the backend and been applied; the backend applies a key at most
//! once and answers a repeat with the first answer, so the retry cannot
//! credit twice. A posting is never re-keyed here. If the other link fails
//! too, its error is returned and the caller keeps the payment pending, to
//! retry with the same key later. An answer (credited or refused) is final
//! and never retried; `Indeterminate` and `Protocol` errors are returned
//! without a switch (the link answered; the caller retries with the key).
//!
//! # Time and limits
//!
//! The link reads the kiosk [`Clock`] (virtual in drills) only to schedule
//! the primary's retry. Each try is cut off after
//! [`FailoverPolicy::attempt_timeout_ms`] (as [`ErrorKind::Timeout`]) so
//! that both tries fit in the runner's own lookup / post timeout; set it to
//! at most half of those. At most [`SWITCHES_MAX`] switches wait untaken.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_hal::{
    AccountAnswer, AccountNumber, DeviceError, DeviceIdentity, ErrorKind, NetworkLink,
    PaymentPosting, PostingAnswer,
};
use serde::{Deserialize, Serialize};

use crate::ids::Millis;
use crate::runner::Clock;

/// The most switches kept untaken; the oldest go first.
pub const SWITCHES_MAX: usize = 64;

/// Which link carries the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkChoice {
    /// The primary link.
    Primary,
    /// The backup link.
    Backup,
}

impl LinkChoice {
    fn other(self) -> LinkChoice {
        match self {
            LinkChoice::Primary => LinkChoice::Backup,
            LinkChoice::Backup => LinkChoice::Primary,
        }
    }
}

/// One change of the active link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSwitch {
    /// When (kiosk clock).
    pub at: Millis,
    /// The link left.
    pub from: LinkChoice,
    /// The link taken.
    pub to: LinkChoice,
    /// Why (`"primary offline: …"`, `"primary retry interval passed"`).
    pub reason: String,
}

/// How the failover link behaves. Every field has a documented default
/// (kebab-case keys, unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct FailoverPolicy {
    /// How long after leaving the primary the next call tries it again.
    /// Default 60 000.
    pub primary_retry_ms: u64,
    /// The longest one try on one link may take; past it the try counts as
    /// [`ErrorKind::Timeout`]. Default 4 500 (under half the runner's
    /// default 10 s lookup timeout).
    pub attempt_timeout_ms: u64,
}

impl Default for FailoverPolicy {
    fn default() -> Self {
        FailoverPolicy {
            primary_retry_ms: 60_000,
            attempt_timeout_ms: 4_500,
        }
    }
}

/// The state shared between the link and its [`FailoverHandle`]s.
#[derive(Debug)]
struct Shared {
    active: LinkChoice,
    has_backup: bool,
    primary_retry_at: Option<Millis>,
    switches: VecDeque<LinkSwitch>,
}

impl Shared {
    fn switch(&mut self, to: LinkChoice, at: Millis, reason: String, retry_ms: u64) -> bool {
        if to == self.active || (to == LinkChoice::Backup && !self.has_backup) {
            return false;
        }
        if to == LinkChoice::Backup {
            self.primary_retry_at = Some(at.plus_ms(retry_ms));
        }
        tracing::warn!(from = ?self.active, ?to, %reason, "link switch");
        if self.switches.len() >= SWITCHES_MAX {
            self.switches.pop_front();
        }
        self.switches.push_back(LinkSwitch {
            at,
            from: self.active,
            to,
            reason,
        });
        self.active = to;
        true
    }
}

/// A handle on a [`FailoverLink`] for the runner to keep after boxing it:
/// same state, same methods. Cloning shares it.
#[derive(Clone)]
pub struct FailoverHandle {
    shared: Arc<Mutex<Shared>>,
    clock: Arc<dyn Clock>,
    retry_ms: u64,
}

impl std::fmt::Debug for FailoverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverHandle")
            .field("state", &*self.lock())
            .field("retry_ms", &self.retry_ms)
            .finish_non_exhaustive()
    }
}

impl FailoverHandle {
    /// The link now carrying the traffic.
    pub fn active(&self) -> LinkChoice {
        self.lock().active
    }

    /// Moves to the backup now (the health monitor saw sustained slowness);
    /// the primary is tried again after the retry interval. `false` when
    /// there is no backup or it is active already.
    pub fn switch_to_backup(&self) -> bool {
        let now = self.clock.now();
        let reason = "switched on request (link slow)".to_string();
        self.lock()
            .switch(LinkChoice::Backup, now, reason, self.retry_ms)
    }

    /// The switches since the last call, oldest first.
    pub fn take_switches(&self) -> Vec<LinkSwitch> {
        self.lock().switches.drain(..).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A [`NetworkLink`] with a backup. See the [module docs](self).
pub struct FailoverLink {
    primary: Box<dyn NetworkLink>,
    backup: Option<Box<dyn NetworkLink>>,
    policy: FailoverPolicy,
    handle: FailoverHandle,
}

impl std::fmt::Debug for FailoverLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverLink")
            .field("has_backup", &self.backup.is_some())
            .field("policy", &self.policy)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl FailoverLink {
    /// Over `primary` and `backup` (none: the primary only, never switched),
    /// reading `clock` for the primary's retry.
    pub fn new(
        primary: Box<dyn NetworkLink>,
        backup: Option<Box<dyn NetworkLink>>,
        policy: FailoverPolicy,
        clock: Arc<dyn Clock>,
    ) -> FailoverLink {
        let shared = Shared {
            active: LinkChoice::Primary,
            has_backup: backup.is_some(),
            primary_retry_at: None,
            switches: VecDeque::new(),
        };
        let handle = FailoverHandle {
            shared: Arc::new(Mutex::new(shared)),
            clock,
            retry_ms: policy.primary_retry_ms,
        };
        FailoverLink {
            primary,
            backup,
            policy,
            handle,
        }
    }

    /// A handle on this link's state, to keep after boxing it.
    pub fn handle(&self) -> FailoverHandle {
        self.handle.clone()
    }

    /// The link now carrying the traffic.
    pub fn active(&self) -> LinkChoice {
        self.handle.active()
    }

    /// See [`FailoverHandle::switch_to_backup`].
    pub fn switch_to_backup(&self) -> bool {
        self.handle.switch_to_backup()
    }

    /// The switches since the last call, oldest first.
    pub fn take_switches(&self) -> Vec<LinkSwitch> {
        self.handle.take_switches()
    }

    /// The link to try first: back to the primary once its retry is due.
    fn choose(&self) -> LinkChoice {
        let now = self.handle.clock.now();
        let mut s = self.handle.lock();
        let due = s.primary_retry_at.is_some_and(|at| now >= at);
        if s.active == LinkChoice::Backup && due {
            s.primary_retry_at = None;
            let reason = "primary retry interval passed".to_string();
            s.switch(
                LinkChoice::Primary,
                now,
                reason,
                self.policy.primary_retry_ms,
            );
        }
        s.active
    }

    /// After `failed` gave `e`: switches to the other link if the error
    /// means the link is gone and that link exists; the link to retry on.
    fn after_failure(&self, failed: LinkChoice, e: &DeviceError) -> Option<LinkChoice> {
        if !matches!(e.kind(), ErrorKind::Offline | ErrorKind::Timeout) {
            return None;
        }
        let now = self.handle.clock.now();
        let mut s = self.handle.lock();
        let to = failed.other();
        let reason = format!("{failed:?} link {}: {}", e.kind(), e.message()).to_lowercase();
        match to {
            LinkChoice::Backup => s
                .switch(to, now, reason, self.policy.primary_retry_ms)
                .then_some(to),
            // The backup failed: the primary is not due yet (else it would
            // be active), so stay and let the caller retry later.
            LinkChoice::Primary => None,
        }
    }

    fn link(&mut self, which: LinkChoice) -> &mut dyn NetworkLink {
        match (which, self.backup.as_mut()) {
            (LinkChoice::Backup, Some(b)) => b.as_mut(),
            _ => self.primary.as_mut(),
        }
    }
}

/// `fut`, cut off after `ms` as a [`ErrorKind::Timeout`].
async fn bounded<T>(
    ms: u64,
    fut: impl Future<Output = Result<T, DeviceError>>,
) -> Result<T, DeviceError> {
    match tokio::time::timeout(Duration::from_millis(ms), fut).await {
        Ok(out) => out,
        Err(_) => Err(DeviceError::new(
            ErrorKind::Timeout,
            format!("no answer within {ms} ms"),
        )),
    }
}

#[async_trait]
impl NetworkLink for FailoverLink {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        let ms = self.policy.attempt_timeout_ms;
        let first = self.choose();
        let e = match bounded(ms, self.link(first).lookup_account(account)).await {
            Ok(answer) => return Ok(answer),
            Err(e) => e,
        };
        match self.after_failure(first, &e) {
            Some(next) => bounded(ms, self.link(next).lookup_account(account)).await,
            None => Err(e),
        }
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        let ms = self.policy.attempt_timeout_ms;
        let first = self.choose();
        let e = match bounded(ms, self.link(first).post_payment(posting)).await {
            Ok(answer) => return Ok(answer),
            Err(e) => e,
        };
        // Same posting, same key: safe to repeat on the other link.
        match self.after_failure(first, &e) {
            Some(next) => bounded(ms, self.link(next).post_payment(posting)).await,
            None => Err(e),
        }
    }

    /// The active link's own heartbeat (a health endpoint where it has
    /// one), on the other link after `Offline` or `Timeout` like a lookup.
    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        let ms = self.policy.attempt_timeout_ms;
        let first = self.choose();
        let e = match bounded(ms, self.link(first).heartbeat()).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        match self.after_failure(first, &e) {
            Some(next) => bounded(ms, self.link(next).heartbeat()).await,
            None => Err(e),
        }
    }

    /// The identity of the link carrying the traffic now. Reads the state
    /// without moving it: asking who answers never switches links (the
    /// primary's due retry waits for the next call).
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let active = self.active();
        self.link(active).identity().await
    }
}

#[cfg(test)]
#[path = "failover_tests.rs"]
mod tests;
