//! `kiosk-journal`: the staff's and auditors' tool for a kiosk journal.
//! Read-only: no subcommand writes the journal (or creates a missing one).
//!
//! ```text
//! kiosk-journal verify journal.sqlite
//! kiosk-journal report journal.sqlite --day 2026-11-29 [--json]
//! kiosk-journal clearing-report journal.sqlite --last --html clearing.html
//! kiosk-journal export journal.sqlite --csv events.csv
//! kiosk-journal tickets journal.sqlite
//! kiosk-journal --lang en report journal.sqlite --day 2026-11-29
//! ```
//!
//! Exit status: 0 done; 1 the journal fails its checks (hash chain broken,
//! books unbalanced, damaged) or a statement's money line is broken; 2 it
//! could not be read (missing, not a journal, …) or the command was wrong.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use kiosk_core::journal::{Journal, JournalError, JournalErrorKind, ReadOnlyJournal, ReadVia};
use kiosk_journal::catalog::{Lang, Msg};
use kiosk_journal::clearing::{self, Which};
use kiosk_journal::export::{self, ExportError};
use kiosk_journal::time::{self, UtcOffset};
use kiosk_journal::{statement, tickets};

/// The journal fails a check.
const FAILED_CHECK: u8 = 1;
/// The journal could not be read, or the command is wrong.
const CANNOT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "kiosk-journal",
    version,
    about = "终端日志只读工具（核验、对账单、清箱交接记录、导出、工单）/ Read-only reports on a kiosk journal"
)]
struct Cli {
    /// Output language: zh (简体中文, default) or en.
    #[arg(long, global = true, value_enum, default_value = "zh")]
    lang: Lang,
    /// UTC offset for days and times (default China Standard Time).
    #[arg(long, global = true, default_value = "+08:00", value_name = "±HH:MM")]
    utc_offset: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the whole journal: the books balance, every page, every link of the hash chain.
    Verify {
        /// The journal file.
        file: PathBuf,
    },
    /// The day's cash statement (对账单).
    Report {
        /// The journal file.
        file: PathBuf,
        /// The day, YYYY-MM-DD (at --utc-offset).
        #[arg(long)]
        day: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The clearing handover record (清箱交接记录) for both people to sign.
    ClearingReport {
        /// The journal file.
        file: PathBuf,
        /// The clearing's number.
        #[arg(long, conflicts_with = "last")]
        clearing: Option<i64>,
        /// The newest clearing (the default).
        #[arg(long)]
        last: bool,
        /// Also write a self-contained printable HTML page (A4) here.
        #[arg(long, value_name = "OUT")]
        html: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every money event row as CSV (RFC 4180).
    Export {
        /// The journal file.
        file: PathBuf,
        /// Write the CSV here (`-` or absent: standard output).
        #[arg(long, value_name = "OUT")]
        csv: Option<PathBuf>,
    },
    /// Every fault ticket with each handling step (time, person, measure, result).
    Tickets {
        /// The journal file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(offset) = UtcOffset::parse(&cli.utc_offset) else {
        return fail(Msg::ErrBadOffset, &cli.utc_offset, CANNOT);
    };
    let lang = cli.lang;
    match cli.command {
        Command::Verify { file } => verify(&file, lang),
        Command::Report { file, day, json } => report(&file, &day, json, lang, offset),
        Command::ClearingReport {
            file,
            clearing,
            last: _,
            html,
            json,
        } => {
            let which = clearing.map_or(Which::Last, Which::Id);
            clearing_report(&file, which, html.as_deref(), json, lang, offset)
        }
        Command::Export { file, csv } => export_csv(&file, csv.as_deref(), lang, offset),
        Command::Tickets { file, json } => list_tickets(&file, json, lang, offset),
    }
}

/// Prints `msg` (Chinese, then English) and `detail` on stderr; returns `code`.
fn fail(msg: Msg, detail: &str, code: u8) -> ExitCode {
    eprintln!("{}：{}", Msg::Error.zh(), msg.zh());
    eprintln!("{}: {}", Msg::Error.en(), msg.en());
    if !detail.is_empty() {
        eprintln!("  {detail}");
    }
    ExitCode::from(code)
}

/// Reports a journal error (Chinese, then English) and returns the exit code.
fn journal_failed(e: &JournalError) -> ExitCode {
    let (msg, code) = match e.kind() {
        JournalErrorKind::ChainBroken => (Msg::ErrChain, FAILED_CHECK),
        JournalErrorKind::Unbalanced => (Msg::ErrUnbalanced, FAILED_CHECK),
        JournalErrorKind::Corrupt => (Msg::ErrCorrupt, FAILED_CHECK),
        JournalErrorKind::NotAJournal => (Msg::ErrNotAJournal, CANNOT),
        JournalErrorKind::SchemaVersion => (Msg::ErrSchema, CANNOT),
        JournalErrorKind::OrphanLog => (Msg::ErrOrphan, CANNOT),
        JournalErrorKind::Storage => (Msg::ErrStorage, CANNOT),
        _ => (Msg::ErrOther, CANNOT),
    };
    match e.first_bad_row() {
        Some(row) => {
            eprintln!("{}：{}：{row}", Msg::Error.zh(), msg.zh());
            eprintln!("{}: {}: {row}", Msg::Error.en(), msg.en());
        }
        None => {
            eprintln!("{}：{}", Msg::Error.zh(), msg.zh());
            eprintln!("{}: {}", Msg::Error.en(), msg.en());
        }
    }
    eprintln!("  {e}");
    eprintln!("  {}", Msg::LeftAsItWas.both());
    ExitCode::from(code)
}

/// Opens `file` read-only, or reports why not.
fn open(file: &Path, lang: Lang) -> Result<ReadOnlyJournal, ExitCode> {
    let j = Journal::open_read_only(file).map_err(|e| {
        let missing = std::fs::symlink_metadata(file)
            .is_err_and(|io| io.kind() == std::io::ErrorKind::NotFound);
        if e.kind() == JournalErrorKind::Storage && missing {
            fail(Msg::ErrMissing, &file.display().to_string(), CANNOT)
        } else {
            journal_failed(&e)
        }
    })?;
    if j.via() == ReadVia::PrivateCopy {
        eprintln!("{}", Msg::ReadFromCopy.text(lang));
    }
    Ok(j)
}

/// Refuses an output path that is the journal or one of its files.
fn check_output(out: &Path, journal: &Path) -> Result<(), ExitCode> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let Some(j) = canon(journal) else {
        return Ok(());
    };
    let target = canon(out).or_else(|| {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(canon(parent)?.join(out.file_name()?))
    });
    let mut names = vec![j.clone()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut n = j.clone().into_os_string();
        n.push(suffix);
        names.push(PathBuf::from(n));
    }
    if target.is_some_and(|t| names.contains(&t)) {
        return Err(fail(
            Msg::ErrOutput,
            &format!("{}: is the journal", out.display()),
            CANNOT,
        ));
    }
    Ok(())
}

/// Writes `bytes` to `out`.
fn write_file(out: &Path, bytes: &[u8]) -> Result<(), ExitCode> {
    std::fs::write(out, bytes)
        .map_err(|e| fail(Msg::ErrOutput, &format!("{}: {e}", out.display()), CANNOT))
}

fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("json: {e}"),
    }
}

