//! Running one drill: build the virtual kiosk, play the customers, check the outcome.

use std::sync::{Arc, Mutex};

use kiosk_core::journal::Journal;
use kiosk_core::{Clock, Devices, Kiosk, KioskEvent, Millis, Screen};
use kiosk_hal::PaymentReader;
use tokio::sync::mpsc;

use super::check::{check_expectations, check_money, timings};
use super::customer::Counter;
use super::report::{DrillReport, ExpectationResult};
use super::scenario::{Scenario, StaffDoes, SupervisedDevice};
use super::trace::{trace_hash, TraceEntry};
use crate::backend::VirtualBackend;
use crate::cli_text::Msg;
use crate::clock::SimClock;
use crate::devices::{
    CashBoxHandle, CashUnit, CodeWindow, CustomerSlot, HostPower, PrinterHandle, VirtualPrinter,
    VirtualReader,
};
use crate::faults::{FaultLog, InjectedFault};
use crate::faults::{Sabotage, Sabotaged};
use crate::rng::SimRng;
use kiosk_core::failover::FailoverLink;
use kiosk_core::supervise::{DriverFactory, SupervisedPrinter};

/// Why a drill could not run at all (as opposed to running and failing).
#[derive(Debug)]
pub struct DrillError {
    /// The drill.
    pub id: String,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for DrillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "drill {}: {}", self.id, self.message)
    }
}

impl std::error::Error for DrillError {}

impl Clock for SimClock {
    fn now(&self) -> Millis {
        SimClock::now(self)
    }
}

/// Everything one run produced, before checking.
pub struct DrillRun {
    /// Every kiosk event with its virtual time.
    pub trace: Vec<TraceEntry>,
    /// The kiosk (its journal and devices) after the run.
    pub kiosk: Kiosk,
    /// The backend after the run.
    pub backend: VirtualBackend,
    /// The physical cash box.
    pub staff: CashBoxHandle,
    /// The printer's own record of what it printed.
    pub printer: PrinterHandle,
    /// Virtual time at the end.
    pub ended_at: Millis,
    /// When each planned fault struck.
    pub injected: Vec<InjectedFault>,
    /// Notes staff took out of the cash box (clearings).
    pub removed_by_staff: Vec<kiosk_hal::Money>,
    /// The journal's directory (deleted when dropped).
    pub dir: tempfile::TempDir,
}

/// A virtual kiosk's devices and everything the drill holds on to.
pub struct World {
    /// The devices, for the kiosk.
    pub devices: Devices,
    /// The note slot, for the customer.
    pub slot: CustomerSlot,
    /// The reader's window, if a reader is fitted.
    pub window: Option<CodeWindow>,
    /// The backend.
    pub backend: VirtualBackend,
    /// The physical cash box.
    pub staff: CashBoxHandle,
    /// The printer's own record.
    pub printer: PrinterHandle,
    /// The kiosk's power as the acceptor sees it: when a fault cuts it
    /// between a report and its acknowledgement.
    pub host: HostPower,
    /// When each planned fault actually struck.
    pub fault_log: FaultLog,
    /// The failover link's handle, when a backup link is configured.
    pub failover: Option<kiosk_core::failover::FailoverHandle>,
    /// Supervised drivers' reports.
    pub supervisors: Vec<(
        kiosk_core::DeviceKind,
        kiosk_core::supervise::SupervisorReport,
    )>,
}

