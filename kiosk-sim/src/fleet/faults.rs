//! Fault kinds, their rates and handling, and the ticket each fault opens.
//!
//! Each kiosk in service has one fault process per kind: a Poisson process
//! in *opening* hours at the kind's rate per kiosk-hour (a kiosk is hardly
//! used at night and nobody would respond). The fault only breaks the
//! device; the kiosk machine detects it (its ticket book opens the ticket)
//! and operations' handling is drawn from that moment:
//!
//! ```text
//! start ─machine detects─► detected (ticket opened) ─operations-response─► responded
//!   responded ─remote-fix─► fixed                     (probability remote-fix-success)
//!   otherwise dispatched on site at min(remote attempt failed,
//!                                       detected + escalation-window)
//!   dispatched ─onsite-repair─► resolved
//! ```
//!
//! A kind with `remote-fix-success = 0` (a jam, paper out) is dispatched as
//! soon as operations respond. "Response time" is fault → responded, the
//! figure the operators' 5-minute target is about; "repair time" is fault →
//! resolved (the machine sees the device healthy and resolves its ticket).
//! A profile's `detection` is used only where the machine cannot detect:
//! a software crash (operations notice the silent kiosk) and physical
//! damage (staff notice it and report it to the kiosk). A kind already
//! active on a kiosk does not start again there (the draw is skipped and
//! counted as suppressed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::check_dist;
use super::dist::Dist;
use crate::rng::SimRng;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A note jams in the acceptor or stacker.
    BillJam,
    /// The bill acceptor stops answering.
    AcceptorOffline,
    /// The cash box is full.
    CashBoxFull,
    /// The receipt printer is out of paper.
    PrinterPaperOut,
    /// The receipt printer's paper or cutter is jammed.
    PrinterJam,
    /// The card / QR reader fails.
    ReaderFailure,
    /// The link to the billing backend is down.
    LinkDown,
    /// The kiosk software hangs or crashes (the screen is dead).
    KioskCrash,
    /// Staff report physical damage; the kiosk is put out of service.
    DeviceDamaged,
}

impl FaultKind {
    /// Every kind, in declaration order.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::BillJam,
        FaultKind::AcceptorOffline,
        FaultKind::CashBoxFull,
        FaultKind::PrinterPaperOut,
        FaultKind::PrinterJam,
        FaultKind::ReaderFailure,
        FaultKind::LinkDown,
        FaultKind::KioskCrash,
        FaultKind::DeviceDamaged,
    ];

    /// The kebab-case name used in TOML and reports.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::BillJam => "bill-jam",
            FaultKind::AcceptorOffline => "acceptor-offline",
            FaultKind::CashBoxFull => "cash-box-full",
            FaultKind::PrinterPaperOut => "printer-paper-out",
            FaultKind::PrinterJam => "printer-jam",
            FaultKind::ReaderFailure => "reader-failure",
            FaultKind::LinkDown => "link-down",
            FaultKind::KioskCrash => "kiosk-crash",
            FaultKind::DeviceDamaged => "device-damaged",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The default profile of this kind (see the table in [`FaultConfig`]).
    pub fn default_profile(&self) -> FaultProfile {
        let (rate_per_kiosk_hour, scope, detection, remote_fix_success, remote_fix, onsite_repair) =
            default_table(*self);
        FaultProfile {
            rate_per_kiosk_hour,
            scope,
            detection,
            remote_fix_success,
            remote_fix,
            onsite_repair,
        }
    }
}

/// (rate per kiosk-hour, scope, detection, remote fix success, remote fix, on-site repair).
type ProfileRow = (f64, FaultScope, Dist, f64, Dist, Dist);

