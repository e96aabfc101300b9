//! What a virtual device says about itself.

use kiosk_hal::{DeviceIdentity, DeviceProtocol};

/// The identity of a kiosk-sim device: protocol `virtual`, the model named
/// so that no one mistakes it for hardware in a status report, and this
/// crate's version as its firmware. Virtual devices have no serial number.
pub fn virtual_identity(model: &str) -> DeviceIdentity {
    DeviceIdentity {
        manufacturer: Some("kiosk-sim".into()),
        model: Some(model.to_string()),
        firmware: Some(env!("CARGO_PKG_VERSION").to_string()),
        ..DeviceIdentity::of(DeviceProtocol::Virtual)
    }
}

/// The model a virtual (or file-backed) acceptor reports.
pub const VIRTUAL_ACCEPTOR_MODEL: &str = "virtual bill acceptor";
/// The model a virtual cash box reports.
pub const VIRTUAL_CASH_BOX_MODEL: &str = "virtual cash box";
/// The model a virtual printer reports.
pub const VIRTUAL_PRINTER_MODEL: &str = "virtual receipt printer";
/// The model a virtual reader reports.
pub const VIRTUAL_READER_MODEL: &str = "virtual code reader";
