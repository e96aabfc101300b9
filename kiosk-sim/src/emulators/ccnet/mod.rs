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

use std::path::{Path, PathBuf};

use kiosk_hal::wire::ccnet::PollState;
use kiosk_hal::{Currency, Money};

pub use config::CcnetEmulatorConfig;
pub use model::CcnetEmulatorStats;

use super::line::LineFaults;
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl};
use super::{EmulatorError, NoteLeftInside};
use crate::clock::SimClock;
use crate::devices::{CashBoxHandle, CashUnit, CustomerSlot, SlotRefusal};
use crate::rng::SimRng;
use model::CcnetDevice;

/// A running CCNET emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct CcnetEmulator {
    emulation: Emulation<CcnetDevice>,
    customer: CustomerSlot,
    staff: CashBoxHandle,
    path: PathBuf,
}

impl CcnetEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CcnetEmulatorConfig,
    ) -> Result<CcnetEmulator, EmulatorError> {
        let path = path.as_ref().to_path_buf();
        let table = config.bill_table()?;
        let currency = config.bills.first().map_or(Currency::CNY, |m| m.currency);
        let clock =
            SimClock::starting_at(tokio::time::Instant::from_std(std::time::Instant::now()));
        let rng = SimRng::new(config.seed);
        let unit = CashUnit::new(
            &config.acceptor,
            &config.cash_box,
            clock,
            rng.fork("acceptor"),
        )?;
        unit.acceptor
            .power_on(NoteLeftInside::after_cut(config.left_inside));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let device = CcnetDevice::new(
            rt,
            unit.acceptor,
            table,
            config.identification(),
            currency,
            (config.reject_polls, config.cheat_polls, config.init_polls),
        );
        let faults = LineFaults::new(&config.line, rng.fork("line"), clock)?;
        let pty = PtyEndpoint::create(&path)?;
        let emulation = start(device, pty, faults, "ccnet-emulator")?;
        Ok(CcnetEmulator {
            emulation,
            customer: unit.customer,
            staff: unit.staff,
            path,
        })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.emulation.line.clone()
    }

    /// The customer inserts a note (`genuine = false`: a counterfeit). The
    /// device shows "accepting" until its verdict.
    pub fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.customer.insert_note(value, genuine)?;
        lock(&self.emulation.device).accepting = true;
        Ok(())
    }

    /// The note slot (notes given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        &self.customer
    }

    /// The physical cash box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        &self.staff
    }

    /// Answers every POLL with `state` (e.g. a failure) until called with `None`.
    pub fn force_state(&self, state: Option<PollState>) {
        lock(&self.emulation.device).forced = state;
    }

    /// Counters and the escrow-to-stack latencies measured on the wire.
    pub fn stats(&self) -> CcnetEmulatorStats {
        lock(&self.emulation.device).stats.clone()
    }
}
