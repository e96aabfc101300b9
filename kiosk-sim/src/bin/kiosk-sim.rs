//! `kiosk-sim`: run contingency drills against a simulated kiosk.
//!
//! ```text
//! kiosk-sim drill --list
//! kiosk-sim drill printer-paper-out counterfeit-note --seed 7
//! kiosk-sim drill --all --seeds 20
//! kiosk-sim drill --file my-drill.toml --json
//! kiosk-sim drill --all --html report.html      # one page with timelines and charts
//! RUST_LOG=info kiosk-sim drill bill-jam      # with the kiosk's own log
//! kiosk-sim explore --runs 10000 --jobs 2       # random scenarios, checked every step
//! kiosk-sim explore --seed 42 --runs 1 --shrink failing.toml
//! kiosk-sim explore --runs 2000 --stats --allow key-conflict
//! ```
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiosk_sim::drill::batch::{run_jobs, Job};
use kiosk_sim::drill::catalog::BUILTIN_DRILLS;
use kiosk_sim::drill::{builtin, DrillReport, Scenario};

#[derive(Parser)]
#[command(
    name = "kiosk-sim",
    version,
    about = "Rehearse a payment kiosk's contingency plan in simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run contingency drills (a scenario plus a seed, in virtual time).
    Drill(DrillArgs),
    /// Kill a real kiosk process at random instants; check the money line.
    Crash(kiosk_sim::crash::cli::CrashArgs),
    /// Explore random scenarios: each seed picks fault rates, customers and
    /// faults; the money line and the other checks run after every step.
    Explore(ExploreArgs),
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// How many runs (seeds seed, seed+1, ...).
    #[arg(long, default_value_t = 1)]
    runs: u64,
    /// The first seed (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// A check that does not fail a run (a known bug); repeatable. See --list-checks.
    #[arg(long = "allow", value_name = "CHECK")]
    allow: Vec<kiosk_sim::explore::Check>,
    /// List the checks with their definitions and exit.
    #[arg(long)]
    list_checks: bool,
    /// Run this scenario file with the explorer's checks instead of generating one.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Shrink the first failing run and write it as a scenario file here.
    #[arg(long, value_name = "PATH")]
    shrink: Option<PathBuf>,
    /// Most runs to spend shrinking.
    #[arg(long, default_value_t = 400)]
    shrink_budget: u32,
    /// Print the generated scenario (TOML) of each seed before running it.
    #[arg(long)]
    print_scenario: bool,
    /// Print which checks fired at which rates.
    #[arg(long)]
    stats: bool,
    /// Print every run's report, not only failing ones.
    #[arg(long)]
    verbose: bool,
    /// Print the campaign result as JSON.
    #[arg(long)]
    json: bool,
    /// Where to put journal files (default /dev/shm if it exists: a synced
    /// commit there is cheap; the journal's durability is tested elsewhere).
    #[arg(long, value_name = "DIR")]
    journal_dir: Option<PathBuf>,
    /// Print at most this many failing runs.
    #[arg(long, default_value_t = 10)]
    show_failures: usize,
}

#[derive(clap::Args)]
struct DrillArgs {
    /// Drill ids to run (see --list).
    ids: Vec<String>,
    /// List the built-in drills and exit.
    #[arg(long)]
    list: bool,
    /// Run every built-in drill.
    #[arg(long)]
    all: bool,
    /// Also run drills from these scenario files.
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// The (first) seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run each drill over this many seeds: seed, seed+1, ...
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Print the reports as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the JSON reports to this file.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Also write one self-contained HTML report (timelines, charts) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print every kiosk event of each run with its simulated time.
    #[arg(long)]
    trace: bool,
    /// Threads to run drills on (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
}

fn main() -> ExitCode {
    // `RUST_LOG=info kiosk-sim drill …` shows the kiosk's own log, with
    // kiosk and session ids on every line; silent otherwise.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Drill(args) => drill(args),
        Command::Crash(args) => kiosk_sim::crash::cli::main(args),
        Command::Explore(args) => explore(args),
    }
}

