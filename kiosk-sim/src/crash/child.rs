//! One life of the kiosk under test: its own OS process, a real [`Kiosk`]
//! on the system clock over the file-backed devices, played by seeded
//! customers until the parent kills it.
//!
//! It prints one line to stdout when recovery is done (`recovered …`) and
//! one per ended session (`session-ended …`): the parent reads them after
//! the kill to tell kills during start-up and recovery from the others.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::journal::Journal;
use kiosk_core::{Devices, Kiosk, KioskConfig, KioskEvent, SessionConfig, SystemClock};
use tokio::sync::mpsc;

use super::acceptor::PhysicalDevice;
use super::backend::{FileLink, LinkFaults};
use super::customer::Customers;
use super::JOURNAL_FILE;
use crate::rng::SimRng;

/// How long the stacker transport takes to carry a note into the box.
pub const TRANSPORT_MS: u64 = 20;

/// What one child process does.
#[derive(Debug, Clone)]
pub struct ChildOptions {
    /// The run directory: journal, device and backend files.
    pub dir: PathBuf,
    /// The run's seed.
    pub seed: u64,
    /// Which life this is (0 for the first): with the seed, it picks this
    /// life's random stream.
    pub incarnation: u64,
    /// The kill that ended the previous life also cut the devices' power:
    /// they power up and report what they found.
    pub power_cut: bool,
    /// `Some(ms)`: the quiescent life — no customers, a healthy link; stop
    /// after `ms` and exit. `None`: play customers until killed.
    pub settle_ms: Option<u64>,
}

/// The kiosk's settings for the crash test: the defaults, with every wait
/// short enough that a life of a few hundred milliseconds gets through
/// sessions, postings and retries.
pub fn crash_config() -> KioskConfig {
    KioskConfig {
        session: SessionConfig {
            insert_idle_timeout_ms: 300,
            confirm_timeout_ms: 1_000,
            ..SessionConfig::default()
        },
        lookup_timeout_ms: 200,
        post_timeout_ms: 200,
        print_timeout_ms: 200,
        retry_initial_ms: 50,
        retry_max_ms: 200,
        health_check_interval_ms: 100,
        ..KioskConfig::default()
    }
}

/// Runs one life to its end (a kill, or the end of the quiescent run).
pub fn run(opts: &ChildOptions) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(live(opts))
}

async fn live(opts: &ChildOptions) -> Result<(), String> {
    let rng = SimRng::new(opts.seed).fork(&format!("life-{}", opts.incarnation));
    let finish_stacking = rng.fork("power-up").chance(0.5);
    let (device, _) =
        PhysicalDevice::open(&opts.dir, opts.power_cut, finish_stacking, TRANSPORT_MS)
            .map_err(|e| e.to_string())?;
    let journal = Journal::open(opts.dir.join(JOURNAL_FILE)).map_err(|e| e.to_string())?;
    let faults = match opts.settle_ms {
        Some(_) => LinkFaults::NONE,
        None => LinkFaults::CRASH_RUN,
    };
    let link = FileLink::open(&opts.dir, rng.fork("link"), faults).map_err(|e| e.to_string())?;
    let devices = Devices {
        acceptor: Box::new(device.acceptor()),
        cash_box: Box::new(device.cash_box()),
        printer: Box::new(AlwaysPrints),
        reader: None,
        link: Box::new(link),
    };
    let (events_tx, events) = mpsc::unbounded_channel();
    let observer = move |_: kiosk_core::Millis, e: &KioskEvent| {
        announce(e);
        let _ = events_tx.send(e.clone());
    };
    let config = crash_config();
    let idle_ms = config.session.insert_idle_timeout_ms;
    let mut kiosk = Kiosk::new(
        config,
        devices,
        journal,
        Arc::new(SystemClock::new()),
        Box::new(observer),
    );
    let (actions, mut customers) = mpsc::channel(16);
    match opts.settle_ms {
        Some(ms) => {
            drop(events);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                drop(actions);
            });
        }
        None => {
            let players = Customers {
                actions,
                events,
                slot: device.slot(),
                rng: rng.fork("customers"),
                insert_idle_timeout_ms: idle_ms,
            };
            tokio::spawn(players.play());
        }
    }
    kiosk.run(&mut customers).await.map_err(|e| e.to_string())?;
    println!("stopped pending-retries={}", kiosk.pending_retries());
    Ok(())
}

/// The stdout lines the parent reads.
fn announce(event: &KioskEvent) {
    let line = match event {
        KioskEvent::Recovered {
            interrupted_sessions,
            pending_payments,
            in_doubt_notes,
        } => format!(
            "recovered interrupted={interrupted_sessions} pending={pending_payments} in-doubt={in_doubt_notes}"
        ),
        KioskEvent::SessionEnded { outcome, .. } => format!("session-ended {outcome:?}"),
        KioskEvent::SecurityAlarm { reason } => format!("alarm {reason}"),
        _ => return,
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A printer that always prints: receipts are not what this test is about.
struct AlwaysPrints;

#[async_trait::async_trait]
impl kiosk_hal::ReceiptPrinter for AlwaysPrints {
    async fn status(&mut self) -> Result<kiosk_hal::PrinterStatus, kiosk_hal::DeviceError> {
        Ok(kiosk_hal::PrinterStatus::Ready)
    }
    async fn print(
        &mut self,
        _receipt: &kiosk_hal::Receipt,
    ) -> Result<kiosk_hal::PrintOutcome, kiosk_hal::DeviceError> {
        Ok(kiosk_hal::PrintOutcome::Printed)
    }
}
