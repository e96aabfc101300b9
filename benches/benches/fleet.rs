//! Site simulation throughput, with every kiosk running the real kiosk
//! machine: kiosk-hours of opening time simulated per second, for
//!
//! - a site-week: 4 kiosks × 9 h × 7 days = 252 kiosk-hours, and
//! - a 1 000-kiosk hall for one day (9 000 kiosk-hours), with arrivals
//!   scaled to keep each kiosk as busy as at the 4-kiosk site, to show
//!   the cost per kiosk-hour stays flat as the hall grows (guided
//!   customers are placed through an index, not by scanning every kiosk).
//!
//! The target is at least 10 000 kiosk-hours per CPU-second. The figure
//! printed is per *CPU*-second of the thread that runs the simulation, read
//! from Linux's `/proc/thread-self/schedstat` (no CPU-time crate is in the
//! tree, and `getrusage` needs `unsafe` libc), so a machine shared with
//! other builds does not make the figure look worse than it is; where that
//! file cannot be read it falls back to wall time and says so. Each line
//! prints the ratio against the target. Criterion's throughput line
//! ("elem/s") is the site-week per wall-second.
//!
//! To see where the time goes, `examples/fleet_profile.rs` runs one of
//! these two runs alone (same seed) under a profiler, e.g.
//! `valgrind --tool=callgrind target/release/examples/fleet_profile site`;
//! it prints the run's digest, so two builds can be checked to simulate the
//! very same run.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiosk_benches::fleet_runs::{big_hall, site_week, SEED};
use kiosk_sim::fleet::{simulate, SiteConfig};

/// The operators' target: kiosk-hours simulated per CPU-second.
const TARGET_KIOSK_HOURS_PER_S: f64 = 10_000.0;

/// CPU time this thread has run, from `/proc/thread-self/schedstat`
/// (its first field, nanoseconds on a CPU); `None` where it cannot be read.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Simulates `runs` runs of `config` and prints kiosk-hours per CPU-second
/// and the ratio against the target; returns the figure.
fn timed_run(label: &str, config: &SiteConfig, runs: u64) -> f64 {
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    let mut kiosk_hours = 0.0;
    let mut events = 0;
    for i in 0..runs {
        let report = simulate(config, SEED + i);
        kiosk_hours += report.kiosk_hours;
        events += report.events;
    }
    let wall = start.elapsed().as_secs_f64();
    let (secs, clock) = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) if b > a => ((b - a).as_secs_f64(), "CPU"),
        _ => (wall, "wall (no CPU clock)"),
    };
    let rate = kiosk_hours / secs;
    println!(
        "fleet {label}: {runs} run(s), {} kiosks, {kiosk_hours:.0} kiosk-hours, {events} events \
         in {secs:.3} {clock} s ({wall:.3} s wall) = {rate:.0} kiosk-hours per {clock} second \
         ({:.2}× the {TARGET_KIOSK_HOURS_PER_S:.0} target; {:.0} events/s); seed={SEED}",
        config.kiosks,
        rate / TARGET_KIOSK_HOURS_PER_S,
        events as f64 / secs
    );
    rate
}

fn bench_site_week(c: &mut Criterion) {
    let config = site_week();
    let small = timed_run("site-week", &config, 20);
    let large = timed_run("1000-kiosk hall-day", &big_hall(), 1);
    println!(
        "fleet: a 1000-kiosk hall runs at {:.2}× the per-kiosk-hour rate of the 4-kiosk site \
         (1.00 = flat in the number of kiosks)",
        large / small
    );
    let kiosk_hours = simulate(&config, SEED).kiosk_hours;
    let mut group = c.benchmark_group("fleet");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    // One element = one kiosk-hour: criterion's elem/s is kiosk-hours per second.
    group.throughput(Throughput::Elements(kiosk_hours as u64));
    group.bench_function("site-week", |b| {
        b.iter(|| simulate(black_box(&config), black_box(SEED)))
    });
    group.finish();
}

criterion_group!(benches, bench_site_week);
criterion_main!(benches);
