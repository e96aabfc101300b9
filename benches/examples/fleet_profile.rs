//! One fleet run for a profiler (`perf record`, `valgrind --tool=callgrind`):
//! `fleet_profile site [runs]` simulates the 4-kiosk site-week of the
//! `fleet` bench, `fleet_profile hall` its 1 000-kiosk hall-day, with the
//! bench's seed, and prints the report's digest so two builds can be
//! checked to simulate the very same run (`fleet_profile site 3 full`
//! prints each whole report).
#![forbid(unsafe_code)]

use kiosk_sim::fleet::{simulate, SiteConfig};

const SEED: u64 = 0x5EED_F1EE7;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "site".into());
    let runs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let full = args.next().as_deref() == Some("full");
    let base = SiteConfig::default();
    let config = match which.as_str() {
        "site" => SiteConfig { days: 7, ..base },
        "hall" => SiteConfig {
            name: "hall-1000".into(),
            kiosks: 1_000,
            spares: 8,
            days: 1,
            arrivals_per_hour: base.arrivals_per_hour * 1_000.0 / f64::from(base.kiosks),
            ..base
        },
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
