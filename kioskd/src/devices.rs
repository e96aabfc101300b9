//! The kiosk's devices: the configured ones under supervisors, or (only
//! with an explicit `--simulate`) virtual ones whose state lives in the
//! state directory.
//!
//! # For real
//!
//! Each device is a supervised driver ([`kiosk_core::supervise`]): the
//! driver is built from `[devices]` at its first call and rebuilt after a
//! panic or a hang, with backoff. A serial device that is missing or
//! unplugged is not an error at start: its driver answers `Offline`, the
//! kiosk opens a fault ticket and stops offering what needs it, and the
//! driver keeps reconnecting (its `reconnect-*-ms` settings) until the
//! device answers. There is no fallback to an emulator, ever.
//!
//! An ID-003 acceptor senses the cash box itself, so the box's view comes
//! from whichever acceptor driver is current ([`AcceptorBox`]).
//!
//! # Simulated
//!
//! kiosk-sim's file-backed acceptor and cash box (their physical state in
//! `physical.json`), its file-backed billing backend (`backend.json`: any
//! account is payable, CNY 100.00 due; account `1003` refuses payments),
//! and a virtual printer. Device state survives a restart of kioskd the way
//! a real device's does, so a note in the acceptor's path when kioskd
//! stops is still there, or in the box, when it starts again.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::supervise::{
    SupervisedAcceptor, SupervisedPrinter, SupervisedReader, SupervisorPolicy, SupervisorReport,
};
use kiosk_core::DeviceKind;
use kiosk_hal::drivers::config::{
    build_acceptor, build_devices, build_printer, build_reader, BuildError, CashBoxSource,
    DeviceConfig, DevicesConfig,
};
use kiosk_hal::{
    BillAcceptor, CashBox, CashBoxStatus, Currency, DeviceError, DeviceIdentity, ErrorKind,
    PaymentReader, ReceiptPrinter,
};
use kiosk_sim::crash::backend::{FileLink, LinkFaults};
use kiosk_sim::crash::{NoteSlot, PhysicalDevice};
use kiosk_sim::devices::{PrinterConfig, VirtualPrinter};
use kiosk_sim::{SimClock, SimRng};

/// The devices but the link, and the supervisors' reports to watch.
pub struct Hardware {
    /// The bill acceptor.
    pub acceptor: Box<dyn BillAcceptor>,
    /// The cash box.
    pub cash_box: Box<dyn CashBox>,
    /// The receipt printer.
    pub printer: Box<dyn ReceiptPrinter>,
    /// The card / QR reader, if configured.
    pub reader: Option<Box<dyn PaymentReader>>,
    /// Each supervised driver's report, for [`kiosk_core::Kiosk::watch_supervisor`].
    pub supervisors: Vec<(DeviceKind, SupervisorReport)>,
}

fn device_error(e: BuildError) -> DeviceError {
    match e {
        BuildError::Device(e) => e,
        other => DeviceError::new(ErrorKind::Other, other.to_string()),
    }
}

/// Refuses at start what can never work: a device of the wrong kind for
/// its role, a virtual device.
fn check_kinds(config: &DevicesConfig) -> Result<(), String> {
    let ok = matches!(
        config.acceptor,
        DeviceConfig::Id003(_)
            | DeviceConfig::Ssp(_)
            | DeviceConfig::Ccnet(_)
            | DeviceConfig::Cctalk(_)
            | DeviceConfig::CctalkCoin(_)
            | DeviceConfig::Pulse(_)
    ) && matches!(config.printer, DeviceConfig::Escpos(_))
        && matches!(
            config.reader,
            None | Some(DeviceConfig::Scanner(_) | DeviceConfig::HidScanner(_))
        );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "[devices]: acceptor {:?}, printer {:?}, reader {:?}: the acceptor must be id003, \
             ssp, ccnet, cctalk, cctalk-coin or pulse, the printer escpos, the reader scanner or \
             hid-scanner (virtual devices: use --simulate)",
            config.acceptor.kind_name(),
            config.printer.kind_name(),
            config.reader.as_ref().map(DeviceConfig::kind_name),
        ))
    }
}

