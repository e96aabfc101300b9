//! The `kiosk-sim crash` command line: `run` (the kill loop), `check` (the
//! money line of a run directory), and `child` (one kiosk life, started by
//! `run`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::check::observe;
use super::child::{self, ChildOptions};
use super::parent::{self, RunOptions};

/// `kiosk-sim crash …`
#[derive(Debug, Args)]
pub struct CrashArgs {
    #[command(subcommand)]
    command: CrashCommand,
}

#[derive(Debug, Subcommand)]
enum CrashCommand {
    /// Kill a real kiosk process N times at random instants and check the
    /// money line after each restart; then let one life run to quiescence.
    Run {
        /// How many kills.
        #[arg(long, default_value_t = 1000)]
        kills: u64,
        /// The seed of the kill schedule, the customers and the link.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The run directory (new or empty; kept afterwards). Default: a new
        /// temporary directory.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Longest typical life before a kill, milliseconds (one life in
        /// five runs up to four times this, so sessions finish too).
        #[arg(long, default_value_t = 400)]
        max_delay_ms: u64,
        /// How long the final, unkilled life runs, milliseconds.
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
    },
    /// Check the money line of a run directory (no kiosk may be running in it).
    Check {
        /// The run directory.
        #[arg(long)]
        dir: PathBuf,
        /// Also require what a quiescent run leaves: nothing pending.
        #[arg(long)]
        settled: bool,
    },
    /// One kiosk life (started by `crash run`; runs until killed).
    #[command(hide = true)]
    Child {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        incarnation: u64,
        #[arg(long)]
        power_cut: bool,
        #[arg(long)]
        settle_ms: Option<u64>,
    },
}

/// The exit code of a run whose money line held but where a kiosk life
/// stopped on its own (went out of service); 1 is a money violation.
pub const OUT_OF_SERVICE: u8 = 3;

/// Runs a `crash` subcommand.
pub fn main(args: CrashArgs) -> ExitCode {
    match args.command {
        CrashCommand::Run {
            kills,
            seed,
            dir,
            max_delay_ms,
            settle_ms,
        } => {
            let dir = match dir {
                Some(d) => d,
                None => match tempfile::Builder::new().prefix("kiosk-crash-").tempdir() {
                    Ok(d) => d.keep(),
                    Err(e) => {
                        eprintln!("error: temporary directory: {e}");
                        return ExitCode::from(2);
                    }
                },
            };
            let child_exe = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: cannot find this executable: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = RunOptions {
                kills,
                seed,
                dir: dir.clone(),
                max_delay_ms,
                settle_ms,
                child_exe,
            };
            println!(
                "crash run: {kills} kills, seed {seed}, lives up to {max_delay_ms} ms, in {}",
                dir.display()
            );
            let mut stdout = std::io::stdout();
            match parent::run(&opts, &mut stdout) {
                Ok(r) if !r.out_of_service.is_empty() => {
                    println!(
                        "FAILED (kiosk out of service, money line held): {} kills, money line \
                         held after every kill and nothing pending after the quiescent run, but \
                         {} lives stopped on their own; {:.1}s wall time",
                        r.kills,
                        r.out_of_service.len(),
                        r.wall.as_secs_f64()
                    );
                    for (k, error) in &r.out_of_service {
                        println!("  life {k}: {error}");
                    }
                    println!(
                        "  replay: kiosk-sim crash run --kills {} --seed {seed} --max-delay-ms \
                         {max_delay_ms} --dir <new dir>   (evidence kept in {})",
                        r.kills,
                        dir.display()
                    );
                    ExitCode::from(OUT_OF_SERVICE)
                }
                Ok(r) => {
                    println!(
                        "PASSED: {} kills ({} during start-up/recovery, {} with a power cut), \
                         {} sessions ended, {} alarms, money line held after every kill and \
                         nothing pending after the quiescent run; {:.1}s wall time",
                        r.kills,
                        r.during_recovery,
                        r.power_cuts,
                        r.sessions_ended,
                        r.alarms,
                        r.wall.as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    println!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        CrashCommand::Check { dir, settled } => match observe(&dir) {
            Ok(seen) => {
                let violations = if settled {
                    seen.settled_violations()
                } else {
                    seen.violations()
                };
                println!("{}", seen.summary());
                if violations.is_empty() {
                    println!("money line holds");
                    ExitCode::SUCCESS
                } else {
                    for v in &violations {
                        println!("MONEY VIOLATION {v}");
                    }
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        CrashCommand::Child {
            dir,
            seed,
            incarnation,
            power_cut,
            settle_ms,
        } => {
            let opts = ChildOptions {
                dir,
                seed,
                incarnation,
                power_cut,
                settle_ms,
            };
            match child::run(&opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
