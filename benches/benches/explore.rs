//! Explorer throughput: generated runs (seed → rates → scenario → a kiosk
//! on a real journal, every step checked) per wall-second on one thread.
//!
//! A timed batch before the measurement prints runs/s and steps/s directly;
//! criterion's "elem/s" is runs per second over a batch of 20 seeds. The
//! target is at least 50 runs/s on one core (CI runs 10,000 in release
//! mode). Journals go to /dev/shm when it exists.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiosk_sim::explore::{run_seed, ExploreOptions};

const FIRST_SEED: u64 = 1;
const BATCH: u64 = 20;

/// Runs `runs` seeds and prints runs per wall-second.
fn timed_run(runs: u64) {
    let options = ExploreOptions::default();
    let start = Instant::now();
    let mut steps = 0;
    for seed in FIRST_SEED..FIRST_SEED + runs {
        steps += run_seed(seed, &options).1.steps;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "explore: {runs} runs, {steps} steps checked in {secs:.3} s = {:.1} runs/s ({:.0} steps/s) on one thread",
        runs as f64 / secs,
        steps as f64 / secs
    );
}

fn bench_explore(c: &mut Criterion) {
    timed_run(200);
    let options = ExploreOptions::default();
    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("20-runs", |b| {
        b.iter(|| {
            for seed in FIRST_SEED..FIRST_SEED + BATCH {
                black_box(run_seed(black_box(seed), &options));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_explore);
criterion_main!(benches);
