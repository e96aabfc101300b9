//! Settings of the ccTalk emulator.

use kiosk_hal::wire::cctalk::{serial_number_data, Checksum};
use kiosk_hal::{Currency, Money};
use serde::{Deserialize, Serialize};

use crate::devices::{AcceptorConfig, CashBoxConfig};
use crate::emulators::line::LineFaultConfig;
use crate::emulators::NoteLeftInside;
use crate::faults::ConfigError;

/// Bill ids by type (type 1 first) and the country's (scaling factor,
/// decimal places), as the device answers headers 157 and 156.
pub type BillIds = (Vec<[u8; 7]>, (u16, u8));

/// What the emulated validator answers to the core identity headers.
///
/// ```toml
/// [identity]
/// manufacturer = "ITL"
/// serial-number = 4880564
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CctalkIdentity {
    /// Header 246. Default `SIM`.
    pub manufacturer: String,
    /// Header 244. Default `kiosk-sim BV`.
    pub product: String,
    /// Header 242: at most 24 bits. Default 12345.
    pub serial_number: u32,
    /// Header 241. Default `1.0.0`.
    pub software_revision: String,
}

impl CctalkIdentity {
    /// Whether the device can give these answers: the serial number must
    /// fit ccTalk's 3 bytes (checked at start, so header 242 always has an
    /// answer).
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        match serial_number_data(self.serial_number) {
            Ok(_) => Ok(()),
            Err(_) => Err(ConfigError::new(format!(
                "identity.serial-number {} does not fit ccTalk's 3 bytes",
                self.serial_number
            ))),
        }
    }
}

impl Default for CctalkIdentity {
    fn default() -> Self {
        CctalkIdentity {
            manufacturer: "SIM".into(),
            product: "kiosk-sim BV".into(),
            serial_number: 12345,
            software_revision: "1.0.0".into(),
        }
    }
}

/// The ccTalk bill validator emulator: the virtual acceptor's timings and
/// fault plan, the bill ids, the line's checksum and echo, line faults.
///
/// ```toml
/// checksum = "crc16"
/// [acceptor]
/// validate-ms = 200
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CctalkEmulatorConfig {
    /// The virtual acceptor behind the protocol (timings in real ms).
    pub acceptor: AcceptorConfig,
    /// The cash box behind it.
    pub cash_box: CashBoxConfig,
    /// The bills, by type from type 1. Default CNY 10, 20, 50, 100, 1, 5.
    pub bills: Vec<Money>,
    /// The two-letter country of the bill ids. Default `CN`.
    pub country: String,
    /// The line's checksum. Default `simple`.
    pub checksum: Checksum,
    /// Echo every byte the host sends, as the single-wire bus does. Default true.
    pub echo: bool,
    /// A note left in the validator's path when it starts. Default none.
    pub left_inside: Option<NoteLeftInside>,
    /// Line faults.
    pub line: LineFaultConfig,
    /// Seed. Default 1.
    pub seed: u64,
    /// The identity answers.
    pub identity: CctalkIdentity,
}

impl Default for CctalkEmulatorConfig {
    fn default() -> Self {
        CctalkEmulatorConfig {
            acceptor: AcceptorConfig {
                validate_ms: 300,
                stack_ms: 300,
                return_ms: 200,
                faults: Vec::new(),
            },
            cash_box: CashBoxConfig::default(),
            bills: [10, 20, 50, 100, 1, 5]
                .iter()
                .map(|&m| Money::major(m, Currency::CNY))
                .collect(),
            country: "CN".into(),
            checksum: Checksum::Simple,
            echo: true,
            left_inside: None,
            line: LineFaultConfig::default(),
            seed: 1,
            identity: CctalkIdentity::default(),
        }
    }
}

impl CctalkEmulatorConfig {
    /// The bill ids (`CCvvvvA`, value in major units) and the scaling the
    /// device answers to header 156: `10^minor-exponent` with as many
    /// decimals, so a bill id's digits are major units.
    pub fn bill_ids(&self) -> Result<BillIds, ConfigError> {
        let country: [u8; 2] = self.country.as_bytes().try_into().map_err(|_| {
            ConfigError::new(format!("country {:?} is not 2 letters", self.country))
        })?;
        let exp = self
            .bills
            .first()
            .map_or(2, |m| m.currency.minor_exponent());
        let scale = 10i64.pow(exp);
        let ids = self
            .bills
            .iter()
            .map(|bill| {
                if bill.minor <= 0 || bill.minor % scale != 0 || bill.minor / scale > 9999 {
                    return Err(ConfigError::new(format!("{bill} has no 4-digit bill id")));
                }
                let digits = format!("{:04}", bill.minor / scale);
                let mut id = [b'A'; 7];
                id[..2].copy_from_slice(&country);
                id[2..6].copy_from_slice(digits.as_bytes());
                Ok(id)
            })
            .collect::<Result<_, _>>()?;
        Ok((ids, (scale as u16, exp as u8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bill_ids_carry_major_units_with_the_currency_scaling() {
        let (ids, scaling) = CctalkEmulatorConfig::default().bill_ids().unwrap();
        assert_eq!(&ids[0], b"CN0010A");
        assert_eq!(&ids[3], b"CN0100A");
        assert_eq!(scaling, (100, 2));
        let odd = CctalkEmulatorConfig {
            bills: vec![Money::new(150, Currency::CNY)],
            ..CctalkEmulatorConfig::default()
        };
        assert!(odd.bill_ids().is_err());
        let bad_country = CctalkEmulatorConfig {
            country: "CHN".into(),
            ..CctalkEmulatorConfig::default()
        };
        assert!(bad_country.bill_ids().is_err());
    }
}
