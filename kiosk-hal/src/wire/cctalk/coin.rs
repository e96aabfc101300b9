//! Coin acceptor specifics: the error codes of READ BUFFERED CREDIT OR
//! ERROR CODES (229) and the coin ids of REQUEST COIN ID (184).
//!
//! Error codes 0–35, 128–159 and 253–255 as dk.CctalkLib's
//! `CoinAcceptorErrors` (C#) and vltgroup/ccTalk's `CoinAcceptorEventCodes`
//! (Java) list them from ccTalk part 3's coin acceptor error code table;
//! codes outside that list stay [`CoinError::Other`] and are never
//! guessed at.

use super::WireError;

/// An error code: the B byte of a coin log event whose A byte is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoinError {
    /// 0: null event, no error.
    None,
    /// 1: reject coin (failed validation); 24: rejected after repeated
    /// sequential trips; 25: reject slug.
    Rejected(u8),
    /// 2: inhibited coin; 128–159: inhibited coin of type 1–32.
    Inhibited(u8),
    /// 3: multiple window (the coin matched more than one coin type).
    MultipleWindow,
    /// 8–12: a coin inserted too quickly after the last (2nd close coin,
    /// accept gate / credit sensor / sorter not ready, reject coin not
    /// cleared): it was returned.
    TooQuick(u8),
    /// 14 credit sensor blocked, 15 sorter opto blocked, 26 reject sensor
    /// blocked, 32 manifold opto blocked: a coin (or debris) is stuck.
    Jam(u8),
    /// 16 credit sequence error, 17 coin going backwards, 18 coin too fast
    /// over the credit sensor, 20 coin-on-string mechanism activated.
    Fraud(u8),
    /// 19: coin too slow over the credit sensor; 23: credit sensor reached
    /// too early: the coin was returned.
    BadTransit(u8),
    /// 4–7, 13, 21, 22, 27–31, 33–35: timeouts, sensors not ready, gates,
    /// manifold, motor: the mechanism is not working.
    Hardware(u8),
    /// 254: the coin return lever was pressed (flight deck open).
    ReturnLever,
    /// 253: data block request (a device asking for a host data block).
    DataBlockRequest,
    /// 255: unspecified alarm.
    Alarm,
    /// 34: the device's security setting changed.
    SecurityChanged,
    /// A code not in the table.
    Other(u8),
}

impl CoinError {
    /// The error a byte carries.
    pub fn from_byte(b: u8) -> CoinError {
        match b {
            0 => CoinError::None,
            1 | 24 | 25 => CoinError::Rejected(b),
            2 | 128..=159 => CoinError::Inhibited(b),
            3 => CoinError::MultipleWindow,
            8..=12 => CoinError::TooQuick(b),
            14 | 15 | 26 | 32 => CoinError::Jam(b),
            16 | 17 | 18 | 20 => CoinError::Fraud(b),
            19 | 23 => CoinError::BadTransit(b),
            4..=7 | 13 | 21 | 22 | 27..=31 | 33 | 35 => CoinError::Hardware(b),
            34 => CoinError::SecurityChanged,
            253 => CoinError::DataBlockRequest,
            254 => CoinError::ReturnLever,
            255 => CoinError::Alarm,
            other => CoinError::Other(other),
        }
    }

    /// The byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            CoinError::None => 0,
            CoinError::MultipleWindow => 3,
            CoinError::SecurityChanged => 34,
            CoinError::DataBlockRequest => 253,
            CoinError::ReturnLever => 254,
            CoinError::Alarm => 255,
            CoinError::Rejected(b)
            | CoinError::Inhibited(b)
            | CoinError::TooQuick(b)
            | CoinError::Jam(b)
            | CoinError::Fraud(b)
            | CoinError::BadTransit(b)
            | CoinError::Hardware(b)
            | CoinError::Other(b) => b,
        }
    }
}

