//! A kiosk on virtual devices, running in real time, with its customer's
//! screen served on a local address. Shared by the `screen_demo` example
//! and the browser test (`tests/browser.rs` includes this file).

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use kiosk_core::journal::Journal;
use kiosk_core::{Devices, Kiosk, KioskConfig, KioskEvent, KioskObserver, Millis, SystemClock};
use kiosk_screen::{router, Catalog, ScreenConfig, ScreenService};
use kiosk_sim::backend::{BackendConfig, LinkConfig};
use kiosk_sim::devices::{
    AcceptorConfig, CashBoxConfig, CashUnit, CodeWindow, CustomerSlot, PrinterConfig,
    PrinterHandle, ReaderConfig, VirtualPrinter, VirtualReader,
};
use kiosk_sim::{SimClock, SimRng, VirtualBackend};

/// The demo's accounts.
pub const ACCOUNTS: &str = r#"
[accounts."13800000001"]
holder-name = "张三"
amount-due = { minor = 7000, currency = "CNY" }
balance = { minor = -7000, currency = "CNY" }

[accounts."13800000002"]
holder-name = "李小红"
amount-due = { minor = 3000, currency = "CNY" }
"#;

/// A valid WeChat Pay code (18 digits, prefix 13) for the reader's window.
pub const DEMO_CODE: &str = "134567890123456789";

/// A running demo kiosk: the screen's address and the customer's and
/// staff's hands on the virtual devices.
pub struct Demo {
    /// The page's address (`http://127.0.0.1:port/`).
    pub url: String,
    /// The note slot.
    pub slot: CustomerSlot,
    /// The reader's window.
    pub window: CodeWindow,
    /// The printer, for faults and to read what it printed.
    pub printer: PrinterHandle,
    /// The billing backend.
    pub backend: VirtualBackend,
}

/// Starts the kiosk and its screen on a thread of their own (a
/// current-thread tokio runtime, real time) and returns once the screen
/// listens on `bind` (port 0 picks a free one).
pub fn start(bind: SocketAddr) -> Result<Demo, Box<dyn Error + Send + Sync>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("screen-demo-kiosk".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(Box::new(e) as Box<dyn Error + Send + Sync>));
                    return;
                }
            };
            runtime.block_on(async move {
                if let Err(e) = run(bind, &ready_tx).await {
                    let _ = ready_tx.send(Err(e));
                }
            });
        })?;
    ready_rx.recv()?
}

type Ready = std::sync::mpsc::Sender<Result<Demo, Box<dyn Error + Send + Sync>>>;

async fn run(bind: SocketAddr, ready: &Ready) -> Result<(), Box<dyn Error + Send + Sync>> {
    let dir = tempfile::tempdir()?;
    // Devices count virtual time on tokio's clock, which runs in real time
    // here (the runtime is not paused); the kiosk reads the wall clock.
    let device_clock = SimClock::new();
    let rng = SimRng::new(7);
    let unit = CashUnit::new(
        &AcceptorConfig::default(),
        &CashBoxConfig::default(),
        device_clock,
        rng.fork("acceptor"),
    )?;
    let (printer, printer_handle) =
        VirtualPrinter::new(&PrinterConfig::default(), device_clock, rng.fork("printer"))?;
    let (reader, window) = VirtualReader::new(&ReaderConfig::default(), device_clock);
    let backend_config: BackendConfig = toml::from_str(ACCOUNTS)?;
    let backend = VirtualBackend::new(&backend_config, device_clock);
    let link = backend.link(&LinkConfig::default(), rng.fork("link"))?;
    let devices = Devices {
        acceptor: Box::new(unit.acceptor),
        cash_box: Box::new(unit.cash_box),
        printer: Box::new(printer),
        reader: Some(Box::new(reader)),
        link: Box::new(link),
    };

    let mut config = KioskConfig::default();
    config.session.site = "演示营业厅".into();
    let (actions, mut kiosk_actions) = tokio::sync::mpsc::channel(16);
    let screen = ScreenService::new(
        ScreenConfig::from_session(&config.session),
        Catalog::builtin(),
        actions,
    );
    let mut screen_observer = screen.observer();
    let observer = move |at: Millis, event: &KioskEvent| {
        screen_observer.on_event(at, event);
        match event {
            KioskEvent::Screen { screen } => {
                eprintln!("kiosk screen: {}", kiosk_screen::view::screen_name(screen))
            }
            KioskEvent::FaultDetected { device, kind } => {
                eprintln!("kiosk fault: {device:?} {kind:?}")
            }
            KioskEvent::FaultCleared { device } => eprintln!("kiosk fault cleared: {device:?}"),
            _ => {}
        }
    };
    let mut kiosk = Kiosk::new(
        config,
        devices,
        Journal::open(dir.path().join("journal.db"))?,
        Arc::new(SystemClock::new()),
        Box::new(observer),
    );

    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let server = axum::serve(listener, router(screen));
    ready
        .send(Ok(Demo {
            url: format!("http://{addr}/"),
            slot: unit.customer,
            window,
            printer: printer_handle,
            backend,
        }))
        .map_err(|_| "the caller went away")?;
    let (kiosk_result, server_result) = tokio::join!(kiosk.run(&mut kiosk_actions), server);
    kiosk_result?;
    server_result?;
    drop(dir);
    Ok(())
}
