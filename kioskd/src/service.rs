//! One kiosk as a service: start, serve, stop.
//!
//! Start: the configuration is checked (errors stop here, named by file,
//! line and column), the state directory is made, the journal opened,
//! the devices and the backend link built, the operator API bound. Then
//! the kiosk runs (recovering its journal first) until SIGTERM or SIGINT.
//!
//! Stop: the API stops taking customers and commands at once; the kiosk's
//! customer channel is closed, which the runner takes as the customer
//! leaving: the session in progress ends the way a customer's Cancel ends
//! it (a note in escrow goes back to the customer, stacked notes are
//! posted, a note in the stacker's transport is waited for). Then the
//! journal is closed cleanly (checked, marked, checkpointed) and kioskd
//! exits 0. If the session has not ended within `shutdown-timeout-ms`,
//! kioskd stops waiting and exits 3: what is durable is in the journal,
//! and the next start's recovery settles the rest (as after a power cut).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::journal::Journal;
use kiosk_core::{Clock, DeviceKind, Devices, Kiosk, SystemClock};
use kiosk_hal::{BillAcceptor, CashBox, NetworkLink, PaymentReader, ReceiptPrinter};
use tokio::sync::{mpsc, watch};

use crate::api::{self, ApiParts, ApiState, CustomerGate};
use crate::audit::AuditLog;
use crate::auth::Staffing;
use crate::config::{self, LoadedConfig};
use crate::devices::{self, Hardware};
use crate::fleet;
use crate::identity::{Identified, Identities};
use crate::link::{https_link, TimedLink};
use crate::metrics::Metrics;
use crate::validate::{self, FindingKind, Level, Mode};
use crate::watch::{KioskView, Watch};

/// How the service was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file.
    pub config: PathBuf,
    /// Run on virtual devices and the virtual backend.
    pub simulate: bool,
    /// Overrides the configuration's state directory.
    pub state_dir: Option<PathBuf>,
    /// Overrides the API's listen address (`127.0.0.1:0` picks a free port).
    pub listen: Option<SocketAddr>,
}

/// How the service ended: its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Stopped by a signal, session finished, journal closed: 0.
    Clean,
    /// Could not start (configuration, state directory, journal, devices,
    /// link, listen address): 1.
    StartFailed,
    /// The journal failed while running: the kiosk is out of service: 2.
    OutOfService,
    /// The session in progress did not end within the shutdown timeout: 3.
    ShutdownTimedOut,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::StartFailed => 1,
            Exit::OutOfService => 2,
            Exit::ShutdownTimedOut => 3,
        }
    }
}

/// The state directory: the option, the file's, `$STATE_DIRECTORY`
/// (systemd's `StateDirectory=`; the first if it lists several), or
/// `/var/lib/kioskd`.
pub fn state_dir(option: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    if let Some(dir) = option.or(configured) {
        return dir.to_path_buf();
    }
    match std::env::var_os("STATE_DIRECTORY") {
        Some(dirs) => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            PathBuf::from(first)
        }
        None => PathBuf::from("/var/lib/kioskd"),
    }
}

/// Makes the state directory, or says clearly why it cannot be made.
pub fn make_state_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "cannot create the state directory {}: {e} (set --state-dir, or state-dir in the \
             configuration, to a directory kioskd may write)",
            dir.display()
        )
    })?;
    let probe = dir.join(".kioskd-write-test");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("the state directory {} is not writable: {e}", dir.display()))
}

