//! Running many drills over many seeds, on every core, with ordered results.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::report::DrillReport;
use super::run::{run_drill, DrillError};
use super::scenario::Scenario;

/// The result of one drill run.
pub type JobResult = Result<DrillReport, DrillError>;

/// Called after each job with (done, total, its result).
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &JobResult) + Sync);

/// One drill run to do.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The seed.
    pub seed: u64,
}

/// Runs `jobs` on up to `threads` threads; results come back in job order.
///
/// `progress` is called after each job with (done, total, the result).
pub fn run_jobs(jobs: &[Job<'_>], threads: usize, progress: Progress<'_>) -> Vec<JobResult> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<JobResult>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(jobs.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let result = run_drill(job.scenario, job.seed);
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress(n, jobs.len(), &result);
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
