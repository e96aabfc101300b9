//! Building boxed HAL trait objects from a [`DevicesConfig`].

use super::{BuildError, CashBoxSource, CashBoxSwitchConfig, DeviceConfig, DevicesConfig, Role};
use crate::drivers::ccnet::CcnetAcceptor;
use crate::drivers::cctalk::{CctalkAcceptor, CctalkCoinAcceptor};
use crate::drivers::escpos::EscPosPrinter;
use crate::drivers::id003::Id003Acceptor;
use crate::drivers::pulse::PulseConfig;
use crate::drivers::scanner::SerialScanner;
use crate::drivers::ssp::SspAcceptor;
use crate::{BillAcceptor, CashBox, DeviceError, ErrorKind, PaymentReader, ReceiptPrinter};

/// The devices built from a [`DevicesConfig`].
pub struct BuiltDevices {
    /// The bill acceptor.
    pub acceptor: Box<dyn BillAcceptor>,
    /// The cash box.
    pub cash_box: Box<dyn CashBox>,
    /// The receipt printer.
    pub printer: Box<dyn ReceiptPrinter>,
    /// The reader, if configured.
    pub reader: Option<Box<dyn PaymentReader>>,
}

fn not_here(role: Role, config: &DeviceConfig) -> BuildError {
    match config {
        DeviceConfig::Virtual {} => BuildError::NotFromConfig {
            role,
            kind: config.kind_name(),
        },
        _ => BuildError::WrongKind {
            role,
            kind: config.kind_name(),
        },
    }
}

/// A bill acceptor and the cash box it senses.
pub type AcceptorAndBox = (Box<dyn BillAcceptor>, Box<dyn CashBox>);

/// The bill acceptor and its stacker's cash box view.
///
/// Serial drivers start their I/O threads at once; a missing device shows
/// as `Offline` later, not as an error here. A `pulse` acceptor (feature
/// `gpio-cdev`, with `chip` and `line`) opens its GPIO line now, so a
/// missing chip is an error here; it senses no cash box, so its box view
/// answers every `status` with an error ([`build_devices`] requires a
/// `gpio` cash box beside it).
pub fn build_acceptor(config: &DeviceConfig) -> Result<AcceptorAndBox, BuildError> {
    match config {
        DeviceConfig::Id003(c) => {
            let acceptor = Id003Acceptor::open(c).map_err(BuildError::Device)?;
            let cash_box = acceptor.cash_box();
            Ok((Box::new(acceptor), Box::new(cash_box)))
        }
        DeviceConfig::Ccnet(c) => {
            let acceptor = CcnetAcceptor::open(c).map_err(BuildError::Device)?;
            let cash_box = acceptor.cash_box();
            Ok((Box::new(acceptor), Box::new(cash_box)))
        }
        DeviceConfig::Cctalk(c) => {
            let acceptor = CctalkAcceptor::open(c).map_err(BuildError::Device)?;
            let cash_box = acceptor.cash_box();
            Ok((Box::new(acceptor), Box::new(cash_box)))
        }
        DeviceConfig::Ssp(c) => {
            let acceptor = SspAcceptor::open(c).map_err(BuildError::Device)?;
            let cash_box = acceptor.cash_box();
            Ok((Box::new(acceptor), Box::new(cash_box)))
        }
        DeviceConfig::CctalkCoin(c) => {
            let acceptor = CctalkCoinAcceptor::open(c).map_err(BuildError::Device)?;
            Ok((Box::new(acceptor), Box::new(UnsensedCashBox(COIN_NO_BOX))))
        }
        DeviceConfig::Pulse(c) => Ok((build_pulse(c)?, Box::new(UnsensedCashBox(PULSE_NO_BOX)))),
        other => Err(not_here(Role::Acceptor, other)),
    }
}

#[cfg(feature = "gpio-cdev")]
fn build_pulse(config: &PulseConfig) -> Result<Box<dyn BillAcceptor>, BuildError> {
    if config.chip.is_none() || config.line.is_none() {
        return Err(BuildError::NotFromConfig {
            role: Role::Acceptor,
            kind: "pulse",
        });
    }
    let acceptor = crate::drivers::gpio::open_pulse_acceptor(config).map_err(BuildError::Device)?;
    Ok(Box::new(acceptor))
}

#[cfg(not(feature = "gpio-cdev"))]
fn build_pulse(_config: &PulseConfig) -> Result<Box<dyn BillAcceptor>, BuildError> {
    Err(BuildError::NotFromConfig {
        role: Role::Acceptor,
        kind: "pulse",
    })
}

