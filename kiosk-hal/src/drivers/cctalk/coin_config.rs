//! Settings of the ccTalk coin acceptor driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::CctalkConfig;
use crate::drivers::Parity;
use crate::wire::cctalk::{Checksum, ADDR_COIN_ACCEPTOR, ADDR_HOST};
use crate::Currency;

/// A ccTalk coin acceptor on a serial port (single-wire bus).
///
/// ```toml
/// kind = "cctalk-coin"
/// port = "/dev/ttyUSB0"
/// currency = "CNY"
/// coin-positions = 16
/// ```
///
/// Coin values come from the device (REQUEST COIN ID, `CN100A` = 100 fen),
/// never from this file; `enable` turns on the positions whose value the
/// kiosk accepts. Every field but `port` has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CctalkCoinConfig {
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
    /// The line's checksum: `simple` (the factory default of most coin
    /// acceptors) or `crc16`. Default `simple`.
    pub checksum: Checksum,
    /// The acceptor's address. Default 2.
    pub address: u8,
    /// The host's address. Default 1.
    pub host_address: u8,
    /// The line echoes every byte the host sends (single-wire bus).
    /// Default true.
    pub echo: bool,
    /// Coin positions whose ids are read (1 to this, at most 16). Default 16.
    pub coin_positions: u8,
    /// The currency of the coin ids' values. Default `CNY`.
    pub currency: Currency,
    /// Poll interval of READ BUFFERED CREDIT (229). The acceptor buffers
    /// five events: a slower poll loses coins when they come fast.
    /// Default 200.
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
    /// cannot be opened. Default 5.
    pub io_tick_ms: u64,
}

impl Default for CctalkCoinConfig {
    fn default() -> Self {
        let line = CctalkConfig::default();
        CctalkCoinConfig {
            port: PathBuf::new(),
            baud: line.baud,
            parity: line.parity,
            data_bits: line.data_bits,
            stop_bits: line.stop_bits,
            checksum: Checksum::Simple,
            address: ADDR_COIN_ACCEPTOR,
            host_address: ADDR_HOST,
            echo: true,
            coin_positions: 16,
            currency: Currency::CNY,
            poll_interval_ms: 200,
            answer_timeout_ms: line.answer_timeout_ms,
            offline_after_missed: line.offline_after_missed,
            command_retries: line.command_retries,
            reconnect_initial_ms: line.reconnect_initial_ms,
            reconnect_max_ms: line.reconnect_max_ms,
            io_tick_ms: line.io_tick_ms,
        }
    }
}

impl CctalkCoinConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> CctalkCoinConfig {
        CctalkCoinConfig {
            port: port.into(),
            ..CctalkCoinConfig::default()
        }
    }

    /// The line, addressing, timing and retry settings in the shape the
    /// shared ccTalk host and shell read them (no bill types).
    pub(super) fn line_config(&self) -> CctalkConfig {
        CctalkConfig {
            port: self.port.clone(),
            baud: self.baud,
            parity: self.parity,
            data_bits: self.data_bits,
            stop_bits: self.stop_bits,
            checksum: self.checksum,
            address: self.address,
            host_address: self.host_address,
            echo: self.echo,
            bill_types: 0,
            currency: self.currency,
            poll_interval_ms: self.poll_interval_ms,
            answer_timeout_ms: self.answer_timeout_ms,
            offline_after_missed: self.offline_after_missed,
            command_retries: self.command_retries,
            reconnect_initial_ms: self.reconnect_initial_ms,
            reconnect_max_ms: self.reconnect_max_ms,
            io_tick_ms: self.io_tick_ms,
        }
    }
}