/// The configured devices, supervised.
pub fn real(config: &DevicesConfig, policy: &SupervisorPolicy) -> Result<Hardware, String> {
    check_kinds(config)?;
    if let CashBoxSource::Gpio(_) = config.cash_box {
        return gpio_set(config);
    }
    if config.cash_box == CashBoxSource::Virtual {
        return Err("[devices] cash-box = \"virtual\": use --simulate".into());
    }
    let slot = AcceptorBox::default();
    let acceptor_config = config.acceptor.clone();
    let box_slot = slot.clone();
    let acceptor = SupervisedAcceptor::new(
        Box::new(move || {
            let (acceptor, cash_box) = build_acceptor(&acceptor_config).map_err(device_error)?;
            box_slot.replace(cash_box);
            Ok(acceptor)
        }),
        policy.clone(),
    );
    let printer_config = config.printer.clone();
    let printer = SupervisedPrinter::new(
        Box::new(move || build_printer(&printer_config).map_err(device_error)),
        policy.clone(),
    );
    let mut supervisors = vec![
        (DeviceKind::Acceptor, acceptor.report()),
        (DeviceKind::Printer, printer.report()),
    ];
    let reader = config.reader.clone().map(|reader_config| {
        let reader = SupervisedReader::new(
            Box::new(move || build_reader(&reader_config).map_err(device_error)),
            policy.clone(),
        );
        supervisors.push((DeviceKind::Reader, reader.report()));
        Box::new(reader) as Box<dyn PaymentReader>
    });
    Ok(Hardware {
        acceptor: Box::new(acceptor),
        cash_box: Box::new(slot.with_timeout(policy.call_timeout_ms)),
        printer: Box::new(printer),
        reader,
        supervisors,
    })
}

/// A pulse acceptor with a GPIO cash box: built once, unsupervised (kiosk-hal
/// builds a GPIO cash box only together with its acceptor). A missing GPIO
/// chip is an error at start here.
fn gpio_set(config: &DevicesConfig) -> Result<Hardware, String> {
    let built = build_devices(config).map_err(|e| format!("[devices]: {e}"))?;
    Ok(Hardware {
        acceptor: built.acceptor,
        cash_box: built.cash_box,
        printer: built.printer,
        reader: built.reader,
        supervisors: Vec::new(),
    })
}

type SharedBox = Arc<tokio::sync::Mutex<Box<dyn CashBox>>>;

/// The cash box view of the current acceptor driver: replaced each time
/// the supervisor builds a new acceptor.
#[derive(Clone, Default)]
pub struct AcceptorBox {
    current: Arc<Mutex<Option<SharedBox>>>,
    call_timeout_ms: u64,
}

impl AcceptorBox {
    fn replace(&self, cash_box: Box<dyn CashBox>) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        *current = Some(Arc::new(tokio::sync::Mutex::new(cash_box)));
    }

    fn with_timeout(mut self, call_timeout_ms: u64) -> AcceptorBox {
        self.call_timeout_ms = call_timeout_ms;
        self
    }
}

#[async_trait]
impl CashBox for AcceptorBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(cash_box) = current else {
            return Err(DeviceError::new(
                ErrorKind::Offline,
                "the acceptor driver has not started yet (the cash box is read through it)",
            ));
        };
        let limit = Duration::from_millis(self.call_timeout_ms.max(1));
        match tokio::time::timeout(limit, async { cash_box.lock().await.status().await }).await {
            Ok(answer) => answer,
            Err(_) => Err(DeviceError::new(
                ErrorKind::Timeout,
                "the cash box did not answer in time",
            )),
        }
    }

    /// The current acceptor driver's box identity (the acceptor's own).
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match current {
            Some(cash_box) => cash_box.lock().await.identity().await,
            None => Ok(DeviceIdentity::unknown()),
        }
    }
}

/// The simulated devices and the customer's side of the note slot.
pub struct Simulated {
    /// The devices.
    pub hardware: Hardware,
    /// The link to the file-backed backend.
    pub link: FileLink,
    /// Where a demo (or a test) puts notes in.
    pub slot: NoteSlot,
}

