//! The kill loop: start a kiosk process, let it live a seeded random
//! while, `SIGKILL` it, check the money line, again; at the end one life
//! runs to quiescence and must leave nothing pending.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::check::{observe, Observation, Violation};
use crate::rng::SimRng;

/// What a crash run does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many kills.
    pub kills: u64,
    /// The seed of the kill schedule and of every life.
    pub seed: u64,
    /// The run directory (created; must not hold a previous run).
    pub dir: PathBuf,
    /// Longest typical life before a kill, milliseconds (see [`kill_plan`]).
    pub max_delay_ms: u64,
    /// How long the final, unkilled life runs before it stops itself.
    pub settle_ms: u64,
    /// The `kiosk-sim` executable that runs the child lives.
    pub child_exe: PathBuf,
}

/// When kill `k` strikes and what it takes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kill {
    /// How long the life lasts before the kill.
    pub delay_ms: u64,
    /// Whether the kill also cuts the devices' power (else only the kiosk
    /// process dies and the devices carry on).
    pub power_cut: bool,
}

/// The seeded kill schedule: one life in five is killed within its first
/// 30 ms (start-up and recovery), three in five anywhere up to
/// `max_delay_ms`, and one in five between `max_delay_ms` and four times
/// it — long enough for sessions to end, so kills also land in posting,
/// printing and the retries between sessions. Half the kills cut the
/// devices' power too.
pub fn kill_plan(seed: u64, k: u64, max_delay_ms: u64) -> Kill {
    let mut rng = SimRng::new(seed).fork(&format!("kill-{k}"));
    let delay_ms = match rng.below(5) {
        0 => rng.below(31.min(max_delay_ms + 1)),
        4 => max_delay_ms + rng.below(3 * max_delay_ms + 1),
        _ => rng.below(max_delay_ms + 1),
    };
    Kill {
        delay_ms,
        power_cut: rng.chance(0.5),
    }
}

/// What a finished run saw.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Kills made.
    pub kills: u64,
    /// Kills that landed before the life had finished recovering.
    pub during_recovery: u64,
    /// Kills that also cut the devices' power.
    pub power_cuts: u64,
    /// Sessions that ended across all lives.
    pub sessions_ended: u64,
    /// Security alarms raised across all lives.
    pub alarms: u64,
    /// Lives that stopped on their own before their kill — the kiosk went
    /// out of service — with the kill number and the kiosk's last error.
    /// The run carries on (as a supervisor would restart the kiosk) and
    /// checks the money line after them too, but such a run has not passed.
    pub out_of_service: Vec<(u64, String)>,
    /// The witnesses after the quiescent run.
    pub last: Observation,
    /// Wall time of the whole run.
    pub wall: Duration,
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError {
    /// The run could not be set up or a life could not be started.
    Setup(String),
    /// A money rule broke. The run directory is kept as evidence.
    Violation {
        /// After which kill (`None`: after the quiescent run).
        kill: Option<u64>,
        /// What broke.
        violations: Vec<Violation>,
        /// The witnesses' numbers.
        summary: String,
        /// A command that runs the same schedule again.
        replay: String,
    },
    /// A life ended on its own, or the quiescent life did not stop.
    ChildFailed(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Setup(m) => write!(f, "crash run could not start: {m}"),
            RunError::ChildFailed(m) => write!(f, "kiosk process failed: {m}"),
            RunError::Violation {
                kill,
                violations,
                summary,
                replay,
            } => {
                match kill {
                    Some(k) => writeln!(f, "MONEY VIOLATION after kill {k}:")?,
                    None => writeln!(f, "MONEY VIOLATION after the quiescent run:")?,
                }
                for v in violations {
                    writeln!(f, "  {v}")?;
                }
                writeln!(f, "  witnesses: {summary}")?;
                write!(f, "  replay: {replay}")
            }
        }
    }
}

impl std::error::Error for RunError {}

