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
//! kiosk-sim --lang en drill bill-jam            # English (also KIOSK_LANG=en)
//! ```
//!
//! Operator text is Chinese unless `--lang en` or `KIOSK_LANG=en` asks for
//! English; `--json` output is the same in both.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiosk_sim::cli_text::{table_lines, Align, Lang, Msg};
use kiosk_sim::drill::batch::{run_plan, JobResult, Plan, PlanError};
use kiosk_sim::drill::catalog::BUILTIN_DRILLS;
use kiosk_sim::drill::report::{reproduce_command, DrillSource, JsonArray};
use kiosk_sim::drill::{builtin, run_drill, DrillReport, Scenario};

#[derive(Parser)]
#[command(
    name = "kiosk-sim",
    version,
    about = "Rehearse a payment kiosk's contingency plan in simulation"
)]
struct Cli {
    /// Language of the text for operators: zh (简体中文, the default) or en.
    /// Without it, KIOSK_LANG=en also picks English. JSON stays the same.
    #[arg(long, global = true, value_enum)]
    lang: Option<Lang>,
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
    let lang = cli.lang.or_else(Lang::from_env).unwrap_or_default();
    match cli.command {
        Command::Drill(args) => drill(args, lang),
        Command::Crash(args) => kiosk_sim::crash::cli::main(args),
        Command::Explore(args) => explore(args, lang),
    }
}

/// An error line for operators: `错误：…` / `error: …`.
fn error_line(lang: Lang, message: impl std::fmt::Display) {
    eprintln!("{}", Msg::Error.fill(lang, &[("message", &message)]));
}

