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

use std::path::Path;

use kiosk_hal::wire::cctalk::ADDR_COIN_ACCEPTOR;
use kiosk_hal::Money;

pub use config::CctalkCoinEmulatorConfig;
pub use model::CctalkCoinEmulatorStats;

use super::cctalk::SlaveBus;
use super::runner::LineControl;
use super::shell::{AcceptorShell, ShellConfig};
use super::EmulatorError;
use crate::devices::{CashBoxHandle, CustomerSlot, SlotRefusal};
use model::CoinDevice;

/// A running ccTalk coin acceptor emulator. Stops (and removes its path)
/// when dropped. Runs in real time.
pub struct CctalkCoinEmulator {
    shell: AcceptorShell<SlaveBus<CoinDevice>>,
}

impl CctalkCoinEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CctalkCoinEmulatorConfig,
    ) -> Result<CctalkCoinEmulator, EmulatorError> {
        let ids = config.coin_ids()?;
        let currency = config
            .coins
            .first()
            .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
        config.identity.check()?;
        let shell_config = ShellConfig {
            acceptor: &config.acceptor,
            cash_box: &config.cash_box,
            line: &config.line,
            seed: config.seed,
            left_inside: None,
            thread: "cctalk-coin-emulator",
        };
        let shell = AcceptorShell::start(path.as_ref(), shell_config, |parts| {
            let mut device = CoinDevice::new(parts.rt, parts.acceptor, ids, currency);
            device.identity = config.identity.clone();
            Ok(SlaveBus::new(
                ADDR_COIN_ACCEPTOR,
                config.checksum,
                config.echo,
                device,
            ))
        })?;
        Ok(CctalkCoinEmulator { shell })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        self.shell.path()
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.shell.line()
    }

    /// The customer drops a coin (`genuine = false`: a slug).
    pub fn insert_coin(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        self.shell.insert(value, genuine)
    }

    /// The coin slot (coins given back to the customer).
    pub fn customer(&self) -> &CustomerSlot {
        self.shell.customer()
    }

    /// The physical coin box: the ground truth for the money invariant.
    pub fn staff(&self) -> &CashBoxHandle {
        self.shell.staff()
    }

    /// Counters.
    pub fn stats(&self) -> CctalkCoinEmulatorStats {
        self.shell.device().slave.stats.clone()
    }
}
