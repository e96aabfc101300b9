//! READ BUFFERED BILL EVENTS (159): the event counter, the last five
//! events, and the loss detection the counter gives.

use super::coin::CoinError;
use super::WireError;

/// A status / error code: the B byte of an event whose A byte is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// 0: master inhibit active (a bill was refused while inhibited).
    MasterInhibitActive,
    /// 1: the bill in escrow was returned.
    ReturnedFromEscrow,
    /// 2: invalid bill (validation failed).
    ValidationFail,
    /// 3: invalid bill (transport problem).
    TransportProblem,
    /// 4: inhibited bill (by the serial inhibit mask).
    InhibitedBySerial,
    /// 5: inhibited bill (by DIP switches).
    InhibitedByDipSwitches,
    /// 6: bill jammed in transport (unsafe mode: it may be in the stacker).
    JammedInTransportUnsafe,
    /// 7: bill jammed in the stacker.
    JammedInStacker,
    /// 8: bill pulled backwards (fraud).
    PulledBackwards,
    /// 9: bill tamper.
    Tamper,
    /// 10: stacker OK.
    StackerOk,
    /// 11: stacker removed.
    StackerRemoved,
    /// 12: stacker inserted.
    StackerInserted,
    /// 13: stacker faulty.
    StackerFaulty,
    /// 14: stacker full.
    StackerFull,
    /// 15: stacker jammed.
    StackerJammed,
    /// 16: bill jammed in transport (safe mode: it is not in the stacker).
    JammedInTransportSafe,
    /// 17: opto fraud detected.
    OptoFraud,
    /// 18: string fraud detected.
    StringFraud,
    /// 19: anti-string mechanism faulty.
    AntiStringFaulty,
    /// 20: barcode detected.
    BarcodeDetected,
    /// 21: a bill of unknown type was stacked.
    UnknownBillStacked,
    /// A code not listed above.
    Unknown(u8),
}

const CODES: [StatusCode; 22] = [
    StatusCode::MasterInhibitActive,
    StatusCode::ReturnedFromEscrow,
    StatusCode::ValidationFail,
    StatusCode::TransportProblem,
    StatusCode::InhibitedBySerial,
    StatusCode::InhibitedByDipSwitches,
    StatusCode::JammedInTransportUnsafe,
    StatusCode::JammedInStacker,
    StatusCode::PulledBackwards,
    StatusCode::Tamper,
    StatusCode::StackerOk,
    StatusCode::StackerRemoved,
    StatusCode::StackerInserted,
    StatusCode::StackerFaulty,
    StatusCode::StackerFull,
    StatusCode::StackerJammed,
    StatusCode::JammedInTransportSafe,
    StatusCode::OptoFraud,
    StatusCode::StringFraud,
    StatusCode::AntiStringFaulty,
    StatusCode::BarcodeDetected,
    StatusCode::UnknownBillStacked,
];

impl StatusCode {
    /// The code for a byte.
    pub fn from_byte(b: u8) -> StatusCode {
        CODES
            .get(usize::from(b))
            .copied()
            .unwrap_or(StatusCode::Unknown(b))
    }

    /// The byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            StatusCode::Unknown(b) => b,
            // Every listed code is in CODES at its own index.
            known => CODES.iter().position(|c| *c == known).unwrap_or(0) as u8,
        }
    }
}

/// One buffered event: the (A, B) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillEvent {
    /// A = type, B = 0: the bill is stacked: the credit point.
    Credit {
        /// The bill type (1–255).
        bill_type: u8,
    },
    /// A = type, B = 1: a validated bill waits in escrow for ROUTE BILL.
    PendingCredit {
        /// The bill type (1–255).
        bill_type: u8,
    },
    /// A = 0: a status or error.
    Status(StatusCode),
    /// A = type, B ≥ 2: not defined.
    Undefined {
        /// A.
        a: u8,
        /// B.
        b: u8,
    },
}

impl BillEvent {
    /// The event an (A, B) pair describes.
    pub fn from_pair(a: u8, b: u8) -> BillEvent {
        match (a, b) {
            (0, b) => BillEvent::Status(StatusCode::from_byte(b)),
            (t, 0) => BillEvent::Credit { bill_type: t },
            (t, 1) => BillEvent::PendingCredit { bill_type: t },
            (a, b) => BillEvent::Undefined { a, b },
        }
    }

    /// The (A, B) pair on the wire.
    pub fn to_pair(self) -> (u8, u8) {
        match self {
            BillEvent::Credit { bill_type } => (bill_type, 0),
            BillEvent::PendingCredit { bill_type } => (bill_type, 1),
            BillEvent::Status(code) => (0, code.to_byte()),
            BillEvent::Undefined { a, b } => (a, b),
        }
    }
}

