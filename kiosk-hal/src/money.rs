//! Money as integer minor units with a currency: never a float.
//!
//! A kiosk adds note values and compares totals with what the backend
//! credited; floating point would make "50.00 + 20.00 == 70.00" a question.
//! Every amount in the workspace is a [`Money`].

use core::fmt;
use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic currency code such as `CNY` or `EUR`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Chinese yuan renminbi, the currency of the business halls in the domain docs.
    pub const CNY: Currency = Currency(*b"CNY");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");

    /// Builds a currency from three ASCII upper-case letters.
    ///
    /// Returns `None` for anything else, so a malformed configuration or
    /// device answer is caught where it enters.
    pub const fn from_code(code: [u8; 3]) -> Option<Currency> {
        let mut i = 0;
        while i < 3 {
            if !code[i].is_ascii_uppercase() {
                return None;
            }
            i += 1;
        }
        Some(Currency(code))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // Constructed only from ASCII upper-case letters.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Decimal places of the minor unit (2 for CNY: 1 yuan = 100 fen), from
    /// the ISO 4217 table (`iso_currency`). A code the table does not know,
    /// or one without a minor unit of its own (precious metals, `XXX`),
    /// counts in hundredths.
    pub fn minor_exponent(&self) -> u32 {
        iso_currency::Currency::from_code(self.code())
            .and_then(|c| c.exponent())
            .map_or(2, u32::from)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let b = s.as_bytes();
        if b.len() != 3 {
            return Err(format!("currency code {s:?} is not three letters"));
        }
        Currency::from_code([b[0], b[1], b[2]])
            .ok_or_else(|| format!("currency code {s:?} is not three upper-case letters"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money: a signed count of minor units (fen, cents) and its currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    /// Count of minor units; 5000 CNY minor units is 50.00 yuan.
    pub minor: i64,
    /// The currency the units belong to.
    pub currency: Currency,
}

impl Money {
    /// An amount of `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// An amount in whole major units (yuan, euro): `Money::major(50, CNY)` is 50.00.
    ///
    /// For amounts known to fit (constants, values already checked). It
    /// panics, in release builds too, rather than wrap on an amount beyond
    /// `i64` minor units; for anything read from a file, a device or a
    /// person use [`Money::try_major`].
    pub fn major(units: i64, currency: Currency) -> Money {
        match Money::try_major(units, currency) {
            Some(m) => m,
            None => panic!("{units} {currency} in minor units overflows i64"),
        }
    }

    /// An amount in whole major units, or `None` if it does not fit in
    /// `i64` minor units.
    pub fn try_major(units: i64, currency: Currency) -> Option<Money> {
        let minor = 10i64
            .checked_pow(currency.minor_exponent())?
            .checked_mul(units)?;
        Some(Money { minor, currency })
    }

    /// Sum of two amounts; `None` on currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            minor: self.minor.checked_add(other.minor)?,
            currency: self.currency,
        })
    }

    /// Difference of two amounts; `None` on currency mismatch or overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            minor: self.minor.checked_sub(other.minor)?,
            currency: self.currency,
        })
    }

    /// True for a zero amount.
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.minor_exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            write!(f, "{} {sign}{abs}", self.currency)
        } else {
            let scale = 10u64.pow(exp);
            write!(
                f,
                "{} {sign}{}.{:0width$}",
                self.currency,
                abs / scale,
                abs % scale,
                width = exp as usize
            )
        }
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        // Values from the ISO 4217 list (SIX), not from the crate's table.
        let exp = |c: &[u8; 3]| Currency::from_code(*c).unwrap().minor_exponent();
        assert_eq!(exp(b"CNY"), 2);
        assert_eq!(exp(b"HKD"), 2);
        assert_eq!(exp(b"JPY"), 0);
        assert_eq!(exp(b"KRW"), 0);
        assert_eq!(exp(b"KWD"), 3);
        assert_eq!(exp(b"LYD"), 3);
        assert_eq!(exp(b"CLF"), 4);
        assert_eq!(exp(b"UYW"), 4);
        assert_eq!(exp(b"QQQ"), 2, "unknown codes count in hundredths");
    }

    #[test]
    fn displays_minor_units_with_currency_exponent() {
        assert_eq!(Money::new(5000, Currency::CNY).to_string(), "CNY 50.00");
        assert_eq!(Money::new(-5, Currency::CNY).to_string(), "CNY -0.05");
        let jpy = Currency::from_code(*b"JPY").unwrap();
        assert_eq!(Money::new(1000, jpy).to_string(), "JPY 1000");
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        assert_eq!(Money::try_major(i64::MAX / 10, Currency::CNY), None);
        assert_eq!(
            Money::try_major(-3, Currency::CNY),
            Some(Money::new(-300, Currency::CNY))
        );
        assert!(std::panic::catch_unwind(|| Money::major(10i64.pow(17), Currency::CNY)).is_err());
        let a = Money::major(10, Currency::CNY);
        assert_eq!(a.checked_add(Money::major(1, Currency::EUR)), None);
        assert_eq!(
            Money::new(i64::MAX, Currency::CNY).checked_add(Money::new(1, Currency::CNY)),
            None
        );
        assert_eq!(a.checked_add(a), Some(Money::major(20, Currency::CNY)));
    }

    #[test]
    fn currency_rejects_lowercase_and_wrong_length() {
        assert!(Currency::from_code(*b"cny").is_none());
        assert!(Currency::try_from("CN".to_string()).is_err());
        let json = serde_json::to_string(&Money::major(5, Currency::CNY)).unwrap();
        assert_eq!(json, r#"{"minor":500,"currency":"CNY"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"cn1"}"#).is_err());
    }
}
