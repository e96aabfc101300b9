//! The shell every bill and coin acceptor emulator shares around its
//! protocol adapter: the virtual acceptor and its cash box on a real-time
//! clock, powered on, the emulator thread on a pty published at a path,
//! and the handles a test holds (the customer's slot, the cash box, the
//! line).
//!
//! Each emulator (ID-003, CCNET, ccTalk bill and coin, SSP) checks its own
//! configuration, builds its own device model from the [`DeviceParts`]
//! this shell hands it, and keeps its own public methods, which delegate
//! here; so the order in which the acceptor, the line and the pty come up
//! is the same for all of them.

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use kiosk_hal::Money;
use tokio::runtime::Runtime;

use super::line::{LineFaultConfig, LineFaults};
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl, WireDevice};
use super::{EmulatorError, NoteLeftInside};
use crate::clock::SimClock;
use crate::devices::{
    AcceptorConfig, CashBoxConfig, CashBoxHandle, CashUnit, CustomerSlot, SlotRefusal,
    VirtualAcceptor,
};
use crate::rng::SimRng;

/// The parts of an emulator's configuration the shell needs.
pub(crate) struct ShellConfig<'a> {
    /// The virtual acceptor behind the protocol (timings in real ms).
    pub(crate) acceptor: &'a AcceptorConfig,
    /// The cash box behind it.
    pub(crate) cash_box: &'a CashBoxConfig,
    /// The line's planned faults.
    pub(crate) line: &'a LineFaultConfig,
    /// The emulator's seed.
    pub(crate) seed: u64,
    /// A note left in the acceptor when it powers on.
    pub(crate) left_inside: Option<NoteLeftInside>,
    /// The emulator thread's name.
    pub(crate) thread: &'static str,
}

/// What a device model is built from.
pub(crate) struct DeviceParts<'a> {
    /// The runtime the model drives the acceptor's async verbs on (from the
    /// emulator thread).
    pub(crate) rt: Runtime,
    /// The virtual acceptor, already powered on: its first event is its
    /// own power-up report, from where the note left inside really is.
    pub(crate) acceptor: VirtualAcceptor,
    /// The emulator's generator, for the model's own forks.
    pub(crate) rng: &'a SimRng,
}

/// A running acceptor emulator's shared state. Stops (and removes its
/// path) when dropped.
pub(crate) struct AcceptorShell<D> {
    emulation: Emulation<D>,
    customer: CustomerSlot,
    staff: CashBoxHandle,
    path: PathBuf,
}

impl<D: WireDevice> AcceptorShell<D> {
    /// Powers the virtual acceptor on, builds the device model with
    /// `build`, and starts the emulator thread on a new pty published at
    /// `path` (a symlink).
    pub(crate) fn start(
        path: &Path,
        config: ShellConfig<'_>,
        build: impl FnOnce(DeviceParts<'_>) -> Result<D, EmulatorError>,
    ) -> Result<AcceptorShell<D>, EmulatorError> {
        let clock =
            SimClock::starting_at(tokio::time::Instant::from_std(std::time::Instant::now()));
        let rng = SimRng::new(config.seed);
        let unit = CashUnit::new(
            config.acceptor,
            config.cash_box,
            clock,
            rng.fork("acceptor"),
        )?;
        unit.acceptor
            .power_on(NoteLeftInside::after_cut(config.left_inside));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let device = build(DeviceParts {
            rt,
            acceptor: unit.acceptor,
            rng: &rng,
        })?;
        let faults = LineFaults::new(config.line, rng.fork("line"), clock)?;
        let pty = PtyEndpoint::create(path)?;
        let emulation = start(device, pty, faults, config.thread)?;
        Ok(AcceptorShell {
            emulation,
            customer: unit.customer,
            staff: unit.staff,
            path: path.to_path_buf(),
        })
    }

    /// The path the driver opens.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The line: faults, silence, unplugging.
    pub(crate) fn line(&self) -> LineControl {
        self.emulation.line.clone()
    }

    /// The customer puts a note or a coin in (`genuine = false`: a fake).
    pub(crate) fn insert(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.customer.insert_note(value, genuine)
    }

    /// The slot (what is given back to the customer).
    pub(crate) fn customer(&self) -> &CustomerSlot {
        &self.customer
    }

    /// The physical cash box: the ground truth for the money invariant.
    pub(crate) fn staff(&self) -> &CashBoxHandle {
        &self.staff
    }

    /// The device model, locked (the emulator thread waits meanwhile).
    pub(crate) fn device(&self) -> MutexGuard<'_, D> {
        lock(&self.emulation.device)
    }
}
