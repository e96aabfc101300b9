//! An idle kiosk's serial devices: what their I/O threads cost between
//! customers. An ID-003 bill acceptor, an ESC/POS printer and a serial
//! scanner, each on a pty in front of its emulator, are opened with their
//! drivers at default settings and left idle for 10 s: the acceptor
//! inhibited, as between customers (polled at its idle interval while it
//! says "disabled", 1 s by default; 100 ms once enabled). The figures come
//! from the kernel's own per-thread accounting (`/proc/self/task/*/schedstat`
//! for CPU time in ns, `voluntary_ctxt_switches` for wake-ups).
//!
//! What is counted: the target figure and the wake-ups are the drivers' I/O
//! threads alone (thread names `id003 …`, `escpos …`, `scanner …`), each
//! also printed on its own line. The "whole process" figure adds every
//! other thread: the three emulators (threads `*-emulator`, which read
//! their pty masters on a 5 ms tick: they stand in for the devices and
//! are not part of a kiosk), the tokio thread and the allocator's.
//!
//! Target (issue: event-driven serial I/O): the drivers' share ≤ 0.1 % of a
//! core, the process RSS ≤ 20 MiB. The ratio printed is measured / target.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::drivers::id003::{Id003Acceptor, Id003Config};
use kiosk_hal::drivers::scanner::{ScannerConfig, SerialScanner};
use kiosk_hal::BillAcceptor;
use kiosk_sim::emulators::{
    EscPosEmulator, EscPosEmulatorConfig, Id003Emulator, Id003EmulatorConfig, ScannerEmulator,
    ScannerEmulatorConfig,
};

/// The drivers' I/O thread names start with these (the kernel keeps 15 bytes).
const DRIVER_THREADS: [&str; 3] = ["id003 ", "escpos ", "scanner "];
const IDLE: Duration = Duration::from_secs(10);
const TARGET_CPU_PERCENT: f64 = 0.1;
const TARGET_RSS_MIB: f64 = 20.0;

/// CPU nanoseconds and voluntary context switches of the process's threads,
/// split into the drivers' I/O threads and all threads.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    driver_ns: u64,
    driver_wakeups: u64,
    all_ns: u64,
    /// Per driver thread (in `DRIVER_THREADS` order): CPU ns and wake-ups.
    each: [(u64, u64); 3],
}

fn usage() -> Usage {
    let mut u = Usage::default();
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux)");
    for task in tasks.flatten() {
        let dir = task.path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        let ns: u64 = std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        u.all_ns += ns;
        if let Some(i) = DRIVER_THREADS.iter().position(|p| comm.starts_with(p)) {
            let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
            let wakeups = status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            u.driver_ns += ns;
            u.driver_wakeups += wakeups;
            u.each[i].0 += ns;
            u.each[i].1 += wakeups;
        }
    }
    u
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let acceptor_emu =
            Id003Emulator::start(dir.path().join("id003"), &Id003EmulatorConfig::default())
                .expect("ID-003 emulator");
        let printer_emu =
            EscPosEmulator::start(dir.path().join("printer"), &EscPosEmulatorConfig::default())
                .expect("ESC/POS emulator");
        let scanner_emu = ScannerEmulator::start(
            dir.path().join("scanner"),
            &ScannerEmulatorConfig::default(),
        )
        .expect("scanner emulator");
        let mut acceptor = Id003Acceptor::open(&Id003Config::for_port(acceptor_emu.path()))
            .expect("ID-003 driver");
        let printer = EscPosPrinter::open(&EscPosConfig::for_port(printer_emu.path()))
            .expect("ESC/POS driver");
        let scanner = SerialScanner::open(&ScannerConfig::for_port(scanner_emu.path()))
            .expect("scanner driver");
        // Past the power-up: the acceptor answers polls, the idle state.
        let _ = tokio::time::timeout(Duration::from_secs(3), acceptor.next_event()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;

        let before = usage();
        let start = Instant::now();
        tokio::time::sleep(IDLE).await;
        let secs = start.elapsed().as_secs_f64();
        let after = usage();
        let driver_pct = (after.driver_ns - before.driver_ns) as f64 / 1e9 / secs * 100.0;
        let all_pct = (after.all_ns - before.all_ns) as f64 / 1e9 / secs * 100.0;
        let wakeups = (after.driver_wakeups - before.driver_wakeups) as f64 / secs;
        let rss = rss_mib();
        println!(
            "serial idle, 3 devices (ID-003 acceptor inhibited, ESC/POS printer, scanner), {secs:.1} s:"
        );
        println!(
            "  drivers' I/O threads: {driver_pct:.4} % of a core (target {TARGET_CPU_PERCENT} %: ratio {:.2}), {wakeups:.1} wake-ups/s",
            driver_pct / TARGET_CPU_PERCENT
        );
        for (i, name) in DRIVER_THREADS.iter().enumerate() {
            let ns = after.each[i].0 - before.each[i].0;
            let woke = after.each[i].1 - before.each[i].1;
            println!(
                "    {:<8} {:.4} % of a core, {:.1} wake-ups/s",
                name.trim(),
                ns as f64 / 1e9 / secs * 100.0,
                woke as f64 / secs
            );
        }
        println!("  whole process incl. the three emulators: {all_pct:.4} % of a core");
        println!(
            "  RSS {rss:.1} MiB (target {TARGET_RSS_MIB} MiB: ratio {:.2})",
            rss / TARGET_RSS_MIB
        );
        drop((acceptor, printer, scanner));
    });
}
