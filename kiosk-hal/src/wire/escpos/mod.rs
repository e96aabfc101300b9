//! ESC/POS receipt printers.
//!
//! - [`Encoder`] writes the commands a receipt needs (initialise, text in
//!   ASCII or Chinese two-byte mode, bold, feed, cut, QR code);
//!   [`render_receipt`] turns a HAL [`Receipt`](crate::Receipt) into bytes.
//! - [`CommandDecoder`] is the printer's side: it parses a byte stream into
//!   [`PrinterCommand`]s, and [`Paper`] replays them into the
//!   [`ReceiptLine`](crate::ReceiptLine)s that would come out, so an
//!   emulator can show (and a test can check) what was printed.
//! - [`PrinterInfo`] / [`InfoAnswer`]: GS I n, the printer's model,
//!   type, firmware version, maker and serial number.
//! - [`RealTimeStatus`] decodes and emits the one-byte answers to DLE EOT n
//!   and combines them into a [`PrinterStatus`](crate::PrinterStatus).
//!
//! Chinese text is encoded as GBK (two bytes per character) between FS &
//! (`1C 26`) and FS . (`1C 2E`). ⚠ GB18030 four-byte sequences are never
//! emitted: printer support for them varies. Characters GBK lacks print as
//! `?`; control characters inside text print as spaces, so text can never
//! smuggle in a command.
//!
//! Many USB printers are one-way: a driver that gets no status answer must
//! report the status as unknown, never as "printed".
//!
//! The decoder reads every command by its defined length, so image,
//! barcode and parameter bytes are never taken for commands; it was checked
//! against what python-escpos sends (`kiosk-hal/tests/vectors/escpos/`).
//!
//! Nothing here panics: unknown or broken commands decode as
//! [`PrinterCommand::Unknown`].

mod command;
mod decoder;
mod encoder;
mod identity;
mod paper;
mod parse;
mod status;

pub use command::{Image, ImageFormat, PrinterCommand, QrSetting};
pub use decoder::{CommandDecoder, DECODER_CAPACITY, MAX_TEXT_RUN};
pub use encoder::{
    render_receipt, Encoder, QrErrorCorrection, QrModel, QrOptions, QR_MAX_DATA_LEN,
};
pub use identity::{InfoAnswer, PrinterInfo, INFO_HEADER, MAX_INFO_TEXT};
pub use paper::Paper;
pub use status::{
    real_time_status_request, ErrorCause, OfflineCause, PaperRoll, PrinterState, RealTimeStatus,
    StatusKind,
};

/// LF: print the line and move to the next.
pub const LF: u8 = 0x0A;
/// ESC @: initialise the printer (clears the buffer and resets modes).
pub const INIT: [u8; 2] = [0x1B, 0x40];
/// FS &: enter Chinese two-byte mode.
pub const CHINESE_MODE_ON: [u8; 2] = [0x1C, 0x26];
/// FS .: leave Chinese two-byte mode.
pub const CHINESE_MODE_OFF: [u8; 2] = [0x1C, 0x2E];

/// How GS V cuts the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutMode {
    /// `1D 56 00` (or `1D 56 30`): full cut.
    Full,
    /// `1D 56 01` (or `1D 56 31`): partial cut.
    Partial,
    /// `1D 56 41 n`: feed n units, then full cut.
    FeedAndFull(u8),
    /// `1D 56 42 n`: feed n units, then partial cut.
    FeedAndPartial(u8),
}

impl CutMode {
    /// The command bytes (3 or 4).
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            CutMode::Full => vec![0x1D, 0x56, 0x00],
            CutMode::Partial => vec![0x1D, 0x56, 0x01],
            CutMode::FeedAndFull(n) => vec![0x1D, 0x56, 0x41, n],
            CutMode::FeedAndPartial(n) => vec![0x1D, 0x56, 0x42, n],
        }
    }
}

#[cfg(test)]
mod proptests;
