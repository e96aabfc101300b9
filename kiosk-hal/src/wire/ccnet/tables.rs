//! The data answers: GET BILL TABLE and IDENTIFICATION.

use super::{BillMask, FrameRepr, WireError, ADDR_BILL_VALIDATOR};
use crate::{Currency, DeviceIdentity, DeviceProtocol, Money};

/// One 5-byte entry of the bill table, as received.
///
/// The denomination is `digit × 10^exponent` major units; ⚠ bit 7 of the
/// exponent byte set means a negative power (coupons below one unit), a
/// convention from one driver only: such entries are kept raw and give no
/// [`Money`] unless the value is whole minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BillTableEntry {
    /// The denomination's significant digits.
    pub digit: u8,
    /// The country code, three ASCII letters (`CHN`, `RUS`), raw.
    pub country: [u8; 3],
    /// The power of ten (bit 7: negative).
    pub exponent: u8,
}

impl BillTableEntry {
    /// Wire size of one entry.
    pub const LEN: usize = 5;

    /// The entry's five bytes.
    pub fn to_bytes(&self) -> [u8; 5] {
        let [a, b, c] = self.country;
        [self.digit, a, b, c, self.exponent]
    }

    /// Whether the slot is empty (digit 0).
    pub fn is_empty(&self) -> bool {
        self.digit == 0
    }

    /// The bill's value in `currency`; `None` for an empty slot, a value
    /// that is not whole minor units or too large for [`Money`].
    pub fn money(&self, currency: Currency) -> Option<Money> {
        if self.is_empty() {
            return None;
        }
        let minor_exp = i64::from(currency.minor_exponent());
        let power = if self.exponent & 0x80 != 0 {
            minor_exp - i64::from(self.exponent & 0x7F)
        } else {
            minor_exp + i64::from(self.exponent)
        };
        let power = u32::try_from(power).ok()?;
        let minor = 10i64
            .checked_pow(power)?
            .checked_mul(i64::from(self.digit))?;
        Some(Money::new(minor, currency))
    }
}

/// The answer to GET BILL TABLE: 24 bill types, the index is the type
/// reported in escrow / stacked / returned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillTable {
    /// The entries by bill type (24 on the wire; empty slots included).
    pub entries: Vec<BillTableEntry>,
}

impl BillTable {
    /// Bill types a table describes.
    pub const TYPES: usize = 24;

    /// Parses the answer's payload: exactly 24 × 5 bytes.
    pub fn from_payload(payload: &[u8]) -> Result<BillTable, WireError> {
        if payload.len() != Self::TYPES * BillTableEntry::LEN {
            return Err(WireError::BadData {
                cmd: 0x41,
                len: payload.len(),
            });
        }
        let entries = payload
            .chunks_exact(BillTableEntry::LEN)
            .map(|c| BillTableEntry {
                digit: c[0],
                country: [c[1], c[2], c[3]],
                exponent: c[4],
            })
            .collect();
        Ok(BillTable { entries })
    }

    /// The payload on the wire: the entries, padded with empty slots (or
    /// cut) to 24.
    pub fn to_payload(&self) -> Vec<u8> {
        let empty = BillTableEntry {
            digit: 0,
            country: [0; 3],
            exponent: 0,
        };
        (0..Self::TYPES)
            .flat_map(|i| self.entries.get(i).copied().unwrap_or(empty).to_bytes())
            .collect()
    }

    /// The frame's bytes (the emulator's side).
    pub fn to_bytes(&self) -> Vec<u8> {
        // 120 payload bytes: emitting cannot fail.
        FrameRepr::new(ADDR_BILL_VALIDATOR, self.to_payload())
            .to_bytes()
            .unwrap_or_default()
    }

    /// The value of bill type `t` in `currency`.
    pub fn value(&self, t: u8, currency: Currency) -> Option<Money> {
        self.entries.get(usize::from(t))?.money(currency)
    }

    /// The bill types whose value is one of `values`.
    pub fn mask_for(&self, values: &[Money]) -> BillMask {
        BillMask::of(
            (0..self.entries.len().min(Self::TYPES) as u8)
                .filter(|&t| values.iter().any(|v| self.value(t, v.currency) == Some(*v))),
        )
    }
}

/// The answer to IDENTIFICATION: part number (15 ASCII), serial number
/// (12 ASCII) and asset number (7 bytes binary).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identification {
    /// The part (model) number, trailing spaces trimmed.
    pub part_number: String,
    /// The serial number, trailing spaces trimmed.
    pub serial_number: String,
    /// The asset number, raw.
    pub asset_number: [u8; 7],
}

impl Identification {
    /// Payload length on the wire.
    pub const LEN: usize = 34;

