//! One explorer run: a scenario and a seed through the drill runner, with
//! the monitor checking after every step and at the end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kiosk_core::Millis;
use serde::Serialize;

use super::checks::{Check, Violation};
use super::generate::{generate, Generated};
use super::monitor::{Monitor, PlantedBug};
use super::rates::Rates;
use crate::drill::run::{run_once_with, RunOptions};
use crate::drill::trace::trace_hash;
use crate::drill::Scenario;

/// How the explorer runs.
#[derive(Debug, Clone, Default)]
pub struct ExploreOptions {
    /// Checks that do not fail a run (known bugs being fixed); they are
    /// still recorded and counted.
    pub allow: BTreeSet<Check>,
    /// Where journals go (default: `/dev/shm` if it exists, else the
    /// system's temporary directory).
    pub journal_dir: Option<PathBuf>,
    /// A bug planted on purpose (the explorer's own tests).
    pub planted: Option<PlantedBug>,
}

impl ExploreOptions {
    /// The journal directory to use: the configured one, else `/dev/shm`
    /// when it exists (a synced commit there is cheap; the journal's
    /// durability is tested elsewhere), else the default temporary directory.
    pub fn journal_dir(&self) -> Option<PathBuf> {
        self.journal_dir.clone().or_else(|| {
            let shm = PathBuf::from("/dev/shm");
            shm.is_dir().then_some(shm)
        })
    }
}

/// A new journal's bytes, made once per process for every run (see
/// [`crate::drill::run::RunOptions::journal_template`]); `None` when it
/// could not be made, and each run creates its journal as a kiosk would.
fn journal_template(dir: Option<&std::path::Path>) -> Option<std::sync::Arc<[u8]>> {
    static TEMPLATE: std::sync::OnceLock<Option<std::sync::Arc<[u8]>>> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| match crate::drill::run::new_journal_bytes(dir) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                tracing::warn!(error = %e, "explorer: each run creates its own journal");
                None
            }
        })
        .clone()
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// The rates the seed picked (`None` for a scenario file).
    pub rates: Option<Rates>,
    /// Every check that failed, allowed or not, first failure of each.
    pub violations: Vec<Violation>,
    /// Hash of the kiosk's event trace (hex); equal runs have equal hashes.
    pub trace_hash: String,
    /// Kiosk events (steps).
    pub steps: usize,
    /// Virtual time covered (ms).
    pub simulated_ms: u64,
}

impl RunReport {
    /// The violations of checks not in `allow`: what makes the run fail.
    pub fn failures<'a>(
        &'a self,
        allow: &'a BTreeSet<Check>,
    ) -> impl Iterator<Item = &'a Violation> {
        self.violations.iter().filter(|v| !allow.contains(&v.check))
    }

    /// Whether any check not in `allow` failed.
    pub fn failed(&self, allow: &BTreeSet<Check>) -> bool {
        self.failures(allow).next().is_some()
    }

    /// The checks that failed (allowed or not).
    pub fn checks(&self) -> BTreeSet<Check> {
        self.violations.iter().map(|v| v.check).collect()
    }
}

/// Generates the run for `seed` and runs it.
pub fn run_seed(seed: u64, options: &ExploreOptions) -> (Generated, RunReport) {
    let generated = generate(seed);
    let mut report = run_scenario(&generated.scenario, seed, options);
    report.rates = Some(generated.rates.clone());
    (generated, report)
}

/// Runs `scenario` with `seed`, checking after every step and at the end.
pub fn run_scenario(scenario: &Scenario, seed: u64, options: &ExploreOptions) -> RunReport {
    run_checked(scenario, seed, options).0
}

/// [`run_scenario`], also returning the drill run (unless the kiosk stopped).
pub fn run_checked(
    scenario: &Scenario,
    seed: u64,
    options: &ExploreOptions,
) -> (RunReport, Option<crate::drill::DrillRun>) {
    let monitor = Arc::new(Mutex::new(Monitor::new(scenario, options.planted)));
    let hook_monitor = Arc::clone(&monitor);
    let journal_dir = options.journal_dir();
    let run_options = RunOptions {
        journal_template: journal_template(journal_dir.as_deref()),
        journal_dir,
        on_step: Some(Box::new(move |view, at, event| {
            hook_monitor
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .on_step(view, at, event);
        })),
    };
    let result = run_once_with(scenario, seed, run_options);
    let lock = |m: &Arc<Mutex<Monitor>>| {
        let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, Monitor::new(scenario, None))
    };
    let mut monitor = lock(&monitor);
    let (hash, simulated_ms) = match &result {
        Ok(run) => {
            monitor.finish(run);
            (format!("{:016x}", trace_hash(&run.trace)), run.ended_at.0)
        }
        Err(e) => {
            monitor.fail(Check::KioskRuns, Millis(0), None, e.message.clone());
            ("-".into(), 0)
        }
    };
    let steps = monitor.steps();
    let report = RunReport {
        seed,
        rates: None,
        violations: monitor.into_violations().into_sorted(),
        trace_hash: hash,
        steps,
        simulated_ms,
    };
    (report, result.ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::run::{new_journal_bytes, run_once_with};
    use crate::drill::trace::trace_hash;

    /// A run that starts from the journal template is the run a kiosk
    /// creating its own journal makes: the same events, the same books.
    #[test]
    fn a_run_from_the_journal_template_is_the_run_from_a_new_journal() {
        let template = new_journal_bytes(None).unwrap();
        for seed in [1, 7, 42, 1000] {
            let scenario = crate::explore::generate::generate(seed).scenario;
            let run = |journal_template| {
                let options = RunOptions {
                    journal_template,
                    ..RunOptions::default()
                };
                let run = run_once_with(&scenario, seed, options).unwrap();
                let totals = run
                    .kiosk
                    .journal()
                    .cash_totals(scenario.backend.currency)
                    .unwrap();
                (trace_hash(&run.trace), run.trace.len(), totals)
            };
            let created = run(None);
            let copied = run(Some(template.clone()));
            assert!(created.1 > 0);
            assert_eq!(created, copied, "seed {seed}");
        }
    }
}
