//! The scripted device the ccTalk host tests drive the host with (no port,
//! no clock), shared by the bill validator's and the coin acceptor's
//! tests: they differ only in the device's address, the header that reads
//! its buffered log, and the kind of event the log holds.

use std::marker::PhantomData;

use super::*;
use crate::wire::cctalk::{
    BillEvent, BufferedBillEvents, CoinEvent, FrameRepr, HostCommand, ADDR_BILL_VALIDATOR,
    ADDR_COIN_ACCEPTOR, ADDR_HOST,
};
use crate::{AcceptorEvent, ErrorKind};

/// The kind of ccTalk device a [`Rig`] plays.
pub(super) trait DeviceKind {
    /// The device's bus address (the source of its replies).
    const ADDRESS: u8;
    /// The header that reads the device's buffered log.
    const READ_LOG: HostCommand;
    /// What the log records.
    type Event: Copy;
    /// Records `event` in the log, the counter one on.
    fn record(log: &mut BufferedBillEvents, event: Self::Event);
}

/// A bill validator (address 40, buffered bill events).
pub(super) enum Bills {}

impl DeviceKind for Bills {
    const ADDRESS: u8 = ADDR_BILL_VALIDATOR;
    const READ_LOG: HostCommand = HostCommand::ReadBufferedBillEvents;
    type Event = BillEvent;
    fn record(log: &mut BufferedBillEvents, event: BillEvent) {
        log.record(event);
    }
}

/// A coin acceptor (address 2, buffered credits and error codes).
pub(super) enum Coins {}

impl DeviceKind for Coins {
    const ADDRESS: u8 = ADDR_COIN_ACCEPTOR;
    const READ_LOG: HostCommand = HostCommand::ReadBufferedCreditOrErrorCodes;
    type Event = CoinEvent;
    fn record(log: &mut BufferedBillEvents, event: CoinEvent) {
        log.record_coin(event);
    }
}

/// The host under test and the device's side of the conversation.
pub(super) struct Rig<K> {
    pub(super) host: CctalkHost,
    /// The host's clock, in ms.
    pub(super) now: u64,
    /// The device's buffered log.
    pub(super) device: BufferedBillEvents,
    kind: PhantomData<K>,
}

impl<K: DeviceKind> Rig<K> {
    /// `host` with its port just opened, in front of a device just
    /// powered up (an empty log, counter 0).
    pub(super) fn with_host(mut host: CctalkHost) -> Rig<K> {
        host.port_opened(0);
        Rig {
            host,
            now: 0,
            device: BufferedBillEvents {
                counter: 0,
                pairs: [(0, 0); 5],
            },
            kind: PhantomData,
        }
    }

    /// What the host sends now, or at its next poll 200 ms on.
    pub(super) fn sent(&mut self) -> Option<HostCommand> {
        let mut sent = self.host.poll_transmit(self.now);
        if sent.is_none() {
            self.now += 200;
            sent = self.host.poll_transmit(self.now);
        }
        sent
    }

    /// The device answers with `data`.
    pub(super) fn reply(&mut self, data: &[u8]) {
        self.host.handle_frame(
            self.now,
            &FrameRepr::new(ADDR_HOST, K::ADDRESS, 0, data.to_vec()),
        );
    }

    /// The host sends `cmd` next; the device answers with `data`.
    pub(super) fn expect(&mut self, cmd: HostCommand, data: &[u8]) {
        assert_eq!(self.sent(), Some(cmd), "at {} ms", self.now);
        self.reply(data);
    }

    /// Everything the host has to report.
    pub(super) fn outputs(&mut self) -> Vec<HostOutput> {
        std::iter::from_fn(|| self.host.poll_output()).collect()
    }

    /// The acceptor events the host has to report.
    pub(super) fn events(&mut self) -> Vec<AcceptorEvent> {
        self.outputs()
            .into_iter()
            .filter_map(|o| match o {
                HostOutput::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The device records these events, then the host reads the log.
    pub(super) fn poll(&mut self, happened: &[K::Event]) -> Vec<AcceptorEvent> {
        for e in happened {
            K::record(&mut self.device, *e);
        }
        let data = self.device.to_data();
        self.expect(K::READ_LOG, &data);
        self.events()
    }

    /// The host is asked for `request` (token 9); it sends `cmds` in order,
    /// each answered; the request's result.
    pub(super) fn request(
        &mut self,
        request: Request,
        cmds: &[(HostCommand, &[u8])],
    ) -> Result<(), ErrorKind> {
        self.host.request(9, request);
        for (cmd, data) in cmds {
            self.expect(*cmd, data);
        }
        self.outputs()
            .into_iter()
            .find_map(|o| match o {
                HostOutput::Done { token: 9, result } => Some(result),
                _ => None,
            })
            .expect("request finished")
    }
}