#[rustfmt::skip]
fn default_table(kind: FaultKind) -> ProfileRow {
    use FaultScope::*;
    const fn min(m: u64) -> u64 { m * 60_000 }
    let none = Dist::fixed(0);
    match kind {
        FaultKind::BillJam =>         (0.02,   Cash,    Dist::erlang(5_000, 2),    0.0,  none,                    Dist::erlang(min(10), 2)),
        FaultKind::AcceptorOffline => (0.005,  Cash,    Dist::erlang(15_000, 2),   0.6,  Dist::erlang(min(3), 2), Dist::erlang(min(90), 2)),
        FaultKind::CashBoxFull =>     (0.003,  Cash,    Dist::erlang(2_000, 2),    0.0,  none,                    Dist::erlang(min(20), 3)),
        FaultKind::PrinterPaperOut => (0.01,   Receipt, Dist::erlang(5_000, 2),    0.0,  none,                    Dist::erlang(min(8), 2)),
        FaultKind::PrinterJam =>      (0.005,  Receipt, Dist::erlang(5_000, 2),    0.0,  none,                    Dist::erlang(min(15), 2)),
        FaultKind::ReaderFailure =>   (0.004,  Code,    Dist::erlang(30_000, 2),   0.4,  Dist::erlang(min(3), 2), Dist::erlang(min(120), 2)),
        FaultKind::LinkDown =>        (0.003,  Kiosk,   Dist::erlang(60_000, 2),   0.5,  Dist::erlang(min(5), 2), Dist::erlang(min(60), 2)),
        FaultKind::KioskCrash =>      (0.004,  Kiosk,   Dist::erlang(90_000, 2),   0.85, Dist::erlang(min(4), 3), Dist::erlang(min(60), 2)),
        FaultKind::DeviceDamaged =>   (0.0005, Kiosk,   Dist::erlang(min(10), 2),  0.0,  none,                    Dist::erlang(min(240), 2)),
    }
}

/// What a fault takes out of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultScope {
    /// The whole kiosk: its queue is sent elsewhere, a spare may be brought in.
    Kiosk,
    /// Cash only: cash customers are diverted, codes still taken.
    Cash,
    /// Codes only: code customers are diverted, cash still taken.
    Code,
    /// Receipts only: payments still complete, the receipt is kept for reprint.
    Receipt,
}

impl FaultScope {
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How one kind of fault happens and is handled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultProfile {
    /// Faults per kiosk-hour of opening time.
    pub rate_per_kiosk_hour: f64,
    /// What it takes out of service.
    pub scope: FaultScope,
    /// Fault → detected, where the kiosk machine cannot detect it itself:
    /// operations noticing a crashed kiosk, staff noticing damage. Every
    /// other kind is detected by the machine.
    pub detection: Dist,
    /// Chance the remote fix (restart, reset, failover) resolves it.
    pub remote_fix_success: f64,
    /// How long the remote fix attempt takes.
    pub remote_fix: Dist,
    /// Dispatch → resolved on site (site staff or a technician).
    pub onsite_repair: Dist,
}

/// Overrides of one kind's default profile; fields left out keep the kind's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultOverride {
    /// See [`FaultProfile::rate_per_kiosk_hour`].
    pub rate_per_kiosk_hour: Option<f64>,
    /// See [`FaultProfile::scope`].
    pub scope: Option<FaultScope>,
    /// See [`FaultProfile::detection`].
    pub detection: Option<Dist>,
    /// See [`FaultProfile::remote_fix_success`].
    pub remote_fix_success: Option<f64>,
    /// See [`FaultProfile::remote_fix`].
    pub remote_fix: Option<Dist>,
    /// See [`FaultProfile::onsite_repair`].
    pub onsite_repair: Option<Dist>,
}

