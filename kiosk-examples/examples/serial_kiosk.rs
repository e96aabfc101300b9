//! A kiosk wired to real serial devices from a configuration file: an
//! ID-003 bill acceptor, an ESC/POS receipt printer and a serial QR
//! scanner, built by `kiosk_hal::drivers::config::build_devices` from
//! `serial_kiosk.toml`. Changing hardware is editing that file.
//!
//! ```text
//! cargo run -p kiosk-examples --example serial_kiosk                # the file next to this one
//! cargo run -p kiosk-examples --example serial_kiosk -- my.toml     # your own file
//! cargo run -p kiosk-examples --example serial_kiosk -- --emulate   # never touch real ports
//! ```
//!
//! **Runs without hardware.** With `--emulate`, or when any configured port
//! does not exist (CI, a laptop), the example starts the `kiosk-sim`
//! emulators on pseudo-terminals, writes their paths into a copy of the
//! configuration, loads that copy exactly as it would load the real file,
//! and plays one short cash payment (a 50 and a 20 note) against the real
//! drivers: screens, the printed receipt and the journal totals are shown.
//!
//! With real devices present it serves customers whose actions arrive as
//! JSON lines on standard input, e.g.
//! `{"action":"enter-account","account":"1001"}`,
//! `{"action":"choose-method","method":"cash"}`, `{"action":"confirm"}`;
//! end of input stops it. The backend is the simulated one (account 1001).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::drivers::config::{build_devices, DeviceConfig, DevicesConfig};
use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};
use kiosk_sim::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use kiosk_sim::emulators::{
    EscPosEmulator, EscPosEmulatorConfig, Id003Emulator, Id003EmulatorConfig, ScannerEmulator,
};
use kiosk_sim::{SimClock, SimRng, VirtualBackend};
use serde::Deserialize;
use tokio::sync::mpsc;

/// The file's shape: kiosk settings and devices.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct SiteConfig {
    #[serde(default)]
    kiosk: KioskConfig,
    devices: DevicesConfig,
}

/// The emulators standing in for hardware (kept alive while the kiosk runs).
struct Emulators {
    acceptor: Id003Emulator,
    printer: EscPosEmulator,
    _scanner: ScannerEmulator,
    _dir: tempfile::TempDir,
}

type Error = Box<dyn std::error::Error>;

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let force = args.iter().any(|a| a == "--emulate");
    let file = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/serial_kiosk.toml")
        });
    let text = std::fs::read_to_string(&file)?;
    let mut site: SiteConfig = toml::from_str(&text)?;
    let missing = ports(&site.devices).into_iter().find(|p| !p.exists());
    let emulators = if force || missing.is_some() {
        match &missing {
            Some(p) if !force => println!("{} does not exist: emulating the devices", p.display()),
            _ => println!("--emulate: emulating the devices"),
        }
        let (emulators, copy) = start_emulators(&text)?;
        println!("loading {}", copy.display());
        site = toml::from_str(&std::fs::read_to_string(&copy)?)?;
        Some(emulators)
    } else {
        None
    };
    run(site, emulators).await
}

fn ports(devices: &DevicesConfig) -> Vec<PathBuf> {
    let all = [
        Some(&devices.acceptor),
        Some(&devices.printer),
        devices.reader.as_ref(),
    ];
    all.into_iter()
        .flatten()
        .filter_map(DeviceConfig::port)
        .map(Path::to_path_buf)
        .collect()
}

/// Starts the emulators and writes a copy of the configuration whose ports
/// are their ptys (and whose printer settles fast: the emulator prints at once).
fn start_emulators(text: &str) -> Result<(Emulators, PathBuf), Error> {
    let dir = tempfile::tempdir()?;
    let acceptor =
        Id003Emulator::start(dir.path().join("acceptor"), &Id003EmulatorConfig::default())?;
    let printer =
        EscPosEmulator::start(dir.path().join("printer"), &EscPosEmulatorConfig::default())?;
    let scanner = ScannerEmulator::start(dir.path().join("scanner"), &Default::default())?;
    let mut doc: toml::Table = toml::from_str(text)?;
    let devices = doc
        .get_mut("devices")
        .and_then(|d| d.as_table_mut())
        .ok_or("the file has no [devices]")?;
    for (role, path) in [
        ("acceptor", acceptor.path()),
        ("printer", printer.path()),
        ("reader", scanner.path()),
    ] {
        if let Some(device) = devices.get_mut(role).and_then(|d| d.as_table_mut()) {
            device.insert("port".into(), path.display().to_string().into());
        }
    }
    if let Some(printer) = devices.get_mut("printer").and_then(|d| d.as_table_mut()) {
        printer.insert("print-settle-ms".into(), 100.into());
    }
    let copy = dir.path().join("serial_kiosk.emulated.toml");
    std::fs::write(&copy, toml::to_string(&doc)?)?;
    let emulators = Emulators {
        acceptor,
        printer,
        _scanner: scanner,
        _dir: dir,
    };
    Ok((emulators, copy))
}