/// A coin id (header 184): country, value, issue, e.g. `CN100A` (1 yuan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoinId {
    /// Two ASCII letters (`CN`).
    pub country: [u8; 2],
    /// The three value characters (`100`): the coin's value in the
    /// currency's smallest unit when all digits (fen for `CN`, cents for
    /// `EU`).
    pub value: [u8; 3],
    /// The issue letter (`A`).
    pub issue: u8,
}

impl CoinId {
    /// Data length on the wire.
    pub const LEN: usize = 6;

    /// Reads the answer to REQUEST COIN ID: `None` for an empty position
    /// (`......`, or a value that is all zeros).
    ///
    /// Errors: [`WireError::BadData`] (184) for a length other than 6 or
    /// bytes that are not printable ASCII.
    pub fn parse(data: &[u8]) -> Result<Option<CoinId>, WireError> {
        let bad = WireError::BadData {
            cmd: 184,
            len: data.len(),
        };
        let &[c0, c1, v0, v1, v2, issue] = data else {
            return Err(bad);
        };
        if !data.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Err(bad);
        }
        let id = CoinId {
            country: [c0, c1],
            value: [v0, v1, v2],
            issue,
        };
        Ok(id.minor_units().is_some().then_some(id))
    }

    /// The six data bytes.
    pub fn to_data(&self) -> [u8; 6] {
        let [c0, c1] = self.country;
        let [v0, v1, v2] = self.value;
        [c0, c1, v0, v1, v2, self.issue]
    }

    /// The value in the currency's smallest unit, when the value field is
    /// three digits and not zero. ⚠ ccTalk also writes multipliers into
    /// the field (`1K0`, `.50`); such a coin has no value here and is never
    /// enabled.
    pub fn minor_units(&self) -> Option<u16> {
        let v = std::str::from_utf8(&self.value).ok()?.parse::<u16>().ok()?;
        (v > 0 && self.value.iter().all(u8::is_ascii_digit)).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cctalk::{
        BufferedBillEvents, Checksum, CoinEvent, FrameRepr, HostCommand, ADDR_COIN_ACCEPTOR,
        ADDR_HOST,
    };

    /// Signed by esnext-cctalk's own `crc8.sign` and `crc16xmodemJs.sign`
    /// (`kiosk-hal/tests/vectors/cctalk/frames.txt`, `generate.mjs`).
    #[test]
    fn coin_frames_match_the_signed_reference() {
        let cases: [(HostCommand, &[u8], &[u8]); 4] = [
            (
                HostCommand::ReadBufferedCreditOrErrorCodes,
                &[0x02, 0x00, 0x01, 0xE5, 0x18],
                &[0x02, 0x00, 0xEB, 0xE5, 0xC3],
            ),
            (
                HostCommand::RequestCoinId(3),
                &[0x02, 0x01, 0x01, 0xB8, 0x03, 0x41],
                &[0x02, 0x01, 0x9F, 0xB8, 0x03, 0x7D],
            ),
            (
                HostCommand::ModifyInhibitStatus([0x3F, 0x00]),
                &[0x02, 0x02, 0x01, 0xE7, 0x3F, 0x00, 0xD5],
                &[0x02, 0x02, 0xE1, 0xE7, 0x3F, 0x00, 0x99],
            ),
            (
                HostCommand::ModifyMasterInhibit(true),
                &[0x02, 0x01, 0x01, 0xE4, 0x01, 0x17],
                &[0x02, 0x01, 0x0F, 0xE4, 0x01, 0x16],
            ),
        ];
        for (cmd, simple, crc) in cases {
            let frame = cmd.to_frame(ADDR_COIN_ACCEPTOR, ADDR_HOST);
            assert_eq!(frame.to_bytes(Checksum::Simple).unwrap(), simple, "{cmd:?}");
            assert_eq!(frame.to_bytes(Checksum::Crc16).unwrap(), crc, "{cmd:?}");
            assert_eq!(HostCommand::from_frame(&frame), Ok(cmd));
        }
        // The answers: coin id "CN100A", and a log of counter 2 (a reject,
        // then coin 3 down sorter path 1), in both variants.
        let id_simple = [
            0x01, 0x06, 0x02, 0x00, 0x43, 0x4E, 0x31, 0x30, 0x30, 0x41, 0x94,
        ];
        let id_crc = [
            0x01, 0x06, 0x50, 0x00, 0x43, 0x4E, 0x31, 0x30, 0x30, 0x41, 0xD3,
        ];
        for (bytes, c) in [(&id_simple, Checksum::Simple), (&id_crc, Checksum::Crc16)] {
            let (frame, _) = FrameRepr::parse(bytes, c).unwrap();
            let id = CoinId::parse(&frame.data).unwrap().unwrap();
            assert_eq!(id.minor_units(), Some(100));
        }
        let log_simple = [
            0x01, 0x0B, 0x02, 0x00, 0x02, 0x03, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xEB,
        ];
        let log_crc = [
            0x01, 0x0B, 0xA0, 0x00, 0x02, 0x03, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xFD,
        ];
        for (bytes, c) in [(&log_simple, Checksum::Simple), (&log_crc, Checksum::Crc16)] {
            let (frame, _) = FrameRepr::parse(bytes, c).unwrap();
            let log = BufferedBillEvents::parse(&frame.data).unwrap();
            assert_eq!(
                log.coin_since(Some(0)).new,
                [
                    CoinEvent::Error(CoinError::Rejected(1)),
                    CoinEvent::Credit {
                        position: 3,
                        sorter_path: 1
                    }
                ]
            );
            let re = FrameRepr::new(ADDR_HOST, ADDR_COIN_ACCEPTOR, 0, log.to_data());
            assert_eq!(re.to_bytes(c).unwrap(), bytes);
        }
    }

    #[test]
    fn every_byte_round_trips_and_the_table_reads_as_the_sources_say() {
        for b in 0..=255u8 {
            assert_eq!(CoinError::from_byte(b).to_byte(), b);
        }
        assert_eq!(CoinError::from_byte(1), CoinError::Rejected(1));
        assert_eq!(CoinError::from_byte(2), CoinError::Inhibited(2));
        assert_eq!(CoinError::from_byte(131), CoinError::Inhibited(131));
        assert_eq!(CoinError::from_byte(14), CoinError::Jam(14));
        assert_eq!(CoinError::from_byte(17), CoinError::Fraud(17));
        assert_eq!(CoinError::from_byte(20), CoinError::Fraud(20));
        assert_eq!(CoinError::from_byte(5), CoinError::Hardware(5));
        assert_eq!(CoinError::from_byte(254), CoinError::ReturnLever);
        assert_eq!(CoinError::from_byte(36), CoinError::Other(36));
    }

    #[test]
    fn coin_ids_read_their_value_in_minor_units() {
        let one_yuan = CoinId::parse(b"CN100A").unwrap().unwrap();
        assert_eq!(one_yuan.minor_units(), Some(100));
        assert_eq!(&one_yuan.to_data(), b"CN100A");
        assert_eq!(
            CoinId::parse(b"CN050A").unwrap().unwrap().minor_units(),
            Some(50)
        );
        assert_eq!(CoinId::parse(b"......"), Ok(None));
        assert_eq!(
            CoinId::parse(b"EU1K0A"),
            Ok(None),
            "a multiplier is not read"
        );
        assert_eq!(CoinId::parse(b"CN000A"), Ok(None));
        assert_eq!(
            CoinId::parse(b"CN10A"),
            Err(WireError::BadData { cmd: 184, len: 5 })
        );
        assert_eq!(
            CoinId::parse(b"CN10\x01A"),
            Err(WireError::BadData { cmd: 184, len: 6 })
        );
    }
}
