//! Who a device is: model, firmware and serial number, as the device itself
//! reports them over its protocol.
//!
//! Staff need this to order the right spare part, to check that a field
//! update reached every unit, and to match a fault report to one physical
//! device; integrators need it to tell a China-dataset validator from one
//! set up for another currency. Every field is optional because protocols
//! differ in what they can say: ID-003 has a version string but no serial
//! number, a pulse acceptor says nothing at all.

use serde::{Deserialize, Serialize};

/// The protocol (or kind of link) a device is driven over.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceProtocol {
    /// JCM ID-003 (serial).
    Id003,
    /// ITL SSP / eSSP (serial).
    Ssp,
    /// CashCode CCNET (serial).
    Ccnet,
    /// ccTalk (serial, single wire).
    Cctalk,
    /// ESC/POS (serial).
    EscPos,
    /// A serial barcode / QR scanner (no identity command).
    SerialScanner,
    /// A USB HID (keyboard-wedge) scanner read through Linux evdev: name
    /// and USB ids from the input device.
    HidScanner,
    /// Pulses or switches on GPIO pins (no identity at all).
    Gpio,
    /// The backend link over HTTP(S) (model = the endpoint, manufacturer
    /// = the server certificate's subject).
    Https,
    /// A virtual device (simulator, drill).
    Virtual,
    /// The driver did not say.
    Unknown,
}

impl DeviceProtocol {
    /// A short, stable, lower-case name (`"id003"`), used in logs and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceProtocol::Id003 => "id003",
            DeviceProtocol::Ssp => "ssp",
            DeviceProtocol::Ccnet => "ccnet",
            DeviceProtocol::Cctalk => "cctalk",
            DeviceProtocol::EscPos => "esc-pos",
            DeviceProtocol::SerialScanner => "serial-scanner",
            DeviceProtocol::HidScanner => "hid-scanner",
            DeviceProtocol::Gpio => "gpio",
            DeviceProtocol::Https => "https",
            DeviceProtocol::Virtual => "virtual",
            DeviceProtocol::Unknown => "unknown",
        }
    }
}

/// What a device says about itself; `None` where its protocol offers no
/// such field or the device has not answered yet.
///
/// Drivers read it once after the device is set up (and again after every
/// reconnect, since the unit may have been swapped) and cache it:
/// reading it never talks to the device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// The protocol the device is driven over.
    pub protocol: DeviceProtocol,
    /// The maker, where the protocol names it (ccTalk manufacturer id).
    pub manufacturer: Option<String>,
    /// The model or part number (ID-003 `i(CHN)100-SS`, CCNET part number,
    /// ccTalk product code, SSP unit type).
    pub model: Option<String>,
    /// The firmware version as the device writes it.
    pub firmware: Option<String>,
    /// The serial number as the device writes it.
    pub serial: Option<String>,
    /// The currency dataset's country or currency code (ID-003 `CHN`,
    /// SSP `CNY`), where the device reports one.
    pub country: Option<String>,
}

impl DeviceIdentity {
    /// Nothing known: what a driver that cannot tell returns.
    pub fn unknown() -> DeviceIdentity {
        DeviceIdentity::of(DeviceProtocol::Unknown)
    }

    /// A device of `protocol` that has said nothing (yet).
    pub fn of(protocol: DeviceProtocol) -> DeviceIdentity {
        DeviceIdentity {
            protocol,
            manufacturer: None,
            model: None,
            firmware: None,
            serial: None,
            country: None,
        }
    }

    /// Whether the device reported anything beyond its protocol.
    pub fn is_known(&self) -> bool {
        self.manufacturer.is_some()
            || self.model.is_some()
            || self.firmware.is_some()
            || self.serial.is_some()
            || self.country.is_some()
    }
}

impl Default for DeviceIdentity {
    fn default() -> Self {
        DeviceIdentity::unknown()
    }
}

impl core::fmt::Display for DeviceIdentity {
    /// `id003 model=i(CHN)100-SS firmware=ID003-05V200-41 serial=? country=CHN`:
    /// one line for logs, `?` for what is unknown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let q = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        write!(f, "{}", self.protocol.as_str())?;
        if let Some(m) = &self.manufacturer {
            write!(f, " manufacturer={m}")?;
        }
        write!(
            f,
            " model={} firmware={} serial={}",
            q(&self.model),
            q(&self.firmware),
            q(&self.serial)
        )?;
        if let Some(c) = &self.country {
            write!(f, " country={c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_says_nothing_and_serializes_kebab_case() {
        let id = DeviceIdentity::unknown();
        assert!(!id.is_known());
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json["protocol"], "unknown");
        assert!(json["serial"].is_null());
        let ssp = DeviceIdentity {
            serial: Some("4880564".into()),
            ..DeviceIdentity::of(DeviceProtocol::EscPos)
        };
        assert!(ssp.is_known());
        assert_eq!(serde_json::to_value(&ssp).unwrap()["protocol"], "esc-pos");
        assert_eq!(ssp.to_string(), "esc-pos model=? firmware=? serial=4880564");
    }
}
