//! The ccTalk coin acceptor adapter in front of a [`VirtualAcceptor`]:
//! host commands in, replies and the buffered credit / error log out.
//!
//! A coin mechanism has no escrow: when the virtual mechanism has
//! validated a coin (its `Escrowed`), the adapter lets it fall at once
//! (`stack`), and the coin is credited in the log when it lands in the box
//! (`Stacked`). The virtual cash box is the ground truth of the money.

use std::time::Duration;

use kiosk_hal::wire::cctalk::{
    serial_number_data, BufferedBillEvents, CoinError, CoinEvent, CoinId, HostCommand,
};
use kiosk_hal::{AcceptorEvent, BillAcceptor, Currency, FraudKind, Money, NoteFate, RejectReason};
use tokio::runtime::Runtime;

use crate::devices::VirtualAcceptor;
use crate::emulators::cctalk::{fresh_log, CctalkIdentity, CctalkSlave};

/// Counters of the coin acceptor emulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CctalkCoinEmulatorStats {
    /// READ BUFFERED CREDIT answered.
    pub credit_reads: u64,
    /// Entries recorded in the log (credits and errors).
    pub events_recorded: u64,
    /// Coins credited in the log.
    pub coins_credited: u64,
    /// Frames from the host with a bad checksum (not answered).
    pub bad_frames: u64,
    /// Commands not known to a coin acceptor (not answered).
    pub unknown_commands: u64,
}

pub(crate) struct CoinDevice {
    pub(crate) identity: CctalkIdentity,
    rt: Option<Runtime>,
    acceptor: VirtualAcceptor,
    ids: Vec<CoinId>,
    currency: Currency,
    log: BufferedBillEvents,
    offline: bool,
    mask: [u8; 2],
    master: bool,
    /// The position of the coin on its way (for a jam that clears into the box).
    falling: u8,
    pub(crate) stats: CctalkCoinEmulatorStats,
}

impl CoinDevice {
    pub(crate) fn new(
        rt: Runtime,
        acceptor: VirtualAcceptor,
        ids: Vec<CoinId>,
        currency: Currency,
    ) -> CoinDevice {
        CoinDevice {
            identity: CctalkIdentity::default(),
            rt: Some(rt),
            acceptor,
            ids,
            currency,
            log: fresh_log(),
            offline: false,
            mask: [0, 0],
            master: false,
            falling: 0,
            stats: CctalkCoinEmulatorStats::default(),
        }
    }

    fn value_of(&self, id: &CoinId) -> Option<Money> {
        Some(Money::new(i64::from(id.minor_units()?), self.currency))
    }

    fn position_of(&self, value: Money) -> u8 {
        self.ids
            .iter()
            .position(|id| self.value_of(id) == Some(value))
            .map_or(0, |i| i as u8 + 1)
    }

    fn record(&mut self, event: CoinEvent) {
        self.stats.events_recorded += 1;
        if let CoinEvent::Credit { .. } = event {
            self.stats.coins_credited += 1;
        }
        self.log.record_coin(event);
    }

    fn error(&mut self, b: u8) {
        self.record(CoinEvent::Error(CoinError::from_byte(b)));
    }

    fn credit(&mut self, position: u8) {
        self.record(CoinEvent::Credit {
            position,
            sorter_path: 1,
        });
    }

    fn drain_events(&mut self) {
        loop {
            let Some(rt) = self.rt.as_ref() else { return };
            let acceptor = &mut self.acceptor;
            let next = rt.block_on(async {
                tokio::time::timeout(Duration::ZERO, acceptor.next_event()).await
            });
            match next {
                Ok(Ok(event)) => self.apply(event),
                Ok(Err(_offline)) => self.offline = true,
                Err(_elapsed) => return,
            }
        }
    }

