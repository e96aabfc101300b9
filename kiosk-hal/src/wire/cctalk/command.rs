//! Host commands (headers) for bill validators and coin acceptors.

use super::{FrameRepr, WireError};

/// Where ROUTE BILL (154) sends the bill in escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillRoute {
    /// 0: give it back.
    Return,
    /// 1: into the stacker (the credit follows as an event).
    Stack,
    /// 255: keep it in escrow a while longer.
    ExtendEscrow,
}

impl BillRoute {
    /// The data byte.
    pub fn code(&self) -> u8 {
        match self {
            BillRoute::Return => 0,
            BillRoute::Stack => 1,
            BillRoute::ExtendEscrow => 255,
        }
    }
}

/// A command from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostCommand {
    /// 254: simple poll (answered with ACK).
    SimplePoll,
    /// 1: reset (ACK, then the device restarts: event counter 0).
    Reset,
    /// 245: equipment category ("Bill Validator", "Coin Acceptor").
    RequestEquipmentCategory,
    /// 246: manufacturer id (ASCII).
    RequestManufacturerId,
    /// 244: product code (ASCII).
    RequestProductCode,
    /// 242: serial number (3 bytes, least significant first).
    RequestSerialNumber,
    /// 241: software revision (ASCII, e.g. `1.2.3`).
    RequestSoftwareRevision,
    /// 231: inhibit status per bill type (bit set = enabled), types 1–16.
    ModifyInhibitStatus([u8; 2]),
    /// 230: read the inhibit status back.
    RequestInhibitStatus,
    /// 228: master inhibit; `true` = enabled (bit 0 set), `false` = inhibited.
    ModifyMasterInhibit(bool),
    /// 227: read the master inhibit back.
    RequestMasterInhibit,
    /// 159: read buffered bill events (counter and the last 5 events).
    ReadBufferedBillEvents,
    /// 157: the bill id of a bill type (7 ASCII, e.g. `CN0010A`).
    RequestBillId(u8),
    /// 156: the scaling factor of a country (2 ASCII letters).
    RequestCountryScalingFactor([u8; 2]),
    /// 154: route the bill in escrow.
    RouteBill(BillRoute),
    /// 153: operating mode (bit 0 stacker, bit 1 escrow).
    ModifyBillOperatingMode(u8),
    /// 229 (coin acceptors): read buffered credit or error codes, the coin
    /// side's event log; same layout as 159 (see
    /// [`CoinEvent`](super::CoinEvent)).
    ReadBufferedCreditOrErrorCodes,
    /// 184 (coin acceptors): the coin id of a coin position (6 ASCII,
    /// e.g. `CN100A`).
    RequestCoinId(u8),
}

impl HostCommand {
    /// The header byte.
    pub fn header(&self) -> u8 {
        match self {
            HostCommand::SimplePoll => 254,
            HostCommand::Reset => 1,
            HostCommand::RequestEquipmentCategory => 245,
            HostCommand::RequestManufacturerId => 246,
            HostCommand::RequestProductCode => 244,
            HostCommand::RequestSerialNumber => 242,
            HostCommand::RequestSoftwareRevision => 241,
            HostCommand::ModifyInhibitStatus(_) => 231,
            HostCommand::RequestInhibitStatus => 230,
            HostCommand::ModifyMasterInhibit(_) => 228,
            HostCommand::RequestMasterInhibit => 227,
            HostCommand::ReadBufferedBillEvents => 159,
            HostCommand::RequestBillId(_) => 157,
            HostCommand::RequestCountryScalingFactor(_) => 156,
            HostCommand::RouteBill(_) => 154,
            HostCommand::ModifyBillOperatingMode(_) => 153,
            HostCommand::ReadBufferedCreditOrErrorCodes => 229,
            HostCommand::RequestCoinId(_) => 184,
        }
    }

