//! GS I n: the printer's identity (transmit printer ID).
//!
//! ```text
//! host:    1D 49 n
//! printer: n = 1, 2, 3 (or 49, 50, 51): one byte, bits 4 and 7 clear
//!          n = 65–69: 5F, printable ASCII, 00
//! ```
//!
//! Epson's TM and RP specifications: model ID (e.g. `2C` for the
//! RP-U420), type ID (bit 0 two-byte characters, bit 1 cutter), firmware
//! ID; firmware version (`5F "1.28" 00`), maker (`5F "EPSON" 00`), model
//! name (`5F "RP-U420" 00`), serial number, fonts of the country
//! (`5F "CHINA GB18030" 00`). Bixolon answers the same form with up to 15
//! characters. A printer that does not know a form stays silent: the
//! driver times the request out and leaves that field unknown.

use crate::wire::WireError;

/// The longest text answer read (Epson's send buffer is 99 bytes).
pub const MAX_INFO_TEXT: usize = 80;

/// The header byte of a text answer (`_`).
pub const INFO_HEADER: u8 = 0x5F;

/// What GS I n asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrinterInfo {
    /// n = 1: the model ID byte.
    ModelId,
    /// n = 2: the type ID byte (fitted options).
    TypeId,
    /// n = 3: the firmware (ROM) version ID byte.
    FirmwareId,
    /// n = 65: the firmware version as text.
    FirmwareVersion,
    /// n = 66: the maker's name.
    Maker,
    /// n = 67: the model name.
    ModelName,
    /// n = 68: the serial number.
    SerialNumber,
    /// n = 69: the fonts of the country (`CHINA GB18030`).
    Fonts,
}

impl PrinterInfo {
    /// Every kind, in the order of its `n`.
    pub const ALL: [PrinterInfo; 8] = [
        PrinterInfo::ModelId,
        PrinterInfo::TypeId,
        PrinterInfo::FirmwareId,
        PrinterInfo::FirmwareVersion,
        PrinterInfo::Maker,
        PrinterInfo::ModelName,
        PrinterInfo::SerialNumber,
        PrinterInfo::Fonts,
    ];

    /// The `n` byte sent.
    pub fn n(self) -> u8 {
        match self {
            PrinterInfo::ModelId => 1,
            PrinterInfo::TypeId => 2,
            PrinterInfo::FirmwareId => 3,
            PrinterInfo::FirmwareVersion => 65,
            PrinterInfo::Maker => 66,
            PrinterInfo::ModelName => 67,
            PrinterInfo::SerialNumber => 68,
            PrinterInfo::Fonts => 69,
        }
    }

    /// The kind an `n` asks for (49–51 are the ASCII forms of 1–3).
    pub fn from_n(n: u8) -> Option<PrinterInfo> {
        Some(match n {
            1 | 49 => PrinterInfo::ModelId,
            2 | 50 => PrinterInfo::TypeId,
            3 | 51 => PrinterInfo::FirmwareId,
            65 => PrinterInfo::FirmwareVersion,
            66 => PrinterInfo::Maker,
            67 => PrinterInfo::ModelName,
            68 => PrinterInfo::SerialNumber,
            69 => PrinterInfo::Fonts,
            _ => return None,
        })
    }

    /// Whether the answer is text (`5F … 00`) rather than one byte.
    pub fn is_text(self) -> bool {
        self.n() >= 65
    }

    /// The request: `1D 49 n`.
    pub fn request(self) -> [u8; 3] {
        [0x1D, 0x49, self.n()]
    }
}

/// A printer's answer to GS I n.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InfoAnswer {
    /// A one-byte ID (n = 1, 2, 3).
    Byte(u8),
    /// A text answer (n = 65–69), without its header and NUL.
    Text(String),
}

impl InfoAnswer {
    /// Reads the answer to `info` at the start of `buf`; returns it and the
    /// bytes it took.
    ///
    /// Errors: [`WireError::Truncated`] while the answer is incomplete;
    /// [`WireError::InvalidByte`] for a one-byte ID with bit 4 or 7 set
    /// (an ASB or real-time status byte, not an ID) or a text answer not
    /// starting with `5F` or holding a byte that is not printable ASCII;
    /// [`WireError::BadLength`] for a text longer than [`MAX_INFO_TEXT`].
    pub fn parse(info: PrinterInfo, buf: &[u8]) -> Result<(InfoAnswer, usize), WireError> {
        let &first = buf.first().ok_or(WireError::Truncated)?;
        if !info.is_text() {
            if first & 0x90 != 0 {
                return Err(WireError::InvalidByte(first));
            }
            return Ok((InfoAnswer::Byte(first), 1));
        }
        if first != INFO_HEADER {
            return Err(WireError::InvalidByte(first));
        }
        let body = &buf[1..];
        let end = body.iter().position(|&b| b == 0);
        let text = &body[..end.unwrap_or(body.len())];
        if text.len() > MAX_INFO_TEXT {
            return Err(WireError::BadLength(text.len()));
        }
        if let Some(&bad) = text.iter().find(|b| !(b.is_ascii_graphic() || **b == b' ')) {
            return Err(WireError::InvalidByte(bad));
        }
        let Some(end) = end else {
            return Err(WireError::Truncated);
        };
        let text = String::from_utf8_lossy(text).trim().to_string();
        Ok((InfoAnswer::Text(text), end + 2))
    }

