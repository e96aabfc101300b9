//! One command at the start of a buffer, decoded by its defined length.
//!
//! Lengths follow Epson's ESC/POS command reference (TM-T88 / TM-T20
//! family); where python-escpos sends something else, see the test vectors
//! in `kiosk-hal/tests/vectors/escpos/`. Every command consumes exactly
//! its defined bytes, so parameter and data bytes are never read as
//! commands or text.

use super::command::{Image, ImageFormat, PrinterCommand, QrSetting};
use super::decoder::MAX_TEXT_RUN;
use super::CutMode;

const DLE: u8 = 0x10;
const ESC: u8 = 0x1B;
const FS: u8 = 0x1C;
const GS: u8 = 0x1D;

/// The longest NUL-terminated GS k (function A) data: 255 bytes.
const BARCODE_A_MAX_DATA: usize = 255;
/// ESC D sets at most 32 tab positions before its NUL.
const MAX_TABS: usize = 32;

/// What [`parse`] found at the start of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// More bytes are needed to know the command (or to end a text run).
    Incomplete,
    /// A command and the bytes it used, all of them in the buffer.
    Done(PrinterCommand, usize),
    /// The command's first `head` bytes are in the buffer; `data` more bytes
    /// belong to it and are passed over as they arrive, then `cmd` is done.
    Skip {
        /// The command, returned once its data has been passed over.
        cmd: PrinterCommand,
        /// Bytes of the buffer the command's fixed part uses.
        head: usize,
        /// Data bytes after the fixed part.
        data: usize,
    },
}

/// Parameter bytes after `ESC x` for fixed-length ESC commands the decoder
/// does not interpret.
fn esc_params(x: u8) -> Option<usize> {
    Some(match x {
        // ESC FF (print in page mode), ESC 2 (default line spacing),
        // ESC < (return home), ESC L / ESC S (page / standard mode).
        0x0C | b'2' | b'<' | b'L' | b'S' => 0,
        // ESC SP ! % - 3 = ? G J K M R T U V a e r t u {: one parameter.
        b' ' | b'!' | b'%' | b'-' | b'3' | b'=' | b'?' | b'G' | b'J' | b'K' | b'M' | b'R'
        | b'T' | b'U' | b'V' | b'a' | b'e' | b'r' | b't' | b'u' | b'{' => 1,
        // ESC $ nL nH, ESC \ nL nH, ESC c x n (panel / paper sensors), ESC f t n.
        b'$' | b'\\' | b'c' | b'f' => 2,
        // ESC W xL xH yL yH dxL dxH dyL dyH (page mode print area).
        b'W' => 8,
        _ => return None,
    })
}

/// Parameter bytes after `GS x` for fixed-length GS commands the decoder
/// does not interpret.
fn gs_params(x: u8) -> Option<usize> {
    Some(match x {
        // GS : (macro start/end), GS c (print counter).
        b':' | b'c' => 0,
        // GS ! / B E H T b f h j r w: one parameter.
        b'!' | b'/' | b'B' | b'E' | b'H' | b'T' | b'b' | b'f' | b'h' | b'j' | b'r' | b'w' => 1,
        // GS $ nL nH, GS L nL nH, GS P x y, GS W nL nH, GS \ nL nH.
        b'$' | b'L' | b'P' | b'W' | b'\\' => 2,
        // GS ^ r t m (run macro), GS z 0 t1 t2 (online recovery wait).
        b'^' | b'z' => 3,
        // GS g 0 m nL nH / GS g 2 m nL nH (maintenance counters).
        b'g' => 4,
        _ => return None,
    })
}

/// Parameter bytes after `FS x` for fixed-length FS commands.
fn fs_params(x: u8) -> Option<usize> {
    Some(match x {
        // FS ! n (Kanji print mode), FS - n (Kanji underline), FS C n
        // (Kanji code system), FS W n (Kanji quadruple size).
        b'!' | b'-' | b'C' | b'W' => 1,
        // FS S n1 n2 (Kanji spacing), FS p n m (print NV bit image).
        b'S' | b'p' => 2,
        _ => return None,
    })
}

