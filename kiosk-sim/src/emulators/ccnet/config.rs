//! Settings of the CCNET emulator.

use kiosk_hal::wire::ccnet::{BillTable, BillTableEntry, Identification};
use kiosk_hal::{Currency, Money};
use serde::{Deserialize, Serialize};

use crate::devices::{AcceptorConfig, CashBoxConfig};
use crate::emulators::line::LineFaultConfig;
use crate::emulators::NoteLeftInside;
use crate::faults::ConfigError;

fn default_bills() -> Vec<Money> {
    // Deliberately with an empty slot first: drivers must read the table.
    [1, 5, 10, 20, 50, 100]
        .iter()
        .map(|&major| Money::major(major, Currency::CNY))
        .collect()
}

/// The CCNET emulator: the virtual acceptor's timings and fault plan (the
/// same serde config a drill uses), the bill table, and line faults.
///
/// ```toml
/// seed = 7
/// country = "CHN"
/// [acceptor]
/// validate-ms = 200
/// [[line.faults]]
/// trigger = { when = "nth-call", n = 5 }
/// fault = { type = "corrupt", bits = 1 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CcnetEmulatorConfig {
    /// The virtual acceptor behind the protocol (timings in real ms).
    /// Default: validate 300, stack 300, return 200, no faults.
    pub acceptor: AcceptorConfig,
    /// The cash box behind it. Default: empty CNY box of 1000 notes.
    pub cash_box: CashBoxConfig,
    /// The bills of the table, by type from type 1 (type 0 is left empty,
    /// as on many Chinese datasets). Default CNY 1, 5, 10, 20, 50, 100.
    pub bills: Vec<Money>,
    /// The three-letter country code in every table entry. Default `CHN`.
    pub country: String,
    /// The part number IDENTIFICATION answers. Default `SM-CN1134`.
    pub part_number: String,
    /// The serial number IDENTIFICATION answers. Default `41K0012345`.
    pub serial_number: String,
    /// A note left in the validator's path when it starts. Default none.
    pub left_inside: Option<NoteLeftInside>,
    /// Polls a rejection shows before idling again. Default 2.
    pub reject_polls: u32,
    /// Polls a cheat shows. Default 2.
    pub cheat_polls: u32,
    /// Polls "initialize" shows after a reset. Default 1.
    pub init_polls: u32,
    /// Line faults.
    pub line: LineFaultConfig,
    /// Seed of the line faults' and the acceptor's generators. Default 1.
    pub seed: u64,
}

impl Default for CcnetEmulatorConfig {
    fn default() -> Self {
        CcnetEmulatorConfig {
            acceptor: AcceptorConfig {
                validate_ms: 300,
                stack_ms: 300,
                return_ms: 200,
                faults: Vec::new(),
            },
            cash_box: CashBoxConfig::default(),
            bills: default_bills(),
            country: "CHN".into(),
            part_number: "SM-CN1134".into(),
            serial_number: "41K0012345".into(),
            left_inside: None,
            reject_polls: 2,
            cheat_polls: 2,
            init_polls: 1,
            line: LineFaultConfig::default(),
            seed: 1,
        }
    }
}

impl CcnetEmulatorConfig {
    /// The bill table: type 0 empty, then each bill as `digit × 10^exponent`
    /// major units.
    pub fn bill_table(&self) -> Result<BillTable, ConfigError> {
        let country: [u8; 3] = self.country.as_bytes().try_into().map_err(|_| {
            ConfigError::new(format!("country {:?} is not 3 letters", self.country))
        })?;
        if self.bills.len() > BillTable::TYPES - 1 {
            return Err(ConfigError::new("at most 23 bills fit the table"));
        }
        let mut entries = vec![BillTableEntry {
            digit: 0,
            country: [0; 3],
            exponent: 0,
        }];
        for bill in &self.bills {
            let scale = 10i64.pow(bill.currency.minor_exponent());
            if bill.minor <= 0 || bill.minor % scale != 0 {
                return Err(ConfigError::new(format!(
                    "{bill} is not a whole number of major units"
                )));
            }
            let (mut digit, mut exponent) = (bill.minor / scale, 0u8);
            while digit % 10 == 0 {
                digit /= 10;
                exponent += 1;
            }
            let digit = u8::try_from(digit)
                .map_err(|_| ConfigError::new(format!("{bill} does not fit a table entry")))?;
            entries.push(BillTableEntry {
                digit,
                country,
                exponent,
            });
        }
        Ok(BillTable { entries })
    }

    /// The identification answer.
    pub fn identification(&self) -> Identification {
        Identification {
            part_number: self.part_number.clone(),
            serial_number: self.serial_number.clone(),
            asset_number: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_values_each_bill_at_its_type() {
        let config = CcnetEmulatorConfig::default();
        let table = config.bill_table().unwrap();
        assert_eq!(table.value(0, Currency::CNY), None);
        for (i, bill) in config.bills.iter().enumerate() {
            assert_eq!(table.value(i as u8 + 1, Currency::CNY), Some(*bill));
        }
        let odd = CcnetEmulatorConfig {
            bills: vec![Money::new(150, Currency::CNY)],
            ..CcnetEmulatorConfig::default()
        };
        assert!(odd.bill_table().is_err());
    }
}