    /// The answer's bytes (the printer's side).
    ///
    /// Errors: as for [`parse`](InfoAnswer::parse): a byte with bit 4 or 7
    /// set, a text too long or not printable ASCII.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        match self {
            InfoAnswer::Byte(b) if b & 0x90 != 0 => Err(WireError::InvalidByte(*b)),
            InfoAnswer::Byte(b) => Ok(vec![*b]),
            InfoAnswer::Text(t) if t.len() > MAX_INFO_TEXT => Err(WireError::BadLength(t.len())),
            InfoAnswer::Text(t) => {
                if let Some(bad) = t.bytes().find(|b| !(b.is_ascii_graphic() || *b == b' ')) {
                    return Err(WireError::InvalidByte(bad));
                }
                let mut out = vec![INFO_HEADER];
                out.extend_from_slice(t.as_bytes());
                out.push(0);
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers Epson's RP-U420 specification prints for GS I n.
    #[test]
    fn the_epson_reference_answers_parse_and_re_emit() {
        let cases: [(PrinterInfo, &[u8], InfoAnswer); 5] = [
            (PrinterInfo::ModelId, &[0x2C], InfoAnswer::Byte(0x2C)),
            (PrinterInfo::FirmwareId, &[0x02], InfoAnswer::Byte(0x02)),
            (
                PrinterInfo::FirmwareVersion,
                b"\x5F1.28\x00",
                InfoAnswer::Text("1.28".into()),
            ),
            (
                PrinterInfo::Maker,
                b"\x5FEPSON\x00",
                InfoAnswer::Text("EPSON".into()),
            ),
            (
                PrinterInfo::ModelName,
                b"\x5FRP-U420\x00",
                InfoAnswer::Text("RP-U420".into()),
            ),
        ];
        for (info, bytes, answer) in cases {
            assert_eq!(
                InfoAnswer::parse(info, bytes),
                Ok((answer.clone(), bytes.len()))
            );
            assert_eq!(answer.to_bytes().unwrap(), bytes);
        }
        assert_eq!(PrinterInfo::ModelName.request(), [0x1D, 0x49, 0x43]);
        assert_eq!(PrinterInfo::ModelId.request(), [0x1D, 0x49, 0x01]);
        assert_eq!(PrinterInfo::from_n(50), Some(PrinterInfo::TypeId));
        assert_eq!(PrinterInfo::from_n(4), None);
        for info in PrinterInfo::ALL {
            assert_eq!(PrinterInfo::from_n(info.n()), Some(info));
        }
        // The printer's side reads the request as one command, text after it as text.
        let mut d = crate::wire::escpos::CommandDecoder::new();
        d.push(&[&PrinterInfo::ModelName.request()[..], b"A\n"].concat());
        assert_eq!(
            d.next_command(),
            Some(crate::wire::escpos::PrinterCommand::TransmitPrinterId(67))
        );
        assert_eq!(
            d.next_command(),
            Some(crate::wire::escpos::PrinterCommand::Text("A".into()))
        );
    }

    #[test]
    fn partial_and_foreign_answers_are_told_apart() {
        let model = PrinterInfo::ModelName;
        assert_eq!(InfoAnswer::parse(model, b""), Err(WireError::Truncated));
        assert_eq!(
            InfoAnswer::parse(model, b"\x5FRP-U"),
            Err(WireError::Truncated)
        );
        // A real-time status byte (0xx1xx10) is no ID.
        assert_eq!(
            InfoAnswer::parse(PrinterInfo::ModelId, &[0x16]),
            Err(WireError::InvalidByte(0x16))
        );
        assert_eq!(
            InfoAnswer::parse(model, &[0x16]),
            Err(WireError::InvalidByte(0x16))
        );
        assert_eq!(
            InfoAnswer::parse(model, b"\x5FA\x07B\x00"),
            Err(WireError::InvalidByte(0x07))
        );
        let long = [vec![0x5F], vec![b'A'; 81]].concat();
        assert_eq!(
            InfoAnswer::parse(model, &long),
            Err(WireError::BadLength(81))
        );
        // What follows the NUL is not the answer's.
        assert_eq!(
            InfoAnswer::parse(model, b"\x5FX\x00\x16"),
            Ok((InfoAnswer::Text("X".into()), 3))
        );
    }
}