/// Virtual devices with their state in `dir` (CNY only: the file-backed
/// acceptor is a CNY one).
pub fn simulated(dir: &Path, currency: Currency, transport_ms: u64) -> Result<Simulated, String> {
    if currency != Currency::CNY {
        return Err(format!(
            "--simulate runs CNY devices; the configuration's currency is {currency}"
        ));
    }
    let (device, _) = PhysicalDevice::open(dir, false, false, transport_ms)
        .map_err(|e| format!("simulated acceptor in {}: {e}", dir.display()))?;
    let printer_config = PrinterConfig {
        print_ms: 300,
        ..PrinterConfig::default()
    };
    let seed = SimRng::new(1);
    let (printer, _) = VirtualPrinter::new(&printer_config, SimClock::new(), seed.fork("printer"))
        .map_err(|e| format!("simulated printer: {e}"))?;
    let link = FileLink::open(dir, seed.fork("link"), LinkFaults::NONE)
        .map_err(|e| format!("simulated backend in {}: {e}", dir.display()))?;
    Ok(Simulated {
        hardware: Hardware {
            acceptor: Box::new(device.acceptor()),
            cash_box: Box::new(device.cash_box()),
            printer: Box::new(printer),
            reader: None,
            supervisors: Vec::new(),
        },
        link,
        slot: device.slot(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id003(port: &str) -> DevicesConfig {
        let text = format!(
            "[acceptor]\nkind = \"id003\"\nport = \"{port}\"\ncurrency = \"CNY\"\n\
             reconnect-initial-ms = 10\nreconnect-max-ms = 20\n\
             [printer]\nkind = \"escpos\"\nport = \"{port}\"\n"
        );
        toml::from_str(&text).unwrap()
    }

    /// A port that does not exist starts the kiosk anyway: the device
    /// answers Offline (a fault the kiosk reports), it is not replaced.
    #[tokio::test]
    async fn a_missing_port_is_an_offline_device_not_an_error() {
        let config = id003("/dev/kioskd-test-no-such-port");
        let mut hw = real(&config, &SupervisorPolicy::default()).unwrap();
        let status = hw.acceptor.status().await;
        assert_eq!(status.unwrap_err().kind(), ErrorKind::Offline);
        let status = hw.printer.status().await;
        assert!(status.is_err(), "no printer there: {status:?}");
        // The box is read through the acceptor driver, which exists now.
        let status = hw.cash_box.status().await;
        assert!(status.is_err(), "no device behind it: {status:?}");
        assert_eq!(hw.supervisors.len(), 2);
        // The supervised driver and the box view forward identity: the
        // protocol is known before the device ever answers.
        let id = hw.acceptor.identity().await.unwrap();
        assert_eq!(id.protocol, kiosk_hal::DeviceProtocol::Id003);
        assert!(!id.is_known());
        let id = hw.cash_box.identity().await.unwrap();
        assert_eq!(id.protocol, kiosk_hal::DeviceProtocol::Id003);
    }

    /// Every real acceptor and reader kind the drivers build is accepted
    /// (a port that does not exist is an offline device, not an error).
    #[tokio::test]
    async fn every_real_driver_kind_starts() {
        for acceptor in ["ssp", "ccnet", "cctalk"] {
            let text = format!(
                "[acceptor]\nkind = \"{acceptor}\"\nport = \"/dev/kioskd-test-none\"\n\
                 [printer]\nkind = \"escpos\"\nport = \"/dev/kioskd-test-none\"\n"
            );
            let config: DevicesConfig = match toml::from_str(&text) {
                Ok(c) => c,
                Err(e) => panic!("{acceptor}: {e}"),
            };
            let hw = real(&config, &SupervisorPolicy::default());
            assert!(hw.is_ok(), "{acceptor}: {:?}", hw.err());
        }
    }

    #[test]
    fn a_virtual_device_is_refused_for_real() {
        let mut config = id003("/dev/null");
        config.printer = DeviceConfig::Virtual {};
        let e = real(&config, &SupervisorPolicy::default()).err().unwrap();
        assert!(e.contains("--simulate"), "{e}");
    }
}
