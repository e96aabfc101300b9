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

use std::path::Path;

use kiosk_hal::wire::cctalk::ADDR_BILL_VALIDATOR;
use kiosk_hal::Money;

pub(crate) use bus::{fresh_log, CctalkSlave, SlaveBus};
pub use config::{CctalkEmulatorConfig, CctalkIdentity};
pub use model::CctalkEmulatorStats;

use super::runner::LineControl;
use super::shell::{AcceptorShell, ShellConfig};
use super::EmulatorError;
use crate::devices::{CashBoxHandle, CustomerSlot, SlotRefusal};
use model::CctalkDevice;

/// A running ccTalk emulator. Stops (and removes its path) when dropped.
///
/// Runs in real time: do not use it under a paused tokio clock.
pub struct CctalkEmulator {
    shell: AcceptorShell<SlaveBus<CctalkDevice>>,
}

impl CctalkEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &CctalkEmulatorConfig,
    ) -> Result<CctalkEmulator, EmulatorError> {
        let ids = config.bill_ids()?;
        let currency = config
            .bills
            .first()
            .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
        let shell_config = ShellConfig {
            acceptor: &config.acceptor,
            cash_box: &config.cash_box,
            line: &config.line,
            seed: config.seed,
            left_inside: config.left_inside,
            thread: "cctalk-emulator",
        };
        let shell = AcceptorShell::start(path.as_ref(), shell_config, |parts| {
            config.identity.check()?;
            let mut device = CctalkDevice::new(parts.rt, parts.acceptor, ids, currency);
            device.identity = config.identity.clone();
            Ok(SlaveBus::new(
                ADDR_BILL_VALIDATOR,
                config.checksum,
                config.echo,
                device,
            ))
        })?;
        Ok(CctalkEmulator { shell })
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

    /// Counters.
    pub fn stats(&self) -> CctalkEmulatorStats {
        self.shell.device().slave.stats.clone()
    }
}