/// Decodes the command at the start of `buf` in single-byte or (if
/// `chinese`) GBK text mode.
pub(super) fn parse(buf: &[u8], chinese: bool) -> Step {
    use PrinterCommand as C;
    let Some(&first) = buf.first() else {
        return Step::Incomplete;
    };
    match first {
        0x0A => Step::Done(C::LineFeed, 1),
        // HT, FF, CR, CAN: valid one-byte commands with nothing to show.
        0x09 | 0x0C | 0x0D | 0x18 => ignored(buf, 1),
        DLE => parse_dle(buf),
        ESC => parse_esc(buf),
        FS => parse_fs(buf),
        GS => parse_gs(buf),
        0x00..=0x1F | 0x7F => Step::Done(C::Unknown(vec![first]), 1),
        _ => parse_text(buf, chinese, false),
    }
}

/// `PREFIX x` where `x` starts no command this decoder knows: a decode
/// error. Two bytes are consumed, unless `x` is a control byte (which
/// starts its own command or text), then only the prefix.
fn unknown_command(buf: &[u8]) -> Step {
    match buf.get(1) {
        None => Step::Incomplete,
        Some(&x) if x < 0x20 => Step::Done(PrinterCommand::Unknown(buf[..1].to_vec()), 1),
        Some(_) => Step::Done(PrinterCommand::Unknown(buf[..2].to_vec()), 2),
    }
}

/// The first `n` bytes as an [`PrinterCommand::Ignored`] command, once they are in.
fn ignored(buf: &[u8], n: usize) -> Step {
    match buf.get(..n) {
        Some(head) => Step::Done(
            PrinterCommand::Ignored {
                head: head.to_vec(),
                data_len: 0,
            },
            n,
        ),
        None => Step::Incomplete,
    }
}

/// The first `n` bytes as a decode error (a length-defining parameter out of range).
fn bad(buf: &[u8], n: usize) -> Step {
    match buf.get(..n) {
        Some(b) => Step::Done(PrinterCommand::Unknown(b.to_vec()), n),
        None => Step::Incomplete,
    }
}

/// A `head`-byte fixed part followed by `data` bytes passed over unseen.
fn ignored_with_data(buf: &[u8], head: usize, data: usize) -> Step {
    match buf.get(..head) {
        Some(h) => Step::Skip {
            cmd: PrinterCommand::Ignored {
                head: h.to_vec(),
                data_len: data,
            },
            head,
            data,
        },
        None => Step::Incomplete,
    }
}

/// The byte at `i`, then `f` of it as a command of `i + 1` bytes.
fn param(buf: &[u8], i: usize, f: impl FnOnce(u8) -> PrinterCommand) -> Step {
    match buf.get(i) {
        Some(&p) => Step::Done(f(p), i + 1),
        None => Step::Incomplete,
    }
}

fn le16(lo: u8, hi: u8) -> usize {
    usize::from(u16::from_le_bytes([lo, hi]))
}

fn parse_dle(buf: &[u8]) -> Step {
    match buf.get(1) {
        None => Step::Incomplete,
        // DLE EOT n: real-time status.
        Some(0x04) => param(buf, 2, PrinterCommand::RealTimeStatus),
        // DLE ENQ n: real-time request to the printer.
        Some(0x05) => ignored(buf, 3),
        // DLE DC4 fn …: fn 1 (pulse m t) and 2 (power off a b) 5 bytes,
        // fn 7 (transmit status m) 4 bytes, fn 8 (clear buffers d1…d7) 10.
        Some(0x14) => match buf.get(2) {
            None => Step::Incomplete,
            Some(1 | 2) => ignored(buf, 5),
            Some(7) => ignored(buf, 4),
            Some(8) => ignored(buf, 10),
            Some(_) => bad(buf, 3),
        },
        // A lone DLE is a stray control byte.
        Some(_) => Step::Done(PrinterCommand::Unknown(vec![DLE]), 1),
    }
}

