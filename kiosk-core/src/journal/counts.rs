//! Cash counts by denomination (what UnifiedPOS calls `ReadCashCounts`):
//! which notes the journal expects in the box, and what two people counted
//! of each at a clearing.
//!
//! There is no second counter to disagree with the notes. What the box
//! holds since the last clearing is read from the journal's own rows: a
//! note enters the box exactly once, by its `note-stacked` audit row or by
//! the settlement that puts it in the box (`note-settled` or
//! `note-settled-by-staff` with fate `in-cash-box`), written in the same
//! transaction as the note's state; the notes after the last clearing's
//! audit row are those rows after it. That is a range of the audit trail
//! (a day's rows between clearings), not a scan of a year of notes. Its
//! total is the same as the books' (in the box, minus what the clearings
//! took out: see `clearing::record`); the property tests hold the two
//! together, and a clearing report shows any difference as unattributed.
//!
//! A clearing keeps, per denomination, what was expected and (when the two
//! people counted by denomination) what was counted, in `clearing_counts`
//! (format 5). Those rows are covered by the clearing's audit row hash
//! (see `chain`), and are never changed or deleted.

use kiosk_hal::{Currency, Money};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::events::EventKind;
use super::fail::{count, Fail};

/// Per-denomination figures of each clearing (format 5). A clearing
/// recorded by format 4 or earlier has none.
pub(super) const SCHEMA_CLEARING_COUNTS: &str = r#"
CREATE TABLE IF NOT EXISTS clearing_counts (
    clearing     INTEGER NOT NULL REFERENCES clearings (id),
    value_minor  INTEGER NOT NULL CHECK (value_minor > 0),
    expected     INTEGER NOT NULL CHECK (expected >= 0),
    counted      INTEGER CHECK (counted >= 0),
    PRIMARY KEY (clearing, value_minor)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS clearing_counts_no_change BEFORE UPDATE ON clearing_counts
    BEGIN SELECT RAISE(ABORT, 'clearing counts are never changed'); END;
CREATE TRIGGER IF NOT EXISTS clearing_counts_no_delete BEFORE DELETE ON clearing_counts
    BEGIN SELECT RAISE(ABORT, 'clearing counts are never deleted'); END;
"#;

/// So many notes of one denomination (UnifiedPOS `CashCount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NoteCount {
    /// The denomination: one note's value.
    pub value: Money,
    /// How many notes of it.
    pub count: u32,
}

impl NoteCount {
    /// `value × count`; `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        let minor = self.value.minor.checked_mul(i64::from(self.count))?;
        Some(Money::new(minor, self.value.currency))
    }
}

/// The sum of `counts` in `currency`; `None` on overflow or a count in
/// another currency.
pub fn total_of(counts: &[NoteCount], currency: Currency) -> Option<Money> {
    counts.iter().try_fold(Money::zero(currency), |sum, c| {
        if c.value.currency != currency {
            return None;
        }
        let t = c.total()?;
        Some(Money::new(sum.minor.checked_add(t.minor)?, currency))
    })
}

/// One denomination at a clearing: expected against counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenominationLine {
    /// The denomination.
    pub value: Money,
    /// Notes of it the journal expected in the box.
    pub expected: u32,
    /// Notes of it counted; `None` when the count was given as a total only.
    pub counted: Option<u32>,
}

impl DenominationLine {
    /// Counted minus expected notes (positive: over, negative: short);
    /// `None` without a count by denomination.
    pub fn difference(&self) -> Option<i64> {
        self.counted
            .map(|c| i64::from(c) - i64::from(self.expected))
    }
}