fn drill(args: DrillArgs) -> ExitCode {
    if args.list {
        println!("{:<26} TITLE", "ID");
        for d in BUILTIN_DRILLS {
            let title = builtin(d.id)
                .map(|s| s.title)
                .unwrap_or_else(|e| e.to_string());
            println!("{:<26} {title}", d.id);
        }
        return ExitCode::SUCCESS;
    }
    let mut scenarios = Vec::new();
    let ids: Vec<String> = if args.all {
        BUILTIN_DRILLS.iter().map(|d| d.id.to_string()).collect()
    } else {
        args.ids.clone()
    };
    for id in &ids {
        match builtin(id) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    for path in &args.files {
        match Scenario::from_file(path) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if scenarios.is_empty() {
        eprintln!("error: name drills to run, or --all, or --file PATH; --list shows the ids");
        return ExitCode::from(2);
    }
    let seeds = args.seeds.max(1);
    if args.trace {
        for s in &scenarios {
            for i in 0..seeds {
                let seed = args.seed.wrapping_add(i);
                match kiosk_sim::drill::run_once(s, seed) {
                    Ok(run) => {
                        println!("trace of {} with seed {seed}:", s.id);
                        for e in &run.trace {
                            println!(
                                "  {:>10} {}",
                                e.at.to_string(),
                                kiosk_sim::drill::trace::event_json(&e.event)
                            );
                        }
                    }
                    Err(e) => eprintln!("error: {e}"),
                }
            }
        }
    }
    let jobs: Vec<Job<'_>> = scenarios
        .iter()
        .flat_map(|s| {
            (0..seeds).map(move |i| Job {
                scenario: s,
                seed: args.seed.wrapping_add(i),
            })
        })
        .collect();
    let threads = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = std::time::Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize, r: &Result<DrillReport, _>| {
        if show_progress {
            let width = 30;
            let filled = done * width / total.max(1);
            let (id, verdict) = match r {
                Ok(rep) => (rep.id.as_str(), if rep.passed { "pass" } else { "FAIL" }),
                Err(_) => ("?", "error"),
            };
            eprint!(
                "\r[{}{}] {done}/{total} {id} {verdict}            ",
                "#".repeat(filled),
                ".".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        }
    };
    let results = run_jobs(&jobs, threads, &progress);
    if show_progress {
        eprintln!();
    }
    let wall = started.elapsed();
    if let Some(path) = &args.html {
        if let Err(code) = write_html(path, &jobs, &results) {
            return code;
        }
    }

    let mut reports = Vec::new();
    let mut failed = 0usize;
    for r in results {
        match r {
            Ok(rep) => {
                if !rep.passed {
                    failed += 1;
                }
                reports.push(rep);
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&reports).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        // Full reports for failures, and for every run when there is one seed.
        for rep in &reports {
            if seeds == 1 || !rep.passed {
                print!("{}", rep.render_text());
            }
        }
        print_summary(&reports, seeds);
        println!(
            "{} drill runs ({} drills x {} seeds) in {:.1}s wall time: {} passed, {} failed",
            jobs.len(),
            scenarios.len(),
            seeds,
            wall.as_secs_f64(),
            jobs.len() - failed,
            failed
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes the HTML report of the drill runs that ran (errors have no report).
fn write_html(
    path: &std::path::Path,
    jobs: &[Job<'_>],
    results: &[Result<DrillReport, kiosk_sim::drill::DrillError>],
) -> Result<(), ExitCode> {
    let runs: Vec<(&Scenario, &DrillReport)> = jobs
        .iter()
        .zip(results)
        .filter_map(|(job, r)| r.as_ref().ok().map(|rep| (job.scenario, rep)))
        .collect();
    kiosk_sim::drill::html::write(path, &runs).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn print_summary(reports: &[DrillReport], seeds: u64) {
    fn worst(v: impl Iterator<Item = Option<u64>>) -> String {
        let v: Vec<_> = v.collect();
        if v.iter().all(Option::is_none) {
            return "-".into();
        }
        match v.iter().flatten().max() {
            Some(ms) => kiosk_sim::drill::report::duration(*ms),
            None => "-".into(),
        }
    }
    println!();
    println!(
        "{:<26} {:>7} {:>12} {:>12} {:>12} {:>9}",
        "DRILL", "RESULT", "DETECT", "FALLBACK", "RESOLVE", "INVARIANT"
    );
    let mut ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    for id in ids {
        let runs: Vec<&DrillReport> = reports.iter().filter(|r| r.id == id).collect();
        let passed = runs.iter().filter(|r| r.passed).count();
        let result = if passed == runs.len() {
            "pass".to_string()
        } else {
            format!("{}/{}", passed, runs.len())
        };
        let invariant = if runs.iter().all(|r| r.invariant.is_none()) {
            "n/a"
        } else if runs
            .iter()
            .all(|r| r.invariant.as_ref().is_none_or(|i| i.holds))
        {
            "holds"
        } else {
            "BROKEN"
        };
        println!(
            "{:<26} {:>7} {:>12} {:>12} {:>12} {:>9}",
            id,
            result,
            worst(runs.iter().map(|r| r.timings.detect_ms)),
            worst(runs.iter().map(|r| r.timings.fallback_ms)),
            worst(runs.iter().map(|r| r.timings.resolve_ms)),
            invariant
        );
        for r in runs.iter().filter(|r| !r.passed) {
            println!(
                "    failed with seed {}: reproduce with `kiosk-sim drill {} --seed {}`",
                r.seed, r.id, r.seed
            );
        }
    }
    if seeds > 1 {
        println!("(timings: worst over {seeds} seeds, in simulated time)");
    }
}

fn explore(args: ExploreArgs) -> ExitCode {
    use kiosk_sim::explore::{self, Campaign, Check, ExploreOptions};
    if args.list_checks {
        for c in Check::ALL {
            println!("{:<18} {}", c.name(), c.definition());
        }
        return ExitCode::SUCCESS;
    }
    let allow: std::collections::BTreeSet<Check> = args.allow.iter().copied().collect();
    let options = ExploreOptions {
        allow: allow.clone(),
        journal_dir: args.journal_dir.clone(),
        planted: None,
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            % 1_000_000_000
    });
    if let Some(path) = &args.file {
        let scenario = match Scenario::from_file(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let report = explore::run_scenario(&scenario, seed, &options);
        print!("{}", explore::render_run(&report, &allow));
        return if report.failed(&allow) {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    if args.print_scenario {
        for i in 0..args.runs {
            let g = explore::generate(seed.wrapping_add(i));
            println!("# seed {}  rates: {}", seed.wrapping_add(i), g.rates);
            match explore::shrink::to_toml(&g.scenario, seed.wrapping_add(i), &allow, "generated") {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("error: {e}"),
            }
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    println!(
        "explore: {} runs from seed {seed} on {jobs} threads{}",
        args.runs,
        if allow.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = allow.iter().map(|c| c.name()).collect();
            format!(", allowing {}", names.join(", "))
        }
    );
    let keep = if args.verbose || args.runs == 1 {
        usize::MAX
    } else {
        args.show_failures.max(usize::from(args.shrink.is_some()))
    };
    let campaign = Campaign {
        first_seed: seed,
        runs: args.runs,
        jobs,
        options: options.clone(),
        progress: args.runs > 1,
        keep_failures: keep,
        print_every_run: args.verbose || args.runs == 1,
    };
    let result = campaign.run();
    if args.json {
        let failures: Vec<_> = result.failures.iter().collect();
        let fired: std::collections::BTreeMap<String, u64> = result
            .fired
            .iter()
            .map(|(c, n)| (c.name().to_string(), *n))
            .collect();
        let json = serde_json::json!({
            "first_seed": seed,
            "runs": result.runs,
            "failed": result.failed,
            "runs_per_second": result.runs_per_second(),
            "fired": fired,
            "failures": failures,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        if !campaign.print_every_run {
            for r in result.failures.iter().take(args.show_failures.max(1)) {
                print!("{}", explore::render_run(r, &allow));
            }
        }
        if args.stats {
            println!();
            print!("{}", result.render_stats());
        }
        println!(
            "explore: {} runs, {} failing, {:.1} runs/s ({} steps checked, {:.1} h simulated, {:.1}s wall)",
            result.runs,
            result.failed,
            result.runs_per_second(),
            result.steps,
            result.simulated_ms as f64 / 3_600_000.0,
            result.elapsed.as_secs_f64()
        );
        for (check, n) in &result.fired {
            let mark = if allow.contains(check) {
                " (allowed)"
            } else {
                ""
            };
            println!("  {check}{mark}: fired in {n} runs");
        }
    }
    if let (Some(path), Some(first)) = (&args.shrink, result.failures.first()) {
        let g = explore::generate(first.seed);
        let target = first.checks();
        eprintln!(
            "shrinking seed {} (checks: {})...",
            first.seed,
            target
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let shrunk = explore::shrink::shrink(
            &g.scenario,
            first.seed,
            &target,
            &options,
            args.shrink_budget,
        );
        let note = format!(
            "Shrunk by kiosk-sim explore from seed {} in {} runs; still fails: {}.\nRates of the original run: {}\nOriginal: {}",
            first.seed,
            shrunk.runs,
            shrunk.checks.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
            g.rates,
            explore::replay_command(first.seed, &allow)
        );
        match explore::shrink::to_toml(&shrunk.scenario, first.seed, &allow, &note) {
            Ok(text) => {
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::from(2);
                }
                println!(
                    "shrunk to {} customers, {} faults, {} power losses; replay with: kiosk-sim drill --file {} --seed {}",
                    shrunk.scenario.customers.len(),
                    shrunk.scenario.acceptor.faults.len()
                        + shrunk.scenario.link.faults.len()
                        + shrunk.scenario.printer.faults.len(),
                    shrunk.scenario.power_losses.len(),
                    path.display(),
                    first.seed
                );
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    if result.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
