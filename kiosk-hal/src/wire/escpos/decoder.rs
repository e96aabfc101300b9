//! The printer side: bytes to commands.

use super::CutMode;
use crate::wire::DecoderStats;

/// Bytes a [`CommandDecoder`] buffers at most (room for the longest GS ( k
/// command); the oldest are dropped beyond this.
pub const DECODER_CAPACITY: usize = 70_000;

/// Longest text run returned as one [`PrinterCommand::Text`]; longer runs
/// are split (at a character boundary).
pub const MAX_TEXT_RUN: usize = 4096;

/// A QR code setting (GS ( k, cn = 49).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrSetting {
    /// Function 65: the model byte `n1` (49 model 1, 50 model 2, 51 micro).
    Model(u8),
    /// Function 67: module size in dots.
    ModuleSize(u8),
    /// Function 69: error correction level byte (48–51).
    ErrorCorrection(u8),
}

/// One command a printer received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrinterCommand {
    /// ESC @: initialise.
    Init,
    /// Printable text, decoded from ASCII or (in Chinese mode) GBK. Bytes
    /// with no meaning in the current mode decode as U+FFFD.
    Text(String),
    /// ESC E n: bold on or off (bit 0 of n).
    Bold(bool),
    /// LF: print the line.
    LineFeed,
    /// ESC d n: print and feed n lines.
    Feed(u8),
    /// GS V: cut.
    Cut(CutMode),
    /// FS & (`true`) or FS . (`false`): Chinese two-byte mode on or off.
    ChineseMode(bool),
    /// GS ( k fn 80: store QR data (decoded as UTF-8, lossy).
    QrStore(String),
    /// GS ( k fn 81: print the stored QR code.
    QrPrint,
    /// GS ( k fn 65 / 67 / 69: a QR setting.
    QrSetting(QrSetting),
    /// DLE EOT n: real-time status request for `n`.
    RealTimeStatus(u8),
    /// GS a n: automatic status back.
    AutoStatusBack(u8),
    /// A command this decoder does not know, or stray bytes.
    Unknown(Vec<u8>),
}

/// Parses an ESC/POS byte stream delivered in any chunking.
///
/// Push bytes with [`push`](CommandDecoder::push), then call
/// [`next_command`](CommandDecoder::next_command) until it returns `None`.
/// Text is returned once something ends it (a control byte, or
/// [`MAX_TEXT_RUN`] bytes), so the commands do not depend on how the bytes
/// were chunked; at the end of the stream call
/// [`flush`](CommandDecoder::flush) for what is left.
///
/// Unknown ESC / GS commands are skipped with the parameter count of the
/// common ones; others consume only their first two bytes. Like a real
/// printer, a broken GS ( k length swallows the bytes it announces.
#[derive(Debug, Clone)]
pub struct CommandDecoder {
    buf: Vec<u8>,
    chinese: bool,
    stats: DecoderStats,
}

impl Default for CommandDecoder {
    fn default() -> CommandDecoder {
        CommandDecoder::new()
    }
}

/// ESC commands with one parameter byte (not decoded further).
const ESC_ONE_PARAM: &[u8] = b" !-3JMRVaGt{";
/// GS commands with one parameter byte (not decoded further).
const GS_ONE_PARAM: &[u8] = b"!BHfhwrI";

