//! The ITL SSP / eSSP note validator emulator (an NV200 as a host sees
//! it): a protocol adapter in front of the
//! [`VirtualAcceptor`](crate::devices::VirtualAcceptor), on a pty.
//!
//! As with the ID-003 emulator, the virtual acceptor decides what happens
//! to a note and a drill's serde fault plan means the same thing on the
//! wire; the adapter adds what is SSP's: stuffed packets, the sequence flag
//! (a repeated flag gets the last reply again), poll events and the
//! conditions repeated on every poll, POLL WITH ACK repeating credit-type
//! events until EVENT ACK, the escrow rule (the POLL after "read note n"
//! accepts the note; HOLD keeps it; 10 s without either gives it back),
//! SETUP REQUEST and serial number, and eSSP: prime checks on the
//! generator and modulus, the key exchange, AES-128 packets with their
//! counts, FA for plain commands when encryption is required.
//!
//! Power-up reports (slave reset, then note cleared from front / into the
//! cash box), at start and after any power cut, are the virtual acceptor's
//! own reports of where the note really is.
//!
//! ⚠ Where GA138 leaves it open: a jam that clears with the note in the box
//! shows credit + stacked; returned, rejected; unknown, nothing (the jam
//! just ends).

mod config;
mod model;

use std::path::Path;
use std::time::Duration;

pub use config::SspEmulatorConfig;
pub use model::SspEmulatorStats;

use super::runner::LineControl;
use super::shell::{AcceptorShell, ShellConfig};
use super::EmulatorError;
use crate::devices::{CashBoxHandle, CustomerSlot, SlotRefusal};
use kiosk_hal::Money;
use model::SspDevice;

/// A running SSP emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct SspEmulator {
    shell: AcceptorShell<SspDevice>,
}

impl SspEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &SspEmulatorConfig,
    ) -> Result<SspEmulator, EmulatorError> {
        let setup = config.setup_data()?;
        let shell_config = ShellConfig {
            acceptor: &config.acceptor,
            cash_box: &config.cash_box,
            line: &config.line,
            seed: config.seed,
            left_inside: config.left_inside,
            thread: "ssp-emulator",
        };
        let shell = AcceptorShell::start(path.as_ref(), shell_config, |parts| {
            Ok(SspDevice::new(
                parts.rt,
                parts.acceptor,
                setup,
                config.serial_number,
                config.require_encryption,
                config.fixed_key,
                Duration::from_millis(config.escrow_timeout_ms),
                Duration::from_millis(config.reset_quiet_ms),
                parts.rng.fork("essp"),
                config.left_inside.map(|l| l.value),
            ))
        })?;
        Ok(SspEmulator { shell })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        self.shell.path()
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.shell.line()
    }

    /// The customer inserts a note (`genuine = false`: a counterfeit).
    pub fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.shell.insert(value, genuine)
    }

    /// The note slot (notes given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        self.shell.customer()
    }

    /// The physical cash box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        self.shell.staff()
    }

    /// Counters and the escrow-to-stack latencies measured on the wire.
    pub fn stats(&self) -> SspEmulatorStats {
        self.shell.device().stats.clone()
    }
}
