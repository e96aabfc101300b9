//! Settings of the serial scanner driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};
use crate::wire::scanner::{SchemeRule, Terminator, DEFAULT_MAX_LINE_LEN};

/// A barcode / QR scanner on a serial port.
///
/// ```toml
/// kind = "scanner"
/// port = "/dev/ttyACM0"
/// baud = 115200
/// terminator = "cr-lf"
/// trigger = true
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ScannerConfig {
    /// The port (required).
    pub port: PathBuf,
    /// Baud rate. Default 9600.
    pub baud: u32,
    /// Parity. Default `none`.
    pub parity: Parity,
    /// Data bits. Default 8.
    pub data_bits: u8,
    /// Stop bits. Default 1.
    pub stop_bits: u8,
    /// What ends a scanned line. Default `cr`.
    pub terminator: Terminator,
    /// Longest line kept. Default 256.
    pub max_line_len: usize,
    /// Send the Honeywell-style serial trigger (`16 54 0D`) when a code is
    /// awaited. Default false (the scanner reads by itself).
    pub trigger: bool,
    /// Payment scheme rules (prefixes, lengths); absent: the built-in ones.
    pub rules: Option<Vec<SchemeRule>>,
    /// A code read longer ago than this when the kiosk asks for one is
    /// dropped: it was not meant for this payment. Default 5000.
    pub stale_after_ms: u64,
    /// First wait before reopening a vanished port. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
    /// The I/O thread's write timeout and its longest sleep while the port
    /// cannot be opened (reads wait on the port itself, not on a tick).
    /// Default 10.
    pub io_tick_ms: u64,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            port: PathBuf::new(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            terminator: Terminator::Cr,
            max_line_len: DEFAULT_MAX_LINE_LEN,
            trigger: false,
            rules: None,
            stale_after_ms: 5000,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 10,
        }
    }
}

impl ScannerConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> ScannerConfig {
        ScannerConfig {
            port: port.into(),
            ..ScannerConfig::default()
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
