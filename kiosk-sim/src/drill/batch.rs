//! Running many drills over many seeds, on every core, with ordered results.
//!
//! A batch is a [`Plan`]: every scenario over a range of seeds. The plan
//! makes each [`Job`] when it is due, so `--seeds 100000000000` costs no
//! memory up front; [`run_plan`] runs it a chunk at a time and hands each
//! result on in job order, so nothing holds every report either. A drill
//! that panics does not take the batch down: [`run_jobs`] catches the
//! panic and reports that run as failed, with the panic's message.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::report::{DrillReport, ExpectationResult, Timings};
use super::run::{run_drill, DrillError};
use super::scenario::Scenario;
use crate::cli_text::Msg;

/// The result of one drill run.
pub type JobResult = Result<DrillReport, DrillError>;

/// Called after each job with (done, total, its result).
pub type Progress<'a> = &'a (dyn Fn(u64, u64, &JobResult) + Sync);

/// What runs one job: [`run_drill`] in the command line, a stand-in in tests.
pub type Runner<'a> = &'a (dyn Fn(&Scenario, u64) -> JobResult + Sync);

/// How many jobs [`run_plan`] runs (and holds results for) at a time.
pub const CHUNK: usize = 4096;

/// One drill run to do.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The seed.
    pub seed: u64,
}

/// Every scenario over `seeds` seeds from `first_seed`, scenario by
/// scenario; jobs are made on demand ([`Plan::job`]).
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    scenarios: &'a [Scenario],
    first_seed: u64,
    seeds: u64,
    len: u64,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanError {
    /// `--seeds 0`: each drill must run at least once.
    NoSeeds,
    /// Scenarios × seeds does not fit a `u64` count of runs.
    TooManyRuns,
}

impl<'a> Plan<'a> {
    /// Plans `scenarios` over seeds `first_seed`, `first_seed + 1`, …
    /// (`seeds` of them, wrapping past `u64::MAX`).
    pub fn new(
        scenarios: &'a [Scenario],
        first_seed: u64,
        seeds: u64,
    ) -> Result<Plan<'a>, PlanError> {
        if seeds == 0 {
            return Err(PlanError::NoSeeds);
        }
        let len = (scenarios.len() as u64)
            .checked_mul(seeds)
            .ok_or(PlanError::TooManyRuns)?;
        Ok(Plan {
            scenarios,
            first_seed,
            seeds,
            len,
        })
    }

    /// How many runs: scenarios × seeds.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there is nothing to run (no scenarios).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seeds per scenario.
    pub fn seeds(&self) -> u64 {
        self.seeds
    }

    /// The `i`-th run: scenario `i / seeds` with seed `first_seed + i % seeds`.
    pub fn job(&self, i: u64) -> Job<'a> {
        debug_assert!(i < self.len, "job {i} of a plan of {}", self.len);
        Job {
            scenario: &self.scenarios[(i / self.seeds) as usize],
            seed: self.first_seed.wrapping_add(i % self.seeds),
        }
    }
}

/// Runs `plan` on up to `threads` threads, [`CHUNK`] jobs at a time, and
/// calls `each` with every job and its result in plan order.
pub fn run_plan(
    plan: &Plan<'_>,
    threads: usize,
    run: Runner<'_>,
    progress: Progress<'_>,
    mut each: impl FnMut(&Job<'_>, JobResult),
) {
    let mut start = 0u64;
    while start < plan.len() {
        let end = plan.len().min(start + CHUNK as u64);
        let jobs: Vec<Job<'_>> = (start..end).map(|i| plan.job(i)).collect();
        let offset = start;
        let chunk_progress =
            |done: u64, _: u64, r: &JobResult| progress(offset + done, plan.len(), r);
        let results = run_jobs_with(&jobs, threads, run, &chunk_progress);
        for (job, result) in jobs.iter().zip(results) {
            each(job, result);
        }
        start = end;
    }
}

/// Runs `jobs` with [`run_drill`] on up to `threads` threads; results come
/// back in job order, a panicking run as a failed report.
///
/// `progress` is called after each job with (done, total, the result).
pub fn run_jobs(jobs: &[Job<'_>], threads: usize, progress: Progress<'_>) -> Vec<JobResult> {
    run_jobs_with(jobs, threads, &run_drill, progress)
}

/// [`run_jobs`] with another runner.
pub fn run_jobs_with(
    jobs: &[Job<'_>],
    threads: usize,
    run: Runner<'_>,
    progress: Progress<'_>,
) -> Vec<JobResult> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<JobResult>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(jobs.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                // A run shares nothing with the others (its own runtime,
                // journal file and devices), so what a panic leaves half
                // done is dropped with it.
                let result = catch_unwind(AssertUnwindSafe(|| run(job.scenario, job.seed)))
                    .unwrap_or_else(|panic| Ok(panicked(job, panic_message(panic.as_ref()))));
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress(n as u64, jobs.len() as u64, &result);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(DrillError {
                    id: "?".into(),
                    message: "drill thread did not finish".into(),
                })
            })
        })
        .collect()
}