fn parse_esc(buf: &[u8]) -> Step {
    use PrinterCommand as C;
    let Some(&x) = buf.get(1) else {
        return Step::Incomplete;
    };
    match x {
        b'@' => Step::Done(C::Init, 2),
        b'E' => param(buf, 2, |n| C::Bold(n & 1 == 1)),
        b'd' => param(buf, 2, C::Feed),
        // ESC i / ESC m: partial cut (one / three points left), older models.
        b'i' | b'm' => Step::Done(C::Cut(CutMode::Partial), 2),
        b'p' => match buf.get(2..5) {
            Some(&[pin, on, off]) => Step::Done(C::DrawerPulse { pin, on, off }, 5),
            _ => Step::Incomplete,
        },
        b'*' => parse_bit_image(buf),
        b'D' => parse_tabs(buf),
        b'&' => parse_user_chars(buf),
        // ESC ( x pL pH …: beeper, etc.
        b'(' => parse_pl_ph(buf),
        _ => match esc_params(x) {
            Some(n) => ignored(buf, 2 + n),
            None => unknown_command(buf),
        },
    }
}

/// ESC * m nL nH d…: (nL + nH × 256) columns of 1 (m 0, 1) or 3 (m 32, 33) bytes.
fn parse_bit_image(buf: &[u8]) -> Step {
    let Some(&[m, nl, nh]) = buf.get(2..5) else {
        return match buf.get(2) {
            Some(m) if !matches!(m, 0 | 1 | 32 | 33) => bad(buf, 3),
            _ => Step::Incomplete,
        };
    };
    let bytes_per_column = match m {
        0 | 1 => 1,
        32 | 33 => 3,
        _ => return bad(buf, 3),
    };
    let columns = le16(nl, nh);
    let data = columns * bytes_per_column;
    Step::Skip {
        cmd: PrinterCommand::Image(Image {
            format: ImageFormat::Column,
            mode: m,
            width_dots: columns as u32,
            height_dots: 8 * bytes_per_column as u32,
            data_len: data,
        }),
        head: 5,
        data,
    }
}

/// ESC D n1 … nk NUL: up to 32 tab positions; without a NUL the command
/// ends after the 32nd and what follows is ordinary data.
fn parse_tabs(buf: &[u8]) -> Step {
    let values = buf.get(2..).unwrap_or_default();
    match values.iter().take(MAX_TABS + 1).position(|&b| b == 0) {
        Some(nul) => ignored(buf, 2 + nul + 1),
        None if values.len() > MAX_TABS => ignored(buf, 2 + MAX_TABS),
        None => Step::Incomplete,
    }
}

/// ESC & y c1 c2 [x d1 … d(y × x)] for each character c1..=c2: user-defined
/// characters. y is 1–3 bytes per column, c1 ≤ c2 in 32–126, x ≤ 12 dots.
fn parse_user_chars(buf: &[u8]) -> Step {
    let Some(&[y, c1, c2]) = buf.get(2..5) else {
        return Step::Incomplete;
    };
    if !(1..=3).contains(&y) || !(32..=126).contains(&c1) || !(c1..=126).contains(&c2) {
        return bad(buf, 5);
    }
    let mut at = 5;
    for _ in c1..=c2 {
        let Some(&x) = buf.get(at) else {
            return Step::Incomplete;
        };
        if x > 12 {
            return bad(buf, at + 1);
        }
        at += 1 + usize::from(y) * usize::from(x);
    }
    ignored(buf, at)
}

/// `PREFIX ( x pL pH …`: (pL + pH × 256) parameter bytes, passed over.
fn parse_pl_ph(buf: &[u8]) -> Step {
    match buf.get(2..5) {
        Some(&[_, pl, ph]) => ignored_with_data(buf, 5, le16(pl, ph)),
        _ => Step::Incomplete,
    }
}

fn parse_fs(buf: &[u8]) -> Step {
    use PrinterCommand as C;
    let Some(&x) = buf.get(1) else {
        return Step::Incomplete;
    };
    match x {
        b'&' => Step::Done(C::ChineseMode(true), 2),
        b'.' => Step::Done(C::ChineseMode(false), 2),
        b'(' => parse_pl_ph(buf),
        // FS g 1 m a1 a2 a3 a4 nL nH d…: write NV user memory;
        // FS g 2 m a1 a2 a3 a4 nL nH: read it.
        b'g' => match buf.get(2) {
            None => Step::Incomplete,
            Some(b'1') => match buf.get(8..10) {
                Some(&[nl, nh]) => ignored_with_data(buf, 10, le16(nl, nh)),
                _ => Step::Incomplete,
            },
            Some(b'2') => ignored(buf, 10),
            Some(_) => bad(buf, 3),
        },
        _ => match fs_params(x) {
            Some(n) => ignored(buf, 2 + n),
            None => unknown_command(buf),
        },
    }
}

