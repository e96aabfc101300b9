//! Settings of the SSP emulator.

use kiosk_hal::wire::ssp::essp::DEFAULT_FIXED_KEY;
use kiosk_hal::wire::ssp::SetupData;
use kiosk_hal::{Currency, Money};
use serde::{Deserialize, Serialize};

use crate::devices::{AcceptorConfig, CashBoxConfig};
use crate::emulators::line::LineFaultConfig;
use crate::emulators::NoteLeftInside;
use crate::faults::ConfigError;

fn default_channels() -> Vec<Money> {
    [1, 5, 10, 20, 50, 100]
        .iter()
        .map(|&major| Money::major(major, Currency::CNY))
        .collect()
}

/// The SSP emulator: the virtual acceptor's timings and fault plan (the
/// same serde config a drill uses), the unit's channels and identity, eSSP,
/// and line faults.
///
/// ```toml
/// seed = 7
/// require-encryption = true
/// [acceptor]
/// validate-ms = 200
/// stack-ms = 200
/// [[line.faults]]
/// trigger = { when = "nth-call", n = 5 }
/// fault = { type = "corrupt", bits = 1 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SspEmulatorConfig {
    /// The virtual acceptor behind the protocol (timings in real ms here).
    /// Default: validate 300, stack 300, return 200, no faults.
    pub acceptor: AcceptorConfig,
    /// The cash box behind it. Default: empty CNY box of 1000 notes.
    pub cash_box: CashBoxConfig,
    /// The note of each channel, channel 1 first. Default CNY 1, 5, 10,
    /// 20, 50, 100.
    pub channels: Vec<Money>,
    /// The serial number answered to GET SERIAL NUMBER. Default 772961.
    pub serial_number: u32,
    /// Refuse (FA) every command that moves or enables notes until keys
    /// are exchanged, as a unit with encryption enabled does. Default false.
    pub require_encryption: bool,
    /// The unit's fixed key, as ITL writes it. Default `0123456701234567`.
    pub fixed_key: u64,
    /// A note left in the unit's path when it starts: its power-up report
    /// (slave reset, then note cleared from the front or into the cash box)
    /// says where it really is.
    pub left_inside: Option<NoteLeftInside>,
    /// How long a note in escrow waits for POLL, HOLD or REJECT before the
    /// unit gives it back (GA138: 10 s). Default 10000.
    pub escrow_timeout_ms: u64,
    /// How long the unit is quiet after RESET while it boots. Default 300.
    pub reset_quiet_ms: u64,
    /// Line faults.
    pub line: LineFaultConfig,
    /// Seed of the line faults', the acceptor's and the key exchange's
    /// generators. Default 1.
    pub seed: u64,
}

impl Default for SspEmulatorConfig {
    fn default() -> Self {
        SspEmulatorConfig {
            acceptor: AcceptorConfig {
                validate_ms: 300,
                stack_ms: 300,
                return_ms: 200,
                faults: Vec::new(),
            },
            cash_box: CashBoxConfig::default(),
            channels: default_channels(),
            serial_number: 772_961,
            require_encryption: false,
            fixed_key: DEFAULT_FIXED_KEY,
            left_inside: None,
            escrow_timeout_ms: 10_000,
            reset_quiet_ms: 300,
            line: LineFaultConfig::default(),
            seed: 1,
        }
    }
}

impl SspEmulatorConfig {
    /// The SETUP REQUEST answer: protocol 6, values in major units with a
    /// real value multiplier of one major unit in minor units.
    pub fn setup_data(&self) -> Result<SetupData, ConfigError> {
        let Some(first) = self.channels.first() else {
            return Err(ConfigError::new("an SSP unit needs at least one channel"));
        };
        let currency = first.currency;
        if self.channels.len() > 16 {
            return Err(ConfigError::new(
                "at most 16 channels (SET INHIBITS has 16 bits)",
            ));
        }
        let scale = 10i64.pow(currency.minor_exponent());
        let mut values = Vec::new();
        for m in &self.channels {
            if m.currency != currency || m.minor <= 0 || m.minor % scale != 0 {
                return Err(ConfigError::new(format!(
                    "channel value {m} is not a whole number of {currency} major units"
                )));
            }
            let major = u32::try_from(m.minor / scale)
                .map_err(|_| ConfigError::new(format!("channel value {m} does not fit")))?;
            values.push(major);
        }
        let code = currency.code().as_bytes();
        let country = [code[0], code[1], code[2]];
        Ok(SetupData {
            unit_type: 0,
            firmware: *b"0420",
            country,
            value_multiplier: 1,
            channel_values: values.iter().map(|&v| v.min(255) as u8).collect(),
            channel_security: vec![2; values.len()],
            // scale = 10^exponent <= 1000: fits 24 bits.
            real_value_multiplier: scale as u32,
            protocol_version: 6,
            channel_countries: vec![country; values.len()],
            expanded_values: values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channels_round_trip_through_the_setup_answer() {
        let config = SspEmulatorConfig::default();
        let setup = config.setup_data().unwrap();
        for (i, value) in config.channels.iter().enumerate() {
            assert_eq!(setup.value(i as u8 + 1), Some(*value));
        }
        let odd = SspEmulatorConfig {
            channels: vec![Money::new(150, Currency::CNY)],
            ..SspEmulatorConfig::default()
        };
        assert!(odd.setup_data().is_err());
        let none = SspEmulatorConfig {
            channels: vec![],
            ..SspEmulatorConfig::default()
        };
        assert!(none.setup_data().is_err());
    }
}
