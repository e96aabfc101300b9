//! What a printer received: the decoded form of one ESC/POS command.

use super::CutMode;

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

/// How a bit image lays out its data bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// GS v 0: rows of `width_dots / 8` bytes, top to bottom, MSB leftmost.
    Raster,
    /// ESC *: one line 8 or 24 dots high, 1 or 3 bytes per column.
    Column,
}

/// A bit image command (GS v 0 or ESC *), decoded as one command.
///
/// The data bytes are counted and passed over, never kept or read as
/// commands: an image's data can hold any byte sequence, a cut included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Image {
    /// Raster (GS v 0) or column (ESC *) layout.
    pub format: ImageFormat,
    /// The mode byte: GS v 0 `m` (scaling, 0–3 or 48–51), ESC * `m`
    /// (0, 1: 8 dots high; 32, 33: 24 dots high; odd: double density).
    pub mode: u8,
    /// Width in dots (GS v 0: 8 × the byte count `xL + xH × 256`).
    pub width_dots: u32,
    /// Height in dots (ESC *: 8 or 24).
    pub height_dots: u32,
    /// Data bytes the command carried (and the decoder passed over).
    pub data_len: usize,
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
    /// GS V (functions A–D) or the older ESC i / ESC m (partial cut). GS V
    /// 97/98 (cut reserved at the next cutting position) decode as the
    /// feed-and-cut modes: the cut happens, just a little later.
    Cut(CutMode),
    /// FS & (`true`) or FS . (`false`): Chinese two-byte mode on or off.
    ChineseMode(bool),
    /// GS ( k fn 80: store QR data (decoded as UTF-8, lossy).
    QrStore(String),
    /// GS ( k fn 81: print the stored QR code.
    QrPrint,
    /// GS ( k fn 65 / 67 / 69: a QR setting.
    QrSetting(QrSetting),
    /// GS v 0 or ESC *: a bit image, its data passed over.
    Image(Image),
    /// GS k: a barcode. `system` is `m` as sent: 0–6 for the NUL-terminated
    /// form (function A), 65–79 for the length-prefixed form (function B).
    Barcode {
        /// The barcode system byte `m` (e.g. 4 or 69: CODE39; 73: CODE128).
        system: u8,
        /// The barcode data, without the NUL or length byte.
        data: Vec<u8>,
    },
    /// ESC p m t1 t2: kick the cash drawer.
    DrawerPulse {
        /// `m`: 0 or 48 drawer pin 2, 1 or 49 drawer pin 5.
        pin: u8,
        /// `t1`: on time in 2 ms units.
        on: u8,
        /// `t2`: off time in 2 ms units.
        off: u8,
    },
    /// DLE EOT n: real-time status request for `n`.
    RealTimeStatus(u8),
    /// GS a n: automatic status back.
    AutoStatusBack(u8),
    /// GS I n: transmit printer ID (see
    /// [`PrinterInfo`](super::PrinterInfo)).
    TransmitPrinterId(u8),
    /// A valid command this decoder does not interpret (alignment, sizes,
    /// fonts, code page, tabs, graphics, NV memory, CR, HT…): its fixed bytes,
    /// and how many variable data bytes after them it carried. Those data
    /// bytes were passed over without being kept or read as commands.
    Ignored {
        /// The command's bytes before its variable data (for a length-prefixed
        /// `GS ( x pL pH …` command: those five bytes).
        head: Vec<u8>,
        /// Data bytes that followed `head` and belonged to the command.
        data_len: usize,
    },
    /// A decode error: a command this decoder does not know, a known one
    /// whose length-defining parameter is out of range, a stray control
    /// byte, or (from [`flush`](super::CommandDecoder::flush)) a command
    /// cut off by the end of the stream. Holds the bytes consumed; see
    /// [`CommandDecoder`](super::CommandDecoder) for how far an unknown
    /// command reaches.
    Unknown(Vec<u8>),
}