/// Builds the scenario's virtual devices and backend on `clock`, with
/// per-device random streams forked from `seed`.
pub fn build_world(scenario: &Scenario, seed: u64, clock: SimClock) -> Result<World, DrillError> {
    let err = |m: String| DrillError {
        id: scenario.id.clone(),
        message: m,
    };
    let rng = SimRng::new(seed);
    let log = FaultLog::new();
    let unit = CashUnit::new(
        &scenario.acceptor,
        &scenario.cash_box,
        clock,
        rng.fork("acceptor"),
    )
    .map_err(|e| err(format!("[acceptor]: {}", e.message())))?
    .with_fault_log(log.clone(), "acceptor");
    let (printer, printer_handle) =
        VirtualPrinter::new(&scenario.printer, clock, rng.fork("printer"))
            .map_err(|e| err(format!("[printer]: {}", e.message())))?;
    let printer_handle_for_factory = printer_handle.clone();
    let printer = printer.with_fault_log(log.clone(), "printer");
    let mut supervisors = Vec::new();
    let sabotage = |device: SupervisedDevice| {
        scenario
            .driver_failures
            .iter()
            .find(|f| f.device == device)
            .map(|f| Sabotage::new(Millis(f.at_ms), f.mode, clock))
    };
    let printer: Box<dyn kiosk_hal::ReceiptPrinter> = match sabotage(SupervisedDevice::Printer) {
        None => Box::new(printer),
        Some(plan) => {
            // Restarting the driver gives a new handle on the same printer.
            let factory: DriverFactory<dyn kiosk_hal::ReceiptPrinter> = Box::new(move || {
                Ok(Box::new(Sabotaged::new(
                    printer_handle_for_factory.driver(),
                    plan.clone(),
                )) as Box<dyn kiosk_hal::ReceiptPrinter>)
            });
            let supervised = SupervisedPrinter::new(factory, scenario.supervisor.clone());
            supervisors.push((kiosk_core::DeviceKind::Printer, supervised.report()));
            Box::new(supervised)
        }
    };
    let (reader, window) = match &scenario.reader {
        Some(cfg) => {
            let (r, w) = VirtualReader::with_faults(cfg, clock, rng.fork("reader"))
                .map_err(|e| err(format!("[reader]: {}", e.message())))?;
            let r = r.with_fault_log(log.clone(), "reader");
            (Some(Box::new(r) as Box<dyn PaymentReader>), Some(w))
        }
        None => (None, None),
    };
    let backend = VirtualBackend::new(&scenario.backend, clock);
    let link = backend
        .link(&scenario.link, rng.fork("link"))
        .map_err(|e| err(format!("[link]: {}", e.message())))?
        .with_fault_log(log.clone(), "link");
    let (link, failover): (Box<dyn kiosk_hal::NetworkLink>, _) = match &scenario.backup_link {
        None => (Box::new(link), None),
        Some(cfg) => {
            let backup = backend
                .link(cfg, rng.fork("backup-link"))
                .map_err(|e| err(format!("[backup-link]: {}", e.message())))?
                .with_fault_log(log.clone(), "backup-link");
            let failover = FailoverLink::new(
                Box::new(link),
                Some(Box::new(backup)),
                scenario.failover.clone(),
                Arc::new(clock),
            );
            let handle = failover.handle();
            (Box::new(failover), Some(handle))
        }
    };
    Ok(World {
        devices: Devices {
            acceptor: Box::new(unit.acceptor),
            cash_box: Box::new(unit.cash_box),
            printer,
            reader,
            link,
        },
        slot: unit.customer,
        window,
        backend,
        staff: unit.staff,
        host: unit.host,
        printer: printer_handle,
        fault_log: log,
        failover,
        supervisors,
    })
}

/// Called after every kiosk event with a view of the whole world: how the
/// explorer checks its invariants after each step.
pub type StepHook = Box<dyn FnMut(&StepView, Millis, &KioskEvent) + Send>;

/// What a [`StepHook`] can look at while the drill runs: the physical
/// truth (cash box, staff's takings, backend, injected faults) and where
/// the journal file is (to read it through a second connection).
#[derive(Clone)]
pub struct StepView {
    /// The journal file the kiosk writes.
    pub journal_path: std::path::PathBuf,
    /// The physical cash box.
    pub staff: CashBoxHandle,
    /// The backend.
    pub backend: VirtualBackend,
    /// Faults injected so far.
    pub fault_log: FaultLog,
    /// Notes staff took out of the box so far.
    pub removed_by_staff: Arc<Mutex<Vec<kiosk_hal::Money>>>,
}

