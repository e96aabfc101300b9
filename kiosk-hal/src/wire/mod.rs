//! Pure wire codecs for real device protocols: bytes in, typed values out,
//! and back. No I/O, no clock, no global state.
//!
//! Each protocol follows the smoltcp habit: a typed value with `parse` and
//! `emit` (or `to_frame` / `from_frame`) that are exact inverses, plus a
//! streaming decoder that accepts bytes in any chunking, the way a serial
//! port delivers them.
//!
//! - [`ccnet`]: CCNET (CashCode and compatible) bill validators (frames,
//!   host commands, poll states, bill table, identification).
//! - [`cctalk`]: ccTalk bill validators and coin acceptors (frames with the
//!   simple or CRC-16 checksum, headers, buffered bill events with loss
//!   detection).
//! - [`id003`]: JCM ID-003 bill validators (frames, host commands, status
//!   responses, currency table).
//! - [`escpos`]: ESC/POS receipt printers (receipt encoder, printer-side
//!   command decoder, real-time status bytes).
//! - [`ssp`]: ITL SSP / eSSP note validators (stuffed packets, host
//!   commands, poll events, setup data, the eSSP key exchange and AES
//!   packet encryption).
//! - [`scanner`]: serial barcode / QR scanners (line framing, payment code
//!   classification, trigger commands).
//! - [`evdev`]: USB HID (keyboard) scanners read through Linux evdev: the
//!   `struct input_event` record and keystrokes to scanned lines.
//!
//! # For driver authors
//!
//! A driver owns the port and the clock. It writes what an `emit` function
//! returns, pushes whatever it reads into the matching decoder and acts on
//! the typed values it gets back. A [`WireError`] converts into a
//! [`DeviceError`] of kind
//! [`Protocol`](crate::ErrorKind::Protocol).
//!
//! # For emulator authors
//!
//! Every codec works in both directions: an emulator parses what a driver
//! emits (host commands, ESC/POS streams) and emits what a device would
//! answer (ID-003 status responses, ESC/POS status bytes).
//!
//! # What can panic
//!
//! Nothing. Every parser checks lengths before indexing; garbage gives a
//! [`WireError`] or is skipped and counted in [`DecoderStats`]. Decoders
//! bound the bytes they buffer when drained after each push.
//!
//! # Lengths are commitments
//!
//! A decoder that has read a length field waits for that many bytes and
//! never decodes anything inside them unless the whole thing proves bad
//! (an ID-003 CRC failure): data can hold bytes that look like a frame or a
//! command, and split delivery must not change what comes out. Every
//! decoder gives the same results for any chunking of the same bytes.

use core::fmt;

use crate::{DeviceError, ErrorKind};

pub mod ccnet;
pub mod cctalk;
pub mod escpos;
pub mod evdev;
pub mod id003;
pub mod scanner;
pub mod ssp;

/// Why bytes could not be parsed or a value could not be emitted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    /// The buffer ends before the frame or command does; more bytes may complete it.
    Truncated,
    /// The frame does not start with the protocol's sync byte (the byte found).
    BadSync(u8),
    /// A length field (or the length of a value to emit) is out of range.
    BadLength(usize),
    /// The checksum does not match.
    BadCrc {
        /// The CRC computed over the received bytes.
        expected: u16,
        /// The CRC carried by the frame.
        found: u16,
    },
    /// A command or status code this codec does not know.
    UnknownCommand(u8),
    /// A known command with data of the wrong length or an invalid value.
    BadData {
        /// The command or status code.
        cmd: u8,
        /// The length of the data received.
        len: usize,
    },
    /// A single-byte answer that lacks the protocol's fixed bits (the byte found).
    InvalidByte(u8),
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes the value needs.
        needed: usize,
    },
    /// An encrypted packet's counter is not the one expected (a stale or
    /// replayed eSSP packet).
    BadCount {
        /// The count this end expected.
        expected: u32,
        /// The count the packet carries.
        found: u32,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("truncated frame"),
            WireError::BadSync(b) => write!(f, "bad sync byte 0x{b:02X}"),
            WireError::BadLength(n) => write!(f, "length {n} out of range"),
            WireError::BadCrc { expected, found } => {
                write!(
                    f,
                    "bad CRC: computed 0x{expected:04X}, frame has 0x{found:04X}"
                )
            }
            WireError::UnknownCommand(c) => write!(f, "unknown command 0x{c:02X}"),
            WireError::BadData { cmd, len } => {
                write!(f, "bad data for command 0x{cmd:02X} ({len} bytes)")
            }
            WireError::InvalidByte(b) => write!(f, "invalid status byte 0x{b:02X}"),
            WireError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small ({needed} bytes needed)")
            }
            WireError::BadCount { expected, found } => {
                write!(
                    f,
                    "bad packet count: expected {expected}, packet has {found}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for DeviceError {
    fn from(e: WireError) -> DeviceError {
        DeviceError::new(ErrorKind::Protocol, e.to_string()).with_source(e)
    }
}

/// Counters kept by a streaming decoder, for health reports and link-quality alarms.
///
/// Counters saturate instead of wrapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DecoderStats {
    /// Frames, commands or lines decoded successfully.
    pub frames_ok: u64,
    /// Frames dropped because their checksum did not match.
    pub crc_errors: u64,
    /// Framing errors: impossible length fields, overlong lines, unparsable commands.
    pub framing_errors: u64,
    /// Bytes thrown away while looking for the next frame (garbage, dropped lines).
    pub bytes_skipped: u64,
}

impl DecoderStats {
    pub(crate) fn ok(&mut self) {
        self.frames_ok = self.frames_ok.saturating_add(1);
    }
    pub(crate) fn crc_error(&mut self) {
        self.crc_errors = self.crc_errors.saturating_add(1);
    }
    pub(crate) fn framing_error(&mut self) {
        self.framing_errors = self.framing_errors.saturating_add(1);
    }
    pub(crate) fn skipped(&mut self, n: usize) {
        self.bytes_skipped = self.bytes_skipped.saturating_add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_errors_become_protocol_device_errors() {
        let e: DeviceError = WireError::BadCrc {
            expected: 0x5627,
            found: 0x0000,
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().contains("0x5627"));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn stats_saturate() {
        let mut s = DecoderStats {
            frames_ok: u64::MAX,
            ..DecoderStats::default()
        };
        s.ok();
        s.skipped(usize::MAX);
        s.skipped(usize::MAX);
        assert_eq!(s.frames_ok, u64::MAX);
        assert_eq!(s.bytes_skipped, u64::MAX);
    }
}
