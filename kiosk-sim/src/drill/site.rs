//! Site drills: the operations rows of the catalog that concern a whole
//! business hall (peak diversion, spare switchover, fault statistics), run on
//! the discrete-event site model in [`crate::fleet`].
//!
//! A site drill checks what its row asks — the diversion improvement against
//! the operators' 20% target, the spare taking over with a ticket, response
//! times against the 5-minute target — and determinism (two runs, one
//! digest). The site model drives the real payment `Session` for every
//! customer but journals no cash, so the money invariant is left to the
//! kiosk drills and reported as not modelled here.

use serde::{Deserialize, Serialize};

use super::report::{Detail, DrillReport, ExpectationResult, Timings};
use super::run::DrillError;
use super::scenario::Scenario;
use crate::cli_text::{Lang, Msg};
use crate::fleet::{compare_guidance, fault_statistics, spare_switchover, SwitchoverDrill};

/// Which site drill, with its settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    tag = "kind",
    deny_unknown_fields
)]
pub enum SiteDrill {
    /// Guided vs unguided customers over the same seeded arrivals.
    PeakDiversion {
        /// Least improvement of mean wait over the unguided baseline, percent
        /// (default 20, the operators' target).
        #[serde(default = "default_target_pct")]
        min_wait_improvement_pct: f64,
    },
    /// A kiosk fails; its queue is guided to the others and a spare.
    SpareSwitchover {
        /// Which kiosk fails, when and how.
        #[serde(default)]
        failure: SwitchoverDrill,
        /// Least improvement of mean wait after the failure, with spares
        /// against without, percent (default 20).
        #[serde(default = "default_target_pct")]
        min_after_wait_improvement_pct: f64,
    },
    /// A simulated period of faults and their handling.
    FaultStatistics {
        /// Days simulated (default 30).
        #[serde(default = "default_days")]
        days: u32,
        /// Least share of faults answered within the response target, percent (default 50).
        #[serde(default = "default_within_pct")]
        min_within_target_pct: f64,
    },
}

fn default_target_pct() -> f64 {
    20.0
}

fn default_days() -> u32 {
    30
}

fn default_within_pct() -> f64 {
    50.0
}

fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