/// The notes the journal expects in the cash box now, by denomination, in
/// one currency (see the module docs): what the next clearing will expect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCounts {
    /// Their currency.
    pub currency: Currency,
    /// The clearing they are counted since (`None`: since the journal began).
    pub since_clearing: Option<i64>,
    /// Notes in the box since then, by denomination, smallest first.
    pub in_box: Vec<NoteCount>,
    /// Notes in the box since then whose value the device never reported.
    pub in_box_unknown_value: u32,
    /// Notes in doubt now (in the box or back with their customer: staff
    /// settle them at a clearing), by denomination, smallest first.
    pub in_doubt: Vec<NoteCount>,
    /// Notes in doubt now whose value is unknown.
    pub in_doubt_unknown_value: u32,
}

impl CashCounts {
    /// The value of the notes in the box since the last clearing; `None`
    /// on overflow.
    pub fn in_box_total(&self) -> Option<Money> {
        total_of(&self.in_box, self.currency)
    }

    /// The number of notes in the box since the last clearing (of known
    /// value or not).
    pub fn in_box_notes(&self) -> u64 {
        self.in_box.iter().map(|c| u64::from(c.count)).sum::<u64>()
            + u64::from(self.in_box_unknown_value)
    }
}

/// The audit row after which notes count as in the box since the last
/// clearing of `currency`, and that clearing's id (`(0, None)`: none yet).
fn since(conn: &Connection, currency: Currency) -> Result<(i64, Option<i64>), Fail> {
    let last: Option<(i64, Option<i64>, u64)> = conn
        .prepare_cached(
            "SELECT id, event, at FROM clearings WHERE currency = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([currency.code()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, event, at)) = last else {
        return Ok((0, None));
    };
    if let Some(event) = event {
        return Ok((event, Some(id)));
    }
    // A clearing from before format 3 does not name its audit row: the
    // clearing row that names it, else the last row at its time.
    let row: Option<i64> = conn
        .prepare_cached(
            "SELECT coalesce(
                 (SELECT max(id) FROM events WHERE kind = ?1 AND json_valid(detail)
                    AND json_extract(detail, '$.clearing') = ?2),
                 (SELECT max(id) FROM events WHERE at <= ?3))",
        )?
        .query_row(params![EventKind::Clearing.code(), id, at], |r| r.get(0))?;
    Ok((row.unwrap_or(0), Some(id)))
}

/// Notes of `currency` (or of unknown value) by value (`None`: unknown),
/// from a query whose two columns are value and count.
fn by_value(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    currency: Currency,
) -> Result<(Vec<NoteCount>, u32), Fail> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut known = Vec::new();
    let mut unknown = 0;
    for row in rows {
        match row? {
            (Some(minor), n) => known.push(NoteCount {
                value: Money::new(minor, currency),
                count: count(n),
            }),
            (None, n) => unknown += count(n),
        }
    }
    Ok((known, unknown))
}

/// The box entries after audit row `after`: a note's `note-stacked` row,
/// or the settlement that put it in the box.
fn entered_after(
    conn: &Connection,
    after: i64,
    currency: Currency,
) -> Result<(Vec<NoteCount>, u32), Fail> {
    let sql = format!(
        "SELECT n.value_minor, count(*)
         FROM events e JOIN notes n ON n.id = e.note
         WHERE e.id > ?1
           AND (n.value_currency = ?2 OR n.value_currency IS NULL)
           AND ((e.kind = {stacked} AND n.state IN (1, 4))
                OR (e.kind IN ({settled}, {by_staff}) AND n.state = 4
                    AND iif(json_valid(e.detail), json_extract(e.detail, '$.fate'), NULL)
                        = 'in-cash-box'))
         GROUP BY n.value_minor ORDER BY n.value_minor IS NULL, n.value_minor",
        stacked = EventKind::NoteStacked.code(),
        settled = EventKind::NoteSettled.code(),
        by_staff = EventKind::NoteSettledByStaff.code(),
    );
    by_value(conn, &sql, params![after, currency.code()], currency)
}

