//! Many runs over consecutive seeds, on several threads, with statistics:
//! which checks fire, at which rates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::checks::Check;
use super::runner::{run_seed, ExploreOptions, RunReport};

/// A batch of runs: seeds `first_seed .. first_seed + runs`.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The first seed.
    pub first_seed: u64,
    /// How many runs.
    pub runs: u64,
    /// Threads.
    pub jobs: usize,
    /// How each run runs.
    pub options: ExploreOptions,
    /// Show progress (runs done, runs/s, time left, failing runs) on stderr:
    /// a bar on a terminal, a plain line every 10 s otherwise.
    pub progress: bool,
    /// Keep at most this many failing reports (the first by seed).
    pub keep_failures: usize,
    /// Print every run's report (seed, rates, violations) to stdout as it finishes.
    pub print_every_run: bool,
    /// The language of the progress line.
    pub lang: crate::cli_text::Lang,
}

/// Runs and check firings grouped by one rate's value.
#[derive(Debug, Clone, Default)]
pub struct RateStats {
    /// Runs per (rate, value).
    pub runs: BTreeMap<(&'static str, String), u64>,
    /// Runs in which a check fired, per (check, rate, value).
    pub fired: BTreeMap<(Check, &'static str, String), u64>,
}

/// What a campaign found.
#[derive(Debug, Clone, Default)]
pub struct CampaignResult {
    /// Runs done.
    pub runs: u64,
    /// Runs that failed a check not allowed.
    pub failed: u64,
    /// The first failing reports by seed (at most `keep_failures`).
    pub failures: Vec<RunReport>,
    /// Runs in which each check fired (allowed or not).
    pub fired: BTreeMap<Check, u64>,
    /// Up to five seeds on which each check fired.
    pub seeds: BTreeMap<Check, Vec<u64>>,
    /// Firings by rate.
    pub stats: RateStats,
    /// Kiosk events checked, over all runs.
    pub steps: u64,
    /// Virtual time covered, over all runs (ms).
    pub simulated_ms: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl CampaignResult {
    fn add(&mut self, report: RunReport, allow: &BTreeSet<Check>, keep: usize) {
        self.runs += 1;
        self.steps += report.steps as u64;
        self.simulated_ms += report.simulated_ms;
        let checks = report.checks();
        if let Some(rates) = &report.rates {
            for (name, value) in rates.dims() {
                *self.stats.runs.entry((name, value.clone())).or_default() += 1;
                for c in &checks {
                    *self
                        .stats
                        .fired
                        .entry((*c, name, value.clone()))
                        .or_default() += 1;
                }
            }
        }
        for c in &checks {
            *self.fired.entry(*c).or_default() += 1;
            let seeds = self.seeds.entry(*c).or_default();
            if seeds.len() < 5 {
                seeds.push(report.seed);
            }
        }
        if report.failed(allow) {
            self.failed += 1;
            if self.failures.len() < keep {
                self.failures.push(report);
            }
        }
    }

    fn merge(&mut self, other: CampaignResult, keep: usize) {
        self.runs += other.runs;
        self.failed += other.failed;
        self.steps += other.steps;
        self.simulated_ms += other.simulated_ms;
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|r| r.seed);
        self.failures.truncate(keep);
        for (c, n) in other.fired {
            *self.fired.entry(c).or_default() += n;
        }
        for (c, seeds) in other.seeds {
            let mine = self.seeds.entry(c).or_default();
            mine.extend(seeds);
            mine.sort_unstable();
            mine.truncate(5);
        }
        for (k, n) in other.stats.runs {
            *self.stats.runs.entry(k).or_default() += n;
        }
        for (k, n) in other.stats.fired {
            *self.stats.fired.entry(k).or_default() += n;
        }
    }

    /// Runs per second of wall time.
    pub fn runs_per_second(&self) -> f64 {
        self.runs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// For each check that fired: how often, a few seeds, and for each rate
    /// the share of runs it fired in at each of the rate's values.
    pub fn render_stats(&self) -> String {
        let mut s = String::new();
        for (check, n) in &self.fired {
            let seeds: Vec<String> = self
                .seeds
                .get(check)
                .map(|v| v.iter().map(u64::to_string).collect())
                .unwrap_or_default();
            s.push_str(&format!(
                "{check}: fired in {n} of {} runs (seeds {})\n",
                self.runs,
                seeds.join(", ")
            ));
            let mut by_rate: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for ((name, value), runs) in &self.stats.runs {
                let fired = self
                    .stats
                    .fired
                    .get(&(*check, *name, value.clone()))
                    .copied()
                    .unwrap_or(0);
                by_rate.entry(name).or_default().push(format!(
                    "{value}: {fired}/{runs} ({:.0}%)",
                    100.0 * fired as f64 / (*runs).max(1) as f64
                ));
            }
            for (name, cells) in by_rate {
                s.push_str(&format!("    {name:<18} {}\n", cells.join("  ")));
            }
        }
        if self.fired.is_empty() {
            s.push_str("no check fired\n");
        }
        s
    }
}

impl Campaign {
    /// Runs the campaign.
    pub fn run(&self) -> CampaignResult {
        let started = Instant::now();
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let failed = AtomicU64::new(0);
        let total = Mutex::new(CampaignResult::default());
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.jobs.max(1))
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = CampaignResult::default();
                        loop {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            if i >= self.runs {
                                break;
                            }
                            let seed = self.first_seed.wrapping_add(i);
                            let (_, report) = run_seed(seed, &self.options);
                            if self.print_every_run {
                                print!("{}", super::render_run(&report, &self.options.allow));
                            }
                            if report.failed(&self.options.allow) {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                            mine.add(report, &self.options.allow, self.keep_failures);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        total
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .merge(mine, self.keep_failures);
                    })
                })
                .collect();
            // Progress on this thread while the workers run.
            let progress = self
                .progress
                .then(|| crate::progress::RunProgress::new(self.runs, "explore", self.lang));
            while !workers.iter().all(|w| w.is_finished()) {
                std::thread::sleep(Duration::from_millis(50));
                if let Some(p) = &progress {
                    let failing = failed.load(Ordering::Relaxed);
                    let note = crate::cli_text::Msg::ExploreFailing
                        .fill(self.lang, &[("failed", &failing)]);
                    p.set(done.load(Ordering::Relaxed), note);
                }
            }
            if let Some(p) = &progress {
                p.finish();
            }
        });
        let mut result = total.into_inner().unwrap_or_else(|p| p.into_inner());
        result.elapsed = started.elapsed();
        result
    }
}
