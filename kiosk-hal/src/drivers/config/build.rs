//! Building boxed HAL trait objects from a [`DevicesConfig`].

use super::{BuildError, CashBoxSource, DeviceConfig, DevicesConfig, Role};
use crate::drivers::escpos::EscPosPrinter;
use crate::drivers::id003::Id003Acceptor;
use crate::drivers::scanner::SerialScanner;
use crate::{BillAcceptor, CashBox, PaymentReader, ReceiptPrinter};

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
        DeviceConfig::Pulse(_) | DeviceConfig::Virtual {} => BuildError::NotFromConfig {
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
/// Drivers start their I/O threads at once; a missing device shows as
/// `Offline` later, not as an error here.
pub fn build_acceptor(config: &DeviceConfig) -> Result<AcceptorAndBox, BuildError> {
    match config {
        DeviceConfig::Id003(c) => {
            let acceptor = Id003Acceptor::open(c).map_err(BuildError::Device)?;
            let cash_box = acceptor.cash_box();
            Ok((Box::new(acceptor), Box::new(cash_box)))
        }
        other => Err(not_here(Role::Acceptor, other)),
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
        other => Err(not_here(Role::Reader, other)),
    }
}

/// Every device of the kiosk. `virtual` devices and a `virtual` cash box
/// are refused ([`BuildError::NotFromConfig`]): `kiosk-sim` builds those.
pub fn build_devices(config: &DevicesConfig) -> Result<BuiltDevices, BuildError> {
    if config.cash_box == CashBoxSource::Virtual {
        return Err(BuildError::NotFromConfig {
            role: Role::Acceptor,
            kind: "virtual",
        });
    }
    let (acceptor, cash_box) = build_acceptor(&config.acceptor)?;
    let printer = build_printer(&config.printer)?;
    let reader = config.reader.as_ref().map(build_reader).transpose()?;
    Ok(BuiltDevices {
        acceptor,
        cash_box,
        printer,
        reader,
    })
}
