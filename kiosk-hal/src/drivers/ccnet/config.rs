//! Settings of the CCNET acceptor driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};
use crate::Currency;

/// A CCNET bill acceptor (CashCode and compatible) on a serial port.
///
/// ```toml
/// kind = "ccnet"
/// port = "/dev/ttyUSB0"
/// currency = "CNY"
/// poll-interval-ms = 100
/// ```
///
/// Every field but `port` has a default; ⚠ timings rest on public drivers,
/// not a manual (see `kiosk-hal/tests/vectors/ccnet/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CcnetConfig {
    /// The port (required).
    pub port: PathBuf,
    /// Baud rate. Default 9600.
    pub baud: u32,
    /// Parity. Default `none` (CCNET is 8N1).
    pub parity: Parity,
    /// Data bits. Default 8.
    pub data_bits: u8,
    /// Stop bits. Default 1.
    pub stop_bits: u8,
    /// The currency of the validator's bill table; values are read from the
    /// device (GET BILL TABLE), never hard-coded. Default `CNY`.
    pub currency: Currency,
    /// ⚠ Poll interval: drivers use 100–200. Default 100.
    pub poll_interval_ms: u64,
    /// ⚠ How long to wait for an answer. Default 500.
    pub answer_timeout_ms: u64,
    /// Consecutive unanswered commands after which the device counts as
    /// offline. Default 3.
    pub offline_after_missed: u32,
    /// Resends of a command whose answer arrived corrupted or was NAKed. Default 2.
    pub command_retries: u32,
    /// First wait before reopening a vanished port. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
    /// The I/O thread's write timeout and its longest sleep while the port
    /// cannot be opened (reads wait on the port itself, not on a tick).
    /// Default 5.
    pub io_tick_ms: u64,
}

impl Default for CcnetConfig {
    fn default() -> Self {
        CcnetConfig {
            port: PathBuf::new(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            currency: Currency::CNY,
            poll_interval_ms: 100,
            answer_timeout_ms: 500,
            offline_after_missed: 3,
            command_retries: 2,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 5,
        }
    }
}

impl CcnetConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> CcnetConfig {
        CcnetConfig {
            port: port.into(),
            ..CcnetConfig::default()
        }
    }

    /// The serial line settings.
    pub fn line(&self) -> SerialLine {
        SerialLine {
            path: self.port.clone(),
            baud: self.baud,
            data_bits: self.data_bits,
            parity: self.parity,
            stop_bits: self.stop_bits,
        }
    }

    /// The reopening backoff.
    pub fn reconnect(&self) -> ReconnectConfig {
        ReconnectConfig {
            initial_ms: self.reconnect_initial_ms,
            max_ms: self.reconnect_max_ms,
        }
    }
}