    fn apply(&mut self, event: AcceptorEvent) {
        match event {
            AcceptorEvent::Escrowed { value } => {
                // No escrow in a coin mechanism: the coin falls at once.
                self.falling = self.position_of(value);
                let dropped = match self.rt.as_ref() {
                    Some(rt) => rt.block_on(self.acceptor.stack()),
                    None => return,
                };
                if dropped.is_err() {
                    self.error(1);
                }
            }
            AcceptorEvent::Stacked { value } => {
                let p = self.position_of(value);
                self.credit(p);
            }
            // Only when the mechanism gave a coin back on its own.
            AcceptorEvent::Returned { .. } => self.error(1),
            AcceptorEvent::Rejected { reason } => self.error(match reason {
                RejectReason::Inhibited => 2,
                RejectReason::Insertion => 8,
                RejectReason::Transport => 19,
                _ => 1,
            }),
            // Credit sensor blocked.
            AcceptorEvent::Jammed { .. } => self.error(14),
            AcceptorEvent::JamCleared { fate } => match fate {
                NoteFate::InCashBox => {
                    let p = self.falling;
                    self.credit(p);
                }
                NoteFate::Returned => self.error(1),
                NoteFate::Unknown => {}
            },
            AcceptorEvent::Fraud { kind } => self.error(match kind {
                FraudKind::StringOrFishing => 20,
                _ => 16,
            }),
            AcceptorEvent::PowerUp { .. } => {
                self.offline = false;
                self.log = fresh_log();
                self.master = false;
                self.mask = [0, 0];
            }
            // Validation timeout: the mechanism is not working.
            AcceptorEvent::Failure => self.error(5),
            _ => {}
        }
    }

    /// Enables the positions in the mask while the master inhibit is off.
    fn apply_inhibits(&mut self) -> Option<()> {
        let mask = u16::from_le_bytes(self.mask);
        let values: Vec<Money> = (0..16usize)
            .filter(|i| self.master && mask & (1 << i) != 0)
            .filter_map(|i| self.ids.get(i))
            .filter_map(|id| self.value_of(id))
            .collect();
        let rt = self.rt.as_ref()?;
        let _ = if values.is_empty() {
            rt.block_on(self.acceptor.inhibit())
        } else {
            rt.block_on(self.acceptor.enable(&values))
        };
        Some(())
    }

    /// The reply data to a command; `None` for silence.
    fn answer(&mut self, cmd: HostCommand) -> Option<Vec<u8>> {
        self.drain_events();
        if self.offline {
            return None;
        }
        Some(match cmd {
            HostCommand::SimplePoll => Vec::new(),
            HostCommand::Reset => {
                let _ = self.rt.as_ref()?.block_on(self.acceptor.reset());
                self.log = fresh_log();
                self.master = false;
                self.mask = [0, 0];
                Vec::new()
            }
            HostCommand::RequestEquipmentCategory => b"Coin Acceptor".to_vec(),
            HostCommand::RequestManufacturerId => self.identity.manufacturer.as_bytes().to_vec(),
            HostCommand::RequestProductCode => self.identity.product.as_bytes().to_vec(),
            // Checked at start: the number fits 24 bits.
            HostCommand::RequestSerialNumber => serial_number_data(self.identity.serial_number)
                .ok()?
                .to_vec(),
            HostCommand::RequestSoftwareRevision => {
                self.identity.software_revision.as_bytes().to_vec()
            }
            HostCommand::ModifyInhibitStatus(mask) => {
                self.mask = mask;
                self.apply_inhibits()?;
                Vec::new()
            }
            HostCommand::RequestInhibitStatus => self.mask.to_vec(),
            HostCommand::ModifyMasterInhibit(enabled) => {
                self.master = enabled;
                self.apply_inhibits()?;
                Vec::new()
            }
            HostCommand::RequestMasterInhibit => vec![u8::from(self.master)],
            HostCommand::ReadBufferedCreditOrErrorCodes => {
                self.stats.credit_reads += 1;
                self.log.to_data()
            }
            HostCommand::RequestCoinId(p) => usize::from(p)
                .checked_sub(1)
                .and_then(|i| self.ids.get(i))
                .map_or(b"......".to_vec(), |id| id.to_data().to_vec()),
            // The bill validator's headers: a coin acceptor stays silent.
            HostCommand::ReadBufferedBillEvents
            | HostCommand::RequestBillId(_)
            | HostCommand::RequestCountryScalingFactor(_)
            | HostCommand::RouteBill(_)
            | HostCommand::ModifyBillOperatingMode(_) => {
                self.stats.unknown_commands += 1;
                return None;
            }
        })
    }
}

impl CctalkSlave for CoinDevice {
    fn command(&mut self, cmd: HostCommand) -> Option<Vec<u8>> {
        self.answer(cmd)
    }

    fn bad_frame(&mut self) {
        self.stats.bad_frames += 1;
    }

    fn unknown_command(&mut self) {
        self.stats.unknown_commands += 1;
    }

    fn on_tick(&mut self) {
        // The mechanism works whether or not the host polls: a coin lands
        // (and is logged) when it lands, so a slow host loses entries.
        self.drain_events();
    }

    fn on_stop(&mut self) {
        drop(self.rt.take());
    }
}
