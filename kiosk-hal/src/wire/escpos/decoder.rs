//! The printer side: bytes to commands, in any chunking.

use super::command::PrinterCommand;
use super::parse::{parse, parse_text, Step};
use crate::wire::DecoderStats;

/// Bytes a drained [`CommandDecoder`] holds at most: the longest command it
/// keeps whole (GS ( k with 65 535 parameter bytes) fits. Image and other
/// bulk data is passed over as it arrives and never held.
pub const DECODER_CAPACITY: usize = 70_000;

/// Longest text run returned as one [`PrinterCommand::Text`]; longer runs
/// are split (at a character boundary).
pub const MAX_TEXT_RUN: usize = 4096;

/// Parses an ESC/POS byte stream delivered in any chunking.
///
/// Push bytes with [`push`](CommandDecoder::push), then call
/// [`next_command`](CommandDecoder::next_command) until it returns `None`.
/// Text is returned once something ends it (a control byte, or
/// [`MAX_TEXT_RUN`] bytes), so the commands do not depend on how the bytes
/// were chunked; at the end of the stream call
/// [`flush`](CommandDecoder::flush) for what is left.
///
/// Every command is decoded by its defined length (Epson's ESC/POS
/// reference): image data (GS v 0, ESC *), barcode data (GS k), drawer
/// pulse times (ESC p), GS ( x / FS ( x / ESC ( x parameter blocks and the
/// like are never read as commands or text. Bulk data is counted and passed
/// over as it arrives, so an image larger than [`DECODER_CAPACITY`] decodes
/// as one [`PrinterCommand::Image`].
///
/// Decode errors come out as [`PrinterCommand::Unknown`] (and count as
/// framing errors), by these rules:
/// - `ESC x`, `GS x`, `FS x` with an `x` this decoder does not know: the two
///   bytes (only the prefix when `x` is a control byte, which then starts
///   its own command). What follows is decoded as usual, so an unknown
///   command's parameters may show as text, as on many printers.
/// - A known command whose length-defining parameter is out of range
///   (ESC * m, GS V m, GS k m, ESC & y / c / x, DLE DC4 fn, GS v / GS 8 / FS g
///   selector): the bytes up to that parameter. GS k m 0–6 without a NUL
///   in 255 data bytes: the three bytes GS k m.
/// - A stray control byte (NUL, BEL, a lone DLE …): that byte.
/// - At [`flush`](CommandDecoder::flush), a command cut off by the end of
///   the stream: its bytes (for one whose data was being passed over, its
///   fixed part).
///
/// Memory: pushed bytes are held until decoded. Drained after each push,
/// the decoder holds less than [`DECODER_CAPACITY`] bytes.
#[derive(Debug, Clone)]
pub struct CommandDecoder {
    buf: Vec<u8>,
    chinese: bool,
    /// A command whose data is being passed over.
    skipping: Option<Skipping>,
    stats: DecoderStats,
}

/// A command waiting for the rest of its data.
#[derive(Debug, Clone)]
struct Skipping {
    cmd: PrinterCommand,
    /// Its fixed part, for the decode error if the stream ends first.
    head: Vec<u8>,
    /// Data bytes still to pass over.
    remaining: usize,
}

impl Default for CommandDecoder {
    fn default() -> CommandDecoder {
        CommandDecoder::new()
    }
}

impl CommandDecoder {
    /// A decoder for a printer that starts in single-byte (ASCII) mode.
    pub fn new() -> CommandDecoder {
        CommandDecoder::with_chinese_mode(false)
    }

    /// A decoder for a printer that starts in Chinese mode if `on` (many
    /// Chinese printers do).
    pub fn with_chinese_mode(on: bool) -> CommandDecoder {
        CommandDecoder {
            buf: Vec::new(),
            chinese: on,
            skipping: None,
            stats: DecoderStats::default(),
        }
    }

    /// Whether the printer is in Chinese two-byte mode after the commands decoded so far.
    pub fn chinese_mode(&self) -> bool {
        self.chinese
    }

