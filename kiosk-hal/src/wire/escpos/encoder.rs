//! The host side: commands to bytes.

use super::{CutMode, CHINESE_MODE_OFF, CHINESE_MODE_ON, INIT, LF};
use crate::wire::WireError;
use crate::{Receipt, ReceiptLine};

/// The most data bytes a QR code can hold (numeric mode, model 2, version
/// 40, level L). Longer payloads are refused rather than cut short.
pub const QR_MAX_DATA_LEN: usize = 7089;

/// QR code model (GS ( k function 65).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrModel {
    /// Model 1 (`n1` = 49).
    Model1,
    /// Model 2 (`n1` = 50), what phones read best.
    Model2,
}

/// QR error correction level (GS ( k function 69, `n` = 48–51).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrErrorCorrection {
    /// L, about 7 % recoverable (48).
    L,
    /// M, about 15 % recoverable (49).
    M,
    /// Q, about 25 % recoverable (50).
    Q,
    /// H, about 30 % recoverable (51).
    H,
}

impl QrErrorCorrection {
    /// The `n` byte of function 69.
    pub fn to_byte(self) -> u8 {
        match self {
            QrErrorCorrection::L => 48,
            QrErrorCorrection::M => 49,
            QrErrorCorrection::Q => 50,
            QrErrorCorrection::H => 51,
        }
    }
}

/// How a QR code is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QrOptions {
    /// The model; default model 2.
    pub model: QrModel,
    /// Module (dot) size 1–16; default 6. Out-of-range values are clamped.
    pub module_size: u8,
    /// Error correction; default M.
    pub error_correction: QrErrorCorrection,
}

impl Default for QrOptions {
    fn default() -> QrOptions {
        QrOptions {
            model: QrModel::Model2,
            module_size: 6,
            error_correction: QrErrorCorrection::M,
        }
    }
}

/// Builds an ESC/POS byte stream.
///
/// ```
/// use kiosk_hal::wire::escpos::{CutMode, Encoder};
/// let mut e = Encoder::new();
/// e.init().bold(true).text("缴费凭据").bold(false).line_feed().cut(CutMode::Partial);
/// let bytes = e.finish();
/// assert_eq!(&bytes[..2], &[0x1B, 0x40]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty stream.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// ESC @ (`1B 40`): initialise.
    pub fn init(&mut self) -> &mut Encoder {
        self.raw(&INIT)
    }

    /// LF (`0A`): print the line.
    pub fn line_feed(&mut self) -> &mut Encoder {
        self.raw(&[LF])
    }

    /// Text. Pure ASCII goes out as is; text with any other character goes
    /// out as GBK inside FS & … FS . (ASCII stays single-byte in that mode).
    /// Control characters become spaces; characters GBK lacks become `?`.
    pub fn text(&mut self, text: &str) -> &mut Encoder {
        if text.is_ascii() {
            self.buf.extend(
                text.bytes()
                    .map(|b| if b < 0x20 || b == 0x7F { b' ' } else { b }),
            );
            return self;
        }
        self.buf.extend_from_slice(&CHINESE_MODE_ON);
        for c in text.chars() {
            encode_gbk_char(c, &mut self.buf);
        }
        self.buf.extend_from_slice(&CHINESE_MODE_OFF);
        self
    }

    /// ESC E n (`1B 45 n`): bold on or off.
    pub fn bold(&mut self, on: bool) -> &mut Encoder {
        self.raw(&[0x1B, 0x45, u8::from(on)])
    }

    /// ESC d n (`1B 64 n`): print the buffer and feed `lines` lines.
    pub fn feed(&mut self, lines: u8) -> &mut Encoder {
        self.raw(&[0x1B, 0x64, lines])
    }

    /// GS V: cut.
    pub fn cut(&mut self, mode: CutMode) -> &mut Encoder {
        self.buf.extend_from_slice(&mode.to_bytes());
        self
    }

    /// FS & / FS .: enter or leave Chinese two-byte mode explicitly.
    pub fn chinese_mode(&mut self, on: bool) -> &mut Encoder {
        self.raw(if on {
            &CHINESE_MODE_ON
        } else {
            &CHINESE_MODE_OFF
        })
    }

    /// GS a n (`1D 61 n`): automatic status back; 0 turns it off.
    pub fn auto_status_back(&mut self, n: u8) -> &mut Encoder {
        self.raw(&[0x1D, 0x61, n])
    }

    /// A QR code: model (fn 65), module size (fn 67), error correction
    /// (fn 69), store `payload` as UTF-8 (fn 80) and print (fn 81).
    ///
    /// Errors with [`WireError::BadLength`] (writing nothing) when the
    /// payload is empty or longer than [`QR_MAX_DATA_LEN`] bytes.
    pub fn qr(&mut self, payload: &str, options: &QrOptions) -> Result<&mut Encoder, WireError> {
        let data = payload.as_bytes();
        if data.is_empty() || data.len() > QR_MAX_DATA_LEN {
            return Err(WireError::BadLength(data.len()));
        }
        let model = match options.model {
            QrModel::Model1 => 49,
            QrModel::Model2 => 50,
        };
        self.gs_k(&[0x41, model, 0x00]);
        self.gs_k(&[0x43, options.module_size.clamp(1, 16)]);
        self.gs_k(&[0x45, options.error_correction.to_byte()]);
        // pL pH = data length + 3 (cn, fn, m); fits: QR_MAX_DATA_LEN + 3 < 65536.
        let [pl, ph] = ((data.len() + 3) as u16).to_le_bytes();
        self.raw(&[0x1D, 0x28, 0x6B, pl, ph, 0x31, 0x50, 0x30]);
        self.raw(data);
        self.gs_k(&[0x51, 0x30]);
        Ok(self)
    }

    /// Appends bytes as they are (for commands this encoder lacks).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Encoder {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished stream.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// GS ( k with cn = 49 and a short parameter list starting with fn.
    fn gs_k(&mut self, fn_and_params: &[u8]) {
        // At most 3 bytes here: pL = len + 1 (cn), pH = 0.
        let pl = (fn_and_params.len() + 1) as u8;
        self.raw(&[0x1D, 0x28, 0x6B, pl, 0x00, 0x31]);
        self.raw(fn_and_params);
    }
}

