//! The ccTalk protocol adapter in front of a [`VirtualAcceptor`]: host
//! commands in, replies and the buffered bill event log out.
//!
//! The virtual acceptor decides what happens to notes; each of its events
//! is recorded at once in the validator's five-event buffer with the
//! counter one on (so a host that reads too slowly loses events, as on a
//! real validator). A power-up puts the counter back to 0. The device
//! stays silent on a corrupted command, and echoes every byte on the
//! single-wire bus when configured to.

use std::time::Duration;

use kiosk_hal::wire::cctalk::{
    serial_number_data, BillEvent, BillRoute, BufferedBillEvents, HostCommand, StatusCode,
};
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, Currency, FraudKind, JamLocation, Money, NoteFate, RejectReason,
};
use tokio::runtime::Runtime;

use super::bus::{fresh_log, CctalkSlave};
use super::config::CctalkIdentity;
use crate::devices::VirtualAcceptor;

/// Counters of the ccTalk emulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CctalkEmulatorStats {
    /// READ BUFFERED BILL EVENTS answered.
    pub event_reads: u64,
    /// Events recorded in the buffer.
    pub events_recorded: u64,
    /// Frames from the host with a bad checksum (not answered).
    pub bad_frames: u64,
    /// Commands not known (not answered).
    pub unknown_commands: u64,
    /// ROUTE BILL stack commands accepted.
    pub stacks: u64,
}

pub(crate) struct CctalkDevice {
    /// The answers to the identity headers.
    pub(crate) identity: CctalkIdentity,
    rt: Option<Runtime>,
    acceptor: VirtualAcceptor,
    ids: Vec<[u8; 7]>,
    scaling: (u16, u8),
    currency: Currency,
    buffer: BufferedBillEvents,
    offline: bool,
    mask: [u8; 2],
    master: bool,
    escrow: Option<u8>,
    note_type: u8,
    pub(crate) stats: CctalkEmulatorStats,
}

impl CctalkDevice {
    pub(crate) fn new(
        rt: Runtime,
        acceptor: VirtualAcceptor,
        (ids, scaling): (Vec<[u8; 7]>, (u16, u8)),
        currency: Currency,
    ) -> CctalkDevice {
        CctalkDevice {
            identity: CctalkIdentity::default(),
            rt: Some(rt),
            acceptor,
            ids,
            scaling,
            currency,
            buffer: fresh_log(),
            offline: false,
            mask: [0, 0],
            master: false,
            escrow: None,
            note_type: 0,
            stats: CctalkEmulatorStats::default(),
        }
    }

    fn type_of(&self, value: Money) -> u8 {
        let (scale, _) = self.scaling;
        self.ids
            .iter()
            .position(|id| {
                std::str::from_utf8(&id[2..6])
                    .ok()
                    .and_then(|d| d.parse::<i64>().ok())
                    .is_some_and(|d| d * i64::from(scale) == value.minor)
            })
            .map_or(0, |i| i as u8 + 1)
    }

