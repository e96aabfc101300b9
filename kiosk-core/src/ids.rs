//! Identifiers and the kiosk clock.

use core::fmt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Milliseconds on the kiosk's clock.
///
/// The core never reads a clock: the runner passes `now` in. In a drill the
/// clock is virtual, on a real kiosk it is wall-clock milliseconds since the
/// Unix epoch; journal timestamps use the same value.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + ms`, saturating.
    pub fn plus_ms(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// A kiosk's identifier, unique within its operator (`"HALL7-K03"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KioskId(pub String);

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payment session's identifier: the kiosk id and a sequence number
/// (`"HALL7-K03-000042"`). It is also the customer's transaction reference.
///
/// Shared, not owned (`Arc<str>`): the id goes into every journal row,
/// event and key of its session, and a clone is a count, not an
/// allocation (a simulated hall made some fifty string copies per
/// customer). Build one with `SessionId("…".into())`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub Arc<str>);

impl SessionId {
    /// The id of session number `seq` on `kiosk`.
    pub fn new(kiosk: &KioskId, seq: u64) -> SessionId {
        // `{kiosk}-{seq:06}`, built by hand rather than `format!`ed: one
        // per customer, and the formatting machinery cost more than the
        // rest of the id.
        const WIDTH: usize = 6;
        let mut digits = [b'0'; 20]; // u64::MAX has 20 digits
        let mut start = digits.len();
        let mut n = seq;
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let start = start.min(digits.len() - WIDTH);
        let digits = std::str::from_utf8(&digits[start..]).expect("ASCII digits");
        SessionId([kiosk.0.as_str(), "-", digits].concat().into())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session id is shared, not copied, by its clones (the journal
    /// rows, events and keys of its session), and still reads and writes
    /// as the plain string it always was (journal rows, reports, JSON).
    #[test]
    fn a_session_id_is_shared_and_serializes_as_its_string() {
        let id = SessionId::new(&KioskId("HALL7-K03".into()), 42);
        let copy = id.clone();
        assert!(Arc::ptr_eq(&id.0, &copy.0));
        assert_eq!(id.to_string(), "HALL7-K03-000042");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"HALL7-K03-000042\"");
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
    }

    /// The number is zero-padded to six digits and never cut.
    #[test]
    fn a_session_id_is_the_kiosk_and_its_number() {
        let k = KioskId("K01".into());
        for seq in [0, 7, 42, 999_999, 1_000_000, 123_456_789, u64::MAX] {
            assert_eq!(
                SessionId::new(&k, seq).to_string(),
                format!("K01-{seq:06}"),
                "{seq}"
            );
        }
    }
}
