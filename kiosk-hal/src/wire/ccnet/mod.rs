//! CCNET (CashCode NET) bill validator protocol, spoken by CashCode units
//! and by the many Chinese-made validators that copy it.
//!
//! ```text
//! SYNC 0x02 | ADR | LNG | PAYLOAD… | CRC_lo CRC_hi
//! ```
//!
//! ADR is the peripheral address (0x03 for a bill validator); LNG is the
//! whole frame length, SYNC and CRC included (payload length + 5). A host
//! frame's payload is the command byte and its data; a validator's payload
//! is its answer (a poll state and its data, ACK `00`, NAK `FF`, ILLEGAL
//! COMMAND `30`, or a table). The CRC is CRC-16 with the reflected
//! polynomial 0x8408 and init 0 (the same algorithm as CRC-16/KERMIT) over
//! SYNC through the last payload byte, sent low byte first. The link is
//! 9600 baud 8N1.
//!
//! - [`Frame`] is a zero-copy view of one checked frame; [`FrameRepr`] is
//!   its owned form with `parse` / `emit`.
//! - [`HostCommand`] is what the host sends; [`PollState`] is the answer
//!   to POLL; [`BillTable`] and [`Identification`] answer GET BILL TABLE
//!   and IDENTIFICATION; [`Reply`] is the one-byte ACK / NAK / ILLEGAL.
//! - [`Decoder`] finds frames in a byte stream delivered in any chunking.
//!
//! ⚠ No public manual is at hand: the facts come from two public drivers
//! (node-cashcode-bv, MIT, whose own CRC code produced the worked frames
//! in the tests, and a public Arduino CCNET driver) — see
//! `kiosk-hal/tests/vectors/ccnet/README.md`. Frames longer than 250 bytes
//! (LNG 0 with a 2-byte length, used only for firmware download) are not
//! supported: they decode as a framing error.
//!
//! Nothing here panics: every parser checks lengths first.

mod command;
mod decoder;
mod state;
mod tables;

pub use command::{BillMask, HostCommand};
pub use decoder::{Decoder, DEFAULT_BUFFER_CAPACITY};
pub use state::{FailureCode, PollState, RejectCode, Reply};
pub use tables::{BillTable, BillTableEntry, Identification};

use super::WireError;

/// The byte every frame starts with.
pub const SYNC: u8 = 0x02;
/// The peripheral address of a bill validator.
pub const ADDR_BILL_VALIDATOR: u8 = 0x03;
/// The shortest frame: SYNC, ADR, LNG, one payload byte, two CRC bytes.
pub const MIN_FRAME_LEN: usize = 6;
/// The longest frame a one-byte LNG describes here (LNG 0 would announce
/// an extended length, unsupported).
pub const MAX_FRAME_LEN: usize = 250;
/// The most payload bytes a frame can carry.
pub const MAX_PAYLOAD_LEN: usize = MAX_FRAME_LEN - 5;

const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// CCNET's CRC-16 of `bytes`: polynomial 0x8408 reflected, init 0, no
/// xorout — bit for bit CRC-16/KERMIT (check("123456789") = 0x2189).
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC.checksum(bytes)
}

/// A zero-copy view of one complete frame whose sync, length and CRC were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Checks the frame at the start of `buf` and returns it with the number
    /// of bytes it occupies. `buf` may hold more bytes after the frame.
    ///
    /// Errors: [`WireError::Truncated`] when `buf` ends early,
    /// [`WireError::BadSync`], [`WireError::BadLength`] for LNG outside
    /// 6–250, [`WireError::BadCrc`].
    pub fn parse(buf: &'a [u8]) -> Result<(Frame<'a>, usize), WireError> {
        let (&sync, _) = buf.split_first().ok_or(WireError::Truncated)?;
        if sync != SYNC {
            return Err(WireError::BadSync(sync));
        }
        let lng = usize::from(*buf.get(2).ok_or(WireError::Truncated)?);
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&lng) {
            return Err(WireError::BadLength(lng));
        }
        let bytes = buf.get(..lng).ok_or(WireError::Truncated)?;
        let (body, crc) = bytes.split_at(lng - 2);
        let found = u16::from_le_bytes([crc[0], crc[1]]);
        let expected = crc16(body);
        if found != expected {
            return Err(WireError::BadCrc { expected, found });
        }
        Ok((Frame { bytes }, lng))
    }

    /// The peripheral address.
    pub fn address(&self) -> u8 {
        self.bytes[1]
    }

    /// The payload between LNG and the CRC (never empty).
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[3..self.bytes.len() - 2]
    }

    /// The whole frame, SYNC to CRC.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The owned form.
    pub fn to_repr(&self) -> FrameRepr {
        FrameRepr::new(self.address(), self.payload())
    }
}