#[cfg(feature = "gpio-cdev")]
fn build_switch(config: &CashBoxSwitchConfig) -> Result<Box<dyn CashBox>, BuildError> {
    let switch = crate::drivers::gpio::open_cash_box_switch(config).map_err(BuildError::Device)?;
    Ok(Box::new(switch))
}

#[cfg(not(feature = "gpio-cdev"))]
fn build_switch(_config: &CashBoxSwitchConfig) -> Result<Box<dyn CashBox>, BuildError> {
    Err(BuildError::NotFromConfig {
        role: Role::Acceptor,
        kind: "gpio",
    })
}

const PULSE_NO_BOX: &str = "pulse acceptor: it senses no cash box; \
    configure `[cash-box.gpio]` with the box's presence switch";

const COIN_NO_BOX: &str = "ccTalk coin acceptor: it senses no cash box; \
    configure `[cash-box.gpio]` with the box's presence switch";

/// The cash box view of an acceptor that senses none (pulse, coins):
/// there is nothing to read, and it says which switch to configure.
struct UnsensedCashBox(&'static str);

#[async_trait::async_trait]
impl CashBox for UnsensedCashBox {
    async fn status(&mut self) -> Result<crate::CashBoxStatus, DeviceError> {
        Err(DeviceError::new(ErrorKind::Other, self.0))
    }
}

/// The receipt printer.
pub fn build_printer(config: &DeviceConfig) -> Result<Box<dyn ReceiptPrinter>, BuildError> {
    match config {
        DeviceConfig::Escpos(c) => Ok(Box::new(
            EscPosPrinter::open(c).map_err(BuildError::Device)?,
        )),
        other => Err(not_here(Role::Printer, other)),
    }
}

/// The card / QR reader.
pub fn build_reader(config: &DeviceConfig) -> Result<Box<dyn PaymentReader>, BuildError> {
    match config {
        DeviceConfig::Scanner(c) => Ok(Box::new(
            SerialScanner::open(c).map_err(BuildError::Device)?,
        )),
        DeviceConfig::HidScanner(c) => build_hid_scanner(c),
        other => Err(not_here(Role::Reader, other)),
    }
}

#[cfg(feature = "evdev")]
fn build_hid_scanner(
    config: &crate::drivers::scanner::HidScannerConfig,
) -> Result<Box<dyn PaymentReader>, BuildError> {
    let scanner = crate::drivers::scanner::HidScanner::open(config).map_err(BuildError::Device)?;
    Ok(Box::new(scanner))
}

#[cfg(not(feature = "evdev"))]
fn build_hid_scanner(
    _config: &crate::drivers::scanner::HidScannerConfig,
) -> Result<Box<dyn PaymentReader>, BuildError> {
    Err(BuildError::NotFromConfig {
        role: Role::Reader,
        kind: "hid-scanner",
    })
}

/// Every device of the kiosk. `virtual` devices and a `virtual` cash box
/// are refused ([`BuildError::NotFromConfig`]): `kiosk-sim` builds those;
/// so are a `pulse` acceptor and a `gpio` cash box without the `gpio-cdev`
/// feature. A `pulse` acceptor or a `cctalk-coin` acceptor needs a `gpio`
/// cash box ([`BuildError::Device`] otherwise).
pub fn build_devices(config: &DevicesConfig) -> Result<BuiltDevices, BuildError> {
    if config.cash_box == CashBoxSource::Virtual {
        return Err(BuildError::NotFromConfig {
            role: Role::Acceptor,
            kind: "virtual",
        });
    }
    let unsensed = match config.acceptor {
        DeviceConfig::Pulse(_) => Some(PULSE_NO_BOX),
        DeviceConfig::CctalkCoin(_) => Some(COIN_NO_BOX),
        _ => None,
    };
    if let Some(why) = unsensed {
        if !matches!(config.cash_box, CashBoxSource::Gpio(_)) {
            return Err(BuildError::Device(DeviceError::new(ErrorKind::Other, why)));
        }
    }
    let (acceptor, acceptor_box) = build_acceptor(&config.acceptor)?;
    let cash_box = match &config.cash_box {
        CashBoxSource::Gpio(c) => build_switch(c)?,
        _ => acceptor_box,
    };
    let printer = build_printer(&config.printer)?;
    let reader = config.reader.as_ref().map(build_reader).transpose()?;
    Ok(BuiltDevices {
        acceptor,
        cash_box,
        printer,
        reader,
    })
}