fn verify(file: &Path, lang: Lang) -> ExitCode {
    let started = Instant::now();
    let j = match open(file, lang) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let check = match j.verify_all() {
        Ok(c) => c,
        Err(e) => return journal_failed(&e),
    };
    let head = match j.chain_head() {
        Ok(h) => h,
        Err(e) => return journal_failed(&e),
    };
    let took = Duration::from_millis(started.elapsed().as_millis() as u64);
    let t = |m: Msg| m.text(lang);
    println!("{}", t(Msg::VerifyOk));
    println!("{}: {}", t(Msg::Journal), file.display());
    println!("{}: {}", t(Msg::AuditRows), head.rows);
    println!("{}: {}", t(Msg::ChainHead), head.hex());
    println!("{}: {}", t(Msg::PaymentsChecked), check.payments_checked);
    println!("{}: {}", t(Msg::ChainRowsChecked), check.chain_rows_checked);
    println!("{}: {}", t(Msg::Took), humantime::format_duration(took));
    if j.opened_with().after_unclean_shutdown {
        println!("({})", t(Msg::UncleanShutdown));
    }
    ExitCode::SUCCESS
}

fn report(file: &Path, day: &str, json: bool, lang: Lang, offset: UtcOffset) -> ExitCode {
    let Some(window) = time::day_window(day, offset) else {
        return fail(Msg::ErrBadDay, day, CANNOT);
    };
    let j = match open(file, lang) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let s = match statement::build(&j, day, offset, window) {
        Ok(s) => s,
        Err(e) => return journal_failed(&e),
    };
    if json {
        print_json(&s);
    } else {
        print!("{}", statement::render(&s, lang, offset));
    }
    if s.money_line_holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED_CHECK)
    }
}

fn clearing_report(
    file: &Path,
    which: Which,
    html: Option<&Path>,
    json: bool,
    lang: Lang,
    offset: UtcOffset,
) -> ExitCode {
    if let Some(out) = html {
        if let Err(code) = check_output(out, file) {
            return code;
        }
    }
    let j = match open(file, lang) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let r = match clearing::build(&j, which) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let which = match which {
                Which::Id(n) => n.to_string(),
                Which::Last => "--last".to_string(),
            };
            return fail(Msg::NoClearing, &which, CANNOT);
        }
        Err(e) => return journal_failed(&e),
    };
    if let Some(out) = html {
        if let Err(code) = write_file(out, clearing::render_html(&r, offset).as_bytes()) {
            return code;
        }
    }
    if json {
        print_json(&r);
    } else {
        print!("{}", clearing::render_text(&r, lang, offset));
    }
    ExitCode::SUCCESS
}

fn export_csv(file: &Path, out: Option<&Path>, lang: Lang, offset: UtcOffset) -> ExitCode {
    let out = out.filter(|p| *p != Path::new("-"));
    if let Some(out) = out {
        if let Err(code) = check_output(out, file) {
            return code;
        }
    }
    let j = match open(file, lang) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let result = match out {
        Some(path) => {
            let f = match std::fs::File::create(path) {
                Ok(f) => f,
                Err(e) => return fail(Msg::ErrOutput, &format!("{}: {e}", path.display()), CANNOT),
            };
            let written = export::write(&j, std::io::BufWriter::new(f), lang, offset);
            if let Ok(n) = &written {
                eprintln!("{}: {n}", Msg::Exported.text(lang));
            }
            written
        }
        None => export::write(&j, std::io::stdout().lock(), lang, offset),
    };
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(ExportError::Journal(e)) => journal_failed(&e),
        Err(ExportError::Write(e)) => fail(Msg::ErrOutput, &e.to_string(), CANNOT),
    }
}

fn list_tickets(file: &Path, json: bool, lang: Lang, offset: UtcOffset) -> ExitCode {
    let j = match open(file, lang) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let all = match j.tickets() {
        Ok(t) => t,
        Err(e) => return journal_failed(&e),
    };
    if json {
        print_json(&all);
    } else {
        print!("{}", tickets::render(&all, lang, offset));
        let _ = std::io::stdout().flush();
    }
    ExitCode::SUCCESS
}