/// An owned frame: an address and a payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameRepr {
    /// The peripheral address (the validator's, in both directions).
    pub address: u8,
    /// Command and data (host) or answer (validator); 1 to
    /// [`MAX_PAYLOAD_LEN`] bytes to be emittable.
    pub payload: Vec<u8>,
}

impl FrameRepr {
    /// A frame with this address and payload.
    pub fn new(address: u8, payload: impl Into<Vec<u8>>) -> FrameRepr {
        FrameRepr {
            address,
            payload: payload.into(),
        }
    }

    /// Parses the frame at the start of `buf`; see [`Frame::parse`].
    pub fn parse(buf: &[u8]) -> Result<(FrameRepr, usize), WireError> {
        let (frame, n) = Frame::parse(buf)?;
        Ok((frame.to_repr(), n))
    }

    /// The number of bytes [`emit`](FrameRepr::emit) writes.
    pub fn buffer_len(&self) -> usize {
        self.payload.len() + 5
    }

    /// Writes the frame to the start of `buf` and returns its length.
    ///
    /// Errors: [`WireError::BadLength`] for an empty payload or one longer
    /// than [`MAX_PAYLOAD_LEN`], [`WireError::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.buffer_len();
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&len) {
            return Err(WireError::BadLength(len));
        }
        let out = buf
            .get_mut(..len)
            .ok_or(WireError::BufferTooSmall { needed: len })?;
        out[0] = SYNC;
        out[1] = self.address;
        // len <= MAX_FRAME_LEN = 250, checked above.
        out[2] = len as u8;
        out[3..len - 2].copy_from_slice(&self.payload);
        let crc = crc16(&out[..len - 2]);
        out[len - 2..].copy_from_slice(&crc.to_le_bytes());
        Ok(len)
    }

    /// The frame's bytes; errors as for [`emit`](FrameRepr::emit).
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut out = vec![0; self.buffer_len()];
        let n = self.emit(&mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by node-cashcode-bv's own `Command.assemble` and
    /// `getCRC16` (see `kiosk-hal/tests/vectors/ccnet/`); RESET, POLL and
    /// ACK also match the public Arduino driver's frames.
    pub(super) const REFERENCE: [(&str, &[u8]); 22] = [
        ("RESET", &[0x02, 0x03, 0x06, 0x30, 0x41, 0xB3]),
        ("GET STATUS", &[0x02, 0x03, 0x06, 0x31, 0xC8, 0xA2]),
        ("POLL", &[0x02, 0x03, 0x06, 0x33, 0xDA, 0x81]),
        ("STACK", &[0x02, 0x03, 0x06, 0x35, 0xEC, 0xE4]),
        ("RETURN", &[0x02, 0x03, 0x06, 0x36, 0x77, 0xD6]),
        ("IDENTIFICATION", &[0x02, 0x03, 0x06, 0x37, 0xFE, 0xC7]),
        ("HOLD", &[0x02, 0x03, 0x06, 0x38, 0x09, 0x3F]),
        ("GET BILL TABLE", &[0x02, 0x03, 0x06, 0x41, 0x4F, 0xD1]),
        (
            "ENABLE all, escrow all",
            &[
                0x02, 0x03, 0x0C, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xF7,
            ],
        ),
        (
            "ENABLE none",
            &[0x02, 0x03, 0x0C, 0x34, 0, 0, 0, 0, 0, 0, 0x17, 0x0C],
        ),
        (
            "ENABLE types 2-4 with escrow",
            &[0x02, 0x03, 0x0C, 0x34, 0, 0, 0x1C, 0, 0, 0x1C, 0x6F, 0x82],
        ),
        ("ACK", &[0x02, 0x03, 0x06, 0x00, 0xC2, 0x82]),
        ("NAK", &[0x02, 0x03, 0x06, 0xFF, 0xBA, 0x8D]),
        ("idling", &[0x02, 0x03, 0x06, 0x14, 0x67, 0xD4]),
        ("unit disabled", &[0x02, 0x03, 0x06, 0x19, 0x82, 0x0F]),
        ("power up", &[0x02, 0x03, 0x06, 0x10, 0x43, 0x92]),
        ("escrow type 2", &[0x02, 0x03, 0x07, 0x80, 0x02, 0x9E, 0x10]),
        (
            "stacked type 2",
            &[0x02, 0x03, 0x07, 0x81, 0x02, 0x46, 0x09],
        ),
        (
            "returned type 2",
            &[0x02, 0x03, 0x07, 0x82, 0x02, 0x2E, 0x23],
        ),
        (
            "rejecting: verification",
            &[0x02, 0x03, 0x07, 0x1C, 0x66, 0x41, 0x85],
        ),
        (
            "drop cassette jammed",
            &[0x02, 0x03, 0x06, 0x44, 0xE2, 0x86],
        ),
        (
            "failure: optic canal",
            &[0x02, 0x03, 0x07, 0x47, 0x55, 0x06, 0xB1],
        ),
    ];

    #[test]
    fn crc_is_0x8408_reflected_init_zero() {
        assert_eq!(crc16(b"123456789"), 0x2189);
        // The reference algorithm, bit by bit, as the public drivers write it.
        let bitwise = |data: &[u8]| {
            let mut crc: u16 = 0;
            for &b in data {
                crc ^= u16::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0x8408
                    } else {
                        crc >> 1
                    };
                }
            }
            crc
        };
        for (_, frame) in REFERENCE {
            assert_eq!(
                crc16(&frame[..frame.len() - 2]),
                bitwise(&frame[..frame.len() - 2])
            );
        }
    }

    #[test]
    fn reference_frames_parse_and_re_emit() {
        for (name, bytes) in REFERENCE {
            let (frame, n) = Frame::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(n, bytes.len(), "{name}");
            assert_eq!(frame.address(), ADDR_BILL_VALIDATOR);
            assert_eq!(frame.to_repr().to_bytes().unwrap(), bytes, "{name}");
        }
    }

    #[test]
    fn parse_reports_each_defect() {
        assert_eq!(Frame::parse(&[]), Err(WireError::Truncated));
        assert_eq!(Frame::parse(&[0x02, 0x03]), Err(WireError::Truncated));
        assert_eq!(
            Frame::parse(&[0x02, 0x03, 0x06, 0x33, 0xDA]),
            Err(WireError::Truncated)
        );
        assert_eq!(Frame::parse(&[0xFC, 0x03]), Err(WireError::BadSync(0xFC)));
        assert_eq!(
            Frame::parse(&[0x02, 0x03, 0x05, 0, 0]),
            Err(WireError::BadLength(5))
        );
        assert_eq!(
            Frame::parse(&[0x02, 0x03, 0x00, 0, 0, 0]),
            Err(WireError::BadLength(0)),
            "extended length is unsupported"
        );
        assert_eq!(
            Frame::parse(&[0x02, 0x03, 0x06, 0x33, 0x81, 0xDA]),
            Err(WireError::BadCrc {
                expected: 0x81DA,
                found: 0xDA81
            })
        );
    }

    #[test]
    fn emit_checks_sizes() {
        let poll = FrameRepr::new(ADDR_BILL_VALIDATOR, [0x33]);
        assert_eq!(
            poll.emit(&mut [0; 5]),
            Err(WireError::BufferTooSmall { needed: 6 })
        );
        assert_eq!(
            FrameRepr::new(3, []).to_bytes(),
            Err(WireError::BadLength(5))
        );
        let max = FrameRepr::new(3, vec![0x20; MAX_PAYLOAD_LEN]);
        assert_eq!(max.to_bytes().map(|b| b.len()), Ok(250));
        let over = FrameRepr::new(3, vec![0x20; MAX_PAYLOAD_LEN + 1]);
        assert_eq!(over.to_bytes(), Err(WireError::BadLength(251)));
    }
}
