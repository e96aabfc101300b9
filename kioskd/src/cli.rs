//! The command line: `kioskd --config FILE [--simulate]`,
//! `kioskd check-config FILE`, `kioskd hash-password`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config;
use crate::logging::LogFormat;
use crate::service::{self, Exit, Options};
use crate::validate::{self, Level, Mode};

/// kioskd: one self-service payment kiosk as a service.
#[derive(Debug, Parser)]
#[command(name = "kioskd", version, about)]
pub struct Cli {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run on virtual devices and a virtual backend (a demo, never a
    /// fallback): their state lives in the state directory.
    #[arg(long)]
    pub simulate: bool,
    /// Where the journal (and simulated devices' state) lives; overrides the file.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The operator API's address; overrides the file (`127.0.0.1:0`: any free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Log lines as readable text or JSON.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// A command instead of running the kiosk.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What else kioskd does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks a configuration file without starting anything; exit 1 on any error.
    CheckConfig {
        /// The file.
        file: PathBuf,
        /// Check it for `--simulate` (no [devices] or [link] needed).
        #[arg(long)]
        simulate: bool,
    },
    /// Reads a password from the first line of standard input and prints its
    /// argon2id hash for `password-hash` in [[api.operators]].
    HashPassword,
}

/// Runs the command line; the process's exit code.
pub fn main(cli: Cli) -> u8 {
    match cli.command {
        Some(Command::CheckConfig { file, simulate }) => check_config(&file, simulate),
        Some(Command::HashPassword) => hash_password(),
        None => {
            crate::logging::init(cli.log_format);
            let Some(config) = cli.config else {
                eprintln!("kioskd: --config FILE is required (see kioskd --help)");
                return Exit::StartFailed.code();
            };
            let opts = Options {
                config,
                simulate: cli.simulate,
                state_dir: cli.state_dir,
                listen: cli.listen,
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(service::run(opts)).code(),
                Err(e) => {
                    eprintln!("kioskd: cannot start the async runtime: {e}");
                    Exit::StartFailed.code()
                }
            }
        }
    }
}

/// `kioskd check-config`: every finding on stderr; exit 0 if none is an error.
pub fn check_config(file: &std::path::Path, simulate: bool) -> u8 {
    let loaded = match config::load(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mode = if simulate { Mode::Simulate } else { Mode::Real };
    let findings = validate::check(&loaded.config, mode);
    for f in &findings {
        eprintln!("{}", f.render(&loaded));
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings.len() - errors;
    if errors > 0 {
        eprintln!(
            "{}: {errors} error(s), {warnings} warning(s)",
            file.display()
        );
        1
    } else {
        println!("{}: OK ({warnings} warning(s))", file.display());
        0
    }
}

fn hash_password() -> u8 {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("kioskd: cannot read the password: {e}");
        return 1;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("kioskd: an empty password");
        return 1;
    }
    match crate::auth::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            0
        }
        Err(e) => {
            eprintln!("kioskd: {e}");
            1
        }
    }
}