/// How [`run_once_with`] runs, beyond the scenario and the seed.
#[derive(Default)]
pub struct RunOptions {
    /// Where to put the journal's temporary directory (default: the
    /// system's temporary directory). The explorer uses `/dev/shm`.
    pub journal_dir: Option<std::path::PathBuf>,
    /// Called after every kiosk event.
    pub on_step: Option<StepHook>,
    /// The bytes of a new, cleanly closed journal (see
    /// [`new_journal_bytes`]) to start the run from, instead of letting the
    /// kiosk create its journal. The explorer runs thousands of short runs:
    /// creating the schema (SQLite parsing and running every table, index
    /// and trigger definition) was over a third of each. The kiosk then
    /// opens an existing empty journal, as after any clean restart.
    pub journal_template: Option<Arc<[u8]>>,
}

/// The bytes of a journal this build has just created and closed cleanly:
/// what [`RunOptions::journal_template`] takes. Made in a temporary
/// directory under `dir` (the system's temporary directory when `None`).
pub fn new_journal_bytes(dir: Option<&std::path::Path>) -> Result<Arc<[u8]>, String> {
    let tmp = match dir {
        Some(parent) => tempfile::Builder::new()
            .prefix("kiosk-template")
            .tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .map_err(|e| format!("cannot create a directory for the journal template: {e}"))?;
    let path = tmp.path().join("journal.db");
    Journal::open(&path)
        .and_then(Journal::close)
        .map_err(|e| format!("cannot create the journal template: {e}"))?;
    // A clean close checkpoints and removes the write-ahead log: the main
    // file is the whole journal.
    debug_assert!(!tmp.path().join("journal.db-wal").exists());
    let bytes =
        std::fs::read(&path).map_err(|e| format!("cannot read the journal template: {e}"))?;
    Ok(bytes.into())
}

type SharedHook = Arc<Mutex<Option<(StepView, StepHook)>>>;

/// Records every event into the trace and forwards screens to the customer.
fn observer(
    trace: &Arc<Mutex<Vec<TraceEntry>>>,
    screens: &mpsc::UnboundedSender<Screen>,
    hook: &SharedHook,
) -> Box<dyn kiosk_core::KioskObserver> {
    let trace = Arc::clone(trace);
    let screens = screens.clone();
    let hook = Arc::clone(hook);
    Box::new(move |at: Millis, event: &KioskEvent| {
        if let KioskEvent::Screen { screen } = event {
            let _ = screens.send(screen.clone());
        }
        trace
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(TraceEntry {
                at,
                event: event.clone(),
            });
        if let Some((view, step)) = &mut *hook.lock().unwrap_or_else(|p| p.into_inner()) {
            step(view, at, event);
        }
    })
}

/// Runs `scenario` once with `seed`, in virtual time, on a fresh journal file.
///
/// At each of the scenario's power losses the kiosk is stopped where it
/// stands (its future dropped, the journal closed, nothing else saved), and
/// after the outage a new kiosk starts on the same journal file and devices
/// and recovers.
pub fn run_once(scenario: &Scenario, seed: u64) -> Result<DrillRun, DrillError> {
    run_once_with(scenario, seed, RunOptions::default())
}

/// [`run_once`] with options: where the journal lives, and a hook called
/// after every kiosk event.
pub fn run_once_with(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
) -> Result<DrillRun, DrillError> {
    let err = |m: String| DrillError {
        id: scenario.id.clone(),
        message: m,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| err(format!("cannot start the simulation runtime: {e}")))?;
    let dir = match &options.journal_dir {
        Some(parent) => tempfile::Builder::new()
            .prefix("kiosk-drill")
            .tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .map_err(|e| err(format!("cannot create a journal dir: {e}")))?;
    let journal_path = dir.path().join("journal.db");
    if let Some(bytes) = &options.journal_template {
        std::fs::write(&journal_path, bytes)
            .map_err(|e| err(format!("cannot write the journal template: {e}")))?;
    }
    runtime.block_on(async move {
        let clock = SimClock::new();
        let world = build_world(scenario, seed, clock)?;
        let trace = Arc::new(Mutex::new(Vec::new()));
        let removed = Arc::new(Mutex::new(Vec::new()));
        let hook: SharedHook = Arc::new(Mutex::new(options.on_step.map(|step| {
            let view = StepView {
                journal_path: journal_path.clone(),
                staff: world.staff.clone(),
                backend: world.backend.clone(),
                fault_log: world.fault_log.clone(),
                removed_by_staff: Arc::clone(&removed),
            };
            (view, step)
        })));
        let (screens_tx, screens_rx) = mpsc::unbounded_channel();
        let (buttons, mut button_rx) = mpsc::channel(16);
        let mut counter = Counter {
            clock,
            buttons,
            screens: screens_rx,
            slot: world.slot.clone(),
            window: world.window.clone(),
            currency: scenario.backend.currency,
        };
        let customers = async {
            for script in &scenario.customers {
                counter.serve(script).await;
            }
            clock.sleep_until(Millis(scenario.duration_ms)).await;
            drop(counter);
        };
        let (command_tx, command_rx) = mpsc::channel(16);
        let operations = async {
            for c in &scenario.commands {
                clock.sleep_until(Millis(c.at_ms)).await;
                let _ = command_tx.send(c.command.clone()).await;
            }
            drop(command_tx);
        };
        let hands = async {
            let mut actions = scenario.staff.clone();
            actions.sort_by_key(|a| a.at_ms);
            for a in actions {
                clock.sleep_until(Millis(a.at_ms)).await;
                match a.action {
                    StaffDoes::RemoveCashBox => {
                        let notes = world.staff.remove_box();
                        removed
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .extend(notes);
                    }
                    StaffDoes::InsertCashBox => world.staff.insert_box(),
                    StaffDoes::ServicePrinter => world.printer.service(),
                }
            }
        };
        let bank = async {
            for c in &scenario.account_changes {
                clock.sleep_until(Millis(c.at_ms)).await;
                world.backend.set_account_status(
                    &kiosk_hal::AccountNumber(c.account.clone().into()),
                    c.status,
                );
            }
        };
        let kiosk_life = async {
            let mut devices = world.devices;
            let mut commands = Some(command_rx);
            let mut outages = scenario.power_losses.iter().peekable();
            let host = world.host.clone();
            loop {
                let journal = Journal::open(&journal_path)
                    .map_err(|e| err(format!("cannot open the journal: {e}")))?;
                let mut kiosk = Kiosk::new(
                    scenario.kiosk.clone(),
                    devices,
                    journal,
                    Arc::new(clock),
                    observer(&trace, &screens_tx, &hook),
                );
                if let Some(rx) = commands.take() {
                    kiosk.set_commands(rx);
                }
                if let Some(handle) = &world.failover {
                    kiosk.set_failover(handle.clone());
                }
                for (device, report) in &world.supervisors {
                    kiosk.watch_supervisor(*device, report.clone());
                }
                // A scheduled outage that fell while the kiosk was already
                // dark (a fault's outage) is part of that outage.
                while outages.next_if(|o| o.at_ms < clock.now().0).is_some() {}
                let scheduled = outages.peek().map(|o| (o.at_ms, o.down_ms));
                let (down_ms, by_fault) = tokio::select! {
                    biased;
                    _ = sleep_until_some(clock, scheduled.map(|(at, _)| at)) => {
                        outages.next();
                        (scheduled.map_or(0, |(_, down)| down), false)
                    }
                    // The kiosk took an acceptor report and dies before its
                    // next call acknowledges it (the acceptor's fault plan).
                    down = host.power_loss() => (down, true),
                    result = kiosk.run(&mut button_rx) => {
                        result.map_err(|e| err(format!("kiosk stopped: {e}")))?;
                        return Ok(kiosk);
                    }
                };
                // Power is gone: whatever the kiosk was doing stops here.
                commands = kiosk.take_commands();
                let (d, journal) = kiosk.into_parts();
                // Let go of the file as a power cut would: no clean
                // close, so the next open checks like after a crash.
                journal.abandon();
                devices = d;
                // What the acceptor handed over and was not acknowledged
                // stays in it, for the next life.
                host.lost_power();
                // Buttons pressed while the screen is dark go nowhere.
                clock.sleep_until(Millis(clock.now().0 + down_ms)).await;
                while button_rx.try_recv().is_ok() {}
                if by_fault {
                    // The fault log has when it struck; this is when the
                    // kiosk has power again (the explorer's end checks wait
                    // for it as for a scheduled outage's end).
                    world.fault_log.record(
                        clock.now(),
                        "acceptor",
                        &format_args!("end of {POWER_LOSS_BEFORE_ACK}"),
                    );
                }
            }
        };
        let (kiosk, (), (), (), ()) = tokio::join!(kiosk_life, customers, operations, hands, bank);
        let kiosk = kiosk?;
        let ended_at = clock.now();
        let injected = world.fault_log.entries();
        let removed_by_staff =
            std::mem::take(&mut *removed.lock().unwrap_or_else(|p| p.into_inner()));
        let trace = std::mem::take(&mut *trace.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(DrillRun {
            trace,
            kiosk,
            backend: world.backend,
            staff: world.staff,
            printer: world.printer,
            ended_at,
            injected,
            removed_by_staff,
            dir,
        })
    })
}

/// How the acceptor's `kiosk-power-loss-before-ack` fault is named in the
/// fault log (its `Debug` form starts so; the end of the outage it caused
/// is logged as `end of` this).
pub const POWER_LOSS_BEFORE_ACK: &str = "KioskPowerLossBeforeAck";

/// Sleeps until `at`, or for ever when there is no `at`.
async fn sleep_until_some(clock: SimClock, at: Option<u64>) {
    match at {
        Some(at) => clock.sleep_until(Millis(at)).await,
        None => std::future::pending().await,
    }
}

/// Runs `scenario` with `seed` twice (determinism) and checks everything.
pub fn run_drill(scenario: &Scenario, seed: u64) -> Result<DrillReport, DrillError> {
    if let Some(site) = &scenario.site_drill {
        return super::site::run_site_drill(scenario, site, seed);
    }
    if scenario.expect.explorer_checks {
        return Ok(crate::explore::drill_report(scenario, seed));
    }
    let run = run_once(scenario, seed)?;
    let hash = trace_hash(&run.trace);
    let again = run_once(scenario, seed)?;
    let hash_again = trace_hash(&again.trace);
    let mut expectations = check_expectations(scenario, &run);
    expectations.push(ExpectationResult::in_both(
        |l| Msg::ExpDeterministicTrace.text(l).to_string(),
        hash == hash_again,
        |l| super::report::two_hashes(l, hash, hash_again),
    ));
    let invariant = check_money(scenario, &run);
    let passed = invariant.holds && expectations.iter().all(|e| e.passed);
    let invariant = Some(invariant);
    Ok(DrillReport {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        title_zh: scenario.title_in(crate::cli_text::Lang::Zh).to_string(),
        seed,
        passed,
        expectations,
        invariant,
        timings: timings(scenario, &run.trace, &run.injected),
        simulated_ms: run.ended_at.0,
        events: run.trace.len(),
        trace_hash: format!("{hash:016x}"),
        detail: None,
    })
}

/// The screens of a run, in order (for tests and the `--trace` output).
pub fn screens(trace: &[TraceEntry]) -> Vec<(Millis, Screen)> {
    trace
        .iter()
        .filter_map(|e| match &e.event {
            KioskEvent::Screen { screen } => Some((e.at, screen.clone())),
            _ => None,
        })
        .collect()
}