/// Faults at the site and how operations handle them.
///
/// Default profiles (rate per kiosk-hour; scope; detection mean; remote fix
/// success / mean; on-site repair mean):
///
/// | kind | rate | scope | detect | remote | on site |
/// |---|---|---|---|---|---|
/// | bill-jam | 0.02 | cash | 5 s | — | 10 min |
/// | acceptor-offline | 0.005 | cash | 15 s | 0.6 / 3 min | 90 min |
/// | cash-box-full | 0.003 | cash | 2 s | — | 20 min |
/// | printer-paper-out | 0.01 | receipt | 5 s | — | 8 min |
/// | printer-jam | 0.005 | receipt | 5 s | — | 15 min |
/// | reader-failure | 0.004 | code | 30 s | 0.4 / 3 min | 120 min |
/// | link-down | 0.003 | kiosk | 60 s | 0.5 / 5 min | 60 min |
/// | kiosk-crash | 0.004 | kiosk | 90 s | 0.85 / 4 min | 60 min |
/// | device-damaged | 0.0005 | kiosk | 10 min | — | 240 min |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultConfig {
    /// Random faults happen at all (default true; drills that inject one
    /// fault turn them off).
    pub enabled: bool,
    /// Multiplies every kind's rate (default 1.0).
    pub rate_scale: f64,
    /// Detected → operations respond (acknowledge and act) (default mean 3 min, shape 2).
    pub operations_response: Dist,
    /// Detected → dispatched on site when remote recovery has not resolved
    /// it (default 1 800 000 ms = 30 min).
    pub escalation_window_ms: u64,
    /// The operators' response target (default 300 000 ms = 5 min).
    pub response_target_ms: u64,
    /// Per-kind overrides, keyed by kind: `[site.faults.kinds.bill-jam]`.
    pub kinds: BTreeMap<FaultKind, FaultOverride>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            enabled: true,
            rate_scale: 1.0,
            operations_response: Dist::erlang(180_000, 2),
            escalation_window_ms: 1_800_000,
            response_target_ms: 300_000,
            kinds: BTreeMap::new(),
        }
    }
}

impl FaultConfig {
    /// The profile of `kind`: its default with this config's override applied
    /// (the rate is not scaled here).
    pub fn profile(&self, kind: FaultKind) -> FaultProfile {
        let mut p = kind.default_profile();
        if let Some(o) = self.kinds.get(&kind) {
            p.rate_per_kiosk_hour = o.rate_per_kiosk_hour.unwrap_or(p.rate_per_kiosk_hour);
            p.scope = o.scope.unwrap_or(p.scope);
            p.detection = o.detection.unwrap_or(p.detection);
            p.remote_fix_success = o.remote_fix_success.unwrap_or(p.remote_fix_success);
            p.remote_fix = o.remote_fix.unwrap_or(p.remote_fix);
            p.onsite_repair = o.onsite_repair.unwrap_or(p.onsite_repair);
        }
        p
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(self.rate_scale.is_finite() && (0.0..=1000.0).contains(&self.rate_scale)) {
            return Err("faults.rate-scale must be 0..=1000".into());
        }
        check_dist(&self.operations_response, "faults.operations-response")?;
        for kind in FaultKind::ALL {
            let p = self.profile(kind);
            let name = format!("faults.kinds.{}", kind.name());
            if !(p.rate_per_kiosk_hour.is_finite()
                && (0.0..=100.0).contains(&p.rate_per_kiosk_hour))
            {
                return Err(format!("{name}.rate-per-kiosk-hour must be 0..=100"));
            }
            if !(0.0..=1.0).contains(&p.remote_fix_success) {
                return Err(format!("{name}.remote-fix-success must be 0..=1"));
            }
            for (what, d) in [
                ("detection", &p.detection),
                ("remote-fix", &p.remote_fix),
                ("onsite-repair", &p.onsite_repair),
            ] {
                check_dist(d, &format!("{name}.{what}"))?;
            }
        }
        Ok(())
    }
}