fn parse_gs(buf: &[u8]) -> Step {
    use PrinterCommand as C;
    let Some(&x) = buf.get(1) else {
        return Step::Incomplete;
    };
    match x {
        b'V' => parse_cut(buf),
        b'a' => param(buf, 2, C::AutoStatusBack),
        b'I' => param(buf, 2, C::TransmitPrinterId),
        b'k' => parse_barcode(buf),
        b'(' if buf.get(2) == Some(&b'k') => parse_gs_k(buf),
        b'(' => parse_pl_ph(buf),
        // GS v 0 m xL xH yL yH d…: (xL + xH × 256) × (yL + yH × 256) bytes.
        b'v' => match buf.get(2) {
            None => Step::Incomplete,
            Some(b'0') => match buf.get(3..8) {
                Some(&[m, xl, xh, yl, yh]) => {
                    let (width_bytes, height) = (le16(xl, xh), le16(yl, yh));
                    let data = width_bytes * height;
                    Step::Skip {
                        cmd: C::Image(Image {
                            format: ImageFormat::Raster,
                            mode: m,
                            width_dots: 8 * width_bytes as u32,
                            height_dots: height as u32,
                            data_len: data,
                        }),
                        head: 8,
                        data,
                    }
                }
                _ => Step::Incomplete,
            },
            Some(_) => bad(buf, 3),
        },
        // GS 8 L p1 p2 p3 p4 …: graphics data with a four-byte length.
        b'8' => match buf.get(2) {
            None => Step::Incomplete,
            Some(b'L') => match buf.get(3..7) {
                Some(&[p1, p2, p3, p4]) => {
                    let len = u32::from_le_bytes([p1, p2, p3, p4]);
                    match usize::try_from(len) {
                        Ok(data) => ignored_with_data(buf, 7, data),
                        Err(_) => bad(buf, 7),
                    }
                }
                _ => Step::Incomplete,
            },
            Some(_) => bad(buf, 3),
        },
        // GS * x y d…: downloaded bit image of x × y × 8 bytes.
        b'*' => match buf.get(2..4) {
            Some(&[cx, cy]) => ignored_with_data(buf, 4, usize::from(cx) * usize::from(cy) * 8),
            _ => Step::Incomplete,
        },
        _ => match gs_params(x) {
            Some(n) => ignored(buf, 2 + n),
            None => unknown_command(buf),
        },
    }
}

/// GS V m (m 0, 1, 48, 49) or GS V m n (m 65, 66, 97, 98, 103, 104).
fn parse_cut(buf: &[u8]) -> Step {
    use PrinterCommand as C;
    match buf.get(2) {
        None => Step::Incomplete,
        Some(0x00 | 0x30) => Step::Done(C::Cut(CutMode::Full), 3),
        Some(0x01 | 0x31) => Step::Done(C::Cut(CutMode::Partial), 3),
        Some(65 | 97 | 103) => param(buf, 3, |n| C::Cut(CutMode::FeedAndFull(n))),
        Some(66 | 98 | 104) => param(buf, 3, |n| C::Cut(CutMode::FeedAndPartial(n))),
        Some(_) => bad(buf, 3),
    }
}

/// GS k m d1 … dk NUL (m 0–6) or GS k m n d1 … dn (m 65–79).
fn parse_barcode(buf: &[u8]) -> Step {
    let Some(&m) = buf.get(2) else {
        return Step::Incomplete;
    };
    let barcode = |data: &[u8]| PrinterCommand::Barcode {
        system: m,
        data: data.to_vec(),
    };
    match m {
        0..=6 => {
            let data = buf.get(3..).unwrap_or_default();
            match data
                .iter()
                .take(BARCODE_A_MAX_DATA + 1)
                .position(|&b| b == 0)
            {
                Some(nul) => Step::Done(barcode(&data[..nul]), 3 + nul + 1),
                // No NUL within the longest data: a decode error; the
                // bytes after GS k m are ordinary data again.
                None if data.len() > BARCODE_A_MAX_DATA => bad(buf, 3),
                None => Step::Incomplete,
            }
        }
        65..=79 => match buf.get(3) {
            None => Step::Incomplete,
            Some(&n) => {
                let end = 4 + usize::from(n);
                match buf.get(4..end) {
                    Some(data) => Step::Done(barcode(data), end),
                    None => Step::Incomplete,
                }
            }
        },
        _ => bad(buf, 3),
    }
}

