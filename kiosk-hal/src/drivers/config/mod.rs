//! A kiosk's devices as configuration, and (feature `serial`) the function
//! that builds them.
//!
//! ```toml
//! [acceptor]
//! kind = "id003"
//! port = "/dev/serial/by-id/usb-JCM-if00"
//! currency = "CNY"
//!
//! [printer]
//! kind = "escpos"
//! port = "/dev/ttyUSB1"
//! baud = 19200
//!
//! [reader]
//! kind = "scanner"
//! port = "/dev/ttyACM0"
//! terminator = "cr-lf"
//! ```
//!
//! Changing hardware is editing this file: every driver behind it
//! implements the same HAL trait. Unknown fields are errors, so a typo
//! never silently falls back to a default.

use serde::{Deserialize, Serialize};

use super::escpos::EscPosConfig;
use super::id003::Id003Config;
use super::pulse::PulseConfig;
use super::scanner::ScannerConfig;

/// One device: its kind and the kind's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DeviceConfig {
    /// A JCM ID-003 bill acceptor on a serial port.
    Id003(Id003Config),
    /// An ESC/POS receipt printer on a serial port.
    Escpos(EscPosConfig),
    /// A barcode / QR scanner on a serial port.
    Scanner(ScannerConfig),
    /// A pulse-output bill acceptor on a GPIO pin. Its pins come from the
    /// board, not from this file: build it in code
    /// (`drivers::gpio::PulseAcceptor`, feature `gpio`)
    /// with this configuration.
    Pulse(PulseConfig),
    /// A simulated device (`kiosk-sim` builds it).
    Virtual {},
}

impl DeviceConfig {
    /// The kind's name as written in the file.
    pub fn kind_name(&self) -> &'static str {
        match self {
            DeviceConfig::Id003(_) => "id003",
            DeviceConfig::Escpos(_) => "escpos",
            DeviceConfig::Scanner(_) => "scanner",
            DeviceConfig::Pulse(_) => "pulse",
            DeviceConfig::Virtual {} => "virtual",
        }
    }

    /// The serial port it uses, if it uses one.
    pub fn port(&self) -> Option<&std::path::Path> {
        match self {
            DeviceConfig::Id003(c) => Some(&c.port),
            DeviceConfig::Escpos(c) => Some(&c.port),
            DeviceConfig::Scanner(c) => Some(&c.port),
            DeviceConfig::Pulse(_) | DeviceConfig::Virtual {} => None,
        }
    }
}

/// Where the kiosk reads its cash box from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CashBoxSource {
    /// From the bill acceptor's stacker sensing (ID-003 stacker open / full).
    #[default]
    Acceptor,
    /// A simulated box (`kiosk-sim` builds it).
    Virtual,
}

/// The devices of one kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DevicesConfig {
    /// The bill acceptor.
    pub acceptor: DeviceConfig,
    /// The receipt printer.
    pub printer: DeviceConfig,
    /// The card / QR reader, if fitted.
    #[serde(default)]
    pub reader: Option<DeviceConfig>,
    /// Where the cash box is read from. Default `acceptor`.
    #[serde(default)]
    pub cash_box: CashBoxSource,
}

/// The role a device plays in the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The bill acceptor.
    Acceptor,
    /// The receipt printer.
    Printer,
    /// The card / QR reader.
    Reader,
}

/// Why a device could not be built from its configuration.
#[derive(Debug)]
pub enum BuildError {
    /// The kind cannot play this role (a printer configured as acceptor).
    WrongKind {
        /// The role.
        role: Role,
        /// The kind configured.
        kind: &'static str,
    },
    /// The kind exists but is not built from a file here: `virtual` (built
    /// by `kiosk-sim`) and `pulse` (its pins come from the board).
    NotFromConfig {
        /// The role.
        role: Role,
        /// The kind configured.
        kind: &'static str,
    },
    /// The driver refused to start (bad settings, no thread).
    Device(crate::DeviceError),
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::WrongKind { role, kind } => {
                write!(f, "a device of kind {kind:?} cannot be the {role:?}")
            }
            BuildError::NotFromConfig { role, kind } => write!(
                f,
                "the {role:?} of kind {kind:?} is not built from configuration here"
            ),
            BuildError::Device(e) => write!(f, "device failed to start: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Device(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "serial")]
mod build;

#[cfg(feature = "serial")]
pub use build::{
    build_acceptor, build_devices, build_printer, build_reader, AcceptorAndBox, BuiltDevices,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_defaults_and_unknown_fields_are_refused() {
        let json = r#"{
            "acceptor": { "kind": "id003", "port": "/dev/ttyUSB0", "poll-interval-ms": 50 },
            "printer": { "kind": "escpos", "port": "/dev/ttyUSB1", "one-way": true },
            "reader": { "kind": "scanner", "port": "/dev/ttyACM0", "terminator": "cr-lf" }
        }"#;
        let c: DevicesConfig = serde_json::from_str(json).unwrap();
        let DeviceConfig::Id003(a) = &c.acceptor else {
            panic!("{c:?}")
        };
        assert_eq!((a.poll_interval_ms, a.baud), (50, 9600));
        assert_eq!(a.parity, crate::drivers::Parity::Even);
        assert_eq!(c.printer.kind_name(), "escpos");
        assert_eq!(c.cash_box, CashBoxSource::Acceptor);
        assert!(c.reader.as_ref().unwrap().port().is_some());

        let typo = r#"{ "kind": "id003", "port": "/dev/x", "pol-interval-ms": 50 }"#;
        let err = serde_json::from_str::<DeviceConfig>(typo).unwrap_err();
        assert!(err.to_string().contains("pol-interval-ms"), "{err}");
        let virt = r#"{ "kind": "virtual" }"#;
        assert_eq!(
            serde_json::from_str::<DeviceConfig>(virt).unwrap(),
            DeviceConfig::Virtual {}
        );
        assert!(serde_json::from_str::<DeviceConfig>(r#"{ "kind": "usb" }"#).is_err());
    }
}
