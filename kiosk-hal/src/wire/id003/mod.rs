//! JCM ID-003 bill validator protocol.
//!
//! ```text
//! SYNC 0xFC | LNG | CMD | DATA… | CRC_lo CRC_hi
//! ```
//!
//! LNG is the whole frame length, SYNC and CRC included (data length + 5).
//! The CRC is CRC-16/KERMIT over SYNC through the last data byte, sent low
//! byte first. The link is 9600 baud, 8 data bits, even parity, 1 stop bit
//! (the port's business, not this module's).
//!
//! - [`Frame`] is a zero-copy view of one checked frame; [`FrameRepr`] is
//!   its owned form with `parse` / `emit`.
//! - [`HostCommand`] is what the host sends; [`StatusResponse`] is what the
//!   validator answers. Both have `to_frame` / `from_frame`, so a driver
//!   emits commands and parses responses and an emulator does the reverse.
//! - [`Decoder`] finds frames in a byte stream delivered in any chunking.
//! - [`CurrencyTable`] maps the escrow codes of the currency-assign answer
//!   (0x8A) to [`Money`](crate::Money). Escrow codes depend on the
//!   validator's currency dataset: read them, never hard-code them.
//! - [`VersionInfo`] splits the version answer (0x88) into model, country
//!   and firmware.
//!
//! ⚠ No public manual exists; the facts come from several open-source
//! drivers (see `shared/docs/protocols.md`). Where drivers disagree the
//! codec stays neutral: the meaning of the 0xC0 denomination bits and of the
//! currency-assign country byte is left to the caller.
//!
//! Nothing here panics: every parser checks lengths first.

mod command;
mod currency;
mod decoder;
mod status;
mod version;

pub use command::{HostCommand, Setting};
pub use currency::{CurrencyEntry, CurrencyTable};
pub use decoder::{Decoder, DEFAULT_BUFFER_CAPACITY};
pub use status::{FailureCode, RejectCode, StatusResponse};
pub use version::VersionInfo;

use super::WireError;

/// The byte every frame starts with.
pub const SYNC: u8 = 0xFC;
/// The shortest frame: SYNC, LNG, CMD and two CRC bytes, no data.
pub const MIN_FRAME_LEN: usize = 5;
/// The longest frame LNG can describe.
pub const MAX_FRAME_LEN: usize = 255;
/// The most data bytes a frame can carry.
pub const MAX_DATA_LEN: usize = MAX_FRAME_LEN - MIN_FRAME_LEN;

const KERMIT: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// CRC-16/KERMIT of `bytes` (poly 0x1021 reflected, init 0, no xorout).
pub fn crc16(bytes: &[u8]) -> u16 {
    KERMIT.checksum(bytes)
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
    /// Errors: [`WireError::Truncated`] when `buf` ends early (more bytes may
    /// complete it), [`WireError::BadSync`], [`WireError::BadLength`] for
    /// LNG < 5, [`WireError::BadCrc`].
    pub fn parse(buf: &'a [u8]) -> Result<(Frame<'a>, usize), WireError> {
        let (&sync, rest) = buf.split_first().ok_or(WireError::Truncated)?;
        if sync != SYNC {
            return Err(WireError::BadSync(sync));
        }
        let lng = usize::from(*rest.first().ok_or(WireError::Truncated)?);
        if lng < MIN_FRAME_LEN {
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

    /// The command or status code.
    pub fn cmd(&self) -> u8 {
        self.bytes[2]
    }

    /// The data bytes between CMD and the CRC.
    pub fn data(&self) -> &'a [u8] {
        &self.bytes[3..self.bytes.len() - 2]
    }

    /// The whole frame, SYNC to CRC.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The owned form.
    pub fn to_repr(&self) -> FrameRepr {
        FrameRepr::new(self.cmd(), self.data())
    }
}

/// An owned frame: a command or status code and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameRepr {
    /// The command (host to validator) or status code (validator to host).
    pub cmd: u8,
    /// The data bytes; at most [`MAX_DATA_LEN`] to be emittable.
    pub data: Vec<u8>,
}

impl FrameRepr {
    /// A frame with this code and data.
    pub fn new(cmd: u8, data: impl Into<Vec<u8>>) -> FrameRepr {
        FrameRepr {
            cmd,
            data: data.into(),
        }
    }

    /// Parses the frame at the start of `buf`; see [`Frame::parse`].
    pub fn parse(buf: &[u8]) -> Result<(FrameRepr, usize), WireError> {
        let (frame, n) = Frame::parse(buf)?;
        Ok((frame.to_repr(), n))
    }

