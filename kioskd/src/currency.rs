//! The currencies a kiosk may be configured for and the banknotes each has.
//!
//! `kiosk_hal::Currency` accepts any three upper-case letters (a device may
//! answer with any); a configuration must name a currency kioskd knows the
//! notes of, so that a note value the currency does not have (a CNY 30
//! note) is caught before an acceptor is told to take it.

use kiosk_hal::{Currency, Money};

/// Banknotes in circulation, in major units, by currency.
const NOTES: &[(&str, &[i64])] = &[
    ("CNY", &[1, 5, 10, 20, 50, 100]),
    ("HKD", &[10, 20, 50, 100, 500, 1000]),
    ("EUR", &[5, 10, 20, 50, 100, 200, 500]),
    ("USD", &[1, 2, 5, 10, 20, 50, 100]),
];

/// The banknotes of `currency` in major units, if kioskd knows it.
pub fn notes_of(currency: Currency) -> Option<&'static [i64]> {
    NOTES
        .iter()
        .find(|(code, _)| *code == currency.code())
        .map(|(_, notes)| *notes)
}

/// The codes kioskd knows, for error messages.
pub fn known_codes() -> Vec<&'static str> {
    NOTES.iter().map(|(code, _)| *code).collect()
}

/// Whether `value` is a banknote of its own currency.
pub fn is_banknote(value: Money) -> bool {
    let Some(notes) = notes_of(value.currency) else {
        return false;
    };
    notes
        .iter()
        .filter_map(|major| Money::try_major(*major, value.currency))
        .any(|note| note == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_known_per_currency() {
        let cny = Currency::CNY;
        assert!(is_banknote(Money::major(50, cny)));
        assert!(!is_banknote(Money::major(30, cny)));
        assert!(!is_banknote(Money::new(5050, cny)));
        assert!(is_banknote(Money::major(200, Currency::EUR)));
        assert!(!is_banknote(Money::major(1, Currency::EUR)), "a coin");
        let xyz = Currency::try_from("XYZ".to_string()).unwrap();
        assert_eq!(notes_of(xyz), None);
        assert!(!is_banknote(Money::major(10, xyz)));
        assert!(known_codes().contains(&"CNY"));
    }
}
