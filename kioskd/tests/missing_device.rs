//! A configured device that is missing is a fault the kiosk reports (a
//! fault and a ticket) and keeps retrying until the device appears; it is
//! never replaced by an emulator. The real drivers from `[devices]`, the
//! real kiosk, kioskd's supervision and watch; the acceptor appears later
//! as kiosk-sim's ID-003 emulator on a pty at the configured path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_core::journal::Journal;
use kiosk_core::supervise::SupervisorPolicy;
use kiosk_core::{DeviceKind, Devices, Kiosk, KioskConfig, SystemClock};
use kiosk_hal::drivers::config::DevicesConfig;
use kiosk_hal::ErrorKind;
use kiosk_sim::crash::backend::{FileLink, LinkFaults};
use kiosk_sim::emulators::{EscPosEmulator, Id003Emulator};
use kiosk_sim::SimRng;
use kioskd::metrics::Metrics;
use kioskd::watch::{KioskView, Watch};
use tokio::sync::mpsc;

async fn until(what: &str, watch: &Watch, want: impl Fn(&KioskView) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !want(&watch.view()) {
        assert!(
            Instant::now() < deadline,
            "never: {what}: {:#?}",
            watch.view()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_acceptor_is_a_reported_fault_until_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let acceptor_port = dir.path().join("acceptor");
    let printer_port = dir.path().join("printer");
    let _printer = EscPosEmulator::start(&printer_port, &Default::default()).unwrap();
    let text = format!(
        "[acceptor]\nkind = \"id003\"\nport = \"{}\"\ncurrency = \"CNY\"\n\
         reconnect-initial-ms = 50\nreconnect-max-ms = 200\n\
         [printer]\nkind = \"escpos\"\nport = \"{}\"\nprint-settle-ms = 100\n",
        acceptor_port.display(),
        printer_port.display()
    );
    let config: DevicesConfig = toml::from_str(&text).unwrap();
    let hw = kioskd::devices::real(&config, &SupervisorPolicy::default()).unwrap();
    let link = FileLink::open(dir.path(), SimRng::new(1), LinkFaults::NONE).unwrap();
    let metrics = Metrics::new();
    let watch = Watch::new(KioskView::default(), metrics.clone());
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();
    let kiosk_config = KioskConfig {
        health_check_interval_ms: 100,
        ..KioskConfig::default()
    };
    let mut kiosk = Kiosk::new(
        kiosk_config,
        Devices {
            acceptor: hw.acceptor,
            cash_box: hw.cash_box,
            printer: hw.printer,
            reader: hw.reader,
            link: Box::new(link),
        },
        journal,
        Arc::new(SystemClock::new()),
        watch.observer(),
    );
    for (device, report) in hw.supervisors {
        kiosk.watch_supervisor(device, report);
    }
    let (customers_tx, mut customers) = mpsc::channel(1);
    let checks = async {
        until("the acceptor's fault is reported", &watch, |v| {
            v.faults.get(&DeviceKind::Acceptor) == Some(&ErrorKind::Offline)
                && v.open_tickets
                    .values()
                    .any(|t| t.device == DeviceKind::Acceptor)
        })
        .await;
        assert!(!watch
            .view()
            .offered_methods
            .contains(&kiosk_hal::PaymentMethod::Cash));
        assert!(metrics
            .render()
            .contains("kioskd_device_fault{device=\"acceptor\"} 1"));
        // Plugged in: the driver, still retrying, finds it.
        let _acceptor = Id003Emulator::start(&acceptor_port, &Default::default()).unwrap();
        until("the fault clears and cash is offered", &watch, |v| {
            !v.faults.contains_key(&DeviceKind::Acceptor)
                && v.offered_methods.contains(&kiosk_hal::PaymentMethod::Cash)
        })
        .await;
        assert!(metrics
            .render()
            .contains("kioskd_device_fault{device=\"acceptor\"} 0"));
        drop(customers_tx);
    };
    let (ran, ()) = tokio::join!(kiosk.run(&mut customers), checks);
    ran.unwrap();
}
