//! Serial line settings shared by the serial drivers' configurations.

use serde::{Deserialize, Serialize};

/// Parity of a serial line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parity {
    /// No parity bit (8N1 lines).
    #[default]
    None,
    /// Even parity (ID-003 is 8E1).
    Even,
    /// Odd parity.
    Odd,
}

/// How to open a serial port: path and line settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SerialLine {
    /// The port's path (`/dev/ttyUSB0`, a stable `/dev/serial/by-id/…` link).
    pub path: std::path::PathBuf,
    /// Baud rate.
    pub baud: u32,
    /// Data bits: 5 to 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits: 1 or 2.
    pub stop_bits: u8,
}

impl SerialLine {
    /// Checks the settings before any port is opened.
    pub fn validate(&self) -> Result<(), String> {
        if self.path.as_os_str().is_empty() {
            return Err("no port path configured".into());
        }
        if !(5..=8).contains(&self.data_bits) {
            return Err(format!("data-bits {} is not 5 to 8", self.data_bits));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return Err(format!("stop-bits {} is not 1 or 2", self.stop_bits));
        }
        if self.baud == 0 {
            return Err("baud must not be 0".into());
        }
        Ok(())
    }
}
