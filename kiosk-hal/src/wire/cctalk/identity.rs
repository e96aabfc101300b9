//! The answers to the core identity headers: manufacturer (246), equipment
//! category (245), product code (244), serial number (242) and software
//! revision (241).

use crate::wire::WireError;

/// Reads the answer to REQUEST SERIAL NUMBER (242): three bytes, least
/// significant first.
///
/// Errors: [`WireError::BadData`] (242) for any other length.
pub fn parse_serial_number(data: &[u8]) -> Result<u32, WireError> {
    match *data {
        [a, b, c] => Ok(u32::from_le_bytes([a, b, c, 0])),
        _ => Err(WireError::BadData {
            cmd: 242,
            len: data.len(),
        }),
    }
}

/// The answer to REQUEST SERIAL NUMBER (the device's side).
///
/// Errors: [`WireError::BadLength`] for a number beyond 24 bits.
pub fn serial_number_data(serial: u32) -> Result<[u8; 3], WireError> {
    let [a, b, c, d] = serial.to_le_bytes();
    if d != 0 {
        return Err(WireError::BadLength(4));
    }
    Ok([a, b, c])
}

/// Reads an ASCII identity answer (246, 245, 244, 241), surrounding
/// spaces and NULs removed.
///
/// Errors: [`WireError::BadData`] (`header`) for bytes that are not
/// printable ASCII.
pub fn parse_text(header: u8, data: &[u8]) -> Result<String, WireError> {
    let bad = WireError::BadData {
        cmd: header,
        len: data.len(),
    };
    let text = data
        .iter()
        .map(|&b| match b {
            0 => Ok(' '),
            b if b.is_ascii_graphic() || b == b' ' => Ok(char::from(b)),
            _ => Err(bad),
        })
        .collect::<Result<String, WireError>>()?;
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_three_bytes_lsb_first() {
        assert_eq!(parse_serial_number(&[0x39, 0x30, 0x00]), Ok(12345));
        assert_eq!(serial_number_data(12345), Ok([0x39, 0x30, 0x00]));
        assert_eq!(serial_number_data(0xFF_FFFF), Ok([0xFF; 3]));
        assert_eq!(serial_number_data(0x100_0000), Err(WireError::BadLength(4)));
        assert_eq!(
            parse_serial_number(&[1, 2]),
            Err(WireError::BadData { cmd: 242, len: 2 })
        );
    }

    #[test]
    fn texts_are_trimmed_ascii() {
        assert_eq!(parse_text(246, b" ITL\0"), Ok("ITL".to_string()));
        assert_eq!(
            parse_text(241, b"1.\xff"),
            Err(WireError::BadData { cmd: 241, len: 3 })
        );
    }
}
