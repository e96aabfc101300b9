//! Kiosk times (milliseconds since the Unix epoch) as staff read them:
//! a calendar day at a fixed UTC offset, and timestamps at that offset.
//!
//! The offset is fixed (China Standard Time, `+08:00`, by default), not the
//! machine's time zone: a report printed on an auditor's laptop abroad must
//! show the same day and times as one printed at the site.

use std::time::{Duration, UNIX_EPOCH};

use kiosk_core::Millis;

/// A fixed offset from UTC, in minutes east.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset(pub i32);

impl UtcOffset {
    /// China Standard Time.
    pub const CHINA: UtcOffset = UtcOffset(8 * 60);

    /// Parses `+08:00`, `-05:30`, `+0800` or `Z`.
    pub fn parse(s: &str) -> Option<UtcOffset> {
        if s == "Z" || s == "z" {
            return Some(UtcOffset(0));
        }
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i32 = digits[..2].parse().ok()?;
        let minutes: i32 = digits[2..].parse().ok()?;
        if hours > 14 || minutes > 59 {
            return None;
        }
        Some(UtcOffset(sign * (hours * 60 + minutes)))
    }

    fn millis(self) -> i64 {
        i64::from(self.0) * 60_000
    }
}

impl std::fmt::Display for UtcOffset {
    /// `+08:00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// The kiosk times `[from, to)` of the calendar day `day` (`YYYY-MM-DD`)
/// at `offset`; `None` if `day` is not a date.
pub fn day_window(day: &str, offset: UtcOffset) -> Option<(Millis, Millis)> {
    if day.len() != 10 {
        return None;
    }
    let midnight_utc = humantime::parse_rfc3339(&format!("{day}T00:00:00Z")).ok()?;
    let ms = i64::try_from(midnight_utc.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    let from = ms - offset.millis();
    let to = from + 24 * 3600 * 1000;
    Some((
        Millis(u64::try_from(from).ok()?),
        Millis(u64::try_from(to).ok()?),
    ))
}

/// `at` as `YYYY-MM-DD HH:MM:SS` at `offset`.
pub fn format(at: Millis, offset: UtcOffset) -> String {
    let local = i64::try_from(at.0).unwrap_or(i64::MAX) + offset.millis();
    let Ok(local) = u64::try_from(local) else {
        return format!("{}ms", at.0);
    };
    let t = UNIX_EPOCH + Duration::from_millis(local);
    // "2026-11-29T10:00:00Z" → "2026-11-29 10:00:00".
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_china_starts_at_16_utc_the_day_before() {
        let (from, to) = day_window("2026-11-29", UtcOffset::CHINA).unwrap();
        // 2026-11-28T16:00:00Z
        assert_eq!(from, Millis(1_795_881_600_000));
        assert_eq!(to.0 - from.0, 86_400_000);
        assert_eq!(format(from, UtcOffset::CHINA), "2026-11-29 00:00:00");
        assert_eq!(format(from, UtcOffset(0)), "2026-11-28 16:00:00");
    }

    #[test]
    fn bad_days_and_offsets_are_refused() {
        assert_eq!(day_window("2026-13-01", UtcOffset::CHINA), None);
        assert_eq!(day_window("29.11.2026", UtcOffset::CHINA), None);
        assert_eq!(day_window("2026-11-29T00", UtcOffset::CHINA), None);
        assert_eq!(UtcOffset::parse("+08:00"), Some(UtcOffset(480)));
        assert_eq!(UtcOffset::parse("-0530"), Some(UtcOffset(-330)));
        assert_eq!(UtcOffset::parse("8"), None);
        assert_eq!(UtcOffset::parse("+25:00"), None);
        assert_eq!(UtcOffset(480).to_string(), "+08:00");
    }
}