    /// Parses the answer's payload (34 bytes; non-ASCII shown as `?`).
    pub fn from_payload(payload: &[u8]) -> Result<Identification, WireError> {
        if payload.len() != Self::LEN {
            return Err(WireError::BadData {
                cmd: 0x37,
                len: payload.len(),
            });
        }
        let text = |b: &[u8]| {
            b.iter()
                .map(|&c| {
                    if c.is_ascii_graphic() || c == b' ' {
                        c as char
                    } else {
                        '?'
                    }
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        };
        let mut asset_number = [0; 7];
        asset_number.copy_from_slice(&payload[27..34]);
        Ok(Identification {
            part_number: text(&payload[..15]),
            serial_number: text(&payload[15..27]),
            asset_number,
        })
    }

    /// The payload: texts space-padded (or cut) to their fields.
    pub fn to_payload(&self) -> Vec<u8> {
        let field = |s: &str, n: usize| {
            let mut b: Vec<u8> = s.bytes().take(n).collect();
            b.resize(n, b' ');
            b
        };
        let mut out = field(&self.part_number, 15);
        out.extend(field(&self.serial_number, 12));
        out.extend_from_slice(&self.asset_number);
        out
    }

    /// The frame's bytes (the emulator's side).
    pub fn to_bytes(&self) -> Vec<u8> {
        FrameRepr::new(ADDR_BILL_VALIDATOR, self.to_payload())
            .to_bytes()
            .unwrap_or_default()
    }

    /// The HAL's view: the part number as the model (CashCode part numbers
    /// name the model and its firmware build, e.g. `SM-RU1353`; CCNET has
    /// no separate firmware field) and the serial number; blank fields as
    /// unknown. The asset number is the operator's own tag and stays here.
    pub fn identity(&self) -> DeviceIdentity {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        DeviceIdentity {
            model: some(&self.part_number),
            serial: some(&self.serial_number),
            ..DeviceIdentity::of(DeviceProtocol::Ccnet)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An identification answer framed by node-cashcode-bv's own
    /// `Command.request` and `getCRC16` (`tests/vectors/ccnet/frames.txt`).
    const IDENTIFICATION_FRAME: [u8; 39] = [
        0x02, 0x03, 0x27, 0x53, 0x4D, 0x2D, 0x43, 0x4E, 0x31, 0x35, 0x30, 0x31, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x34, 0x31, 0x4B, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x45, 0xF8,
    ];

    #[test]
    fn a_public_identification_frame_gives_model_and_serial() {
        let (frame, used) = FrameRepr::parse(&IDENTIFICATION_FRAME).unwrap();
        assert_eq!(used, IDENTIFICATION_FRAME.len());
        let id = Identification::from_payload(&frame.payload).unwrap();
        assert_eq!(id.part_number, "SM-CN1501");
        assert_eq!(id.serial_number, "41K012345678");
        assert_eq!(id.asset_number, [0, 0, 0, 0, 0, 0x12, 0x34]);
        assert_eq!(id.to_bytes(), IDENTIFICATION_FRAME, "emit is the inverse");
        let hal = id.identity();
        assert_eq!(hal.protocol, DeviceProtocol::Ccnet);
        assert_eq!(hal.model.as_deref(), Some("SM-CN1501"));
        assert_eq!(hal.serial.as_deref(), Some("41K012345678"));
        assert_eq!(hal.firmware, None);
        let blank = Identification {
            part_number: String::new(),
            ..id
        };
        assert_eq!(blank.identity().model, None);
    }

    fn entry(digit: u8, exponent: u8) -> BillTableEntry {
        BillTableEntry {
            digit,
            country: *b"CHN",
            exponent,
        }
    }

    #[test]
    fn bill_table_round_trips_and_values_the_types() {
        let table = BillTable {
            entries: vec![
                entry(1, 0),
                entry(5, 0),
                entry(1, 1),
                entry(2, 1),
                entry(5, 1),
                entry(1, 2),
            ],
        };
        let payload = table.to_payload();
        assert_eq!(payload.len(), 120);
        assert_eq!(&payload[..5], &[1, b'C', b'H', b'N', 0]);
        let back = BillTable::from_payload(&payload).unwrap();
        assert_eq!(back.entries.len(), 24);
        let cny = |m| Money::major(m, Currency::CNY);
        assert_eq!(back.value(5, Currency::CNY), Some(cny(100)));
        assert_eq!(back.value(6, Currency::CNY), None, "empty slot");
        assert_eq!(back.value(30, Currency::CNY), None);
        assert_eq!(
            back.mask_for(&[cny(10), cny(100), cny(7)]),
            BillMask::of([2, 5])
        );
        // Five jiao: 5 × 10^-1 yuan.
        assert_eq!(
            entry(5, 0x81).money(Currency::CNY),
            Some(Money::new(50, Currency::CNY))
        );
        assert_eq!(entry(5, 0x83).money(Currency::CNY), None);
        assert_eq!(entry(255, 0x7F).money(Currency::CNY), None, "overflow");
        assert!(BillTable::from_payload(&payload[1..]).is_err());
    }

    #[test]
    fn identification_round_trips() {
        let id = Identification {
            part_number: "SM-CN1134".into(),
            serial_number: "41K0123456".into(),
            asset_number: [1, 2, 3, 4, 5, 6, 7],
        };
        let payload = id.to_payload();
        assert_eq!(payload.len(), 34);
        assert_eq!(Identification::from_payload(&payload), Ok(id));
        assert!(Identification::from_payload(&payload[..33]).is_err());
    }
}
