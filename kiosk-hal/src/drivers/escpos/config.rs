//! Settings of the ESC/POS printer driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};

/// An ESC/POS receipt printer on a serial port.
///
/// ```toml
/// kind = "escpos"
/// port = "/dev/ttyUSB1"
/// baud = 19200
/// one-way = false
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EscPosConfig {
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
    /// The printer cannot answer (many USB printers): status is `unknown`
    /// and a print returns `Ok(Unknown)`, never `Printed`. Default false.
    pub one_way: bool,
    /// Ask the printer who it is (GS I n: model, firmware, maker, serial)
    /// while idle after the port opens. Default true; a printer that does
    /// not answer costs one answer timeout per form asked, once.
    pub identify: bool,
    /// How long to wait for each DLE EOT answer byte. Default 1000.
    pub answer_timeout_ms: u64,
    /// ⚠ DLE EOT is answered in real time, ahead of buffered print data: the
    /// driver waits this long after sending a receipt before it reads the
    /// status that proves the receipt printed. Set it to the printer's time
    /// for one receipt. Default 1500.
    pub print_settle_ms: u64,
    /// First wait before reopening a vanished port. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
    /// The I/O thread's write timeout and its longest sleep while the port
    /// cannot be opened (reads wait on the port itself, not on a tick).
    /// Default 10.
    pub io_tick_ms: u64,
}

impl Default for EscPosConfig {
    fn default() -> Self {
        EscPosConfig {
            port: PathBuf::new(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            one_way: false,
            identify: true,
            answer_timeout_ms: 1000,
            print_settle_ms: 1500,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 10,
        }
    }
}

impl EscPosConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> EscPosConfig {
        EscPosConfig {
            port: port.into(),
            ..EscPosConfig::default()
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