/// One event of a coin acceptor's log (header 229): the (A, B) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoinEvent {
    /// A = coin position (1–16), B = sorter path: a coin accepted (credit).
    Credit {
        /// The coin position (look its value up with header 184).
        position: u8,
        /// The sorter path it went down.
        sorter_path: u8,
    },
    /// A = 0: B is an error code (0 = none, 1 reject coin, 2 inhibited
    /// coin, …: see [`CoinError`]).
    Error(CoinError),
}

impl CoinEvent {
    /// The event an (A, B) pair of the coin log describes.
    pub fn from_pair(a: u8, b: u8) -> CoinEvent {
        match a {
            0 => CoinEvent::Error(CoinError::from_byte(b)),
            position => CoinEvent::Credit {
                position,
                sorter_path: b,
            },
        }
    }

    /// The (A, B) pair on the wire.
    pub fn to_pair(self) -> (u8, u8) {
        match self {
            CoinEvent::Credit {
                position,
                sorter_path,
            } => (position, sorter_path),
            CoinEvent::Error(code) => (0, code.to_byte()),
        }
    }
}

/// The answer to READ BUFFERED BILL EVENTS (and, with the same layout and
/// counter rules, a coin acceptor's READ BUFFERED CREDIT OR ERROR CODES:
/// read its pairs with [`CoinEvent::from_pair`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufferedBillEvents {
    /// The event counter: 0 after power-up or reset, then 1–255, wrapping to 1.
    pub counter: u8,
    /// The last five (A, B) pairs, newest first.
    pub pairs: [(u8, u8); 5],
}

/// What a new answer says compared with the last counter seen: bill
/// events ([`BufferedBillEvents::since`]) or coin events
/// ([`BufferedBillEvents::coin_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelta<E = BillEvent> {
    /// The counter went back to 0 (or below the last one without wrapping
    /// past it): the device was reset or powered up.
    pub restarted: bool,
    /// The events not seen yet, oldest first (at most five).
    pub new: Vec<E>,
    /// Events that happened but fell out of the five-event buffer before
    /// this read: **lost**. Whatever they were (a credit among them) is
    /// unknown.
    pub lost: u32,
}

impl BufferedBillEvents {
    /// Data length on the wire.
    pub const LEN: usize = 11;

    /// Parses the reply data (11 bytes).
    pub fn parse(data: &[u8]) -> Result<BufferedBillEvents, WireError> {
        if data.len() != Self::LEN {
            return Err(WireError::BadData {
                cmd: 159,
                len: data.len(),
            });
        }
        let mut pairs = [(0, 0); 5];
        for (i, pair) in pairs.iter_mut().enumerate() {
            *pair = (data[1 + 2 * i], data[2 + 2 * i]);
        }
        Ok(BufferedBillEvents {
            counter: data[0],
            pairs,
        })
    }

    /// The reply data.
    pub fn to_data(&self) -> Vec<u8> {
        std::iter::once(self.counter)
            .chain(self.pairs.iter().flat_map(|&(a, b)| [a, b]))
            .collect()
    }

    /// The events since `last` (the counter of the previous read; `None`
    /// before the first read, when everything buffered since power-up is
    /// new).
    ///
    /// The counter counts 1 to 255 and wraps to 1; 0 means freshly reset.
    /// More than five steps since `last` means events were lost.
    pub fn since(&self, last: Option<u8>) -> EventDelta {
        self.delta(last, BillEvent::from_pair)
    }

    /// The same for a coin acceptor's log (header 229): its pairs read as
    /// [`CoinEvent`]s, with the same counter rules and loss detection.
    pub fn coin_since(&self, last: Option<u8>) -> EventDelta<CoinEvent> {
        self.delta(last, CoinEvent::from_pair)
    }

    fn delta<E>(&self, last: Option<u8>, read: impl Fn(u8, u8) -> E) -> EventDelta<E> {
        let now = self.counter;
        let (restarted, steps) = match last {
            _ if now == 0 => (last.is_some_and(|l| l != 0), 0),
            None | Some(0) => (false, u32::from(now)),
            Some(l) => (false, (u32::from(now) + 255 - u32::from(l)) % 255),
        };
        let fresh = steps.min(5);
        let new = self.pairs[..fresh as usize]
            .iter()
            .rev()
            .map(|&(a, b)| read(a, b))
            .collect();
        debug_assert!(fresh <= 5);
        EventDelta {
            restarted,
            new,
            lost: steps - fresh,
        }
    }