/// The journal's expected counts in `currency` now (see [`CashCounts`]).
pub(super) fn cash_counts(conn: &Connection, currency: Currency) -> Result<CashCounts, Fail> {
    let (after, since_clearing) = since(conn, currency)?;
    let (in_box, in_box_unknown_value) = entered_after(conn, after, currency)?;
    let (in_doubt, in_doubt_unknown_value) = by_value(
        conn,
        "SELECT value_minor, count(*) FROM notes
         WHERE state = 3 AND (value_currency = ?1 OR value_currency IS NULL)
         GROUP BY value_minor ORDER BY value_minor IS NULL, value_minor",
        [currency.code()],
        currency,
    )?;
    Ok(CashCounts {
        currency,
        since_clearing,
        in_box,
        in_box_unknown_value,
        in_doubt,
        in_doubt_unknown_value,
    })
}

/// The lines of a clearing: every denomination expected or counted, with
/// both figures (`counted`: the two people's count by denomination, if
/// they gave one), smallest first.
pub(super) fn lines(
    expected: &[NoteCount],
    counted: Option<&[NoteCount]>,
) -> Vec<DenominationLine> {
    let mut out: Vec<DenominationLine> = expected
        .iter()
        .map(|e| DenominationLine {
            value: e.value,
            expected: e.count,
            counted: counted.map(|_| 0),
        })
        .collect();
    for c in counted.unwrap_or_default() {
        match out.iter_mut().find(|l| l.value == c.value) {
            Some(l) => l.counted = Some(l.counted.unwrap_or(0) + c.count),
            None => out.push(DenominationLine {
                value: c.value,
                expected: 0,
                counted: Some(c.count),
            }),
        }
    }
    out.retain(|l| l.expected > 0 || l.counted.unwrap_or(0) > 0);
    out.sort_by_key(|l| l.value.minor);
    out
}

/// Writes clearing `clearing`'s lines (before its audit row, whose hash
/// covers them).
pub(super) fn insert_lines(
    conn: &Connection,
    clearing: i64,
    lines: &[DenominationLine],
) -> Result<(), Fail> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO clearing_counts (clearing, value_minor, expected, counted)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for l in lines {
        stmt.execute(params![clearing, l.value.minor, l.expected, l.counted])?;
    }
    Ok(())
}

