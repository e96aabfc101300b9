//! Runs a contingency drill from its scenario file and prints the report,
//! as an operator's tool or a CI job would.
//!
//! Run with `cargo run -p kiosk-examples --example run_drill [ID] [SEED]`
//! (default: `link-drop-mid-payment`, seed 1).
#![forbid(unsafe_code)]

use kiosk_sim::drill::{builtin, run_drill};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let id = args
        .next()
        .unwrap_or_else(|| "link-drop-mid-payment".into());
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let scenario = match builtin(&id) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    match run_drill(&scenario, seed) {
        Ok(report) => {
            print!("{}", report.render_text());
            if report.passed {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