    fn record(&mut self, event: BillEvent) {
        self.stats.events_recorded += 1;
        self.buffer.record(event);
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
                Ok(Err(_offline)) => {
                    self.offline = true;
                    self.escrow = None;
                }
                Err(_elapsed) => return,
            }
        }
    }

    fn apply(&mut self, event: AcceptorEvent) {
        let status = BillEvent::Status;
        match event {
            AcceptorEvent::Escrowed { value } => {
                let t = self.type_of(value);
                self.note_type = t;
                self.escrow = Some(t);
                self.record(BillEvent::PendingCredit { bill_type: t });
            }
            AcceptorEvent::Stacked { value } => {
                self.escrow = None;
                let t = self.type_of(value);
                self.record(BillEvent::Credit { bill_type: t });
            }
            AcceptorEvent::Returned { .. } => {
                self.escrow = None;
                self.record(status(StatusCode::ReturnedFromEscrow));
            }
            AcceptorEvent::Rejected { reason } => self.record(status(match reason {
                RejectReason::Inhibited => StatusCode::InhibitedBySerial,
                RejectReason::Transport => StatusCode::TransportProblem,
                _ => StatusCode::ValidationFail,
            })),
            AcceptorEvent::Jammed { location, .. } => self.record(status(match location {
                JamLocation::Acceptor => StatusCode::JammedInTransportUnsafe,
                JamLocation::Stacker => StatusCode::JammedInStacker,
            })),
            AcceptorEvent::JamCleared { fate } => match fate {
                NoteFate::InCashBox => {
                    let t = self.note_type;
                    self.record(BillEvent::Credit { bill_type: t });
                }
                NoteFate::Returned => self.record(status(StatusCode::ReturnedFromEscrow)),
                NoteFate::Unknown => {}
            },
            AcceptorEvent::Fraud { kind } => self.record(status(match kind {
                FraudKind::StringOrFishing => StatusCode::StringFraud,
                FraudKind::Optical => StatusCode::OptoFraud,
                FraudKind::Tamper => StatusCode::Tamper,
                _ => StatusCode::PulledBackwards,
            })),
            AcceptorEvent::PowerUp { .. } => {
                // A restart: the counter and the settings start again.
                self.offline = false;
                self.buffer = fresh_log();
                self.master = false;
                self.mask = [0, 0];
                self.escrow = None;
            }
            AcceptorEvent::StackerFull => self.record(status(StatusCode::StackerFull)),
            AcceptorEvent::StackerRemoved => self.record(status(StatusCode::StackerRemoved)),
            AcceptorEvent::StackerReplaced => self.record(status(StatusCode::StackerInserted)),
            AcceptorEvent::Failure => self.record(status(StatusCode::StackerFaulty)),
            _ => {}
        }
    }

    /// Enables the types in the mask while the master inhibit is off.
    fn apply_inhibits(&mut self) -> Option<()> {
        let mask = u16::from_le_bytes(self.mask);
        let (scale, _) = self.scaling;
        let values: Vec<Money> = (0..16usize)
            .filter(|i| self.master && mask & (1 << i) != 0)
            .filter_map(|i| self.ids.get(i))
            .filter_map(|id| std::str::from_utf8(&id[2..6]).ok()?.parse::<i64>().ok())
            .map(|d| Money::new(d * i64::from(scale), self.currency))
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
            HostCommand::SimplePoll | HostCommand::ModifyBillOperatingMode(_) => Vec::new(),
            HostCommand::Reset => {
                let _ = self.rt.as_ref()?.block_on(self.acceptor.reset());
                self.buffer = fresh_log();
                self.master = false;
                self.mask = [0, 0];
                self.escrow = None;
                Vec::new()
            }
            HostCommand::RequestEquipmentCategory => b"Bill Validator".to_vec(),
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
            HostCommand::ReadBufferedBillEvents => {
                self.stats.event_reads += 1;
                self.buffer.to_data()
            }
            HostCommand::RequestBillId(t) => usize::from(t)
                .checked_sub(1)
                .and_then(|i| self.ids.get(i))
                .map_or(b".......".to_vec(), |id| id.to_vec()),
            HostCommand::RequestCountryScalingFactor(c) => {
                let ours = self.ids.first().is_some_and(|id| id[..2] == c);
                if ours {
                    let [lo, hi] = self.scaling.0.to_le_bytes();
                    vec![lo, hi, self.scaling.1]
                } else {
                    vec![0, 0, 0]
                }
            }
            HostCommand::RouteBill(route) => {
                let rt = self.rt.as_ref()?;
                let done = match (route, self.escrow) {
                    (_, None) => return Some(vec![254]),
                    (BillRoute::Stack, Some(_)) => rt.block_on(self.acceptor.stack()),
                    (BillRoute::Return, Some(_)) => rt.block_on(self.acceptor.return_note()),
                    (BillRoute::ExtendEscrow, Some(_)) => Ok(()),
                };
                match done {
                    Ok(()) => {
                        if route == BillRoute::Stack {
                            self.stats.stacks += 1;
                        }
                        if route != BillRoute::ExtendEscrow {
                            self.escrow = None;
                        }
                        Vec::new()
                    }
                    Err(_) => vec![255],
                }
            }
            // A bill validator does not implement the coin acceptor's
            // headers: it stays silent, as a real one does.
            HostCommand::ReadBufferedCreditOrErrorCodes | HostCommand::RequestCoinId(_) => {
                return None
            }
        })
    }
}

impl CctalkSlave for CctalkDevice {
    fn command(&mut self, cmd: HostCommand) -> Option<Vec<u8>> {
        self.answer(cmd)
    }

    fn bad_frame(&mut self) {
        self.stats.bad_frames += 1;
    }

    fn unknown_command(&mut self) {
        self.stats.unknown_commands += 1;
    }

    fn on_stop(&mut self) {
        drop(self.rt.take());
    }
}