/// Runs a site drill twice with `seed` and checks it.
pub fn run_site_drill(
    scenario: &Scenario,
    drill: &SiteDrill,
    seed: u64,
) -> Result<DrillReport, DrillError> {
    let config = &scenario.site;
    config.validate().map_err(|m| DrillError {
        id: scenario.id.clone(),
        message: format!("[site]: {m}"),
    })?;
    let mut expectations = Vec::new();
    let mut timings = Timings::default();
    let (digest, again, simulated_ms, events, text) = match drill {
        SiteDrill::PeakDiversion {
            min_wait_improvement_pct,
        } => {
            let r = compare_guidance(config, seed);
            let again = compare_guidance(config, seed);
            let improvement = r.improvement.mean_wait_pct;
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpGuidanceBetter.fill(l, &[("pct", &pct(*min_wait_improvement_pct))]),
                improvement >= *min_wait_improvement_pct,
                |l| {
                    Msg::ObsGuidanceBetter.fill(
                        l,
                        &[
                            ("wait", &pct(improvement)),
                            ("queue", &pct(r.improvement.mean_queue_len_pct)),
                            (
                                "vs_self",
                                &pct(r.improvement_vs_self_organised.mean_wait_pct),
                            ),
                        ],
                    )
                },
            ));
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpGuidanceNotWorse.text(l).to_string(),
                r.improvement_vs_self_organised.mean_wait_pct >= -5.0,
                |_| pct(r.improvement_vs_self_organised.mean_wait_pct),
            ));
            (
                r.guided.digest() ^ r.unguided.digest().rotate_left(1),
                again.guided.digest() ^ again.unguided.digest().rotate_left(1),
                r.guided.end_ms,
                r.guided.customers.arrived as usize,
                Detail {
                    zh: r.render_text_in(Lang::Zh),
                    en: r.render_text_in(Lang::En),
                },
            )
        }
        SiteDrill::SpareSwitchover {
            failure,
            min_after_wait_improvement_pct,
        } => {
            let r = spare_switchover(config, seed, failure);
            let again = spare_switchover(config, seed, failure);
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpTicketOpened.text(l).to_string(),
                r.ticket.is_some(),
                |l| match &r.ticket {
                    Some(t) => format!("{t:?}"),
                    None => Msg::ObsNoTicket.text(l).to_string(),
                },
            ));
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpSpareTakesOver.text(l).to_string(),
                r.switchover.is_some(),
                |_| format!("{:?}", r.switchover),
            ));
            expectations.push(ExpectationResult::in_both(
                |l| {
                    Msg::ExpSparesShorten.fill(l, &[("pct", &pct(*min_after_wait_improvement_pct))])
                },
                r.after_wait_improvement_pct >= *min_after_wait_improvement_pct,
                |l| {
                    Msg::ObsSparesShorten.fill(
                        l,
                        &[
                            ("pct", &pct(r.after_wait_improvement_pct)),
                            ("with", &format!("{:.1}", r.with_spares.after.wait_s.mean)),
                            (
                                "without",
                                &format!("{:.1}", r.without_spares.after.wait_s.mean),
                            ),
                        ],
                    )
                },
            ));
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpSparesKept.fill(l, &[("target", &r.spares_target)]),
                r.spares >= r.spares_target,
                |_| r.spares.to_string(),
            ));
            if let Some(t) = &r.ticket {
                timings.fault_at_ms = Some(t.started_ms);
                timings.detect_ms = Some(t.detected_ms.saturating_sub(t.started_ms));
                timings.fallback_ms = r
                    .switchover
                    .as_ref()
                    .and_then(|s| s.in_service_ms)
                    .map(|at| at.saturating_sub(t.detected_ms));
                timings.resolve_ms = t
                    .resolved
                    .then(|| t.resolved_ms.saturating_sub(t.detected_ms));
            }
            (
                r.with_spares.digest,
                again.with_spares.digest,
                86_400_000,
                (r.with_spares.before.arrived + r.with_spares.after.arrived) as usize,
                Detail {
                    zh: r.render_text_in(Lang::Zh),
                    en: r.render_text_in(Lang::En),
                },
            )
        }
        SiteDrill::FaultStatistics {
            days,
            min_within_target_pct,
        } => {
            let r = fault_statistics(config, seed, *days);
            let again = fault_statistics(config, seed, *days);
            let by_kind: u64 = r.by_kind.iter().map(|k| k.count).sum();
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpFaultsAddUp.text(l).to_string(),
                by_kind == r.total,
                |l| Msg::ObsFaultsAddUp.fill(l, &[("by_kind", &by_kind), ("total", &r.total)]),
            ));
            expectations.push(ExpectationResult::in_both(
                |l| Msg::ExpRespondedFirst.text(l).to_string(),
                r.response_s.count >= r.resolved,
                |l| {
                    Msg::ObsRespondedFirst.fill(
                        l,
                        &[
                            ("responded", &r.response_s.count),
                            ("resolved", &r.resolved),
                            ("open", &r.open_at_end),
                        ],
                    )
                },
            ));
            expectations.push(ExpectationResult::in_both(
                |l| {
                    Msg::ExpWithinTarget.fill(
                        l,
                        &[
                            ("pct", &pct(*min_within_target_pct)),
                            ("minutes", &format!("{:.0}", r.response_target_s / 60.0)),
                        ],
                    )
                },
                r.within_target_pct >= *min_within_target_pct,
                |l| {
                    Msg::ObsWithinTarget.fill(
                        l,
                        &[
                            ("pct", &pct(r.within_target_pct)),
                            ("response", &format!("{:.0}", r.response_s.mean)),
                            ("repair", &format!("{:.0}", r.repair_s.mean)),
                        ],
                    )
                },
            ));
            timings.detect_ms = Some((r.response_s.mean * 1000.0) as u64);
            timings.resolve_ms = Some((r.repair_s.mean * 1000.0) as u64);
            let digest = stable_hash(&r);
            (
                digest,
                stable_hash(&again),
                u64::from(*days) * 86_400_000,
                r.total as usize,
                Detail {
                    zh: r.render_text_in(Lang::Zh),
                    en: r.render_text_in(Lang::En),
                },
            )
        }
    };
    expectations.push(ExpectationResult::in_both(
        |l| Msg::ExpDeterministicDigest.text(l).to_string(),
        digest == again,
        |l| super::report::two_hashes(l, digest, again),
    ));
    let passed = expectations.iter().all(|e| e.passed);
    Ok(DrillReport {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        title_zh: scenario.title_in(crate::cli_text::Lang::Zh).to_string(),
        seed,
        passed,
        expectations,
        invariant: None,
        timings,
        simulated_ms,
        events,
        trace_hash: format!("{digest:016x}"),
        detail: Some(text),
    })
}

/// A hash of a report's JSON form.
fn stable_hash(value: &impl serde::Serialize) -> u64 {
    let mut h = super::trace::TraceHasher::default();
    h.write(serde_json::to_string(value).unwrap_or_default().as_bytes());
    h.finish()
}