/// One character as GBK: two bytes, or `?` when GBK has no two-byte code
/// for it (a single-byte mapping such as `€` → 0x80 is not trusted either).
fn encode_gbk_char(c: char, out: &mut Vec<u8>) {
    if c.is_ascii() {
        let b = c as u8;
        out.push(if b < 0x20 || b == 0x7F { b' ' } else { b });
        return;
    }
    if c.is_control() {
        out.push(b' ');
        return;
    }
    let mut tmp = [0u8; 4];
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(c.encode_utf8(&mut tmp));
    if !had_errors && bytes.len() == 2 {
        out.extend_from_slice(&bytes);
    } else {
        out.push(b'?');
    }
}

/// The bytes for a receipt: initialise, each line, then feed and full cut.
///
/// `Text` lines are text plus LF; `Bold` lines are wrapped in bold on/off;
/// `Qr` lines print a QR code with [`QrOptions::default`] (a payload a QR
/// code cannot hold is printed as text instead). The receipt's `reference`
/// is not printed by itself: put it in a line.
pub fn render_receipt(receipt: &Receipt) -> Vec<u8> {
    let mut e = Encoder::new();
    e.init();
    for line in &receipt.lines {
        match line {
            ReceiptLine::Text(t) => {
                e.text(t).line_feed();
            }
            ReceiptLine::Bold(t) => {
                e.bold(true).text(t).bold(false).line_feed();
            }
            ReceiptLine::Qr(payload) => {
                if e.qr(payload, &QrOptions::default()).is_err() {
                    e.text(payload).line_feed();
                }
            }
        }
    }
    e.cut(CutMode::FeedAndFull(3));
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_commands() {
        let mut e = Encoder::new();
        e.init()
            .text("Total 50.00")
            .line_feed()
            .bold(true)
            .bold(false)
            .feed(2)
            .cut(CutMode::Full)
            .cut(CutMode::Partial)
            .cut(CutMode::FeedAndFull(3))
            .auto_status_back(0x0F);
        let expected: &[u8] = &[
            0x1B, 0x40, b'T', b'o', b't', b'a', b'l', b' ', b'5', b'0', b'.', b'0', b'0', 0x0A,
            0x1B, 0x45, 0x01, 0x1B, 0x45, 0x00, 0x1B, 0x64, 0x02, 0x1D, 0x56, 0x00, 0x1D, 0x56,
            0x01, 0x1D, 0x56, 0x41, 0x03, 0x1D, 0x61, 0x0F,
        ];
        assert_eq!(e.as_bytes(), expected);
    }

    #[test]
    fn chinese_text_is_gbk_in_two_byte_mode() {
        let mut e = Encoder::new();
        e.text("缴费 1元");
        // 缴 = BD C9, 费 = B7 D1, 元 = D4 AA in GBK.
        assert_eq!(
            e.as_bytes(),
            &[0x1C, 0x26, 0xBD, 0xC9, 0xB7, 0xD1, b' ', b'1', 0xD4, 0xAA, 0x1C, 0x2E]
        );
    }

    #[test]
    fn text_cannot_inject_commands_and_unmappable_becomes_question_mark() {
        let mut e = Encoder::new();
        e.text("a\x1B@\n");
        assert_eq!(e.as_bytes(), b"a @ ");
        let mut e = Encoder::new();
        e.text("€😀\u{85}");
        assert_eq!(e.as_bytes(), &[0x1C, 0x26, b'?', b'?', b' ', 0x1C, 0x2E]);
    }

    #[test]
    fn qr_code_commands() {
        let mut e = Encoder::new();
        e.qr("AB", &QrOptions::default()).unwrap();
        let expected: &[u8] = &[
            0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00, // model 2
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06, // module size 6
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31, // error correction M
            0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B', // store
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, // print
        ];
        assert_eq!(e.as_bytes(), expected);
        let long = "9".repeat(QR_MAX_DATA_LEN + 1);
        assert_eq!(
            e.qr(&long, &QrOptions::default()).err(),
            Some(WireError::BadLength(QR_MAX_DATA_LEN + 1))
        );
        assert_eq!(e.as_bytes(), expected);
    }

    #[test]
    fn receipt_ends_with_a_cut() {
        let r = Receipt {
            reference: "R1".into(),
            lines: vec![
                ReceiptLine::Bold("Paid".into()),
                ReceiptLine::Text("R1".into()),
            ],
        };
        let bytes = render_receipt(&r);
        let expected: &[u8] = &[
            0x1B, 0x40, 0x1B, 0x45, 0x01, b'P', b'a', b'i', b'd', 0x1B, 0x45, 0x00, 0x0A, b'R',
            b'1', 0x0A, 0x1D, 0x56, 0x41, 0x03,
        ];
        assert_eq!(bytes, expected);
    }
}