async fn run(site: SiteConfig, emulators: Option<Emulators>) -> Result<(), Error> {
    let built = build_devices(&site.devices)?;
    let clock = SimClock::starting_at(tokio::time::Instant::now());
    let account = Account {
        holder_name: "张三".into(),
        amount_due: cny(70),
        balance: cny(0),
        status: AccountStatus::Open,
    };
    let backend = VirtualBackend::new(
        &BackendConfig {
            currency: Currency::CNY,
            accounts: [(AccountNumber("1001".into()), account)].into(),
        },
        clock,
    );
    let link = backend.link(&LinkConfig::default(), SimRng::new(1).fork("link"))?;
    let devices = Devices {
        acceptor: built.acceptor,
        cash_box: built.cash_box,
        printer: built.printer,
        reader: built.reader,
        link: Box::new(link),
    };
    let journal_dir = tempfile::tempdir()?;
    let journal = Journal::open(journal_dir.path().join("journal.db"))?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let observer = move |at: Millis, event: &KioskEvent| {
        if let KioskEvent::Screen { screen } = event {
            println!("[{:>6} ms] screen: {screen:?}", at.0);
        }
        let _ = events_tx.send(event.clone());
    };
    let mut kiosk = Kiosk::new(
        site.kiosk,
        devices,
        journal,
        Arc::new(clock),
        Box::new(observer),
    );
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    match &emulators {
        Some(emu) => {
            let customer = one_payment(&mut events, buttons, emu);
            let (ran, paid) = tokio::join!(kiosk.run(&mut buttons_rx), customer);
            ran?;
            paid?;
            for receipt in emu.printer.receipt_texts() {
                println!("--- receipt printed ---\n{receipt}\n-----------------------");
            }
        }
        None => {
            std::thread::spawn(move || customers_from_stdin(buttons));
            kiosk.run(&mut buttons_rx).await?;
        }
    }
    let totals = kiosk.journal().cash_totals(Currency::CNY)?;
    println!(
        "journal: {} credited, {} pending, {} in the cash box ({} notes)",
        totals.credited, totals.pending, totals.in_box, totals.notes_in_box
    );
    if let Some(emu) = &emulators {
        let physical = emu.acceptor.staff().physical_contents();
        println!(
            "emulated cash box: {} ({} notes)",
            physical.value, physical.notes
        );
        if totals.credited != cny(70) || physical.value != totals.in_box {
            return Err("the emulated payment did not balance".into());
        }
    }
    Ok(())
}

/// The emulated customer: account 1001, cash, a 50 and a 20, confirm.
async fn one_payment(
    events: &mut mpsc::UnboundedReceiver<KioskEvent>,
    buttons: mpsc::Sender<CustomerAction>,
    emu: &Emulators,
) -> Result<(), Error> {
    let cash_offered = |s: &Screen| matches!(s, Screen::Welcome { methods } if methods.contains(&PaymentMethod::Cash));
    wait_screen(events, cash_offered).await?;
    let account = AccountNumber("1001".into());
    buttons
        .send(CustomerAction::EnterAccount { account })
        .await?;
    wait_screen(events, |s| matches!(s, Screen::ConfirmAccount { .. })).await?;
    let method = PaymentMethod::Cash;
    buttons
        .send(CustomerAction::ChooseMethod { method })
        .await?;
    wait_screen(events, |s| matches!(s, Screen::InsertNotes { .. })).await?;
    for major in [50, 20] {
        emu.acceptor.insert_note(cny(major), true)?;
        wait_screen(events, |s| matches!(s, Screen::NoteAccepted { .. })).await?;
    }
    buttons.send(CustomerAction::Confirm).await?;
    wait_screen(events, |s| matches!(s, Screen::PaymentSuccess { .. })).await?;
    wait_event(events, |e| matches!(e, KioskEvent::SessionEnded { .. })).await?;
    Ok(()) // dropping the buttons ends the kiosk's run
}

async fn wait_screen(
    events: &mut mpsc::UnboundedReceiver<KioskEvent>,
    want: impl Fn(&Screen) -> bool,
) -> Result<(), Error> {
    wait_event(
        events,
        |e| matches!(e, KioskEvent::Screen { screen } if want(screen)),
    )
    .await
}

async fn wait_event(
    events: &mut mpsc::UnboundedReceiver<KioskEvent>,
    want: impl Fn(&KioskEvent) -> bool,
) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) if want(&event) => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => return Err("the kiosk stopped".into()),
            Err(_) => return Err("the kiosk did not get there within 15 s".into()),
        }
    }
}

/// Real-hardware mode: customer actions as JSON lines on standard input.
fn customers_from_stdin(buttons: mpsc::Sender<CustomerAction>) {
    for line in std::io::stdin().lines().map_while(Result::ok) {
        match serde_json::from_str::<CustomerAction>(&line) {
            Ok(action) => {
                if buttons.blocking_send(action).is_err() {
                    return;
                }
            }
            Err(e) => eprintln!("not a customer action: {e}"),
        }
    }
}
