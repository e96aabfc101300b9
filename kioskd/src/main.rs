//! The `kioskd` binary: the command line of the `kioskd` library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(kioskd::cli::main(kioskd::cli::Cli::parse()))
}