enum Step {
    /// More bytes are needed.
    Incomplete,
    /// A command and the bytes it used.
    Done(PrinterCommand, usize),
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
            stats: DecoderStats::default(),
        }
    }

    /// Whether the printer is in Chinese two-byte mode after the commands decoded so far.
    pub fn chinese_mode(&self) -> bool {
        self.chinese
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > DECODER_CAPACITY {
            let excess = self.buf.len() - DECODER_CAPACITY;
            self.buf.drain(..excess);
            self.stats.skipped(excess);
        }
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
    /// `framing_errors` unknown ones.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn step(&mut self, eof: bool) -> Option<PrinterCommand> {
        if self.buf.is_empty() {
            return None;
        }
        let (cmd, n) = match parse(&self.buf, self.chinese) {
            Step::Done(cmd, n) => (cmd, n),
            // At the end of the stream an incomplete command owns every
            // byte left; an unterminated text run is text.
            Step::Incomplete if eof => match self.buf[0] {
                0x10 | 0x1B | 0x1C | 0x1D => {
                    (PrinterCommand::Unknown(self.buf.clone()), self.buf.len())
                }
                _ => match parse_text(&self.buf, self.chinese, true) {
                    Step::Done(cmd, n) => (cmd, n),
                    Step::Incomplete => (PrinterCommand::Unknown(self.buf.clone()), self.buf.len()),
                },
            },
            Step::Incomplete => return None,
        };
        self.buf.drain(..n.min(self.buf.len()));
        match &cmd {
            PrinterCommand::Unknown(_) => self.stats.framing_error(),
            PrinterCommand::ChineseMode(on) => {
                self.chinese = *on;
                self.stats.ok();
            }
            _ => self.stats.ok(),
        }
        Some(cmd)
    }
}

/// Parses the command at the start of `buf` (not empty).
fn parse(buf: &[u8], chinese: bool) -> Step {
    use PrinterCommand as C;
    let unknown = |n: usize| match buf.get(..n) {
        Some(b) => Step::Done(C::Unknown(b.to_vec()), n),
        None => Step::Incomplete,
    };
    let param = |i: usize, f: &dyn Fn(u8) -> PrinterCommand| match buf.get(i) {
        Some(&p) => Step::Done(f(p), i + 1),
        None => Step::Incomplete,
    };
    let Some(&first) = buf.first() else {
        return Step::Incomplete;
    };
    let Some(&second) = buf.get(1) else {
        return match first {
            0x0A => Step::Done(C::LineFeed, 1),
            0x10 | 0x1B | 0x1C | 0x1D => Step::Incomplete,
            _ => parse_text(buf, chinese, false),
        };
    };
    match (first, second) {
        (0x0A, _) => Step::Done(C::LineFeed, 1),
        (0x10, 0x04) => param(2, &C::RealTimeStatus),
        (0x10, _) => unknown(1),
        (0x1B, 0x40) => Step::Done(C::Init, 2),
        (0x1B, 0x45) => param(2, &|n| C::Bold(n & 1 == 1)),
        (0x1B, 0x64) => param(2, &C::Feed),
        (0x1B, b) if ESC_ONE_PARAM.contains(&b) => unknown(3),
        (0x1C, 0x26) => Step::Done(C::ChineseMode(true), 2),
        (0x1C, 0x2E) => Step::Done(C::ChineseMode(false), 2),
        (0x1D, 0x56) => match buf.get(2) {
            None => Step::Incomplete,
            Some(0x00 | 0x30) => Step::Done(C::Cut(CutMode::Full), 3),
            Some(0x01 | 0x31) => Step::Done(C::Cut(CutMode::Partial), 3),
            Some(0x41) => param(3, &|n| C::Cut(CutMode::FeedAndFull(n))),
            Some(0x42) => param(3, &|n| C::Cut(CutMode::FeedAndPartial(n))),
            Some(_) => unknown(3),
        },
        (0x1D, 0x61) => param(2, &C::AutoStatusBack),
        (0x1D, 0x28) => match (buf.get(3), buf.get(4)) {
            (Some(&pl), Some(&ph)) => {
                let end = 5 + usize::from(u16::from_le_bytes([pl, ph]));
                match buf.get(..end) {
                    Some(cmd) if buf[2] == 0x6B => Step::Done(parse_gs_k(cmd), end),
                    Some(_) => unknown(end),
                    None => Step::Incomplete,
                }
            }
            _ => Step::Incomplete,
        },
        (0x1D, b) if GS_ONE_PARAM.contains(&b) => unknown(3),
        (0x1B..=0x1D, _) => unknown(2),
        _ => parse_text(buf, chinese, false),
    }
}

