//! Site simulation throughput: one site-week (4 kiosks × 9 h × 7 days =
//! 252 kiosk-hours of opening time) per iteration.
//!
//! Criterion's throughput line ("elem/s") is kiosk-hours per wall-second;
//! a separate timed run before the measurement prints the same figure
//! directly. The target is at least 5 000 kiosk-hours per wall-second on
//! one core.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiosk_sim::fleet::{simulate, SiteConfig};

const SEED: u64 = 0x5EED_F1EE7;

fn site_week() -> SiteConfig {
    SiteConfig {
        days: 7,
        ..SiteConfig::default()
    }
}

/// Simulates `runs` site-weeks and prints kiosk-hours per wall-second.
fn timed_run(config: &SiteConfig, runs: u64) {
    let start = Instant::now();
    let mut kiosk_hours = 0.0;
    let mut events = 0;
    for i in 0..runs {
        let report = simulate(config, SEED + i);
        kiosk_hours += report.kiosk_hours;
        events += report.events;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fleet: {runs} site-weeks, {kiosk_hours:.0} kiosk-hours, {events} events in {secs:.3} s \
         = {:.0} kiosk-hours per wall-second ({:.0} events/s); seed={SEED}",
        kiosk_hours / secs,
        events as f64 / secs
    );
}

fn bench_site_week(c: &mut Criterion) {
    let config = site_week();
    timed_run(&config, 20);
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