/// Runs the kill loop (see the module docs), writing progress to `out`.
pub fn run(opts: &RunOptions, out: &mut dyn Write) -> Result<RunReport, RunError> {
    prepare_dir(&opts.dir)?;
    let started = Instant::now();
    let mut report = RunReport {
        kills: 0,
        during_recovery: 0,
        power_cuts: 0,
        sessions_ended: 0,
        alarms: 0,
        out_of_service: Vec::new(),
        last: observe(&opts.dir).map_err(RunError::Setup)?,
        wall: Duration::ZERO,
    };
    let replay = |kills: u64| {
        format!(
            "kiosk-sim crash run --kills {kills} --seed {} --max-delay-ms {} --dir <new dir>   \
             (evidence kept in {})",
            opts.seed,
            opts.max_delay_ms,
            opts.dir.display()
        )
    };
    // A device's very first start is a power-up.
    let mut power_cut = true;
    for k in 0..opts.kills {
        let kill = kill_plan(opts.seed, k, opts.max_delay_ms);
        let mut child = spawn(opts, k, power_cut, None)?;
        std::thread::sleep(Duration::from_millis(kill.delay_ms));
        let exited_early = child
            .try_wait()
            .map_err(|e| RunError::Setup(format!("waiting for life {k}: {e}")))?;
        if let Some(status) = exited_early {
            let error = last_error(&opts.dir).unwrap_or_else(|| status.to_string());
            let _ = writeln!(
                out,
                "OUT OF SERVICE: life {k} stopped on its own before kill {k}: {error}"
            );
            report.out_of_service.push((k, error));
        } else {
            // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no goodbye.
            child
                .kill()
                .map_err(|e| RunError::Setup(format!("kill {k}: {e}")))?;
            child
                .wait()
                .map_err(|e| RunError::Setup(format!("reaping life {k}: {e}")))?;
        }
        let stdout = read_stdout(&mut child);
        report.kills += 1;
        if !stdout.lines().any(|l| l.starts_with("recovered")) {
            report.during_recovery += 1;
        }
        report.sessions_ended += stdout
            .lines()
            .filter(|l| l.starts_with("session-ended"))
            .count() as u64;
        report.alarms += stdout.lines().filter(|l| l.starts_with("alarm")).count() as u64;
        if kill.power_cut {
            report.power_cuts += 1;
        }
        power_cut = kill.power_cut;
        let seen = observe(&opts.dir).map_err(RunError::Setup)?;
        let violations = seen.violations();
        if !violations.is_empty() {
            return Err(RunError::Violation {
                kill: Some(k),
                violations,
                summary: seen.summary(),
                replay: replay(k + 1),
            });
        }
        if (k + 1) % 50 == 0 || k + 1 == opts.kills {
            let _ = writeln!(
                out,
                "kills {}/{}: {} during start-up/recovery, {} power cuts, {} sessions ended, \
                 {} out of service, 0 money violations; {}",
                k + 1,
                opts.kills,
                report.during_recovery,
                report.power_cuts,
                report.sessions_ended,
                report.out_of_service.len(),
                seen.summary()
            );
        }
        report.last = seen;
    }
    // The quiescent life: no kill, no customers, a healthy link.
    let mut child = spawn(opts, opts.kills, power_cut, Some(opts.settle_ms))?;
    let deadline = Instant::now() + Duration::from_millis(opts.settle_ms + 15_000);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::ChildFailed(
                    "the quiescent life did not stop".into(),
                ));
            }
            Err(e) => return Err(RunError::Setup(format!("waiting for the last life: {e}"))),
        }
    };
    let stdout = read_stdout(&mut child);
    if !status.success() {
        return Err(RunError::ChildFailed(format!(
            "the quiescent life failed ({status}); stdout: {stdout}"
        )));
    }
    let seen = observe(&opts.dir).map_err(RunError::Setup)?;
    let violations = seen.settled_violations();
    if !violations.is_empty() {
        return Err(RunError::Violation {
            kill: None,
            violations,
            summary: seen.summary(),
            replay: replay(opts.kills),
        });
    }
    let _ = writeln!(out, "quiescent run: {}", seen.summary());
    report.last = seen;
    report.wall = started.elapsed();
    Ok(report)
}

/// Creates the run directory; one that holds files already is refused, so
/// two runs never mix their witnesses.
fn prepare_dir(dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::Setup(format!("{}: {e}", dir.display())))?;
    let used = std::fs::read_dir(dir)
        .map_err(|e| RunError::Setup(format!("{}: {e}", dir.display())))?
        .next()
        .is_some();
    if used {
        return Err(RunError::Setup(format!(
            "{} is not empty: give a new directory for each run",
            dir.display()
        )));
    }
    Ok(())
}

fn spawn(
    opts: &RunOptions,
    incarnation: u64,
    power_cut: bool,
    settle_ms: Option<u64>,
) -> Result<Child, RunError> {
    let stderr = OpenOptions::new()
        .create(true)
        .append(true)
        .open(opts.dir.join("child-stderr.log"))
        .map_err(|e| RunError::Setup(format!("child log: {e}")))?;
    let mut cmd = Command::new(&opts.child_exe);
    cmd.args(["crash", "child", "--dir"])
        .arg(&opts.dir)
        .args(["--seed", &opts.seed.to_string()])
        .args(["--incarnation", &incarnation.to_string()]);
    if power_cut {
        cmd.arg("--power-cut");
    }
    if let Some(ms) = settle_ms {
        cmd.args(["--settle-ms", &ms.to_string()]);
    }
    // The kiosk's own warnings go to the evidence log, without colours.
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "warn");
    }
    cmd.env("NO_COLOR", "1");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| RunError::Setup(format!("starting {}: {e}", opts.child_exe.display())))
}

/// The last `error:` line the lives wrote to their log.
fn last_error(dir: &Path) -> Option<String> {
    let log = std::fs::read_to_string(dir.join("child-stderr.log")).ok()?;
    log.lines()
        .rev()
        .find(|l| l.starts_with("error: "))
        .map(str::to_string)
}

fn read_stdout(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kill_schedule_is_seeded_and_reaches_start_up() {
        let plan: Vec<Kill> = (0..1000).map(|k| kill_plan(7, k, 400)).collect();
        assert_eq!(
            plan,
            (0..1000).map(|k| kill_plan(7, k, 400)).collect::<Vec<_>>()
        );
        assert!(plan.iter().all(|k| k.delay_ms <= 1600));
        let early = plan.iter().filter(|k| k.delay_ms <= 30).count();
        assert!((200..400).contains(&early), "{early} early kills");
        let long = plan.iter().filter(|k| k.delay_ms > 400).count();
        assert!((120..280).contains(&long), "{long} long lives");
        let cuts = plan.iter().filter(|k| k.power_cut).count();
        assert!((400..600).contains(&cuts), "{cuts} power cuts");
    }
}