    /// The data bytes.
    pub fn data(&self) -> Vec<u8> {
        match *self {
            HostCommand::ModifyInhibitStatus(mask) => mask.to_vec(),
            HostCommand::ModifyMasterInhibit(enabled) => vec![u8::from(enabled)],
            HostCommand::RequestBillId(t) | HostCommand::RequestCoinId(t) => vec![t],
            HostCommand::RequestCountryScalingFactor(c) => c.to_vec(),
            HostCommand::RouteBill(route) => vec![route.code()],
            HostCommand::ModifyBillOperatingMode(mode) => vec![mode],
            _ => Vec::new(),
        }
    }

    /// The frame from `source` to `dest`.
    pub fn to_frame(&self, dest: u8, source: u8) -> FrameRepr {
        FrameRepr::new(dest, source, self.header(), self.data())
    }

    /// The command a frame carries (the device's side).
    ///
    /// Errors: [`WireError::UnknownCommand`] for a header not listed (a
    /// device stays silent or NAKs), [`WireError::BadData`] for data of the
    /// wrong length or value.
    pub fn from_frame(frame: &FrameRepr) -> Result<HostCommand, WireError> {
        let header = frame.header;
        let data = frame.data.as_slice();
        let bad = WireError::BadData {
            cmd: header,
            len: data.len(),
        };
        let with_data = match (header, data) {
            (231, [a, b]) => Some(HostCommand::ModifyInhibitStatus([*a, *b])),
            (228, [m]) => Some(HostCommand::ModifyMasterInhibit(m & 1 == 1)),
            (157, [t]) => Some(HostCommand::RequestBillId(*t)),
            (156, [a, b]) => Some(HostCommand::RequestCountryScalingFactor([*a, *b])),
            (154, [0]) => Some(HostCommand::RouteBill(BillRoute::Return)),
            (154, [1]) => Some(HostCommand::RouteBill(BillRoute::Stack)),
            (154, [255]) => Some(HostCommand::RouteBill(BillRoute::ExtendEscrow)),
            (153, [m]) => Some(HostCommand::ModifyBillOperatingMode(*m)),
            (184, [c]) => Some(HostCommand::RequestCoinId(*c)),
            (231 | 228 | 157 | 156 | 154 | 153 | 184, _) => return Err(bad),
            _ => None,
        };
        if let Some(cmd) = with_data {
            return Ok(cmd);
        }
        let plain = match header {
            254 => HostCommand::SimplePoll,
            1 => HostCommand::Reset,
            245 => HostCommand::RequestEquipmentCategory,
            246 => HostCommand::RequestManufacturerId,
            244 => HostCommand::RequestProductCode,
            242 => HostCommand::RequestSerialNumber,
            241 => HostCommand::RequestSoftwareRevision,
            230 => HostCommand::RequestInhibitStatus,
            227 => HostCommand::RequestMasterInhibit,
            159 => HostCommand::ReadBufferedBillEvents,
            229 => HostCommand::ReadBufferedCreditOrErrorCodes,
            _ => return Err(WireError::UnknownCommand(header)),
        };
        if data.is_empty() {
            Ok(plain)
        } else {
            Err(bad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cctalk::tests::REFERENCE;
    use crate::wire::cctalk::{Checksum, ADDR_BILL_VALIDATOR, ADDR_HOST};

    #[test]
    fn commands_emit_the_reference_frames_in_both_variants() {
        let cases = [
            (HostCommand::SimplePoll, "simple poll"),
            (HostCommand::Reset, "reset"),
            (HostCommand::RequestEquipmentCategory, "equipment category"),
            (HostCommand::RequestManufacturerId, "manufacturer id"),
            (HostCommand::RequestProductCode, "product code"),
            (HostCommand::RequestSerialNumber, "serial number"),
            (
                HostCommand::ReadBufferedBillEvents,
                "read buffered bill events",
            ),
            (
                HostCommand::ModifyMasterInhibit(true),
                "master inhibit: enable",
            ),
            (
                HostCommand::ModifyInhibitStatus([0xFF, 0xFF]),
                "inhibit status: all",
            ),
            (
                HostCommand::ModifyInhibitStatus([0x0F, 0x00]),
                "inhibit status: 1-4",
            ),
            (
                HostCommand::RouteBill(BillRoute::Stack),
                "route bill: stack",
            ),
            (
                HostCommand::RouteBill(BillRoute::Return),
                "route bill: return",
            ),
            (HostCommand::RequestBillId(1), "bill id 1"),
        ];
        // The coin headers round-trip too.
        for cmd in [
            HostCommand::ReadBufferedCreditOrErrorCodes,
            HostCommand::RequestCoinId(3),
        ] {
            let frame = cmd.to_frame(crate::wire::cctalk::ADDR_COIN_ACCEPTOR, ADDR_HOST);
            assert_eq!(HostCommand::from_frame(&frame), Ok(cmd));
        }
        for (cmd, name) in cases {
            let (_, simple, crc) = REFERENCE.iter().find(|(n, _, _)| *n == name).unwrap();
            let frame = cmd.to_frame(ADDR_BILL_VALIDATOR, ADDR_HOST);
            assert_eq!(frame.to_bytes(Checksum::Simple).unwrap(), *simple, "{name}");
            assert_eq!(frame.to_bytes(Checksum::Crc16).unwrap(), *crc, "{name}");
            assert_eq!(HostCommand::from_frame(&frame), Ok(cmd), "{name}");
        }
    }

    /// Frames signed by esnext-cctalk's own `crc8.sign` and
    /// `crc16xmodemJs.sign` (`tests/vectors/cctalk/frames.txt`).
    #[test]
    fn identity_requests_and_answers_match_the_signed_frames() {
        let request = HostCommand::RequestSoftwareRevision.to_frame(ADDR_BILL_VALIDATOR, ADDR_HOST);
        assert_eq!(
            request.to_bytes(Checksum::Simple).unwrap(),
            [0x28, 0x00, 0x01, 0xF1, 0xE6]
        );
        assert_eq!(
            request.to_bytes(Checksum::Crc16).unwrap(),
            [0x28, 0x00, 0x59, 0xF1, 0xD0]
        );
        assert_eq!(
            HostCommand::from_frame(&request),
            Ok(HostCommand::RequestSoftwareRevision)
        );
        let revision = FrameRepr::new(ADDR_HOST, ADDR_BILL_VALIDATOR, 0, b"1.2.3".to_vec());
        assert_eq!(
            revision.to_bytes(Checksum::Crc16).unwrap(),
            [0x01, 0x05, 0xC3, 0x00, 0x31, 0x2E, 0x32, 0x2E, 0x33, 0x85]
        );
        let serial = FrameRepr::new(ADDR_HOST, ADDR_BILL_VALIDATOR, 0, vec![0x39, 0x30, 0x00]);
        assert_eq!(
            serial.to_bytes(Checksum::Simple).unwrap(),
            [0x01, 0x03, 0x28, 0x00, 0x39, 0x30, 0x00, 0x6B]
        );
        assert_eq!(
            crate::wire::cctalk::parse_serial_number(&serial.data),
            Ok(12345)
        );
    }

    #[test]
    fn bad_data_and_unknown_headers_are_errors() {
        let f = |h: u8, d: &[u8]| FrameRepr::new(40, 1, h, d.to_vec());
        assert_eq!(
            HostCommand::from_frame(&f(154, &[2])),
            Err(WireError::BadData { cmd: 154, len: 1 })
        );
        assert_eq!(
            HostCommand::from_frame(&f(254, &[0])),
            Err(WireError::BadData { cmd: 254, len: 1 })
        );
        assert_eq!(
            HostCommand::from_frame(&f(200, &[])),
            Err(WireError::UnknownCommand(200))
        );
    }
}
