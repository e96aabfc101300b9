//! One fleet run for a profiler (`perf record`, `valgrind --tool=callgrind`):
//! `fleet_profile site [runs]` simulates the 4-kiosk site-week of the
//! `fleet` bench, `fleet_profile hall` its 1 000-kiosk hall-day, with the
//! bench's seed, and prints the report's digest so two builds can be
//! checked to simulate the very same run (`fleet_profile site 3 full`
//! prints each whole report).
#![forbid(unsafe_code)]

use kiosk_benches::fleet_runs::{big_hall, site_week, SEED};
use kiosk_sim::fleet::simulate;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "site".into());
    let runs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let full = args.next().as_deref() == Some("full");
    let config = match which.as_str() {
        "site" => site_week(),
        "hall" => big_hall(),
        other => panic!("unknown run {other:?}: site or hall"),
    };
    for i in 0..runs {
        let report = simulate(&config, SEED + i);
        println!(
            "{which} seed={} events={} kiosk-hours={:.0} digest={:016x}",
            SEED + i,
            report.events,
            report.kiosk_hours,
            report.digest
        );
        if full {
            println!("{report:#?}");
        }
    }
}
