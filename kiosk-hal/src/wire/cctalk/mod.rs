//! ccTalk (bill validators, coin acceptors): the frame, both checksum
//! variants, the headers, the buffered event logs (bills: 159, coins:
//! 229) with their loss detection, coin error codes and coin ids.
//!
//! ```text
//! simple:  DEST | N | SRC    | HEADER | DATA (N bytes) | CHK       8-bit sum of all bytes = 0
//! CRC-16:  DEST | N | CRC_lo | HEADER | DATA (N bytes) | CRC_hi    CRC-16/XMODEM over DEST N HEADER DATA
//! ```
//!
//! There is no sync byte: a frame is found by its length and checksum (a
//! receiver also resets after a 50 ms gap between bytes, the shell's job).
//! The host is address 1, a bill validator 40, a coin acceptor 2. Replies
//! carry header 0 (ACK) and their data; NAK is header 5, BUSY 6. On the
//! usual single-wire bus every byte the host sends comes back to it: the
//! host must drop its own echo (a frame addressed to the device).
//!
//! The CRC is CRC-16/XMODEM (poly 0x1021, init 0, not reflected; check
//! 0x31C3), low byte in the source position, high byte last. In the CRC
//! variant no source address is sent: [`FrameRepr::source`] parses as 0.
//!
//! Worked frames in the tests were signed by esnext-cctalk's own checksum
//! code (Apache-2.0), see `kiosk-hal/tests/vectors/cctalk/README.md`; the
//! simple poll `28 00 01 FE D9` → ACK `01 00 28 00 D7` is ccTalk part 1's
//! own example. Nothing here panics.

mod coin;
mod command;
mod decoder;
mod events;
mod identity;

pub use coin::{CoinError, CoinId};
pub use command::{BillRoute, HostCommand};
pub use decoder::{Decoder, DEFAULT_BUFFER_CAPACITY};
pub use events::{BillEvent, BufferedBillEvents, CoinEvent, EventDelta, StatusCode};
pub use identity::{parse_serial_number, parse_text, serial_number_data};

use serde::{Deserialize, Serialize};

use super::WireError;

/// The host's (master's) address.
pub const ADDR_HOST: u8 = 1;
/// A coin acceptor's default address.
pub const ADDR_COIN_ACCEPTOR: u8 = 2;
/// A bill validator's default address.
pub const ADDR_BILL_VALIDATOR: u8 = 40;
/// The reply header: ACK, or the answer's data.
pub const HEADER_REPLY: u8 = 0;
/// The NAK header.
pub const HEADER_NAK: u8 = 5;
/// The BUSY header.
pub const HEADER_BUSY: u8 = 6;
/// Bytes around the data: DEST, N, SRC/CRC_lo, HEADER, CHK/CRC_hi.
pub const OVERHEAD: usize = 5;
/// The longest frame (255 data bytes).
pub const MAX_FRAME_LEN: usize = 255 + OVERHEAD;

/// Which checksum the line uses (a device setting, never mixed on one bus).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// The 8-bit additive checksum (most bill validators ship with it).
    #[default]
    Simple,
    /// CRC-16/XMODEM split around the header.
    Crc16,
}

const XMODEM: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// CRC-16/XMODEM of `bytes` (poly 0x1021, init 0, not reflected).
pub fn crc16(bytes: &[u8]) -> u16 {
    XMODEM.checksum(bytes)
}

/// The simple checksum byte that makes `bytes` plus it sum to 0 mod 256.
pub fn simple_checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b)))
}

/// An owned frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameRepr {
    /// The destination address.
    pub dest: u8,
    /// The source address (0 when parsed from a CRC-16 frame, which does
    /// not carry it).
    pub source: u8,
    /// The header (command, or 0 for a reply).
    pub header: u8,
    /// The data bytes (at most 255).
    pub data: Vec<u8>,
}

impl FrameRepr {
    /// A frame.
    pub fn new(dest: u8, source: u8, header: u8, data: impl Into<Vec<u8>>) -> FrameRepr {
        FrameRepr {
            dest,
            source,
            header,
            data: data.into(),
        }
    }