    /// Appends received bytes. Data of a command being passed over is
    /// consumed at once, without being buffered.
    pub fn push(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if let Some(s) = &mut self.skipping {
            if self.buf.is_empty() {
                let n = s.remaining.min(bytes.len());
                s.remaining -= n;
                bytes = &bytes[n..];
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete command, or `None` when more bytes are needed.
    pub fn next_command(&mut self) -> Option<PrinterCommand> {
        self.step(false)
    }

    /// At the end of the stream: the next command from what is buffered,
    /// treating incomplete commands as [`PrinterCommand::Unknown`].
    pub fn flush(&mut self) -> Option<PrinterCommand> {
        self.step(true)
    }

    /// The decoder's counters: `frames_ok` counts known commands,
    /// `framing_errors` decode errors ([`PrinterCommand::Unknown`]), and
    /// `bytes_skipped` the bytes those held.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes buffered and not yet decoded (data being passed over is not buffered).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn step(&mut self, eof: bool) -> Option<PrinterCommand> {
        if let Some(s) = self.skipping.take() {
            return self.continue_skip(s, eof);
        }
        if self.buf.is_empty() {
            return None;
        }
        let cmd = match parse(&self.buf, self.chinese) {
            Step::Done(cmd, n) => {
                debug_assert!(n > 0 && n <= self.buf.len());
                self.buf.drain(..n);
                cmd
            }
            Step::Skip { cmd, head, data } => {
                debug_assert!(head > 0 && head <= self.buf.len());
                let head: Vec<u8> = self.buf.drain(..head).collect();
                return self.continue_skip(
                    Skipping {
                        cmd,
                        head,
                        remaining: data,
                    },
                    eof,
                );
            }
            // At the end of the stream an incomplete command owns every
            // byte left; an unterminated text run is text.
            Step::Incomplete if eof => {
                let cmd = match self.buf[0] {
                    0x10 | 0x1B | 0x1C | 0x1D => PrinterCommand::Unknown(self.buf.clone()),
                    _ => match parse_text(&self.buf, self.chinese, true) {
                        Step::Done(cmd, n) => {
                            self.buf.drain(..n);
                            return Some(self.count(cmd));
                        }
                        _ => PrinterCommand::Unknown(self.buf.clone()),
                    },
                };
                self.buf.clear();
                cmd
            }
            Step::Incomplete => {
                debug_assert!(
                    self.buf.len() < DECODER_CAPACITY,
                    "every command held whole fits the capacity"
                );
                return None;
            }
        };
        Some(self.count(cmd))
    }

    /// Passes over buffered data of `s`; the command once all its data is in.
    fn continue_skip(&mut self, mut s: Skipping, eof: bool) -> Option<PrinterCommand> {
        let n = s.remaining.min(self.buf.len());
        self.buf.drain(..n);
        s.remaining -= n;
        if s.remaining == 0 {
            return Some(self.count(s.cmd));
        }
        if eof {
            return Some(self.count(PrinterCommand::Unknown(s.head)));
        }
        self.skipping = Some(s);
        None
    }

    /// Updates the counters and the text mode for a decoded command.
    fn count(&mut self, cmd: PrinterCommand) -> PrinterCommand {
        match &cmd {
            PrinterCommand::Unknown(bytes) => {
                self.stats.framing_error();
                self.stats.skipped(bytes.len());
            }
            PrinterCommand::ChineseMode(on) => {
                self.chinese = *on;
                self.stats.ok();
            }
            _ => self.stats.ok(),
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::escpos::{CutMode, Image, ImageFormat, QrSetting};
    use PrinterCommand as C;

    fn decode(bytes: &[u8], chinese: bool) -> Vec<PrinterCommand> {
        let mut d = CommandDecoder::with_chinese_mode(chinese);
        d.push(bytes);
        let mut out: Vec<_> = std::iter::from_fn(|| d.next_command()).collect();
        out.extend(std::iter::from_fn(|| d.flush()));
        assert_eq!(d.buffered(), 0);
        out
    }

    #[test]
    fn decodes_a_receipt() {
        let bytes: &[u8] = &[
            0x1B, 0x40, 0x1B, 0x45, 0x01, b'P', b'a', b'i', b'd', 0x1B, 0x45, 0x00, 0x0A, 0x1C,
            0x26, 0xBD, 0xC9, 0xB7, 0xD1, b'1', 0x1C, 0x2E, 0x0A, 0x1D, 0x56, 0x41, 0x03,
        ];
        assert_eq!(
            decode(bytes, false),
            vec![
                C::Init,
                C::Bold(true),
                C::Text("Paid".into()),
                C::Bold(false),
                C::LineFeed,
                C::ChineseMode(true),
                C::Text("缴费1".into()),
                C::ChineseMode(false),
                C::LineFeed,
                C::Cut(CutMode::FeedAndFull(3)),
            ]
        );
    }

    #[test]
    fn decodes_qr_status_and_cut_commands() {
        let bytes: &[u8] = &[
            0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00, //
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06, //
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x33, //
            0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B', //
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, //
            0x10, 0x04, 0x04, 0x1D, 0x61, 0xFF, 0x1D, 0x56, 0x00, 0x1D, 0x56, 0x31, 0x1B, 0x64,
            0x05,
        ];
        assert_eq!(
            decode(bytes, false),
            vec![
                C::QrSetting(QrSetting::Model(0x32)),
                C::QrSetting(QrSetting::ModuleSize(6)),
                C::QrSetting(QrSetting::ErrorCorrection(0x33)),
                C::QrStore("AB".into()),
                C::QrPrint,
                C::RealTimeStatus(4),
                C::AutoStatusBack(0xFF),
                C::Cut(CutMode::Full),
                C::Cut(CutMode::Partial),
                C::Feed(5),
            ]
        );
    }

    #[test]
    fn unknown_commands_and_stray_bytes() {
        let bytes: &[u8] = &[
            0x1B, 0x61, 0x01, // ESC a 1 (justify): known, one parameter
            0x1B, 0x99, // unknown ESC
            0x1B, 0x1B, 0x40, // ESC then ESC @: the control byte starts its own command
            0x0D, // CR: known, nothing to show
            0x07, // BEL: not ESC/POS
            0x1D, 0x28, 0x4C, 0x02, 0x00, 0x30, 0x32, // GS ( L: graphics, passed over
            b'x',
        ];
        assert_eq!(
            decode(bytes, false),
            vec![
                C::Ignored {
                    head: vec![0x1B, 0x61, 0x01],
                    data_len: 0
                },
                C::Unknown(vec![0x1B, 0x99]),
                C::Unknown(vec![0x1B]),
                C::Init,
                C::Ignored {
                    head: vec![0x0D],
                    data_len: 0
                },
                C::Unknown(vec![0x07]),
                C::Ignored {
                    head: vec![0x1D, 0x28, 0x4C, 0x02, 0x00],
                    data_len: 2
                },
                C::Text("x".into()),
            ]
        );
    }

    #[test]
    fn invalid_gbk_and_high_bytes_become_replacement_characters() {
        // Lead byte followed by a control byte; 0xFF; high byte in ASCII mode.
        assert_eq!(
            decode(&[0xBD, 0x0A, 0xFF, b'a'], true),
            vec![
                C::Text("\u{FFFD}".into()),
                C::LineFeed,
                C::Text("\u{FFFD}a".into())
            ]
        );
        assert_eq!(
            decode(&[0xBD, 0xC9], false),
            vec![C::Text("\u{FFFD}\u{FFFD}".into())]
        );
        // A lead byte cut off by the end of the stream.
        assert_eq!(decode(&[0xBD], true), vec![C::Text("\u{FFFD}".into())]);
    }

    #[test]
    fn text_waits_for_its_end_and_incomplete_commands_flush_as_unknown() {
        let mut d = CommandDecoder::new();
        d.push(b"ab");
        assert_eq!(d.next_command(), None);
        d.push(b"c\n\x1D\x28\x6B\x05");
        assert_eq!(d.next_command(), Some(C::Text("abc".into())));
        assert_eq!(d.next_command(), Some(C::LineFeed));
        assert_eq!(d.next_command(), None);
        assert_eq!(d.flush(), Some(C::Unknown(vec![0x1D, 0x28, 0x6B, 0x05])));
        assert_eq!(d.flush(), None);
        assert_eq!(d.stats().frames_ok, 2);
        assert_eq!(d.stats().framing_errors, 1);
    }

    #[test]
    fn long_text_is_split() {
        let out = decode(&vec![b'a'; MAX_TEXT_RUN + 10], false);
        assert_eq!(
            out,
            vec![C::Text("a".repeat(MAX_TEXT_RUN)), C::Text("a".repeat(10))]
        );
    }

    #[test]
    fn image_data_larger_than_the_buffer_streams_through_as_one_command() {
        // GS v 0: 72 bytes (576 dots) × 2000 rows = 144 000 data bytes, each
        // 1000-byte piece full of cuts and line feeds.
        let (width_bytes, rows) = (72u16, 2000u16);
        let mut bytes = vec![0x1D, 0x76, 0x30, 0x00];
        bytes.extend(width_bytes.to_le_bytes());
        bytes.extend(rows.to_le_bytes());
        let data_len = usize::from(width_bytes) * usize::from(rows);
        bytes.extend([0x1D, 0x56, 0x00, 0x0A].iter().cycle().take(data_len));
        bytes.extend([0x1D, 0x56, 0x01]);
        let mut d = CommandDecoder::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(1000) {
            d.push(piece);
            out.extend(std::iter::from_fn(|| d.next_command()));
            assert!(d.buffered() < 8, "image data is not buffered");
        }
        assert_eq!(
            out,
            vec![
                C::Image(Image {
                    format: ImageFormat::Raster,
                    mode: 0,
                    width_dots: 576,
                    height_dots: 2000,
                    data_len,
                }),
                C::Cut(CutMode::Partial),
            ]
        );
        assert_eq!(d.flush(), None);
        assert_eq!(d.stats().frames_ok, 2);
    }

    #[test]
    fn an_image_cut_off_by_the_end_of_the_stream_is_a_decode_error() {
        let mut d = CommandDecoder::new();
        d.push(&[0x1B, 0x2A, 0x21, 0x10, 0x00, 0xFF, 0xFF]);
        assert_eq!(d.next_command(), None);
        assert_eq!(
            d.flush(),
            Some(C::Unknown(vec![0x1B, 0x2A, 0x21, 0x10, 0x00]))
        );
        assert_eq!(d.flush(), None);
        assert_eq!(d.stats().framing_errors, 1);
    }
}
