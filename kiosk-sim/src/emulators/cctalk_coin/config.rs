//! Settings of the ccTalk coin acceptor emulator.

use kiosk_hal::wire::cctalk::{Checksum, CoinId};
use kiosk_hal::{Currency, Money};
use serde::{Deserialize, Serialize};

use crate::devices::{AcceptorConfig, CashBoxConfig};
use crate::emulators::cctalk::CctalkIdentity;
use crate::emulators::line::LineFaultConfig;
use crate::faults::ConfigError;

/// The ccTalk coin acceptor emulator: the virtual mechanism's timings and
/// fault plan, the coins by position, the line's checksum and echo, line
/// faults.
///
/// ```toml
/// coins = [{ minor = 10, currency = "CNY" }, { minor = 50, currency = "CNY" }, { minor = 100, currency = "CNY" }]
/// [acceptor]
/// validate-ms = 80
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CctalkCoinEmulatorConfig {
    /// The virtual mechanism behind the protocol (timings in real ms):
    /// `validate-ms` is the coin's validation, `stack-ms` its fall into
    /// the box; its fault plan (counterfeits, jams, power cuts) applies.
    pub acceptor: AcceptorConfig,
    /// The coin box behind it.
    pub cash_box: CashBoxConfig,
    /// The coins, by position from position 1. Default CNY 0.1, 0.5, 1.
    pub coins: Vec<Money>,
    /// The two-letter country of the coin ids. Default `CN`.
    pub country: String,
    /// The line's checksum. Default `simple`.
    pub checksum: Checksum,
    /// Echo every byte the host sends (single-wire bus). Default true.
    pub echo: bool,
    /// Line faults.
    pub line: LineFaultConfig,
    /// Seed. Default 1.
    pub seed: u64,
    /// The identity answers (product default `kiosk-sim CA`).
    pub identity: CctalkIdentity,
}

impl Default for CctalkCoinEmulatorConfig {
    fn default() -> Self {
        CctalkCoinEmulatorConfig {
            acceptor: AcceptorConfig {
                validate_ms: 100,
                stack_ms: 50,
                return_ms: 50,
                faults: Vec::new(),
            },
            cash_box: CashBoxConfig::default(),
            coins: [10, 50, 100]
                .iter()
                .map(|&fen| Money::new(fen, Currency::CNY))
                .collect(),
            country: "CN".into(),
            checksum: Checksum::Simple,
            echo: true,
            line: LineFaultConfig::default(),
            seed: 1,
            identity: CctalkIdentity {
                product: "kiosk-sim CA".into(),
                ..CctalkIdentity::default()
            },
        }
    }
}

impl CctalkCoinEmulatorConfig {
    /// The coin ids by position (`CNvvvA`, the value in minor units).
    pub fn coin_ids(&self) -> Result<Vec<CoinId>, ConfigError> {
        let country: [u8; 2] = self.country.as_bytes().try_into().map_err(|_| {
            ConfigError::new(format!("country {:?} is not 2 letters", self.country))
        })?;
        if self.coins.len() > 16 {
            return Err(ConfigError::new("a coin acceptor has at most 16 positions"));
        }
        self.coins
            .iter()
            .map(|coin| {
                if !(1..=999).contains(&coin.minor) {
                    return Err(ConfigError::new(format!(
                        "{coin} has no 3-digit coin id value"
                    )));
                }
                let digits = format!("{:03}", coin.minor);
                let mut value = [b'0'; 3];
                value.copy_from_slice(digits.as_bytes());
                Ok(CoinId {
                    country,
                    value,
                    issue: b'A',
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_ids_carry_minor_units() {
        let ids = CctalkCoinEmulatorConfig::default().coin_ids().unwrap();
        assert_eq!(&ids[2].to_data(), b"CN100A");
        assert_eq!(&ids[0].to_data(), b"CN010A");
        let big = CctalkCoinEmulatorConfig {
            coins: vec![Money::major(10, Currency::CNY)],
            ..CctalkCoinEmulatorConfig::default()
        };
        assert!(big.coin_ids().is_err());
    }
}