    /// Checks the frame at the start of `buf` and returns it with the number
    /// of bytes it occupies.
    ///
    /// Errors: [`WireError::Truncated`] when `buf` ends early,
    /// [`WireError::BadCrc`] for a checksum that does not match (the simple
    /// checksum's residue in `found`).
    pub fn parse(buf: &[u8], checksum: Checksum) -> Result<(FrameRepr, usize), WireError> {
        let n = usize::from(*buf.get(1).ok_or(WireError::Truncated)?);
        let len = n + OVERHEAD;
        let bytes = buf.get(..len).ok_or(WireError::Truncated)?;
        let data = bytes[4..len - 1].to_vec();
        match checksum {
            Checksum::Simple => {
                let residue = bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b));
                if residue != 0 {
                    return Err(WireError::BadCrc {
                        expected: 0,
                        found: u16::from(residue),
                    });
                }
                Ok((FrameRepr::new(bytes[0], bytes[2], bytes[3], data), len))
            }
            Checksum::Crc16 => {
                let found = u16::from_le_bytes([bytes[2], bytes[len - 1]]);
                let expected = crc16_of(bytes[0], bytes[1], bytes[3], &data);
                if found != expected {
                    return Err(WireError::BadCrc { expected, found });
                }
                Ok((FrameRepr::new(bytes[0], 0, bytes[3], data), len))
            }
        }
    }

    /// The number of bytes [`emit`](FrameRepr::emit) writes.
    pub fn buffer_len(&self) -> usize {
        self.data.len() + OVERHEAD
    }

    /// Writes the frame to the start of `buf` and returns its length.
    ///
    /// Errors: [`WireError::BadLength`] for more than 255 data bytes,
    /// [`WireError::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8], checksum: Checksum) -> Result<usize, WireError> {
        let len = self.buffer_len();
        let n = u8::try_from(self.data.len()).map_err(|_| WireError::BadLength(len))?;
        let out = buf
            .get_mut(..len)
            .ok_or(WireError::BufferTooSmall { needed: len })?;
        out[0] = self.dest;
        out[1] = n;
        out[3] = self.header;
        out[4..len - 1].copy_from_slice(&self.data);
        match checksum {
            Checksum::Simple => {
                out[2] = self.source;
                out[len - 1] = simple_checksum(&out[..len - 1]);
            }
            Checksum::Crc16 => {
                let [lo, hi] = crc16_of(self.dest, n, self.header, &self.data).to_le_bytes();
                out[2] = lo;
                out[len - 1] = hi;
            }
        }
        Ok(len)
    }

    /// The frame's bytes; errors as for [`emit`](FrameRepr::emit).
    pub fn to_bytes(&self, checksum: Checksum) -> Result<Vec<u8>, WireError> {
        let mut out = vec![0; self.buffer_len()];
        let n = self.emit(&mut out, checksum)?;
        out.truncate(n);
        Ok(out)
    }
}