/// Checks the configuration for `mode`; logs warnings, returns the errors
/// rendered. At start a missing serial port is only a warning: the device
/// is a fault the running kiosk reports and retries.
fn check_for_start(loaded: &LoadedConfig, mode: Mode) -> Result<(), String> {
    let mut errors = Vec::new();
    for finding in validate::check(&loaded.config, mode) {
        let line = finding.render(loaded);
        let fatal = finding.level == Level::Error && finding.kind != FindingKind::MissingPort;
        if fatal {
            errors.push(line);
        } else {
            tracing::warn!("{line}");
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Runs the service until a signal stops it. Call inside a tokio runtime
/// with IO and time enabled.
pub async fn run(opts: Options) -> Exit {
    match start(&opts).await {
        Ok(started) => started.serve().await,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("kioskd: {e}");
            Exit::StartFailed
        }
    }
}

/// A kiosk built and an API bound, not yet running.
pub struct Started {
    kiosk: Kiosk,
    customers: mpsc::Receiver<kiosk_core::CustomerAction>,
    screen: Option<kiosk_screen::ScreenService>,
    screen_actions: mpsc::Receiver<kiosk_core::CustomerAction>,
    gate: CustomerGate,
    watch: Watch,
    listener: tokio::net::TcpListener,
    api: ApiState,
    shutdown_timeout: Duration,
    fleet: Option<fleet::Fleet>,
}

impl Started {
    /// The API's address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Everything up to serving: the configuration, the state directory, the
/// journal, the devices, the link and the API's listener.
pub async fn start(opts: &Options) -> Result<Started, String> {
    let loaded = config::load(&opts.config).map_err(|e| e.to_string())?;
    let mode = if opts.simulate {
        Mode::Simulate
    } else {
        Mode::Real
    };
    check_for_start(&loaded, mode)?;
    let cfg = &loaded.config;
    let dir = state_dir(opts.state_dir.as_deref(), cfg.state_dir.as_deref());
    make_state_dir(&dir)?;
    let journal_path = cfg
        .journal
        .clone()
        .unwrap_or_else(|| dir.join(kiosk_sim::crash::JOURNAL_FILE));
    let journal = Journal::open(&journal_path)
        .map_err(|e| format!("cannot open the journal {}: {e}", journal_path.display()))?;
    let view = KioskView::from_journal(&journal).map_err(|e| e.to_string())?;
    let metrics = Metrics::new();
    let watch = Watch::new(view, metrics.clone());

    let (hardware, link, slot): (Hardware, Box<dyn NetworkLink>, _) = if opts.simulate {
        let sim = devices::simulated(&dir, cfg.currency, cfg.simulate.transport_ms)?;
        // Virtual devices; the backend is the configured one over HTTPS
        // when `[link]` is given (a demo against the reference billing
        // server), else the virtual backend in the state directory.
        let link: Box<dyn NetworkLink> = match &cfg.link {
            Some(link) => {
                tracing::warn!(state_dir = %dir.display(), backend = %link.base_url,
                    "--simulate: virtual devices, the real backend over HTTPS");
                https_link(link)?
            }
            None => {
                tracing::warn!(state_dir = %dir.display(), "--simulate: virtual devices and backend");
                Box::new(sim.link)
            }
        };
        (sim.hardware, link, Some(sim.slot))
    } else {
        let devices = cfg.devices.as_ref().ok_or("no [devices]")?;
        let link = cfg.link.as_ref().ok_or("no [link]")?;
        (
            devices::real(devices, &cfg.supervisor)?,
            https_link(link)?,
            None,
        )
    };
    let staffing = Staffing::new(&cfg.api.operators);
    let mut kiosk_config = cfg.kiosk.clone();
    kiosk_config.authorised_operators = staffing.clearing_staff();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    // Each device's identity for the status and the log: read once now
    // (virtual devices know theirs; a real driver knows its protocol and
    // fills in the rest once the device is set up), then after every
    // successful status check the kiosk makes.
    let identities = Identities::new();
    let mut acceptor = Identified::new(DeviceKind::Acceptor, hardware.acceptor, &identities);
    let mut cash_box = Identified::new(DeviceKind::CashBox, hardware.cash_box, &identities);
    let mut printer = Identified::new(DeviceKind::Printer, hardware.printer, &identities);
    let _ = acceptor.identity().await;
    let _ = cash_box.identity().await;
    let _ = printer.identity().await;
    let reader = match hardware.reader {
        Some(reader) => {
            let mut reader = Identified::new(DeviceKind::Reader, reader, &identities);
            let _ = reader.identity().await;
            Some(Box::new(reader) as Box<dyn PaymentReader>)
        }
        None => None,
    };
    let devices = Devices {
        acceptor: Box::new(acceptor),
        cash_box: Box::new(cash_box),
        printer: Box::new(printer),
        reader,
        link: Box::new(TimedLink::new(link, metrics.clone()).with_identities(&identities)),
    };
    let kiosk_id = kiosk_config.kiosk_id.0.clone();
    let takes_customers = opts.simulate || cfg.api.customer_actions;
    // The customer's screen (kiosk-screen) under /screen/ when the service
    // takes customer actions: it sees every event, and its page's actions
    // go through the same gate as the API's (none once stopping).
    let (screen_tx, screen_actions) = mpsc::channel(16);
    let screen = takes_customers.then(|| {
        kiosk_screen::ScreenService::new(
            kiosk_screen::ScreenConfig::from_session(&kiosk_config.session),
            // The texts the session prints its receipts from.
            kiosk_config.session.catalog.as_ref().clone(),
            screen_tx,
        )
    });
    let (commands_tx, commands_rx) = mpsc::channel(16);
    let audit_path = dir.join("audit.jsonl");
    let audit = AuditLog::open(&audit_path)
        .map_err(|e| format!("cannot open the audit log {}: {e}", audit_path.display()))?;
    // The hall's fleet over MQTT (`[fleet]`): connects in the background.
    let fleet = match &cfg.fleet {
        Some(fleet_config) => Some(fleet::start(fleet::FleetParts {
            config: fleet_config.clone(),
            kiosk_id: kiosk_config.kiosk_id.0.clone(),
            watch: watch.clone(),
            identities: identities.clone(),
            commands: commands_tx.clone(),
            audit: audit.clone(),
            command_wait: Duration::from_millis(cfg.api.command_wait_ms),
            clock: clock.clone(),
        })?),
        None => None,
    };
    // Every observer sees every event, in this order: the view (and the
    // API), the screen, the fleet's telemetry queue.
    let mut observers = vec![watch.observer()];
    if let Some(screen) = &screen {
        observers.push(Box::new(screen.observer()));
    }
    if let Some(fleet) = &fleet {
        observers.push(fleet.handle().observer());
    }
    let observer: Box<dyn kiosk_core::KioskObserver> = Box::new(
        move |at: kiosk_core::Millis, event: &kiosk_core::KioskEvent| {
            for o in observers.iter_mut() {
                o.on_event(at, event);
            }
        },
    );
    let mut kiosk = Kiosk::new(kiosk_config, devices, journal, clock.clone(), observer);
    kiosk.set_journal_timings(Box::new(metrics.clone()));
    for (device, report) in hardware.supervisors {
        kiosk.watch_supervisor(device, report);
    }
    kiosk.set_remote(commands_rx);
    // One slot: a customer's actions wait at the gate rather than queue
    // up behind a session, so at most one taken before a stop is still
    // read after it.
    let (customers_tx, customers) = mpsc::channel(1);
    let gate = CustomerGate::new(customers_tx);

    let listen = opts.listen.unwrap_or(cfg.api.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("the operator API cannot listen on {listen}: {e}"))?;
    let api = ApiState::new(ApiParts {
        kiosk_id,
        staffing,
        token_ttl: Duration::from_secs(cfg.api.token_ttl_s),
        dual_control_window: Duration::from_secs(cfg.api.dual_control_window_s),
        watch: watch.clone(),
        commands: commands_tx,
        customers: takes_customers.then(|| gate.clone()),
        slot,
        audit,
        clock,
        command_wait: Duration::from_millis(cfg.api.command_wait_ms),
        identities,
        journal: journal_path.clone(),
        currency: cfg.currency,
    });
    Ok(Started {
        kiosk,
        customers,
        screen,
        screen_actions,
        gate,
        watch,
        listener,
        api,
        shutdown_timeout: Duration::from_millis(cfg.shutdown_timeout_ms),
        fleet,
    })
}

impl Started {
    /// Serves until SIGTERM / SIGINT, then stops as the module docs say.
    pub async fn serve(self) -> Exit {
        let Started {
            mut kiosk,
            mut customers,
            screen,
            mut screen_actions,
            gate,
            watch,
            listener,
            api,
            shutdown_timeout,
            fleet,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        // The API keeps answering (status, metrics; 503 for customers and
        // commands) while the last session ends, and stops after the kiosk.
        let (api_stop_tx, api_stop_rx) = watch::channel(false);
        match listener.local_addr() {
            Ok(addr) => {
                // One line on stdout for supervisors and tests; logs go to stderr.
                println!("kioskd listening http://{addr}");
                tracing::info!(%addr, "operator API listening");
            }
            Err(e) => tracing::warn!(error = %e, "operator API address unknown"),
        }
        let server = tokio::spawn(api::serve(listener, api, screen, stopped(api_stop_rx)));
        // The page's actions reach the kiosk through the gate, like the API's.
        let screen_gate = gate.clone();
        let screen_forward = tokio::spawn(async move {
            while let Some(action) = screen_actions.recv().await {
                match screen_gate.sender() {
                    Some(tx) => {
                        let _ = tx.send(action).await;
                    }
                    None => tracing::info!("stopping: a customer action from the screen refused"),
                }
            }
        });
        let fleet_handle = fleet.as_ref().map(fleet::Fleet::handle);
        let signals = tokio::spawn(on_signal(
            stop_tx,
            gate.clone(),
            watch.clone(),
            fleet_handle,
        ));

        let ran = {
            let run = kiosk.run(&mut customers);
            tokio::pin!(run);
            let give_up = async {
                stopped(stop_rx.clone()).await;
                tokio::time::sleep(shutdown_timeout).await;
            };
            tokio::select! {
                ran = &mut run => Some(ran),
                () = give_up => None,
            }
        };
        signals.abort();
        screen_forward.abort();
        gate.close();
        let exit = match ran {
            Some(Ok(())) => Exit::Clean,
            Some(Err(e)) => {
                tracing::error!(error = %e, "the kiosk stopped: out of service");
                Exit::OutOfService
            }
            None => {
                tracing::error!(
                    timeout_ms = shutdown_timeout.as_millis() as u64,
                    "the session in progress did not end in time; stopping without it \
                     (the next start's recovery settles it)"
                );
                Exit::ShutdownTimedOut
            }
        };
        let exit = match close_journal(kiosk) {
            Ok(()) => exit,
            Err(e) => {
                tracing::error!(error = %e, "the journal did not close cleanly");
                if exit == Exit::Clean {
                    Exit::OutOfService
                } else {
                    exit
                }
            }
        };
        if let Some(fleet) = fleet {
            // "offline" (clean) replaces the retained status before the
            // connection closes, so the broker keeps the last will to itself.
            fleet.stop(Duration::from_secs(2)).await;
        }
        let _ = api_stop_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(5), server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "operator API stopped with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "operator API task failed"),
            Err(_) => tracing::warn!("operator API did not stop within 5 s"),
        }
        tracing::info!(code = exit.code(), "kioskd stopped");
        exit
    }
}

fn close_journal(kiosk: Kiosk) -> Result<(), kiosk_core::journal::JournalError> {
    let (devices, journal) = kiosk.into_parts();
    drop(devices);
    journal.close()
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone: stop as well.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Waits for SIGTERM or SIGINT, then stops taking customers and commands.
async fn on_signal(
    stop: watch::Sender<bool>,
    gate: CustomerGate,
    watch: Watch,
    fleet: Option<fleet::FleetHandle>,
) {
    let which = wait_for_signal().await;
    tracing::info!(
        signal = which,
        session = ?watch.view().session,
        "stopping: no new customers; the session in progress ends first"
    );
    watch.set_stopping();
    if let Some(fleet) = &fleet {
        // The hall sends nobody more here.
        fleet.status_changed();
    }
    gate.close();
    let _ = stop.send(true);
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            tracing::error!("cannot listen for SIGTERM/SIGINT");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "ctrl-c"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_dir_that_cannot_be_made_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let e = make_state_dir(&file.join("state")).unwrap_err();
        assert!(e.starts_with("cannot create the state directory"), "{e}");
        assert!(e.contains("--state-dir"), "{e}");
        make_state_dir(&dir.path().join("a/b")).unwrap();
    }

    #[test]
    fn the_state_dir_option_wins_over_the_file() {
        let opt = Path::new("/tmp/opt");
        let file = Path::new("/tmp/file");
        assert_eq!(state_dir(Some(opt), Some(file)), opt);
        assert_eq!(state_dir(None, Some(file)), file);
    }
}
