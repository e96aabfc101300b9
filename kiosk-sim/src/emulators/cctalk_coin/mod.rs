//! The ccTalk coin acceptor emulator: a protocol adapter in front of the
//! [`VirtualAcceptor`](crate::devices::VirtualAcceptor) used as a coin
//! mechanism, on a pty.
//!
//! The virtual acceptor decides what happens to a coin from the drills'
//! serde fault plans (counterfeits, jams, power cuts); the adapter adds
//! what is ccTalk's and a coin acceptor's: address 2, coin ids, the
//! buffered credit / error log with its counter (0 after every power-up;
//! entries lost when the host reads too slowly), no escrow, silence on a
//! corrupted command, the bus echo.

mod config;
mod model;

use std::path::{Path, PathBuf};

use kiosk_hal::wire::cctalk::{serial_number_data, ADDR_COIN_ACCEPTOR};
use kiosk_hal::Money;

pub use config::CctalkCoinEmulatorConfig;
pub use model::CctalkCoinEmulatorStats;

use super::cctalk::SlaveBus;
use super::line::LineFaults;
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl};
use super::{EmulatorError, NoteLeftInside};
use crate::clock::SimClock;
use crate::devices::{CashBoxHandle, CashUnit, CustomerSlot, SlotRefusal};
use crate::faults::ConfigError;
use crate::rng::SimRng;
use model::CoinDevice;

/// A running ccTalk coin acceptor emulator. Stops (and removes its path)
/// when dropped. Runs in real time.
pub struct CctalkCoinEmulator {
    emulation: Emulation<SlaveBus<CoinDevice>>,
    customer: CustomerSlot,
    staff: CashBoxHandle,
    path: PathBuf,
}

impl CctalkCoinEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CctalkCoinEmulatorConfig,
    ) -> Result<CctalkCoinEmulator, EmulatorError> {
        let path = path.as_ref().to_path_buf();
        let ids = config.coin_ids()?;
        let currency = config
            .coins
            .first()
            .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
        if serial_number_data(config.identity.serial_number).is_err() {
            return Err(ConfigError::new(format!(
                "identity.serial-number {} does not fit ccTalk's 3 bytes",
                config.identity.serial_number
            ))
            .into());
        }
        let clock =
            SimClock::starting_at(tokio::time::Instant::from_std(std::time::Instant::now()));
        let rng = SimRng::new(config.seed);
        let unit = CashUnit::new(
            &config.acceptor,
            &config.cash_box,
            clock,
            rng.fork("acceptor"),
        )?;
        unit.acceptor.power_on(NoteLeftInside::after_cut(None));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let mut device = CoinDevice::new(rt, unit.acceptor, ids, currency);
        device.identity = config.identity.clone();
        let device = SlaveBus::new(ADDR_COIN_ACCEPTOR, config.checksum, config.echo, device);
        let faults = LineFaults::new(&config.line, rng.fork("line"), clock)?;
        let pty = PtyEndpoint::create(&path)?;
        let emulation = start(device, pty, faults, "cctalk-coin-emulator")?;
        Ok(CctalkCoinEmulator {
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

    /// The customer drops a coin (`genuine = false`: a slug).
    pub fn insert_coin(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.customer.insert_note(value, genuine)
    }

    /// The coin slot (coins given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        &self.customer
    }

    /// The physical coin box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        &self.staff
    }

    /// Counters.
    pub fn stats(&self) -> CctalkCoinEmulatorStats {
        lock(&self.emulation.device).slave.stats.clone()
    }
}
