//! Settings of the ID-003 acceptor driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};
use crate::Currency;

/// Which stack command the driver sends for `stack()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StackCommand {
    /// 0x41: VEND VALID once the note is past the stacker lever.
    #[default]
    #[serde(rename = "stack-1")]
    Stack1,
    /// 0x42: VEND VALID once the note is fully in the stacker.
    #[serde(rename = "stack-2")]
    Stack2,
}

/// An ID-003 bill acceptor on a serial port.
///
/// ```toml
/// kind = "id003"
/// port = "/dev/ttyUSB0"
/// currency = "CNY"
/// poll-interval-ms = 100
/// idle-poll-interval-ms = 1000
/// answer-timeout-ms = 2000
/// ```
///
/// Every field but `port` has a default; timings marked ⚠ have no manual
/// figure behind them (see `shared/docs/protocols.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Id003Config {
    /// The port (required).
    pub port: PathBuf,
    /// Baud rate. Default 9600.
    pub baud: u32,
    /// Parity. Default `even` (ID-003 is 8E1).
    pub parity: Parity,
    /// Data bits. Default 8.
    pub data_bits: u8,
    /// Stop bits. Default 1.
    pub stop_bits: u8,
    /// The currency of the validator's dataset; escrow codes are read from
    /// the device (0x8A), never hard-coded. Default `CNY`.
    pub currency: Currency,
    /// Status poll interval. Default 100.
    pub poll_interval_ms: u64,
    /// ⚠ Status poll interval while the kiosk keeps the acceptor inhibited
    /// and the device itself says it is disabled (0x1A): between
    /// customers, when no note can enter. Nothing is lost by polling
    /// slower then (an inhibited validator takes no note, and ID-003 has
    /// no event buffer to overflow: each answer is the current status);
    /// a cash box pulled out or a power cut is seen at most this much
    /// later. Enabling, or any other answer (a jam, a note, the box out),
    /// goes back to `poll-interval-ms` at once. No manual figure found
    /// for a disabled unit's polling; public drivers poll at ~100 ms
    /// throughout. Never faster than `poll-interval-ms`; set it equal to
    /// poll at one rate always. Default 1000.
    pub idle_poll_interval_ms: u64,
    /// ⚠ How long to wait for an answer. Default 2000.
    pub answer_timeout_ms: u64,
    /// Consecutive unanswered commands after which the device counts as
    /// offline. Default 3.
    pub offline_after_missed: u32,
    /// Resends of a command whose answer arrived corrupted. Default 2.
    pub command_retries: u32,
    /// ⚠ Data of the 0xC0 enable/disable command. Default `[0, 0]`, which
    /// two drivers use as "enable all"; the driver also refuses
    /// not-accepted values itself by returning them from escrow.
    pub denomination_bits: [u8; 2],
    /// The stack command. Default `stack-1`.
    pub stack_command: StackCommand,
    /// First wait before reopening a vanished port. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
    /// The I/O thread's write timeout and its longest sleep while the port
    /// cannot be opened (reads wait on the port itself, not on a tick).
    /// Default 5.
    pub io_tick_ms: u64,
}

impl Default for Id003Config {
    fn default() -> Self {
        Id003Config {
            port: PathBuf::new(),
            baud: 9600,
            parity: Parity::Even,
            data_bits: 8,
            stop_bits: 1,
            currency: Currency::CNY,
            poll_interval_ms: 100,
            idle_poll_interval_ms: 1000,
            answer_timeout_ms: 2000,
            offline_after_missed: 3,
            command_retries: 2,
            denomination_bits: [0, 0],
            stack_command: StackCommand::Stack1,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 5,
        }
    }
}

impl Id003Config {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> Id003Config {
        Id003Config {
            port: port.into(),
            ..Id003Config::default()
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