/// A whole GS ( k command (header included, length already checked).
fn parse_gs_k(cmd: &[u8]) -> PrinterCommand {
    use PrinterCommand as C;
    match cmd.get(5..).unwrap_or_default() {
        [0x31, 0x41, n1, _] => C::QrSetting(QrSetting::Model(*n1)),
        [0x31, 0x43, n] => C::QrSetting(QrSetting::ModuleSize(*n)),
        [0x31, 0x45, n] => C::QrSetting(QrSetting::ErrorCorrection(*n)),
        [0x31, 0x50, 0x30, data @ ..] => C::QrStore(String::from_utf8_lossy(data).into_owned()),
        [0x31, 0x51, 0x30] => C::QrPrint,
        _ => C::Unknown(cmd.to_vec()),
    }
}

fn is_gbk_lead(b: u8) -> bool {
    (0x81..=0xFE).contains(&b)
}

fn is_gbk_trail(b: u8) -> bool {
    (0x40..=0x7E).contains(&b) || (0x80..=0xFE).contains(&b)
}

/// A text run at the start of `buf`: printable ASCII, and in Chinese mode
/// GBK pairs. Ends before a control byte; `Incomplete` when the buffer ends
/// first (unless `eof`). Returns `Done(_, 0)` when `buf` starts with a
/// control byte that is not a command (the caller makes it `Unknown`).
fn parse_text(buf: &[u8], chinese: bool, eof: bool) -> Step {
    let mut text = String::new();
    let mut i = 0;
    while i < MAX_TEXT_RUN {
        let Some(&b) = buf.get(i) else {
            if eof {
                break;
            }
            return Step::Incomplete;
        };
        match b {
            0x20..=0x7E => {
                text.push(char::from(b));
                i += 1;
            }
            0x00..=0x1F | 0x7F => break,
            _ if chinese && is_gbk_lead(b) => match buf.get(i + 1) {
                Some(&t) if is_gbk_trail(t) => {
                    let pair = [b, t];
                    let (s, _) = encoding_rs::GBK.decode_without_bom_handling(&pair);
                    text.push_str(&s);
                    i += 2;
                }
                Some(_) => {
                    text.push(char::REPLACEMENT_CHARACTER);
                    i += 1;
                }
                None if eof => {
                    text.push(char::REPLACEMENT_CHARACTER);
                    i += 1;
                }
                None => return Step::Incomplete,
            },
            _ => {
                text.push(char::REPLACEMENT_CHARACTER);
                i += 1;
            }
        }
    }
    if i == 0 {
        // A control byte that no command starts with.
        return match buf.first() {
            Some(&b) => Step::Done(PrinterCommand::Unknown(vec![b]), 1),
            None => Step::Incomplete,
        };
    }
    Step::Done(PrinterCommand::Text(text), i)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            0x1B, 0x61, 0x01, // ESC a 1 (justify): one parameter
            0x1B, 0x99, // unknown ESC
            0x0D, // CR
            0x1D, 0x28, 0x4C, 0x02, 0x00, 0x30, 0x32, // GS ( L: not QR
            b'x',
        ];
        assert_eq!(
            decode(bytes, false),
            vec![
                C::Unknown(vec![0x1B, 0x61, 0x01]),
                C::Unknown(vec![0x1B, 0x99]),
                C::Unknown(vec![0x0D]),
                C::Unknown(vec![0x1D, 0x28, 0x4C, 0x02, 0x00, 0x30, 0x32]),
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
    fn long_text_is_split_and_buffer_is_bounded() {
        let out = decode(&vec![b'a'; MAX_TEXT_RUN + 10], false);
        assert_eq!(
            out,
            vec![C::Text("a".repeat(MAX_TEXT_RUN)), C::Text("a".repeat(10))]
        );
        let mut d = CommandDecoder::new();
        d.push(&[0x1D, 0x28, 0x6B, 0xFF, 0xFF]);
        d.push(&vec![0u8; DECODER_CAPACITY]);
        assert_eq!(d.buffered(), DECODER_CAPACITY);
        assert_eq!(d.stats().bytes_skipped, 5);
    }
}
