//! Settings of the ID-003 emulator.

use kiosk_hal::wire::id003::{CurrencyEntry, VersionInfo};
use kiosk_hal::{Currency, Money};
use serde::{Deserialize, Serialize};

use crate::devices::{AcceptorConfig, AfterCut, CashBoxConfig};
use crate::emulators::line::LineFaultConfig;
use crate::faults::ConfigError;

/// One escrow code of the emulated validator's currency dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EscrowCode {
    /// The code sent with status 0x13.
    pub code: u8,
    /// The note it stands for.
    pub value: Money,
}

fn default_codes() -> Vec<EscrowCode> {
    // Deliberately not 0x61.. in value order: drivers must read the table.
    [
        (0x62, 1),
        (0x63, 5),
        (0x64, 10),
        (0x65, 20),
        (0x66, 50),
        (0x67, 100),
    ]
    .iter()
    .map(|&(code, major)| EscrowCode {
        code,
        value: Money::major(major, Currency::CNY),
    })
    .collect()
}

/// Where in the validator a note left by an earlier power cut sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftPlace {
    /// In the acceptor head: the device shows "power up with bill in
    /// acceptor" (0x41) and gives the note back to the customer.
    InAcceptor,
    /// Past the stacker gate: the note is in the cash box from the start and
    /// the device shows "power up with bill in stacker" (0x42).
    InStacker,
}

/// A note a power cut left inside the validator before the emulator started.
///
/// ```toml
/// left-inside = { place = "in-stacker", value = { minor = 10000, currency = "CNY" } }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NoteLeftInside {
    /// Where it sits.
    pub place: LeftPlace,
    /// The note.
    pub value: Money,
}

impl NoteLeftInside {
    pub(crate) fn after_cut(left: Option<NoteLeftInside>) -> AfterCut {
        match left {
            None => AfterCut::Empty,
            Some(NoteLeftInside {
                place: LeftPlace::InAcceptor,
                value,
            }) => AfterCut::InAcceptor(value),
            Some(NoteLeftInside {
                place: LeftPlace::InStacker,
                value,
            }) => AfterCut::InBox(value),
        }
    }
}

/// The ID-003 emulator: the virtual acceptor's timings and fault plan
/// (the same serde config a drill uses), the dataset, and line faults.
///
/// ```toml
/// seed = 7
/// left-inside = { place = "in-stacker", value = { minor = 10000, currency = "CNY" } }
/// [acceptor]
/// validate-ms = 200
/// stack-ms = 200
/// [[line.faults]]
/// trigger = { when = "nth-call", n = 5 }
/// fault = { type = "corrupt", bits = 1 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Id003EmulatorConfig {
    /// The virtual acceptor behind the protocol (timings in real ms here).
    /// Default: validate 300, stack 300, return 200, no faults.
    pub acceptor: AcceptorConfig,
    /// The cash box behind it. Default: empty CNY box of 1000 notes.
    pub cash_box: CashBoxConfig,
    /// The currency dataset answered to 0x8A. Default CNY 1, 5, 10, 20,
    /// 50, 100 at codes 0x62–0x67.
    pub escrow_codes: Vec<EscrowCode>,
    /// The raw country byte of each 0x8A entry. Default 0x1A.
    pub country_code: u8,
    /// The line answered to the version request (0x88), in the layout
    /// real validators use (`model(country)… ID003-ppVvvv-rr date`).
    /// Default [`DEFAULT_VERSION`]: a China-dataset unit.
    pub version: String,
    /// A note left in the validator's path when it starts. The device's
    /// power-up status (shown until the host resets it) reports where it
    /// really is, as any later power-up does; a `misreport-power-up` acceptor
    /// fault counting this as power-up 1 makes it lie. Default none (plain
    /// power up, 0x40).
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

impl Default for Id003EmulatorConfig {
    fn default() -> Self {
        Id003EmulatorConfig {
            acceptor: AcceptorConfig {
                validate_ms: 300,
                stack_ms: 300,
                return_ms: 200,
                faults: Vec::new(),
            },
            cash_box: CashBoxConfig::default(),
            escrow_codes: default_codes(),
            country_code: 0x1A,
            version: DEFAULT_VERSION.to_string(),
            left_inside: None,
            reject_polls: 2,
            cheat_polls: 2,
            init_polls: 1,
            line: LineFaultConfig::default(),
            seed: 1,
        }
    }
}

/// The emulator's default answer to the version request: a JCM iVIZION
/// style line for the China (`CHN`) dataset, in the layout public drivers
/// parse (`docs/protocol-notes.md`). The numbers are made up.
pub const DEFAULT_VERSION: &str = "i(CHN)100-SS ID003-05V200-41 16MAR18";

impl Id003EmulatorConfig {
    /// The version answer, checked: a line a real driver could not read
    /// (empty, not printable ASCII) is a configuration error.
    pub fn version_info(&self) -> Result<VersionInfo, ConfigError> {
        VersionInfo::parse(self.version.as_bytes())
            .map_err(|e| ConfigError::new(format!("version {:?}: {e}", self.version)))
    }

    /// The 0x8A entries: each value as `value × 10^exponent` major units.
    pub fn currency_entries(&self) -> Result<Vec<CurrencyEntry>, ConfigError> {
        self.escrow_codes
            .iter()
            .map(|e| {
                let scale = 10i64.pow(e.value.currency.minor_exponent());
                if e.value.minor <= 0 || e.value.minor % scale != 0 {
                    return Err(ConfigError::new(format!(
                        "escrow code 0x{:02X}: {} is not a whole number of major units",
                        e.code, e.value
                    )));
                }
                let (mut value, mut exponent) = (e.value.minor / scale, 0u8);
                while value % 10 == 0 {
                    value /= 10;
                    exponent += 1;
                }
                let value = u8::try_from(value).map_err(|_| {
                    ConfigError::new(format!(
                        "escrow code 0x{:02X}: {} does not fit",
                        e.code, e.value
                    ))
                })?;
                Ok(CurrencyEntry {
                    escrow_code: e.code,
                    country_code: self.country_code,
                    value,
                    exponent,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::wire::id003::CurrencyTable;

    #[test]
    fn the_dataset_round_trips_through_the_currency_table() {
        let config = Id003EmulatorConfig::default();
        let entries = config.currency_entries().unwrap();
        let table = CurrencyTable::from_entries(&entries, Currency::CNY);
        for e in &config.escrow_codes {
            assert_eq!(table.value(e.code), Some(e.value));
        }
        let odd = Id003EmulatorConfig {
            escrow_codes: vec![EscrowCode {
                code: 1,
                value: Money::new(150, Currency::CNY),
            }],
            ..Id003EmulatorConfig::default()
        };
        assert!(odd.currency_entries().is_err());
    }
}
