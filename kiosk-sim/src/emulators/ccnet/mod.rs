//! The CCNET bill validator emulator: a protocol adapter in front of the
//! [`VirtualAcceptor`](crate::devices::VirtualAcceptor), on a pty.
//!
//! As with ID-003, the virtual acceptor decides what happens to a note
//! (timings, counterfeits, jams, cheats, power cycles, the cash box) from
//! the drills' serde fault plans; the adapter adds only what is CCNET's:
//! one poll state per POLL, each repeated until the host ACKs it, bill
//! types from the bill table, NAK for a corrupted command and the last
//! answer again for the host's NAK, ILLEGAL COMMAND for what it cannot do.
//!
//! ENABLE BILL TYPES enables exactly the values of the types set: a note
//! of another value is rejected by the validator itself ("inhibit").
//! Power-up states (0x10 / 0x11 / 0x12) are the virtual acceptor's own
//! reports of where the note really is. Where the protocol has no fact
//! (⚠): after a jam clears with the note in the box the emulator shows
//! "bill stacked", with the note returned "bill returned", with its fate
//! unknown "initialize".

mod config;
mod model;

use std::path::Path;

use kiosk_hal::wire::ccnet::PollState;
use kiosk_hal::{Currency, Money};

pub use config::CcnetEmulatorConfig;
pub use model::CcnetEmulatorStats;

use super::runner::LineControl;
use super::shell::{AcceptorShell, ShellConfig};
use super::EmulatorError;
use crate::devices::{CashBoxHandle, CustomerSlot, SlotRefusal};
use model::CcnetDevice;

/// A running CCNET emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct CcnetEmulator {
    shell: AcceptorShell<CcnetDevice>,
}

impl CcnetEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CcnetEmulatorConfig,
    ) -> Result<CcnetEmulator, EmulatorError> {
        let table = config.bill_table()?;
        let currency = config.bills.first().map_or(Currency::CNY, |m| m.currency);
        let shell_config = ShellConfig {
            acceptor: &config.acceptor,
            cash_box: &config.cash_box,
            line: &config.line,
            seed: config.seed,
            left_inside: config.left_inside,
            thread: "ccnet-emulator",
        };
        let shell = AcceptorShell::start(path.as_ref(), shell_config, |parts| {
            Ok(CcnetDevice::new(
                parts.rt,
                parts.acceptor,
                table,
                config.identification(),
                currency,
                (config.reject_polls, config.cheat_polls, config.init_polls),
            ))
        })?;
        Ok(CcnetEmulator { shell })
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

    /// Answers every POLL with `state` (e.g. a failure) until called with `None`.
    pub fn force_state(&self, state: Option<PollState>) {
        self.shell.device().forced = state;
    }

    /// Counters and the escrow-to-stack latencies measured on the wire.
    pub fn stats(&self) -> CcnetEmulatorStats {
        self.shell.device().stats.clone()
    }
}
