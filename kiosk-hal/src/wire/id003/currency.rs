//! The currency-assign answer (0x8A): which escrow code is which note.

use std::collections::BTreeMap;

use crate::{Currency, Money};

/// One 4-byte entry of the currency-assign answer, as received.
///
/// The denomination is `value × 10^exponent` major units (yuan, euro).
///
/// ⚠ The meaning of `country_code` is not settled: it is not an ISO 4217
/// number (those do not fit a byte) and drivers disagree on its table. The
/// codec keeps it raw and [`CurrencyTable`] takes the currency as a
/// parameter instead of guessing it from this byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyEntry {
    /// The code the validator reports in escrow (status 0x13 data).
    pub escrow_code: u8,
    /// The validator's country code, raw (see the ⚠ above).
    pub country_code: u8,
    /// The denomination's significant value.
    pub value: u8,
    /// The power of ten applied to `value`.
    pub exponent: u8,
}

impl CurrencyEntry {
    /// Wire size of one entry.
    pub const LEN: usize = 4;

    /// The entry's four bytes.
    pub fn to_bytes(&self) -> [u8; 4] {
        [
            self.escrow_code,
            self.country_code,
            self.value,
            self.exponent,
        ]
    }

    /// Splits answer data into entries; `None` unless its length is a multiple of 4.
    pub fn parse_all(data: &[u8]) -> Option<Vec<CurrencyEntry>> {
        if !data.len().is_multiple_of(Self::LEN) {
            return None;
        }
        Some(
            data.chunks_exact(Self::LEN)
                .map(|c| CurrencyEntry {
                    escrow_code: c[0],
                    country_code: c[1],
                    value: c[2],
                    exponent: c[3],
                })
                .collect(),
        )
    }

    /// The note's value in `currency`; `None` for an empty slot (value 0) or
    /// a value too large for [`Money`].
    pub fn money(&self, currency: Currency) -> Option<Money> {
        if self.value == 0 {
            return None;
        }
        let power = u32::from(self.exponent).checked_add(currency.minor_exponent())?;
        let minor = 10i64
            .checked_pow(power)?
            .checked_mul(i64::from(self.value))?;
        Some(Money::new(minor, currency))
    }
}

/// Escrow code to note value, built from the currency-assign answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyTable {
    currency: Currency,
    values: BTreeMap<u8, Money>,
}

impl CurrencyTable {
    /// An empty table for `currency`.
    pub fn new(currency: Currency) -> CurrencyTable {
        CurrencyTable {
            currency,
            values: BTreeMap::new(),
        }
    }

    /// The table the entries describe, all in `currency` (the validator's
    /// dataset currency, from configuration). Empty slots (value 0) and
    /// values too large for [`Money`] are left out; a repeated escrow code
    /// keeps its first entry.
    pub fn from_entries(entries: &[CurrencyEntry], currency: Currency) -> CurrencyTable {
        let mut table = CurrencyTable::new(currency);
        for e in entries {
            if let Some(m) = e.money(currency) {
                table.values.entry(e.escrow_code).or_insert(m);
            }
        }
        table
    }

    /// The table's currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The value of the note reported with this escrow code.
    pub fn value(&self, escrow_code: u8) -> Option<Money> {
        self.values.get(&escrow_code).copied()
    }

    /// The escrow code of a note value (lowest code if several match).
    pub fn code_for(&self, value: Money) -> Option<u8> {
        self.values
            .iter()
            .find(|(_, m)| **m == value)
            .map(|(code, _)| *code)
    }

    /// All (escrow code, value) pairs, by code.
    pub fn iter(&self) -> impl Iterator<Item = (u8, Money)> + '_ {
        self.values.iter().map(|(c, m)| (*c, *m))
    }

    /// Number of known escrow codes.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no escrow code is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_cny_table_from_answer_data() {
        // Escrow 0x61 = 1 yuan, 0x63 = 10 yuan, 0x66 = 100 yuan, 0x67 empty slot.
        let data = [
            0x61, 0xA0, 0x01, 0x00, //
            0x63, 0xA0, 0x01, 0x01, //
            0x66, 0xA0, 0x01, 0x02, //
            0x67, 0x00, 0x00, 0x00,
        ];
        let entries = CurrencyEntry::parse_all(&data).unwrap();
        assert_eq!(entries.len(), 4);
        let table = CurrencyTable::from_entries(&entries, Currency::CNY);
        assert_eq!(table.len(), 3);
        assert_eq!(table.value(0x63), Some(Money::major(10, Currency::CNY)));
        assert_eq!(table.value(0x66), Some(Money::new(10_000, Currency::CNY)));
        assert_eq!(table.value(0x67), None);
        assert_eq!(table.code_for(Money::major(1, Currency::CNY)), Some(0x61));
        assert_eq!(table.code_for(Money::major(5, Currency::CNY)), None);
        let back: Vec<u8> = entries.iter().flat_map(|e| e.to_bytes()).collect();
        assert_eq!(back, data);
    }

    #[test]
    fn currency_is_a_parameter_and_overflow_is_dropped() {
        let jpy = Currency::from_code(*b"JPY").unwrap();
        let e = CurrencyEntry {
            escrow_code: 0x61,
            country_code: 0x01,
            value: 1,
            exponent: 3,
        };
        assert_eq!(e.money(jpy), Some(Money::new(1000, jpy)));
        let huge = CurrencyEntry {
            exponent: 0xFF,
            ..e
        };
        assert_eq!(huge.money(Currency::CNY), None);
        assert!(CurrencyTable::from_entries(&[huge], Currency::CNY).is_empty());
        assert_eq!(CurrencyEntry::parse_all(&[1, 2, 3]), None);
    }
}