fn drill(args: DrillArgs, lang: Lang) -> ExitCode {
    if args.list {
        let rows: Vec<Vec<String>> = BUILTIN_DRILLS
            .iter()
            .map(|d| {
                let title = builtin(d.id)
                    .map(|s| s.title_in(lang).to_string())
                    .unwrap_or_else(|e| e.to_string());
                vec![d.id.to_string(), title]
            })
            .collect();
        let header = [Msg::ListId.text(lang), Msg::ListTitle.text(lang)];
        for line in table_lines(&header, &rows, &[Align::Left, Align::Left]) {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    // Each scenario with where it came from: a failure's reproduce command
    // names the file of a `--file` drill, whose id is not a built-in one.
    let mut scenarios = Vec::new();
    let mut sources: Vec<Option<PathBuf>> = Vec::new();
    let ids: Vec<String> = if args.all {
        BUILTIN_DRILLS.iter().map(|d| d.id.to_string()).collect()
    } else {
        args.ids.clone()
    };
    for id in &ids {
        match builtin(id) {
            Ok(s) => {
                scenarios.push(s);
                sources.push(None);
            }
            Err(e) => {
                error_line(lang, e);
                return ExitCode::from(2);
            }
        }
    }
    for path in &args.files {
        match Scenario::from_file(path) {
            Ok(s) => {
                scenarios.push(s);
                sources.push(Some(path.clone()));
            }
            Err(e) => {
                error_line(lang, e);
                return ExitCode::from(2);
            }
        }
    }
    if scenarios.is_empty() {
        error_line(lang, Msg::NothingToRun.text(lang));
        return ExitCode::from(2);
    }
    let plan = match Plan::new(&scenarios, args.seed, args.seeds) {
        Ok(plan) => plan,
        Err(PlanError::NoSeeds) => {
            error_line(lang, Msg::SeedsZero.text(lang));
            return ExitCode::from(2);
        }
        Err(PlanError::TooManyRuns) => {
            let drills = scenarios.len();
            let seeds = args.seeds;
            error_line(
                lang,
                Msg::TooManyRuns.fill(lang, &[("drills", &drills), ("seeds", &seeds)]),
            );
            return ExitCode::from(2);
        }
    };
    let seeds = plan.seeds();
    let source = |i: usize| match &sources[i] {
        Some(path) => DrillSource::File(path),
        None => DrillSource::Builtin,
    };
    if args.trace {
        for s in &scenarios {
            for i in 0..seeds {
                let seed = args.seed.wrapping_add(i);
                match kiosk_sim::drill::run_once(s, seed) {
                    Ok(run) => {
                        let id = &s.id;
                        println!(
                            "{}",
                            Msg::TraceOf.fill(lang, &[("id", id), ("seed", &seed)])
                        );
                        for e in &run.trace {
                            println!(
                                "  {:>10} {}",
                                e.at.to_string(),
                                kiosk_sim::drill::trace::event_json(&e.event)
                            );
                        }
                    }
                    Err(e) => error_line(lang, e),
                }
            }
        }
    }
    // Reports stream out as runs finish: to the --report file, to stdout
    // as JSON, or as text plus one summary row per drill. Nothing holds
    // every report, so the number of seeds costs time, not memory.
    let mut report_file = match &args.report {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(JsonArray::new(std::io::BufWriter::new(f))),
            Err(e) => {
                let shown = path.display();
                error_line(
                    lang,
                    Msg::CannotWrite.fill(lang, &[("path", &shown), ("error", &e)]),
                );
                return ExitCode::from(2);
            }
        },
    };
    let mut json_out = args
        .json
        .then(|| JsonArray::new(std::io::BufWriter::new(std::io::stdout().lock())));
    let mut rows: Vec<Row> = scenarios.iter().map(|s| Row::new(&s.id)).collect();
    let mut write_error = None;
    let mut failed = 0u64;
    let threads = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = std::time::Instant::now();
    let bar = kiosk_sim::progress::RunProgress::new(plan.len(), Msg::DrillLabel.text(lang), lang);
    let progress = |done: u64, _total: u64, r: &JobResult| {
        let note = match r {
            Ok(rep) => {
                let verdict = if rep.passed { Msg::Pass } else { Msg::Fail };
                format!("{} {}", rep.id, verdict.text(lang))
            }
            Err(_) => Msg::RunError.text(lang).to_string(),
        };
        bar.set(done, note);
    };
    // The HTML report draws every run on one page, so it keeps what it
    // draws (only when asked for).
    let mut html_runs: Vec<(usize, DrillReport)> = Vec::new();
    let mut index = 0u64;
    run_plan(&plan, threads, &run_drill, &progress, |job, result| {
        let scenario = (index / seeds) as usize;
        index += 1;
        let reproduce = reproduce_command(&job.scenario.id, source(scenario), job.seed);
        match result {
            Ok(rep) => {
                if !rep.passed {
                    failed += 1;
                }
                rows[scenario].add(Some(&rep), job.seed);
                let written = [
                    report_file.as_mut().map(|out| out.push(&rep)),
                    json_out.as_mut().map(|out| out.push(&rep)),
                ];
                if let Some(e) = written.into_iter().flatten().find_map(Result::err) {
                    write_error.get_or_insert(e);
                }
                if !args.json && (seeds == 1 || !rep.passed) {
                    bar.suspend(|| print!("{}", rep.render_text_in(lang, &reproduce)));
                }
                if args.html.is_some() {
                    html_runs.push((scenario, rep.clone()));
                }
            }
            Err(e) => {
                failed += 1;
                rows[scenario].add(None, job.seed);
                bar.suspend(|| error_line(lang, e));
            }
        }
    });
    bar.finish();
    let wall = started.elapsed();
    if let Some(path) = &args.html {
        let runs: Vec<(&Scenario, &DrillReport)> = html_runs
            .iter()
            .map(|(scenario, rep)| (&scenarios[*scenario], rep))
            .collect();
        if let Err(e) = kiosk_sim::drill::html::write(path, &runs) {
            let shown = path.display();
            error_line(
                lang,
                Msg::CannotWrite.fill(lang, &[("path", &shown), ("error", &e)]),
            );
            return ExitCode::from(2);
        }
    }
    let finished = [
        report_file.map(|a| a.finish().map(drop)),
        json_out.map(|a| a.finish().map(drop)),
    ];
    if let Some(e) = write_error.or(finished.into_iter().flatten().find_map(Result::err)) {
        let shown = args
            .report
            .as_ref()
            .map_or("-".to_string(), |p| p.display().to_string());
        error_line(
            lang,
            Msg::CannotWrite.fill(lang, &[("path", &shown), ("error", &e)]),
        );
        return ExitCode::from(2);
    }
    if args.json {
        println!();
    } else {
        print_summary(&rows, &sources, seeds, lang);
        println!(
            "{}",
            Msg::DrillSummary.fill(
                lang,
                &[
                    ("runs", &plan.len()),
                    ("drills", &scenarios.len()),
                    ("seeds", &seeds),
                    ("wall", &format!("{:.1}", wall.as_secs_f64())),
                    ("passed", &(plan.len() - failed)),
                    ("failed", &failed),
                ],
            )
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Failing seeds listed under a drill's row; more are counted, not listed.
const LISTED_FAILURES: usize = 20;

/// One drill's line of the results table, added to run by run.
struct Row {
    id: String,
    runs: u64,
    passed: u64,
    detect: Option<u64>,
    fallback: Option<u64>,
    resolve: Option<u64>,
    /// Whether any run checked the money invariant, and whether one broke it.
    invariant_checked: bool,
    invariant_broken: bool,
    failing_seeds: Vec<u64>,
    more_failing: u64,
}

impl Row {
    fn new(id: &str) -> Row {
        Row {
            id: id.to_string(),
            runs: 0,
            passed: 0,
            detect: None,
            fallback: None,
            resolve: None,
            invariant_checked: false,
            invariant_broken: false,
            failing_seeds: Vec::new(),
            more_failing: 0,
        }
    }

    /// Adds one run: its report, or `None` when it could not run at all.
    fn add(&mut self, report: Option<&DrillReport>, seed: u64) {
        self.runs += 1;
        let passed = report.is_some_and(|r| r.passed);
        if let Some(r) = report {
            let worst = |a: Option<u64>, b: Option<u64>| a.max(b);
            self.detect = worst(self.detect, r.timings.detect_ms);
            self.fallback = worst(self.fallback, r.timings.fallback_ms);
            self.resolve = worst(self.resolve, r.timings.resolve_ms);
            if let Some(i) = &r.invariant {
                self.invariant_checked = true;
                self.invariant_broken |= !i.holds;
            }
        }
        if passed {
            self.passed += 1;
        } else if self.failing_seeds.len() < LISTED_FAILURES {
            self.failing_seeds.push(seed);
        } else {
            self.more_failing += 1;
        }
    }
}

fn print_summary(rows: &[Row], sources: &[Option<PathBuf>], seeds: u64, lang: Lang) {
    let time = |v: Option<u64>| v.map_or("-".to_string(), kiosk_sim::drill::report::duration);
    let header = [
        Msg::ColDrill.text(lang),
        Msg::ColResult.text(lang),
        Msg::ColDetect.text(lang),
        Msg::ColFallback.text(lang),
        Msg::ColResolve.text(lang),
        Msg::ColInvariant.text(lang),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let result = if row.passed == row.runs {
                Msg::Pass.text(lang).to_string()
            } else {
                format!("{}/{}", row.passed, row.runs)
            };
            let invariant = if !row.invariant_checked {
                Msg::NotApplicable
            } else if row.invariant_broken {
                Msg::InvariantBroken
            } else {
                Msg::InvariantHolds
            };
            vec![
                row.id.clone(),
                result,
                time(row.detect),
                time(row.fallback),
                time(row.resolve),
                invariant.text(lang).to_string(),
            ]
        })
        .collect();
    let mut align = [Align::Right; 6];
    align[0] = Align::Left;
    let lines = table_lines(&header, &cells, &align);
    println!();
    // Line 0 is the header, line i + 1 is row i (cells never wrap); each
    // row's failing seeds go right under it.
    println!("{}", lines[0]);
    for ((row, source), line) in rows.iter().zip(sources).zip(&lines[1..]) {
        println!("{line}");
        let source = match source {
            Some(path) => DrillSource::File(path),
            None => DrillSource::Builtin,
        };
        for &seed in &row.failing_seeds {
            let command = reproduce_command(&row.id, source, seed);
            println!(
                "{}",
                Msg::FailedWithSeed.fill(lang, &[("seed", &seed), ("command", &command)])
            );
        }
        if row.more_failing > 0 {
            let count = row.more_failing;
            println!("{}", Msg::MoreFailedSeeds.fill(lang, &[("count", &count)]));
        }
    }
    if seeds > 1 {
        println!("{}", Msg::TimingsWorstOver.fill(lang, &[("seeds", &seeds)]));
    }
}

fn explore(args: ExploreArgs, lang: Lang) -> ExitCode {
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
                error_line(lang, e);
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
                Err(e) => error_line(lang, e),
            }
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let allowing = if allow.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = allow.iter().map(|c| c.name()).collect();
        Msg::ExploreAllowing.fill(lang, &[("checks", &names.join(", "))])
    };
    println!(
        "{}",
        Msg::ExploreStart.fill(
            lang,
            &[
                ("runs", &args.runs),
                ("seed", &seed),
                ("jobs", &jobs),
                ("allowing", &allowing),
            ],
        )
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
        lang,
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
            "{}",
            Msg::ExploreSummary.fill(
                lang,
                &[
                    ("runs", &result.runs),
                    ("failed", &result.failed),
                    ("rate", &format!("{:.1}", result.runs_per_second())),
                    ("steps", &result.steps),
                    (
                        "hours",
                        &format!("{:.1}", result.simulated_ms as f64 / 3_600_000.0),
                    ),
                    ("wall", &format!("{:.1}", result.elapsed.as_secs_f64())),
                ],
            )
        );
        for (check, n) in &result.fired {
            let mark = if allow.contains(check) {
                Msg::ExploreAllowed.text(lang)
            } else {
                ""
            };
            println!(
                "{}",
                Msg::ExploreFired.fill(lang, &[("check", check), ("mark", &mark), ("runs", n)])
            );
        }
    }
    if let (Some(path), Some(first)) = (&args.shrink, result.failures.first()) {
        let g = explore::generate(first.seed);
        let target = first.checks();
        let checks = target
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "{}",
            Msg::ExploreShrinking.fill(lang, &[("seed", &first.seed), ("checks", &checks)])
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
                    let shown = path.display();
                    error_line(
                        lang,
                        Msg::CannotWrite.fill(lang, &[("path", &shown), ("error", &e)]),
                    );
                    return ExitCode::from(2);
                }
                let faults = shrunk.scenario.acceptor.faults.len()
                    + shrunk.scenario.link.faults.len()
                    + shrunk.scenario.printer.faults.len();
                let command =
                    reproduce_command(&shrunk.scenario.id, DrillSource::File(path), first.seed);
                println!(
                    "{}",
                    Msg::ExploreShrunk.fill(
                        lang,
                        &[
                            ("customers", &shrunk.scenario.customers.len()),
                            ("faults", &faults),
                            ("power", &shrunk.scenario.power_losses.len()),
                            ("command", &command),
                        ],
                    )
                );
            }
            Err(e) => error_line(lang, e),
        }
    }
    if result.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