/// Clearing `clearing`'s lines in `currency`, smallest first.
pub(super) fn lines_of(
    conn: &Connection,
    clearing: i64,
    currency: Currency,
) -> Result<Vec<DenominationLine>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT value_minor, expected, counted FROM clearing_counts
         WHERE clearing = ?1 ORDER BY value_minor",
    )?;
    let rows = stmt.query_map([clearing], |r| {
        Ok(DenominationLine {
            value: Money::new(r.get(0)?, currency),
            expected: r.get(1)?,
            counted: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The clearing's lines as the chain hashes them (see `chain`): each
/// `value_minor:expected:counted` (`-` for no count), smallest value
/// first, joined by `,`; `None` when it has none.
pub(super) fn chain_text(conn: &Connection, clearing: i64) -> Result<Option<String>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT value_minor, expected, counted FROM clearing_counts
         WHERE clearing = ?1 ORDER BY value_minor",
    )?;
    let rows = stmt.query_map([clearing], |r| {
        let counted: Option<i64> = r.get(2)?;
        Ok(format!(
            "{}:{}:{}",
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            counted.map_or("-".to_string(), |c| c.to_string())
        ))
    })?;
    let parts: Vec<String> = rows.collect::<Result<_, _>>()?;
    Ok((!parts.is_empty()).then(|| parts.join(",")))
}

/// A denomination as people write it: `¥100`, `€5`, `¥0.5`; a currency
/// without a sign of its own by its code (`GBP 20`).
pub fn denomination(value: Money) -> String {
    let exp = value.currency.minor_exponent();
    let scale = 10i64.pow(exp);
    let (whole, frac) = (value.minor / scale, (value.minor % scale).abs());
    let number = if frac == 0 {
        whole.to_string()
    } else {
        let digits = format!("{frac:0w$}", w = exp as usize);
        format!("{whole}.{}", digits.trim_end_matches('0'))
    };
    match value.currency.code() {
        "CNY" | "JPY" => format!("¥{number}"),
        "EUR" => format!("€{number}"),
        "USD" => format!("${number}"),
        code => format!("{code} {number}"),
    }
}

/// The language of [`differences`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountLang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

/// Which notes a clearing's over/short is made of: every denomination
/// whose count differs from what was expected, e.g. `¥100 ×2 short, ¥50
/// ×1 over` (`¥100 短 2 张，¥50 多 1 张`); `None` when there was no count
/// by denomination, an empty string when every denomination matched.
pub fn differences(lines: &[DenominationLine], lang: CountLang) -> Option<String> {
    if lines.is_empty() || lines.iter().any(|l| l.counted.is_none()) {
        return None;
    }
    let parts: Vec<String> = lines
        .iter()
        .rev()
        .filter_map(|l| {
            let d = l.difference()?;
            let v = denomination(l.value);
            match (lang, d.signum()) {
                (_, 0) => None,
                (CountLang::En, 1) => Some(format!("{v} ×{d} over")),
                (CountLang::En, _) => Some(format!("{v} ×{} short", -d)),
                (CountLang::Zh, 1) => Some(format!("{v} 多 {d} 张")),
                (CountLang::Zh, _) => Some(format!("{v} 短 {} 张", -d)),
            }
        })
        .collect();
    Some(parts.join(match lang {
        CountLang::En => ", ",
        CountLang::Zh => "，",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::CNY)
    }

    fn c(minor: i64, count: u32) -> NoteCount {
        NoteCount {
            value: cny(minor),
            count,
        }
    }

    #[test]
    fn denominations_are_written_as_people_write_them() {
        assert_eq!(denomination(cny(10000)), "¥100");
        assert_eq!(denomination(cny(50)), "¥0.5");
        assert_eq!(denomination(Money::new(500, Currency::EUR)), "€5");
        assert_eq!(
            denomination(Money::new(
                2000,
                Currency::try_from("GBP".to_string()).unwrap()
            )),
            "GBP 20"
        );
    }

    #[test]
    fn lines_join_expected_and_counted_denominations() {
        let expected = [c(5000, 1), c(10000, 3)];
        let counted = [c(10000, 1), c(2000, 2), c(5000, 1)];
        let l = lines(&expected, Some(&counted));
        assert_eq!(
            l.iter()
                .map(|l| (l.value.minor, l.expected, l.counted))
                .collect::<Vec<_>>(),
            vec![(2000, 0, Some(2)), (5000, 1, Some(1)), (10000, 3, Some(1))]
        );
        assert_eq!(
            differences(&l, CountLang::En).unwrap(),
            "¥100 ×2 short, ¥20 ×2 over"
        );
        assert_eq!(
            differences(&l, CountLang::Zh).unwrap(),
            "¥100 短 2 张，¥20 多 2 张"
        );
        let total_only = lines(&expected, None);
        assert!(total_only.iter().all(|l| l.counted.is_none()));
        assert_eq!(differences(&total_only, CountLang::En), None);
        assert_eq!(
            differences(&lines(&expected, Some(&expected)), CountLang::En).unwrap(),
            ""
        );
    }

    #[test]
    fn a_total_of_counts_refuses_another_currency_and_overflow() {
        assert_eq!(
            total_of(&[c(10000, 3), c(5000, 1)], Currency::CNY),
            Some(cny(35000))
        );
        let eur = NoteCount {
            value: Money::new(500, Currency::EUR),
            count: 1,
        };
        assert_eq!(total_of(&[c(10000, 1), eur], Currency::CNY), None);
        assert_eq!(total_of(&[c(i64::MAX / 2, 3)], Currency::CNY), None);
    }
}
