//! The ID-003 bill validator emulator: a protocol adapter in front of the
//! [`VirtualAcceptor`](crate::devices::VirtualAcceptor), on a pty.
//!
//! Why an adapter and not a model of its own: the virtual acceptor already
//! decides what happens to a note (validation time, counterfeit, jams,
//! cheats, power cycles, outages, the cash box) and is configured by the
//! serde fault plans the drills use. The adapter adds only what is
//! ID-003's: the status sequence one poll at a time, VEND VALID held until
//! the host's ACK, escrow codes from a currency dataset, echoes and the
//! 0x8A answer. So a drill's fault plan means the same thing on the wire.
//!
//! Power-up statuses (0x40 / 0x41 / 0x42), at start and after any power
//! cut, are the virtual acceptor's own reports of where the note really is
//! (a note [left inside](NoteLeftInside) at start is settled in the box or
//! given back first); only a `misreport-power-up` fault makes them lie.
//!
//! Where the protocol has no fact (⚠): after a jam clears with the note in
//! the box the emulator shows VEND VALID; with the note returned,
//! "returning"; with its fate unknown, "initialize". The 0xC0 denomination
//! bits are echoed and ignored: the inhibit command enables every value of
//! the dataset, and the driver filters values itself.

mod config;
mod model;

use std::path::Path;

use kiosk_hal::wire::id003::StatusResponse;
use kiosk_hal::Money;

pub use config::{EscrowCode, Id003EmulatorConfig, LeftPlace, NoteLeftInside, DEFAULT_VERSION};
pub use model::Id003EmulatorStats;

use super::runner::LineControl;
use super::shell::{AcceptorShell, ShellConfig};
use super::EmulatorError;
use crate::devices::{CashBoxHandle, CustomerSlot, SlotRefusal};
use model::Id003Device;

/// A running ID-003 emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct Id003Emulator {
    shell: AcceptorShell<Id003Device>,
}

impl Id003Emulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &Id003EmulatorConfig,
    ) -> Result<Id003Emulator, EmulatorError> {
        let entries = config.currency_entries()?;
        let version = config.version_info()?;
        let denominations: Vec<Money> = config.escrow_codes.iter().map(|e| e.value).collect();
        let shell_config = ShellConfig {
            acceptor: &config.acceptor,
            cash_box: &config.cash_box,
            line: &config.line,
            seed: config.seed,
            left_inside: config.left_inside,
            thread: "id003-emulator",
        };
        let shell = AcceptorShell::start(path.as_ref(), shell_config, |parts| {
            let mut device = Id003Device::new(
                parts.rt,
                parts.acceptor,
                entries,
                denominations,
                config.reject_polls,
                config.cheat_polls,
                config.init_polls,
            );
            device.version = version;
            Ok(device)
        })?;
        Ok(Id003Emulator { shell })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        self.shell.path()
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.shell.line()
    }

    /// The customer inserts a note (`genuine = false`: a counterfeit). The
    /// device shows "accepting" until its verdict.
    pub fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.shell.insert(value, genuine)?;
        self.shell.device().accepting = true;
        Ok(())
    }

    /// The note slot (notes given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        self.shell.customer()
    }

    /// The physical cash box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        self.shell.staff()
    }

    /// Answers every status request with `status` (e.g. a failure code)
    /// until called with `None`.
    pub fn force_status(&self, status: Option<StatusResponse>) {
        self.shell.device().forced = status;
    }

    /// Counters and the escrow-to-stack latencies measured on the wire.
    pub fn stats(&self) -> Id003EmulatorStats {
        self.shell.device().stats.clone()
    }
}
