//! ITL SSP / eSSP (Smiley Secure Protocol): NV9, NV10, NV11, NV200 and
//! other Innovative Technology note validators.
//!
//! ```text
//! STX 0x7F | SEQ/ID | LEN | DATA… | CRC_lo CRC_hi        every 0x7F after STX sent as 7F 7F
//! ```
//!
//! SEQ/ID bit 7 is the sequence flag, bits 0–6 the slave address. LEN
//! counts DATA only. The CRC is CRC-16/CMS (poly 0x8005, init 0xFFFF, not
//! reflected) over SEQ/ID, LEN and DATA, sent low byte first and computed
//! before stuffing. Because every 0x7F inside a packet is doubled, a lone
//! 0x7F always starts a new packet. The link is 9600 baud 8N2 (the port's
//! business, not this module's).
//!
//! - [`Packet`] is one packet with `parse` / `emit` (stuffing included).
//! - [`Decoder`] finds packets in a byte stream delivered in any chunking.
//! - [`Command`] is what the host sends (the first DATA byte and its
//!   parameters); [`Reply`] is the slave's generic answer (`F0` OK, `F2`…);
//!   [`Event`] the poll events after `F0`; [`SetupData`] the answer to
//!   SETUP REQUEST.
//! - [`essp`]: the eSSP key exchange arithmetic and the AES-128 packet
//!   encryption (eCOUNT, eCRC, packing) with the RustCrypto `aes` crate.
//!
//! Facts and their sources: `shared/docs/protocols.md` (ITL GA138, the ITL
//! SDK's C code, and an independent Node.js driver).
//!
//! Nothing here panics: every parser checks lengths first.

mod command;
mod decoder;
pub mod essp;
mod event;
mod reply;
mod setup;

pub use command::Command;
pub use decoder::{Decoder, DEFAULT_BUFFER_CAPACITY};
pub use event::{Event, RejectCode};
pub use reply::{Reply, ReplyCode};
pub use setup::{unit_type_name, SetupData};

use super::WireError;

/// The byte every packet starts with (and that is doubled inside one).
pub const STX: u8 = 0x7F;
/// The sequence flag in the SEQ/ID byte.
pub const SEQ_FLAG: u8 = 0x80;
/// The most DATA bytes LEN can describe.
pub const MAX_DATA_LEN: usize = 255;
/// The longest a packet can be on the wire: STX, then SEQ/ID, LEN, 255 data
/// bytes and the CRC, every one of them possibly doubled.
pub const MAX_WIRE_LEN: usize = 1 + 2 * (2 + MAX_DATA_LEN + 2);

const CMS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_CMS);

/// CRC-16/CMS of `bytes` (poly 0x8005, init 0xFFFF, not reflected, no xorout):
/// the SSP packet CRC and the eSSP inner CRC.
pub fn crc16(bytes: &[u8]) -> u16 {
    CMS.checksum(bytes)
}

/// One SSP packet: address, sequence flag and data, unstuffed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Packet {
    /// The slave's address (0–127; validators default to 0).
    pub address: u8,
    /// The sequence flag (bit 7 of SEQ/ID). The host toggles it on every new
    /// command; a slave seeing the same flag again repeats its last reply.
    pub seq: bool,
    /// DATA: a command and its parameters, or a reply. At most
    /// [`MAX_DATA_LEN`] bytes to be emittable; never empty on the wire.
    pub data: Vec<u8>,
}

impl Packet {
    /// A packet for `address` with sequence flag `seq`.
    pub fn new(address: u8, seq: bool, data: impl Into<Vec<u8>>) -> Packet {
        Packet {
            address,
            seq,
            data: data.into(),
        }
    }

    /// The SEQ/ID byte.
    pub fn seq_id(&self) -> u8 {
        (self.address & 0x7F) | if self.seq { SEQ_FLAG } else { 0 }
    }

    /// Parses the packet at the start of `buf` (stuffed, as on the wire) and
    /// returns it with the number of wire bytes it occupies.
    ///
    /// As the ITL SDK's receiver does: after STX, `7F 7F` is one data byte
    /// 0x7F (so `7F 7F 7F` starts a packet whose SEQ/ID is 0x7F), and a 0x7F
    /// followed by anything else starts a new packet.
    ///
    /// Errors: [`WireError::Truncated`] when `buf` ends early,
    /// [`WireError::BadSync`] when `buf` does not start with STX,
    /// [`WireError::BadLength`] for LEN 0, [`WireError::BadData`] when a lone
    /// 0x7F interrupts the packet (a new packet starts there: the error's
    /// `len` is the offset of that STX), [`WireError::BadCrc`].
    pub fn parse(buf: &[u8]) -> Result<(Packet, usize), WireError> {
        let (result, used) = scan(buf);
        result.map(|p| (p, used))
    }

