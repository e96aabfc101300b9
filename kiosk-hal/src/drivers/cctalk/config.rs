//! Settings of the ccTalk bill validator driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};
use crate::wire::cctalk::{Checksum, ADDR_BILL_VALIDATOR, ADDR_HOST};
use crate::Currency;

/// A CCNET bill acceptor (CashCode and compatible) on a serial port.
///
/// ```toml
/// kind = "cctalk"
/// port = "/dev/ttyUSB0"
/// currency = "CNY"
/// poll-interval-ms = 100
/// ```
///
/// Every field but `port` has a default; ⚠ timings rest on public drivers,
/// not a manual (see `kiosk-hal/tests/vectors/cctalk/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CctalkConfig {
    /// The port (required).
    pub port: PathBuf,
    /// Baud rate. Default 9600.
    pub baud: u32,
    /// Parity. Default `none` (ccTalk is 8N1).
    pub parity: Parity,
    /// Data bits. Default 8.
    pub data_bits: u8,
    /// Stop bits. Default 1.
    pub stop_bits: u8,
    /// The line's checksum: `simple` (8-bit, the factory default of most
    /// bill validators) or `crc16`. Default `simple`.
    pub checksum: Checksum,
    /// The validator's address. Default 40.
    pub address: u8,
    /// The host's address. Default 1.
    pub host_address: u8,
    /// The line echoes every byte the host sends (the usual single-wire
    /// bus): a reply counts only after the host's own echo. Set `false` for
    /// a two-wire adapter without echo. Default true.
    pub echo: bool,
    /// Bill types whose ids are read (1 to this). Default 16.
    pub bill_types: u8,
    /// The currency of the validator's bill ids; values are read from the
    /// device (headers 157 and 156), never hard-coded. Default `CNY`.
    pub currency: Currency,
    /// Poll interval of READ BUFFERED BILL EVENTS: ccTalk asks for about 200 ms (the validator buffers 5 events; slower polling loses events). Default 200.
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

impl Default for CctalkConfig {
    fn default() -> Self {
        CctalkConfig {
            port: PathBuf::new(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            checksum: Checksum::Simple,
            address: ADDR_BILL_VALIDATOR,
            host_address: ADDR_HOST,
            echo: true,
            bill_types: 16,
            currency: Currency::CNY,
            poll_interval_ms: 200,
            answer_timeout_ms: 500,
            offline_after_missed: 3,
            command_retries: 2,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 5,
        }
    }
}

impl CctalkConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> CctalkConfig {
        CctalkConfig {
            port: port.into(),
            ..CctalkConfig::default()
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