/// A fault and its ticket: opened when the kiosk machine detected the fault
/// (its ticket book opened a ticket for the device), or, for a crash of
/// the kiosk software, when operations noticed the kiosk had gone silent.
/// Operations' handling times are drawn from then.
///
/// Times are milliseconds since the start of the run (day 0, midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ticket {
    /// Ticket number at the site, from 1, in order of detection.
    pub id: u32,
    /// The kiosk.
    pub kiosk: String,
    /// What went wrong.
    pub kind: FaultKind,
    /// What it took out of service.
    pub scope: FaultScope,
    /// The kiosk machine's ticket number (its ticket book's), `None` for a
    /// crash: a dead kiosk cannot open a ticket, operations open it.
    pub machine_ticket: Option<u64>,
    /// When the fault happened.
    pub started_ms: u64,
    /// When it was detected and the ticket opened.
    pub detected_ms: u64,
    /// When operations responded (first action).
    pub responded_ms: u64,
    /// Whether a remote fix was tried.
    pub remote_fix_tried: bool,
    /// When it was dispatched on site, if it was.
    pub dispatched_ms: Option<u64>,
    /// When the kiosk machine saw the device healthy again and resolved its
    /// ticket (for a crash: when the restarted software had recovered);
    /// before that, when the repair is due (may be after the end of the run).
    pub resolved_ms: u64,
    /// Whether it was resolved by the end of the run.
    pub resolved: bool,
}

impl Ticket {
    /// Opens the ticket of a fault of `kind` that started at `start_ms` and
    /// was detected at `detected_ms`, and draws how operations handle it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open(
        id: u32,
        kiosk: String,
        kind: FaultKind,
        profile: &FaultProfile,
        config: &FaultConfig,
        start_ms: u64,
        detected_ms: u64,
        machine_ticket: Option<u64>,
        rng: &mut SimRng,
    ) -> Ticket {
        let responded_ms = detected_ms + config.operations_response.sample_ms(rng);
        let remote_fix_tried = profile.remote_fix_success > 0.0;
        let mut dispatched_ms = None;
        let resolved_ms = if remote_fix_tried {
            let remote_done_ms = responded_ms + profile.remote_fix.sample_ms(rng);
            if rng.chance(profile.remote_fix_success) {
                remote_done_ms
            } else {
                let at = remote_done_ms.min(detected_ms + config.escalation_window_ms);
                let at = at.max(responded_ms);
                dispatched_ms = Some(at);
                at + profile.onsite_repair.sample_ms(rng)
            }
        } else {
            dispatched_ms = Some(responded_ms);
            responded_ms + profile.onsite_repair.sample_ms(rng)
        };
        Ticket {
            id,
            kiosk,
            kind,
            scope: profile.scope,
            machine_ticket,
            started_ms: start_ms,
            detected_ms,
            responded_ms,
            remote_fix_tried,
            dispatched_ms,
            resolved_ms,
            resolved: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_keep_the_kinds_other_defaults() {
        let c: FaultConfig =
            toml::from_str("rate-scale = 2.0\n[kinds.bill-jam]\nrate-per-kiosk-hour = 0.1\n")
                .unwrap();
        let p = c.profile(FaultKind::BillJam);
        assert_eq!(p.rate_per_kiosk_hour, 0.1);
        assert_eq!(
            p.onsite_repair,
            FaultKind::BillJam.default_profile().onsite_repair
        );
        assert!(
            toml::from_str::<FaultConfig>("[kinds.meteor]\nrate-per-kiosk-hour = 1.0").is_err()
        );
        c.validate().unwrap();
    }

    #[test]
    fn ticket_times_are_ordered() {
        let config = FaultConfig::default();
        let mut rng = SimRng::new(9);
        for kind in FaultKind::ALL {
            for _ in 0..200 {
                let t = Ticket::open(
                    1,
                    "K".into(),
                    kind,
                    &config.profile(kind),
                    &config,
                    1_000,
                    1_500,
                    Some(1),
                    &mut rng,
                );
                assert!(t.started_ms <= t.detected_ms && t.detected_ms <= t.responded_ms);
                assert!(t.responded_ms <= t.resolved_ms);
                if let Some(d) = t.dispatched_ms {
                    assert!(t.responded_ms <= d && d <= t.resolved_ms);
                }
            }
        }
    }
}