    /// Writes the packet, stuffed, to the start of `buf` and returns its
    /// wire length.
    ///
    /// Errors: [`WireError::BadLength`] for empty data or more than
    /// [`MAX_DATA_LEN`] bytes, [`WireError::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let bytes = self.to_bytes()?;
        let out = buf
            .get_mut(..bytes.len())
            .ok_or(WireError::BufferTooSmall {
                needed: bytes.len(),
            })?;
        out.copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    /// The packet's wire bytes (stuffed); errors as for [`emit`](Packet::emit).
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let len = self.data.len();
        if len == 0 || len > MAX_DATA_LEN {
            return Err(WireError::BadLength(len));
        }
        let mut body = Vec::with_capacity(len + 4);
        body.push(self.seq_id());
        // len <= MAX_DATA_LEN = 255, checked above.
        body.push(len as u8);
        body.extend_from_slice(&self.data);
        let crc = crc16(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        let mut out = Vec::with_capacity(body.len() * 2 + 1);
        out.push(STX);
        for b in body {
            out.push(b);
            if b == STX {
                out.push(STX);
            }
        }
        debug_assert!(out.len() <= MAX_WIRE_LEN);
        Ok(out)
    }
}

/// Parses the packet at the start of `buf`; with the result, the wire bytes
/// it used (for an error: the bytes a decoder drops before searching again;
/// 0 for [`WireError::Truncated`]).
pub(crate) fn scan(buf: &[u8]) -> (Result<Packet, WireError>, usize) {
    let Some((&stx, _)) = buf.split_first() else {
        return (Err(WireError::Truncated), 0);
    };
    if stx != STX {
        return (Err(WireError::BadSync(stx)), 1);
    }
    let mut body = Vec::with_capacity(8);
    let mut i = 1;
    let mut want = 2;
    while body.len() < want {
        let Some(&b) = buf.get(i) else {
            return (Err(WireError::Truncated), 0);
        };
        if b == STX {
            match buf.get(i + 1) {
                None => return (Err(WireError::Truncated), 0),
                Some(&STX) => i += 2,
                // A lone STX: the packet was cut short, a new one starts here.
                Some(_) => return (Err(WireError::BadData { cmd: STX, len: i }), i),
            }
        } else {
            i += 1;
        }
        body.push(b);
        if body.len() == 2 {
            let len = usize::from(body[1]);
            if len == 0 {
                return (Err(WireError::BadLength(0)), i);
            }
            want = 2 + len + 2;
        }
    }
    let (head, crc) = body.split_at(want - 2);
    let found = u16::from_le_bytes([crc[0], crc[1]]);
    let expected = crc16(head);
    if found != expected {
        // Stuffing leaves no lone STX inside a packet, so nothing in it can
        // start another: the whole packet is dropped.
        return (Err(WireError::BadCrc { expected, found }), i);
    }
    let packet = Packet {
        address: head[0] & 0x7F,
        seq: head[0] & SEQ_FLAG != 0,
        data: head[2..].to_vec(),
    };
    (Ok(packet), i)
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked packets: the first five are in `protocols.md` (ITL GA138);
    /// all were recomputed with the ITL SDK's own C CRC routine
    /// (`cal_crc_loop_CCITT_A`, as redistributed in Minege/eSSP) and agree
    /// with the `crc` crate's CRC-16/CMS.
    pub(super) const WORKED: [(&[u8], bool, &[u8]); 10] = [
        (&[0x7F, 0x80, 0x01, 0x11, 0x65, 0x82], true, &[0x11]), // sync
        (&[0x7F, 0x80, 0x01, 0xF0, 0x23, 0x80], true, &[0xF0]), // OK
        (&[0x7F, 0x80, 0x01, 0x07, 0x12, 0x02], true, &[0x07]), // poll
        (&[0x7F, 0x80, 0x01, 0x01, 0x06, 0x02], true, &[0x01]), // reset
        (
            &[0x7F, 0x80, 0x03, 0x02, 0xFF, 0xFF, 0x25, 0xA4],
            true,
            &[0x02, 0xFF, 0xFF],
        ), // set inhibits, all on
        (&[0x7F, 0x00, 0x01, 0x07, 0x11, 0x88], false, &[0x07]), // poll, flag clear
        (
            &[0x7F, 0x80, 0x03, 0xF0, 0xEF, 0x02, 0xC0, 0x4A],
            true,
            &[0xF0, 0xEF, 0x02],
        ), // OK, read note channel 2
        (
            &[0x7F, 0x00, 0x04, 0xF0, 0xEE, 0x02, 0xCC, 0xE0, 0xC2],
            false,
            &[0xF0, 0xEE, 0x02, 0xCC],
        ), // OK, credit channel 2, stacking
        (
            &[0x7F, 0x00, 0x02, 0x06, 0x07, 0x1E, 0x14],
            false,
            &[0x06, 0x07],
        ), // host protocol version 7
        (
            &[0x7F, 0x80, 0x02, 0xF0, 0x60, 0x7F, 0x7F, 0xA1],
            true,
            &[0xF0, 0x60],
        ), // a CRC byte of 0x7F, stuffed
    ];

    #[test]
    fn crc_is_cms() {
        assert_eq!(crc16(b"123456789"), 0xAEE7);
    }

    #[test]
    fn worked_packets_parse_and_re_emit() {
        for (bytes, seq, data) in WORKED {
            let (packet, n) = Packet::parse(bytes).unwrap();
            assert_eq!(n, bytes.len(), "{bytes:02X?}");
            assert_eq!(packet, Packet::new(0, seq, data));
            assert_eq!(packet.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn stuffing_doubles_every_stx_after_the_first() {
        let packet = Packet::new(0x7F, true, [0x7F, 0x01]);
        let bytes = packet.to_bytes().unwrap();
        // SEQ/ID 0xFF is not 0x7F; the data byte is.
        assert_eq!(&bytes[..5], &[0x7F, 0xFF, 0x02, 0x7F, 0x7F]);
        assert_eq!(Packet::parse(&bytes), Ok((packet, bytes.len())));
        let zero_seq = Packet::new(0x7F, false, [0x07]);
        let bytes = zero_seq.to_bytes().unwrap();
        assert_eq!(&bytes[..3], &[0x7F, 0x7F, 0x7F], "SEQ/ID 0x7F is doubled");
        assert_eq!(Packet::parse(&bytes), Ok((zero_seq, bytes.len())));
    }

    #[test]
    fn parse_reports_each_defect() {
        assert_eq!(Packet::parse(&[]), Err(WireError::Truncated));
        assert_eq!(Packet::parse(&[0x7F]), Err(WireError::Truncated));
        assert_eq!(Packet::parse(&[0x7E, 0x80]), Err(WireError::BadSync(0x7E)));
        // `7F 7F 80`: the second 7F is not a stuffed pair's first half,
        // so a new packet starts there.
        assert_eq!(
            Packet::parse(&[0x7F, 0x7F, 0x80]),
            Err(WireError::BadData { cmd: STX, len: 1 })
        );
        assert_eq!(
            Packet::parse(&[0x7F, 0x80, 0x00, 0x00, 0x00]),
            Err(WireError::BadLength(0))
        );
        assert_eq!(
            Packet::parse(&[0x7F, 0x80, 0x01, 0x11, 0x65]),
            Err(WireError::Truncated)
        );
        assert_eq!(
            Packet::parse(&[0x7F, 0x80, 0x01, 0x11, 0x65, 0x83]),
            Err(WireError::BadCrc {
                expected: 0x8265,
                found: 0x8365
            })
        );
        // A lone STX inside: a new packet starts at offset 3.
        assert_eq!(
            Packet::parse(&[0x7F, 0x80, 0x03, 0x7F, 0x80, 0x01]),
            Err(WireError::BadData { cmd: STX, len: 3 })
        );
        // A trailing 7F could be the first half of a pair: wait.
        assert_eq!(
            Packet::parse(&[0x7F, 0x80, 0x02, 0xF0, 0x60, 0x7F]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn emit_checks_sizes() {
        let p = Packet::new(0, true, [0x11]);
        assert_eq!(
            p.emit(&mut [0; 5]),
            Err(WireError::BufferTooSmall { needed: 6 })
        );
        let mut buf = [0; 8];
        assert_eq!(p.emit(&mut buf), Ok(6));
        assert_eq!(&buf[..6], WORKED[0].0);
        assert_eq!(
            Packet::new(0, true, []).to_bytes(),
            Err(WireError::BadLength(0))
        );
        let max = Packet::new(0, true, vec![0x7F; MAX_DATA_LEN]);
        let bytes = max.to_bytes().unwrap();
        assert!(bytes.len() <= MAX_WIRE_LEN);
        assert_eq!(Packet::parse(&bytes), Ok((max, bytes.len())));
        assert_eq!(
            Packet::new(0, true, vec![0; 256]).to_bytes(),
            Err(WireError::BadLength(256))
        );
    }
}