fn crc16_of(dest: u8, n: u8, header: u8, data: &[u8]) -> u16 {
    let mut digest = XMODEM.digest();
    digest.update(&[dest, n, header]);
    digest.update(data);
    digest.finalize()
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, simple-checksum frame, CRC-16 frame), signed by esnext-cctalk's
    /// `crc8.sign` and `crc16xmodemJs.sign` (kiosk-hal/tests/vectors/cctalk).
    pub(super) const REFERENCE: [(&str, &[u8], &[u8]); 17] = [
        (
            "simple poll",
            &[0x28, 0x00, 0x01, 0xFE, 0xD9],
            &[0x28, 0x00, 0xB6, 0xFE, 0x21],
        ),
        (
            "reset",
            &[0x28, 0x00, 0x01, 0x01, 0xD6],
            &[0x28, 0x00, 0x46, 0x01, 0x3F],
        ),
        (
            "equipment category",
            &[0x28, 0x00, 0x01, 0xF5, 0xE2],
            &[0x28, 0x00, 0xDD, 0xF5, 0x90],
        ),
        (
            "manufacturer id",
            &[0x28, 0x00, 0x01, 0xF6, 0xE1],
            &[0x28, 0x00, 0xBE, 0xF6, 0xA0],
        ),
        (
            "product code",
            &[0x28, 0x00, 0x01, 0xF4, 0xE3],
            &[0x28, 0x00, 0xFC, 0xF4, 0x80],
        ),
        (
            "serial number",
            &[0x28, 0x00, 0x01, 0xF2, 0xE5],
            &[0x28, 0x00, 0x3A, 0xF2, 0xE0],
        ),
        (
            "read buffered bill events",
            &[0x28, 0x00, 0x01, 0x9F, 0x38],
            &[0x28, 0x00, 0x31, 0x9F, 0x5D],
        ),
        (
            "master inhibit: enable",
            &[0x28, 0x01, 0x01, 0xE4, 0x01, 0xF1],
            &[0x28, 0x01, 0xEA, 0xE4, 0x01, 0x49],
        ),
        (
            "inhibit status: all",
            &[0x28, 0x02, 0x01, 0xE7, 0xFF, 0xFF, 0xF0],
            &[0x28, 0x02, 0x5F, 0xE7, 0xFF, 0xFF, 0xDF],
        ),
        (
            "inhibit status: 1-4",
            &[0x28, 0x02, 0x01, 0xE7, 0x0F, 0x00, 0xDF],
            &[0x28, 0x02, 0x6E, 0xE7, 0x0F, 0x00, 0xD2],
        ),
        (
            "route bill: stack",
            &[0x28, 0x01, 0x01, 0x9A, 0x01, 0x3B],
            &[0x28, 0x01, 0xBC, 0x9A, 0x01, 0x62],
        ),
        (
            "route bill: return",
            &[0x28, 0x01, 0x01, 0x9A, 0x00, 0x3C],
            &[0x28, 0x01, 0x9D, 0x9A, 0x00, 0x72],
        ),
        (
            "bill id 1",
            &[0x28, 0x01, 0x01, 0x9D, 0x01, 0x38],
            &[0x28, 0x01, 0x2B, 0x9D, 0x01, 0xFB],
        ),
        (
            "ACK",
            &[0x01, 0x00, 0x28, 0x00, 0xD7],
            &[0x01, 0x00, 0x30, 0x00, 0x37],
        ),
        (
            "events: counter 3",
            &[
                0x01, 0x0B, 0x28, 0x00, 0x03, 0x02, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0xC5,
            ],
            &[
                0x01, 0x0B, 0x1E, 0x00, 0x03, 0x02, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0xB5,
            ],
        ),
        (
            "bill id CN0010A",
            &[
                0x01, 0x07, 0x28, 0x00, 0x43, 0x4E, 0x30, 0x30, 0x31, 0x30, 0x41, 0x3D,
            ],
            &[
                0x01, 0x07, 0xD1, 0x00, 0x43, 0x4E, 0x30, 0x30, 0x31, 0x30, 0x41, 0xBE,
            ],
        ),
        (
            "coin: simple poll",
            &[0x02, 0x00, 0x01, 0xFE, 0xFF],
            &[0x02, 0x00, 0xB1, 0xFE, 0x60],
        ),
    ];

    #[test]
    fn checksums() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(simple_checksum(&[0x28, 0x00, 0x01, 0xFE]), 0xD9);
    }

    #[test]
    fn reference_frames_parse_and_re_emit_in_both_variants() {
        for (name, simple, crc) in REFERENCE {
            let (a, n) = FrameRepr::parse(simple, Checksum::Simple).unwrap();
            assert_eq!(n, simple.len(), "{name}");
            assert_eq!(a.to_bytes(Checksum::Simple).unwrap(), simple, "{name}");
            let (b, n) = FrameRepr::parse(crc, Checksum::Crc16).unwrap();
            assert_eq!(n, crc.len(), "{name}");
            assert_eq!(
                (b.dest, b.source, b.header),
                (a.dest, 0, a.header),
                "{name}"
            );
            assert_eq!(b.data, a.data, "{name}");
            assert_eq!(a.to_bytes(Checksum::Crc16).unwrap(), crc, "{name}");
            // The two variants do not accept each other's frames.
            assert!(
                matches!(
                    FrameRepr::parse(crc, Checksum::Simple),
                    Err(WireError::BadCrc { .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn parse_reports_each_defect() {
        assert_eq!(
            FrameRepr::parse(&[0x28], Checksum::Simple),
            Err(WireError::Truncated)
        );
        assert_eq!(
            FrameRepr::parse(&[0x28, 0x01, 0x01, 0x9A], Checksum::Simple),
            Err(WireError::Truncated)
        );
        assert_eq!(
            FrameRepr::parse(&[0x28, 0x00, 0x01, 0xFE, 0xD8], Checksum::Simple),
            Err(WireError::BadCrc {
                expected: 0,
                found: 0xFF
            })
        );
        let long = FrameRepr::new(40, 1, 0, vec![0; 256]);
        assert_eq!(
            long.to_bytes(Checksum::Simple),
            Err(WireError::BadLength(261))
        );
        assert_eq!(
            FrameRepr::new(40, 1, 254, []).emit(&mut [0; 4], Checksum::Simple),
            Err(WireError::BufferTooSmall { needed: 5 })
        );
    }
}
