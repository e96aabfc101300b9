//! The ccTalk bill validator emulator: a protocol adapter in front of the
//! [`VirtualAcceptor`](crate::devices::VirtualAcceptor), on a pty.
//!
//! As with ID-003 and CCNET, the virtual acceptor decides what happens to
//! a note from the drills' serde fault plans; the adapter adds only what is
//! ccTalk's: replies with header 0, the buffered bill event log with its
//! counter (0 after every power-up, events lost when the host reads too
//! slowly), bill ids and scaling, silence on a corrupted command, and the
//! echo of the single-wire bus.
//!
//! Where the protocol has no fact (⚠): a jam that clears into the box is
//! shown as a credit of the jammed note's type, one that clears back to the
//! customer as "returned from escrow", one of unknown fate as nothing.

mod bus;
mod config;
mod model;

use std::path::{Path, PathBuf};

use kiosk_hal::wire::cctalk::{serial_number_data, ADDR_BILL_VALIDATOR};
use kiosk_hal::Money;

pub(crate) use bus::{fresh_log, CctalkSlave, SlaveBus};
pub use config::{CctalkEmulatorConfig, CctalkIdentity};
pub use model::CctalkEmulatorStats;

use super::line::LineFaults;
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl};
use super::{EmulatorError, NoteLeftInside};
use crate::clock::SimClock;
use crate::devices::{CashBoxHandle, CashUnit, CustomerSlot, SlotRefusal};
use crate::faults::ConfigError;
use crate::rng::SimRng;
use model::CctalkDevice;

/// A running ccTalk emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct CctalkEmulator {
    emulation: Emulation<SlaveBus<CctalkDevice>>,
    customer: CustomerSlot,
    staff: CashBoxHandle,
    path: PathBuf,
}

impl CctalkEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CctalkEmulatorConfig,
    ) -> Result<CctalkEmulator, EmulatorError> {
        let path = path.as_ref().to_path_buf();
        let ids = config.bill_ids()?;
        let currency = config
            .bills
            .first()
            .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
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
        if serial_number_data(config.identity.serial_number).is_err() {
            return Err(ConfigError::new(format!(
                "identity.serial-number {} does not fit ccTalk's 3 bytes",
                config.identity.serial_number
            ))
            .into());
        }
        let mut device = CctalkDevice::new(rt, unit.acceptor, ids, currency);
        device.identity = config.identity.clone();
        let device = SlaveBus::new(ADDR_BILL_VALIDATOR, config.checksum, config.echo, device);
        let faults = LineFaults::new(&config.line, rng.fork("line"), clock)?;
        let pty = PtyEndpoint::create(&path)?;
        let emulation = start(device, pty, faults, "cctalk-emulator")?;
        Ok(CctalkEmulator {
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

    /// The customer inserts a note (`genuine = false`: a counterfeit).
    pub fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.customer.insert_note(value, genuine)
    }

    /// The note slot (notes given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        &self.customer
    }

    /// The physical cash box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        &self.staff
    }

    /// Counters.
    pub fn stats(&self) -> CctalkEmulatorStats {
        lock(&self.emulation.device).slave.stats.clone()
    }
}