    /// The buffer after `event` happened (the device's side): counter one
    /// on, the event in front, the oldest dropped.
    pub fn record(&mut self, event: BillEvent) {
        self.record_pair(event.to_pair());
    }

    /// The same for a coin acceptor's log.
    pub fn record_coin(&mut self, event: CoinEvent) {
        self.record_pair(event.to_pair());
    }

    fn record_pair(&mut self, pair: (u8, u8)) {
        self.counter = if self.counter == 255 {
            1
        } else {
            self.counter + 1
        };
        self.pairs.rotate_right(1);
        self.pairs[0] = pair;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_round_trips() {
        for a in 0..=255u8 {
            for b in 0..=30u8 {
                assert_eq!(BillEvent::from_pair(a, b).to_pair(), (a, b));
            }
        }
        assert_eq!(
            BillEvent::from_pair(0, 14),
            BillEvent::Status(StatusCode::StackerFull)
        );
        assert_eq!(StatusCode::from_byte(21), StatusCode::UnknownBillStacked);
    }

    #[test]
    fn the_reference_reply_reads_newest_first() {
        // Counter 3: master inhibit, then credit of type 1, then escrow of type 2.
        let data = [3, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        let e = BufferedBillEvents::parse(&data).unwrap();
        assert_eq!(e.to_data(), data);
        let d = e.since(None);
        assert_eq!(
            d.new,
            [
                BillEvent::Status(StatusCode::MasterInhibitActive),
                BillEvent::Credit { bill_type: 1 },
                BillEvent::PendingCredit { bill_type: 2 }
            ]
        );
        assert_eq!((d.restarted, d.lost), (false, 0));
        assert_eq!(
            e.since(Some(2)).new,
            [BillEvent::PendingCredit { bill_type: 2 }]
        );
        assert_eq!(e.since(Some(3)).new, []);
        assert!(BufferedBillEvents::parse(&data[1..]).is_err());
    }

    #[test]
    fn a_counter_that_jumps_more_than_five_reports_the_lost_events() {
        let mut dev = BufferedBillEvents {
            counter: 0,
            pairs: [(0, 0); 5],
        };
        for t in 1..=8 {
            dev.record(BillEvent::Credit { bill_type: t });
        }
        let d = dev.since(Some(0));
        assert_eq!(d.lost, 3);
        assert_eq!(d.new.first(), Some(&BillEvent::Credit { bill_type: 4 }));
        assert_eq!(d.new.last(), Some(&BillEvent::Credit { bill_type: 8 }));
        // Across the wrap: 254 → 255 → 1 → 2: three new, none lost.
        let mut dev = BufferedBillEvents {
            counter: 254,
            pairs: [(0, 0); 5],
        };
        for _ in 0..3 {
            dev.record(BillEvent::Status(StatusCode::StackerOk));
        }
        assert_eq!(dev.counter, 2);
        let d = dev.since(Some(254));
        assert_eq!((d.new.len(), d.lost, d.restarted), (3, 0, false));
        // Seven across the wrap: two lost.
        let d = BufferedBillEvents { counter: 6, ..dev }.since(Some(254));
        assert_eq!((d.new.len(), d.lost), (5, 2));
        // Back to 0: restarted, nothing new.
        let d = BufferedBillEvents {
            counter: 0,
            pairs: [(0, 0); 5],
        }
        .since(Some(17));
        assert_eq!((d.restarted, d.new.len(), d.lost), (true, 0, 0));
    }
}

#[cfg(test)]
mod coin_tests {
    use super::*;

    #[test]
    fn coin_logs_share_the_layout_and_the_loss_detection() {
        // Counter 2: a 1-yuan coin at position 3 down path 1, then a reject.
        let data = [2, 0, 1, 3, 1, 0, 0, 0, 0, 0, 0];
        let log = BufferedBillEvents::parse(&data).unwrap();
        let events: Vec<_> = log.pairs[..2]
            .iter()
            .rev()
            .map(|&(a, b)| CoinEvent::from_pair(a, b))
            .collect();
        assert_eq!(
            events,
            [
                CoinEvent::Credit {
                    position: 3,
                    sorter_path: 1
                },
                CoinEvent::Error(CoinError::Rejected(1))
            ]
        );
        assert_eq!(CoinEvent::from_pair(3, 1).to_pair(), (3, 1));
        assert_eq!(log.coin_since(Some(0)).new, events);
        // Eight coins since the last read: three lost.
        let mut dev = log;
        for _ in 0..8 {
            dev.record_coin(CoinEvent::Credit {
                position: 1,
                sorter_path: 1,
            });
        }
        let d = dev.coin_since(Some(2));
        assert_eq!((d.new.len(), d.lost, d.restarted), (5, 3, false));
    }
}
