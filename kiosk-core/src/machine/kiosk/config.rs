//! The kiosk's settings, every default documented.

use serde::{Deserialize, Serialize};

use crate::ids::KioskId;
use crate::session::SessionConfig;

/// Settings of a kiosk: its [`KioskMachine`](super::KioskMachine) and the
/// [`Kiosk`](crate::runner::Kiosk) that runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KioskConfig {
    /// This kiosk's id (default `"K01"`).
    pub kiosk_id: KioskId,
    /// Session settings (notes taken, timeouts).
    pub session: SessionConfig,
    /// Longest wait for an account check (default 10 000 ms).
    pub lookup_timeout_ms: u64,
    /// Longest wait for a posting's answer before it counts as lost (default 15 000 ms).
    pub post_timeout_ms: u64,
    /// Longest wait for a receipt to print (default 20 000 ms).
    pub print_timeout_ms: u64,
    /// First retry of a pending payment after this long (default 2 000 ms).
    pub retry_initial_ms: u64,
    /// Retries back off by doubling up to this interval (default 60 000 ms).
    pub retry_max_ms: u64,
    /// Device health is checked this often between sessions (default 2 000 ms).
    pub health_check_interval_ms: u64,
    /// After a restart that left a note possibly in the acceptor's path,
    /// cash is not offered until the acceptor has said where that note is
    /// (or that its path is empty), so that a late report about it cannot
    /// reach a new customer's session as that customer's own note; if the
    /// acceptor says nothing for this long, the note stays in doubt for
    /// staff, with an alarm, and cash is offered again: a note in doubt is
    /// never a lock (default 30 000 ms: an idle acceptor answers within two
    /// health checks).
    pub path_report_wait_ms: u64,
    /// An idle kiosk sends the backend a heartbeat when the link has not
    /// answered for this long, so a dead or slow link is seen before a
    /// customer tries to pay: within this interval plus one answer's time
    /// (default 1 000 ms, so a link answering in 4 s is called slow within
    /// 5 s; one small request a second per idle kiosk; 0 turns probing off).
    pub link_probe_interval_ms: u64,
    /// Longest wait for a heartbeat's answer (default 5 000 ms: longer than
    /// a slow but working backend takes, shorter than the account check).
    pub link_probe_timeout_ms: u64,
    /// The account the self-test looks up to prove the backend answers
    /// (default `"0"`; any answer, even "unknown account", passes).
    pub self_test_account: String,
    /// People who may open a clearing, two at a time (default none: no
    /// clearing can be opened until they are configured).
    pub authorised_operators: Vec<String>,
    /// Fault tickets: escalation window, severities.
    pub tickets: crate::tickets::TicketPolicy,
    /// Health monitoring: failure-rate window, link-slow thresholds.
    pub health: crate::health::HealthPolicy,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            kiosk_id: KioskId("K01".into()),
            session: SessionConfig::default(),
            lookup_timeout_ms: 10_000,
            post_timeout_ms: 15_000,
            print_timeout_ms: 20_000,
            retry_initial_ms: 2_000,
            retry_max_ms: 60_000,
            health_check_interval_ms: 2_000,
            path_report_wait_ms: 30_000,
            link_probe_interval_ms: 1_000,
            link_probe_timeout_ms: 5_000,
            self_test_account: "0".into(),
            authorised_operators: Vec::new(),
            tickets: crate::tickets::TicketPolicy::default(),
            health: crate::health::HealthPolicy::default(),
        }
    }
}