/// GS ( k pL pH cn fn …: 2D codes. The whole command is buffered (at most
/// 65 540 bytes) because QR data is kept; other symbols are passed over.
fn parse_gs_k(buf: &[u8]) -> Step {
    use PrinterCommand as C;
    let Some(&[pl, ph]) = buf.get(3..5) else {
        return Step::Incomplete;
    };
    let end = 5 + le16(pl, ph);
    let Some(cmd) = buf.get(..end) else {
        return Step::Incomplete;
    };
    let decoded = match &cmd[5..] {
        [0x31, 0x41, n1, _] => C::QrSetting(QrSetting::Model(*n1)),
        [0x31, 0x43, n] => C::QrSetting(QrSetting::ModuleSize(*n)),
        [0x31, 0x45, n] => C::QrSetting(QrSetting::ErrorCorrection(*n)),
        [0x31, 0x50, 0x30, data @ ..] => C::QrStore(String::from_utf8_lossy(data).into_owned()),
        [0x31, 0x51, 0x30] => C::QrPrint,
        params => C::Ignored {
            head: cmd[..5].to_vec(),
            data_len: params.len(),
        },
    };
    Step::Done(decoded, end)
}

fn is_gbk_lead(b: u8) -> bool {
    (0x81..=0xFE).contains(&b)
}

fn is_gbk_trail(b: u8) -> bool {
    (0x40..=0x7E).contains(&b) || (0x80..=0xFE).contains(&b)
}

