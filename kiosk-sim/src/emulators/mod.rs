//! Device emulators on pseudo-terminals: the other end of the real serial
//! drivers, speaking the real bytes, in real time.
//!
//! Each emulator holds the master side of a pty pair
//! (`serialport::TTYPort::pair()`) and publishes the slave at a path of the
//! caller's choosing (a symlink); the driver under test opens that path as
//! it would open `/dev/ttyUSB0`. Unplugging closes the pty and removes the
//! path; replugging creates a new pty and re-points the path, so a driver
//! configured with the path must find the device again by itself.
//!
//! - [`Id003Emulator`]: an ID-003 bill validator, a protocol adapter in
//!   front of the [`VirtualAcceptor`](crate::devices::VirtualAcceptor), so
//!   the drills' serde fault plans apply unchanged.
//! - [`CcnetEmulator`]: a CCNET (CashCode-compatible) bill validator, the
//!   same kind of adapter in front of the virtual acceptor.
//! - [`CctalkEmulator`]: a ccTalk bill validator (buffered event log,
//!   bus echo), the same kind of adapter.
//! - [`CctalkCoinEmulator`]: a ccTalk coin acceptor (coin ids, the
//!   buffered credit / error log, no escrow), the virtual acceptor used as
//!   a coin mechanism.
//! - [`SspEmulator`]: an ITL SSP / eSSP note validator (NV200 and the
//!   like), the same kind of adapter in front of the virtual acceptor.
//! - [`EscPosEmulator`]: an ESC/POS printer that decodes what it is sent,
//!   keeps the receipts as lines, and answers DLE EOT from its state.
//! - [`ScannerEmulator`]: a serial scanner writing code lines.
//! - [`LineFaults`]: the byte-level fault injector every emulator writes
//!   through (garbage, dropped and corrupted frames, slow answers,
//!   silence), seeded from [`SimRng`](crate::rng::SimRng).
//!
//! Emulators run in **real time**: tokio's paused clock cannot drive real
//! pty I/O. Keep tests on them short (shorten the driver's poll and
//! timeout settings).

mod ccnet;
mod cctalk;
mod cctalk_coin;
mod escpos;
mod id003;
mod line;
mod pty;
mod runner;
mod scanner;
mod shell;
mod ssp;

pub use ccnet::{CcnetEmulator, CcnetEmulatorConfig, CcnetEmulatorStats};
pub use cctalk::{CctalkEmulator, CctalkEmulatorConfig, CctalkEmulatorStats, CctalkIdentity};
pub use cctalk_coin::{CctalkCoinEmulator, CctalkCoinEmulatorConfig, CctalkCoinEmulatorStats};
pub use escpos::{receipt_text, EscPosEmulator, EscPosEmulatorConfig, EscPosIdentity};
pub use id003::{
    EscrowCode, Id003Emulator, Id003EmulatorConfig, Id003EmulatorStats, LeftPlace, NoteLeftInside,
    DEFAULT_VERSION as ID003_DEFAULT_VERSION,
};
pub use line::{LineFault, LineFaultConfig, LineFaults, LineStats, Verdict};
pub use pty::PtyEndpoint;
pub use runner::LineControl;
pub use scanner::{ScannerEmulator, ScannerEmulatorConfig};
pub use ssp::{SspEmulator, SspEmulatorConfig, SspEmulatorStats};

use core::fmt;

use crate::faults::ConfigError;

/// Why an emulator could not start.
#[derive(Debug)]
pub enum EmulatorError {
    /// The pty, the symlink or the thread could not be created.
    Io(std::io::Error),
    /// The configuration is invalid.
    Config(ConfigError),
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorError::Io(e) => write!(f, "emulator: {e}"),
            EmulatorError::Config(e) => write!(f, "emulator: {e}"),
        }
    }
}

impl std::error::Error for EmulatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmulatorError::Io(e) => Some(e),
            EmulatorError::Config(e) => Some(e),
        }
    }
}

impl From<std::io::Error> for EmulatorError {
    fn from(e: std::io::Error) -> Self {
        EmulatorError::Io(e)
    }
}

impl From<ConfigError> for EmulatorError {
    fn from(e: ConfigError) -> Self {
        EmulatorError::Config(e)
    }
}

#[cfg(test)]
mod tests;