/// What a panic said: its `&str` or `String` payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// The report of a run that panicked: failed, with the panic's message.
///
/// The expectation's words are English like every other expectation (they
/// are part of the JSON report); the terminal report translates the frame.
pub fn panicked(job: &Job<'_>, message: String) -> DrillReport {
    DrillReport {
        id: job.scenario.id.clone(),
        title: job.scenario.title.clone(),
        title_zh: job.scenario.title_in(crate::cli_text::Lang::Zh).to_string(),
        seed: job.seed,
        passed: false,
        expectations: vec![ExpectationResult::in_both(
            |l| Msg::NoPanicExpectation.text(l).to_string(),
            false,
            |l| Msg::PanickedWith.fill(l, &[("message", &message)]),
        )],
        invariant: None,
        timings: Timings::default(),
        simulated_ms: 0,
        events: 0,
        trace_hash: "-".into(),
        detail: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli_text::Lang;

    fn scenario(id: &str) -> Scenario {
        Scenario::from_toml("t.toml", &format!("id = \"{id}\"\ntitle = \"t\"\n")).unwrap()
    }

    fn passing(s: &Scenario, seed: u64) -> DrillReport {
        let mut r = panicked(&Job { scenario: s, seed }, String::new());
        r.passed = true;
        r.expectations.clear();
        r
    }

    #[test]
    fn a_panicking_run_fails_alone_and_the_batch_goes_on() {
        let s = scenario("boom");
        let jobs: Vec<Job<'_>> = (1..=6).map(|seed| Job { scenario: &s, seed }).collect();
        let run = |s: &Scenario, seed: u64| -> JobResult {
            if seed == 3 {
                panic!("seed three explodes");
            }
            Ok(passing(s, seed))
        };
        let results = run_jobs_with(&jobs, 2, &run, &|_, _, _| {});
        assert_eq!(results.len(), 6);
        for (seed, r) in (1..=6).zip(&results) {
            let r = r.as_ref().expect("a report for every run");
            assert_eq!(r.seed, seed);
            assert_eq!(r.passed, seed != 3, "seed {seed}");
        }
        let failed = results[2].as_ref().unwrap();
        assert_eq!(failed.id, "boom");
        assert_eq!(
            failed.expectations[0].expectation,
            Msg::NoPanicExpectation.text(Lang::En)
        );
        assert_eq!(
            failed.expectations[0].observed_zh,
            "崩溃（panic）：seed three explodes"
        );
        assert_eq!(
            failed.expectations[0].observed,
            "panicked: seed three explodes"
        );
    }

    #[test]
    fn a_plan_makes_its_jobs_on_demand_in_order() {
        let scenarios = [scenario("a"), scenario("b")];
        let plan = Plan::new(&scenarios, 7, 100_000_000_000).unwrap();
        assert_eq!(plan.len(), 200_000_000_000);
        let last = plan.job(plan.len() - 1);
        assert_eq!(
            (last.scenario.id.as_str(), last.seed),
            ("b", 7 + 99_999_999_999)
        );
        let first_b = plan.job(100_000_000_000);
        assert_eq!((first_b.scenario.id.as_str(), first_b.seed), ("b", 7));
        assert_eq!(Plan::new(&scenarios, 1, 0).unwrap_err(), PlanError::NoSeeds);
        assert_eq!(
            Plan::new(&scenarios, 1, u64::MAX).unwrap_err(),
            PlanError::TooManyRuns
        );
    }

    #[test]
    fn run_plan_hands_on_every_result_in_order_across_chunks() {
        let scenarios = [scenario("a"), scenario("b")];
        let plan = Plan::new(&scenarios, 1, CHUNK as u64 + 3).unwrap();
        let run = |s: &Scenario, seed: u64| -> JobResult { Ok(passing(s, seed)) };
        let mut seen = Vec::new();
        let last_progress = std::sync::Mutex::new(0);
        run_plan(
            &plan,
            2,
            &run,
            &|done, total, _| {
                assert_eq!(total, plan.len());
                let mut last = last_progress.lock().unwrap();
                *last = (*last).max(done);
            },
            |job, r| seen.push((job.scenario.id.clone(), r.unwrap().seed)),
        );
        assert_eq!(seen.len() as u64, plan.len());
        assert_eq!(*last_progress.lock().unwrap(), plan.len());
        for (i, (id, seed)) in seen.iter().enumerate() {
            let job = plan.job(i as u64);
            assert_eq!((id, *seed), (&job.scenario.id, job.seed));
        }
    }
}