    /// The number of bytes [`emit`](FrameRepr::emit) writes.
    pub fn buffer_len(&self) -> usize {
        self.data.len() + MIN_FRAME_LEN
    }

    /// Writes the frame to the start of `buf` and returns its length.
    ///
    /// Errors: [`WireError::BadLength`] when the data is longer than
    /// [`MAX_DATA_LEN`], [`WireError::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.buffer_len();
        if len > MAX_FRAME_LEN {
            return Err(WireError::BadLength(len));
        }
        let out = buf
            .get_mut(..len)
            .ok_or(WireError::BufferTooSmall { needed: len })?;
        out[0] = SYNC;
        // len <= MAX_FRAME_LEN = 255, checked above.
        out[1] = len as u8;
        out[2] = self.cmd;
        out[3..len - 2].copy_from_slice(&self.data);
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
mod embedded_frames;
#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked frames of `protocols.md`. All nine agree with the `crc`
    /// crate's CRC-16/KERMIT (checked when this codec was written).
    const WORKED: [&[u8]; 9] = [
        &[0xFC, 0x05, 0x11, 0x27, 0x56],       // status request
        &[0xFC, 0x05, 0x40, 0x2B, 0x15],       // reset
        &[0xFC, 0x05, 0x50, 0xAA, 0x05],       // ACK
        &[0xFC, 0x05, 0x41, 0xA2, 0x04],       // stack-1
        &[0xFC, 0x05, 0x43, 0xB0, 0x27],       // return
        &[0xFC, 0x06, 0xC3, 0x00, 0x04, 0xD6], // inhibit off
        &[0xFC, 0x06, 0xC3, 0x01, 0x8D, 0xC7], // inhibit on
        &[0xFC, 0x05, 0x1A, 0xF4, 0xE8],       // status "disabled"
        &[0xFC, 0x06, 0x13, 0x63, 0xA2, 0xD8], // escrow, code 0x63
    ];

    #[test]
    fn crc_is_kermit() {
        assert_eq!(crc16(b"123456789"), 0x2189);
    }

    #[test]
    fn worked_frames_parse_and_re_emit() {
        for bytes in WORKED {
            let (frame, n) = Frame::parse(bytes).unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(frame.as_bytes(), bytes);
            let crc = crc16(&bytes[..n - 2]).to_le_bytes();
            assert_eq!(&bytes[n - 2..], &crc, "{bytes:02X?}");
            assert_eq!(frame.to_repr().to_bytes().unwrap(), bytes);
        }
        let (frame, _) = Frame::parse(WORKED[8]).unwrap();
        assert_eq!((frame.cmd(), frame.data()), (0x13, &[0x63][..]));
    }

    #[test]
    fn parse_reports_each_defect() {
        assert_eq!(Frame::parse(&[]), Err(WireError::Truncated));
        assert_eq!(Frame::parse(&[0xFC]), Err(WireError::Truncated));
        assert_eq!(Frame::parse(&[0xFC, 0x05, 0x11]), Err(WireError::Truncated));
        assert_eq!(Frame::parse(&[0xFD, 0x05]), Err(WireError::BadSync(0xFD)));
        assert_eq!(
            Frame::parse(&[0xFC, 0x04, 0, 0]),
            Err(WireError::BadLength(4))
        );
        assert_eq!(
            Frame::parse(&[0xFC, 0x05, 0x11, 0x56, 0x27]),
            Err(WireError::BadCrc {
                expected: 0x5627,
                found: 0x2756
            })
        );
        // Trailing bytes are left for the next frame.
        let two = [WORKED[0], WORKED[1]].concat();
        assert_eq!(
            FrameRepr::parse(&two).map(|(f, n)| (f.cmd, n)),
            Ok((0x11, 5))
        );
    }

    #[test]
    fn emit_checks_sizes() {
        let f = FrameRepr::new(0x11, []);
        assert_eq!(
            f.emit(&mut [0; 4]),
            Err(WireError::BufferTooSmall { needed: 5 })
        );
        let mut buf = [0; 8];
        assert_eq!(f.emit(&mut buf), Ok(5));
        assert_eq!(&buf[..5], WORKED[0]);
        let max = FrameRepr::new(0x88, vec![0x20; MAX_DATA_LEN]);
        assert_eq!(max.to_bytes().map(|b| b.len()), Ok(255));
        let over = FrameRepr::new(0x88, vec![0x20; MAX_DATA_LEN + 1]);
        assert_eq!(over.to_bytes(), Err(WireError::BadLength(256)));
    }
}
