//! The seeded random explorer (TigerBeetle's VOPR is the model).
//!
//! A seed picks the fault *rates* and the workload shape ([`Rates`]), then
//! the customers (cash and QR, notes of every kind, confirming, cancelling,
//! walking away) and the faults at random instants: acceptor jams of known
//! and unknown fate, acceptor power cycles at any instant, fraud, offline
//! windows, cash-box removals and dual-control clearings, printer faults,
//! lost and garbled answers, link drops, accounts closed mid-payment (the
//! backend refuses), kiosk power losses and restarts, self-tests
//! ([`generate`]). The result is an ordinary drill [`Scenario`], run by the
//! drill runner on a real journal file with a [`Monitor`] that checks the
//! invariants after every kiosk event and at the end ([`checks`] lists them).
//!
//! A failing run prints its seed, its rates, the violations and one command
//! that replays it; [`shrink`](shrink::shrink) reduces it greedily to a
//! short scenario file that `kiosk-sim drill --file F --seed S` replays with
//! the same checks.
//!
//! Checks can be allowed by name (known bugs being fixed elsewhere): an
//! allowed check is still recorded and counted, it just does not fail the run.
//!
//! Speed: the journals go to `/dev/shm` when it exists, where a synced
//! commit costs little (the journal's durability is tested elsewhere, by
//! `tests/tests/recovery.rs`); runs are independent and spread over threads.

pub mod campaign;
pub mod checks;
pub mod generate;
pub mod monitor;
pub mod rates;
pub mod runner;
pub mod shrink;

use std::collections::BTreeSet;

pub use campaign::{Campaign, CampaignResult};
pub use checks::{Check, Violation};
pub use generate::{generate, Generated};
pub use monitor::{Monitor, PlantedBug};
pub use rates::Rates;
pub use runner::{run_scenario, run_seed, ExploreOptions, RunReport};

use crate::drill::report::{DrillReport, ExpectationResult, Timings};
use crate::drill::Scenario;

/// The command that replays `seed` with the same allowed checks.
pub fn replay_command(seed: u64, allow: &BTreeSet<Check>) -> String {
    let mut cmd = format!("kiosk-sim explore --seed {seed} --runs 1");
    for c in allow {
        cmd.push_str(&format!(" --allow {c}"));
    }
    cmd
}

/// A run's report as text: seed, rates, violations, replay command.
pub fn render_run(report: &RunReport, allow: &BTreeSet<Check>) -> String {
    let verdict = if report.failed(allow) { "FAIL" } else { "pass" };
    let mut s = format!(
        "{verdict}  seed {}  trace {}  ({} steps, {} ms simulated)\n",
        report.seed, report.trace_hash, report.steps, report.simulated_ms
    );
    if let Some(rates) = &report.rates {
        s.push_str(&format!("  rates: {rates}\n"));
    }
    for v in &report.violations {
        let mark = if allow.contains(&v.check) {
            "allowed"
        } else {
            "VIOLATION"
        };
        s.push_str(&format!("  {mark} {v}\n"));
    }
    if report.failed(allow) {
        s.push_str(&format!(
            "  replay with: {}\n",
            replay_command(report.seed, allow)
        ));
    }
    s
}

/// Runs a scenario whose `[expect]` asks for the explorer's checks, as a
/// drill: one expectation per check. Called by the drill runner.
pub fn drill_report(scenario: &Scenario, seed: u64) -> DrillReport {
    let allow: BTreeSet<Check> = scenario
        .expect
        .explorer_allow
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect();
    let options = ExploreOptions {
        allow: allow.clone(),
        ..ExploreOptions::default()
    };
    let report = run_scenario(scenario, seed, &options);
    let expectations: Vec<ExpectationResult> = Check::ALL
        .iter()
        .map(|check| {
            let violation = report.violations.iter().find(|v| v.check == *check);
            let allowed = allow.contains(check);
            ExpectationResult {
                expectation: format!(
                    "explorer check {check}{}: {}",
                    if allowed { " (allowed)" } else { "" },
                    check.definition()
                ),
                passed: allowed || violation.is_none(),
                observed: violation
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "held".into()),
            }
        })
        .collect();
    DrillReport {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        seed,
        passed: !report.failed(&allow),
        expectations,
        invariant: None,
        timings: Timings::default(),
        simulated_ms: report.simulated_ms,
        events: report.steps,
        trace_hash: report.trace_hash,
        detail: Some(
            "the money line is checked by the explorer checks above, after every step".into(),
        ),
    }
}