/// A text run at the start of `buf`: printable ASCII, and in Chinese mode
/// GBK pairs. Ends before a control byte; `Incomplete` when the buffer ends
/// first (unless `eof`).
pub(super) fn parse_text(buf: &[u8], chinese: bool, eof: bool) -> Step {
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
        // Only reached with a control byte first, which `parse` handles.
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

    /// Commands with the length Epson's reference gives them. Each must use
    /// exactly its bytes: the `Z` after it is left for the next command.
    const COMMANDS: &[(&str, &[u8])] = &[
        ("HT", &[0x09]),
        ("CR", &[0x0D]),
        ("DLE EOT n", &[0x10, 0x04, 0x01]),
        ("DLE ENQ n", &[0x10, 0x05, 0x02]),
        ("DLE DC4 1 m t (pulse)", &[0x10, 0x14, 0x01, 0x00, 0x05]),
        ("DLE DC4 2 a b (power off)", &[0x10, 0x14, 0x02, 0x01, 0x08]),
        ("DLE DC4 7 m", &[0x10, 0x14, 0x07, 0x01]),
        (
            "DLE DC4 8 d1..d7",
            &[0x10, 0x14, 0x08, 1, 3, 20, 1, 6, 2, 8],
        ),
        ("ESC SP n", b"\x1B \x00"),
        ("ESC ! n", b"\x1B!\x30"),
        ("ESC $ nL nH", b"\x1B$\x10\x00"),
        ("ESC % n", b"\x1B%\x01"),
        (
            "ESC & y c1 c2 (2 chars)",
            b"\x1B&\x03AB\x01\x0A\x0B\x0C\x00",
        ),
        ("ESC * 0 nL nH (8-dot)", b"\x1B*\x00\x03\x00\x0A\x1D\x56"),
        ("ESC * 33 nL nH (24-dot)", b"\x1B*\x21\x01\x00\x1D\x56\x00"),
        ("ESC - n", b"\x1B-\x01"),
        ("ESC 2", b"\x1B2"),
        ("ESC 3 n", b"\x1B3\x10"),
        ("ESC = n", b"\x1B=\x01"),
        ("ESC ? n", b"\x1B?\x41"),
        ("ESC @", b"\x1B@"),
        ("ESC D n.. NUL", b"\x1BD\x08\x10\x18\x00"),
        ("ESC E n", b"\x1BE\x01"),
        ("ESC G n", b"\x1BG\x01"),
        ("ESC J n", b"\x1BJ\x40"),
        ("ESC M n", b"\x1BM\x01"),
        ("ESC R n", b"\x1BR\x0F"),
        ("ESC T n", b"\x1BT\x00"),
        ("ESC V n", b"\x1BV\x01"),
        ("ESC W (8 params)", b"\x1BW\x00\x00\x00\x00\x00\x02\x00\x02"),
        ("ESC \\ nL nH", b"\x1B\\\x10\x00"),
        ("ESC a n", b"\x1Ba\x01"),
        ("ESC c 5 n", b"\x1Bc5\x01"),
        ("ESC d n", b"\x1Bd\x06"),
        ("ESC i", b"\x1Bi"),
        ("ESC m", b"\x1Bm"),
        ("ESC p m t1 t2", b"\x1Bp\x00\x0A\x1D"),
        ("ESC t n", b"\x1Bt\x00"),
        ("ESC { n", b"\x1B{\x01"),
        ("ESC ( A pL pH (beeper)", b"\x1B(A\x04\x00\x30\x1D\x56\x00"),
        ("FS !", b"\x1C!\x04"),
        ("FS &", b"\x1C&"),
        ("FS -", b"\x1C-\x01"),
        ("FS .", b"\x1C."),
        ("FS C n", b"\x1CC\x01"),
        ("FS S n1 n2", b"\x1CS\x00\x01"),
        ("FS W n", b"\x1CW\x01"),
        ("FS p n m", b"\x1Cp\x01\x00"),
        ("FS ( A pL pH", b"\x1C(A\x02\x00\x30\x00"),
        (
            "FS g 1 (write NV memory)",
            b"\x1Cg1\x00\x00\x00\x00\x00\x02\x00\x1B\x40",
        ),
        (
            "FS g 2 (read NV memory)",
            b"\x1Cg2\x00\x00\x00\x00\x00\x02\x00",
        ),
        ("GS ! n", b"\x1D!\x11"),
        ("GS $ nL nH", b"\x1D$\x00\x01"),
        ("GS ( k QR store", b"\x1D(k\x05\x001P0AB"),
        ("GS ( k PDF417", b"\x1D(k\x03\x00\x30\x41\x00"),
        (
            "GS ( L pL pH (graphics)",
            b"\x1D(L\x06\x00\x30\x70\x0A\x0A\x1D\x56",
        ),
        (
            "GS * x y d",
            b"\x1D*\x01\x01\x0A\x0A\x0A\x0A\x0A\x0A\x0A\x0A",
        ),
        ("GS / m", b"\x1D/\x00"),
        ("GS 8 L p1..p4", b"\x1D8L\x03\x00\x00\x00\x30\x32\x0A"),
        ("GS :", b"\x1D:"),
        ("GS B n", b"\x1DB\x01"),
        ("GS H n", b"\x1DH\x02"),
        ("GS I n", b"\x1DI\x01"),
        ("GS L nL nH", b"\x1DL\x00\x00"),
        ("GS P x y", b"\x1DP\xB4\xB4"),
        ("GS V 0", b"\x1DV\x00"),
        ("GS V 49", b"\x1DV\x31"),
        ("GS V 65 n", b"\x1DV\x41\x03"),
        ("GS V 66 n", b"\x1DV\x42\x00"),
        ("GS V 104 n", b"\x1DV\x68\x05"),
        ("GS W nL nH", b"\x1DW\x40\x02"),
        ("GS ^ r t m", b"\x1D^\x01\x00\x00"),
        ("GS a n", b"\x1Da\x0F"),
        ("GS b n", b"\x1Db\x01"),
        ("GS f n", b"\x1Df\x00"),
        ("GS g 0 m nL nH", b"\x1Dg0\x00\x14\x00"),
        ("GS h n", b"\x1Dh\xA2"),
        ("GS k 4 d.. NUL (CODE39)", b"\x1Dk\x04AB-1\x00"),
        ("GS k 73 n d.. (CODE128)", b"\x1DkI\x04{B\x0A\x00"),
        ("GS r n", b"\x1Dr\x01"),
        (
            "GS v 0 m xL xH yL yH",
            b"\x1Dv0\x00\x02\x00\x02\x00\x1D\x56\x00\x0A",
        ),
        ("GS w n", b"\x1Dw\x03"),
        ("GS z 0 t1 t2", b"\x1Dz0\x01\x01"),
    ];

    /// Bytes `parse` says the command at the start of `buf` uses.
    fn used(buf: &[u8]) -> Option<usize> {
        match parse(buf, false) {
            Step::Done(_, n) => Some(n),
            Step::Skip { head, data, .. } => Some(head + data),
            Step::Incomplete => None,
        }
    }

    #[test]
    fn every_command_uses_exactly_its_defined_length() {
        for (name, cmd) in COMMANDS {
            let with_next = [*cmd, b"Z"].concat();
            assert_eq!(used(&with_next), Some(cmd.len()), "{name}");
            assert!(
                !matches!(parse(cmd, false), Step::Done(PrinterCommand::Unknown(_), _)),
                "{name} is known"
            );
            // One byte short: never complete (data commands have their head in).
            for cut in 1..cmd.len() {
                match parse(&cmd[..cut], false) {
                    Step::Incomplete => {}
                    Step::Skip { head, data, .. } => assert_eq!(head + data, cmd.len(), "{name}"),
                    other => panic!("{name} cut at {cut}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn lengths_come_from_the_parameters() {
        let skip = |b: &[u8]| match parse(b, false) {
            Step::Skip { cmd, head, data } => (cmd, head, data),
            other => panic!("{other:?}"),
        };
        // GS v 0: 3 bytes wide × 258 rows.
        let (cmd, head, data) = skip(b"\x1Dv0\x30\x03\x00\x02\x01");
        assert_eq!((head, data), (8, 3 * 258));
        assert_eq!(
            cmd,
            PrinterCommand::Image(Image {
                format: ImageFormat::Raster,
                mode: 0x30,
                width_dots: 24,
                height_dots: 258,
                data_len: 774,
            })
        );
        // ESC *: 300 columns, 1 byte each (m 1) or 3 (m 32).
        assert_eq!(skip(b"\x1B*\x01\x2C\x01").2, 300);
        assert_eq!(skip(b"\x1B*\x20\x2C\x01").2, 900);
        // GS 8 L: four-byte length.
        assert_eq!(skip(b"\x1D8L\x00\x00\x01\x00").2, 65536);
        // GS * x y: x × y × 8.
        assert_eq!(skip(b"\x1D*\x02\x03").2, 48);
        // GS ( k QR store keeps its data.
        assert_eq!(
            parse(b"\x1D(k\x06\x001P0\x1DV\x00", false),
            Step::Done(PrinterCommand::QrStore("\u{1D}V\0".into()), 11)
        );
    }

    #[test]
    fn out_of_range_length_parameters_are_decode_errors() {
        let unknown = |b: &[u8]| match parse(b, false) {
            Step::Done(PrinterCommand::Unknown(u), n) => {
                assert_eq!(u.len(), n);
                u
            }
            other => panic!("{b:02X?}: {other:?}"),
        };
        assert_eq!(unknown(b"\x1B*\x02\x01\x00"), b"\x1B*\x02");
        assert_eq!(unknown(b"\x1DV\x07"), b"\x1DV\x07");
        assert_eq!(unknown(b"\x1Dk\x07AB\x00"), b"\x1Dk\x07");
        assert_eq!(unknown(b"\x1Dk\x50\x01A"), b"\x1Dk\x50");
        assert_eq!(unknown(b"\x10\x14\x03"), b"\x10\x14\x03");
        assert_eq!(unknown(b"\x1B&\x04AA"), b"\x1B&\x04AA");
        assert_eq!(unknown(b"\x1B&\x03AA\x0D"), b"\x1B&\x03AA\x0D");
        // GS k A form without a NUL in 255 bytes.
        let long = [b"\x1Dk\x04".as_slice(), &[b'A'; 256]].concat();
        assert_eq!(unknown(&long), b"\x1Dk\x04");
        // Unknown second bytes.
        assert_eq!(unknown(b"\x1BB\x02\x02"), b"\x1BB");
        assert_eq!(unknown(b"\x1D|\x04"), b"\x1D|");
        assert_eq!(unknown(b"\x1C\x0A"), b"\x1C");
        // ESC D stops after 32 tab positions without a NUL.
        let tabs: Vec<u8> = [b"\x1BD".as_slice(), &[8; 33]].concat();
        assert_eq!(used(&tabs), Some(34));
    }
}
