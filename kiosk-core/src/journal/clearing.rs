//! Clearings (清箱): the cash box emptied under dual control, counted, and
//! checked against the journal.
//!
//! A clearing does not touch notes or payments: a payment still pending when
//! its cash is taken out stays pending and is still retried; an in-doubt note
//! stays in doubt for staff. What the clearing records is what the journal
//! expected in the box (everything in it since the previous clearing), what
//! was counted, and the counterfeits found at counting; and per
//! denomination (format 5, `clearing_counts`) the notes expected and, when
//! the two people counted by denomination, the notes counted, so that an
//! over/short names the notes it is made of.

use kiosk_hal::{Currency, Money};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::books;
use super::chain::{ChainHead, Writer};
use super::counts::{self, DenominationLine, NoteCount};
use super::events::{Event, EventKind};
use super::fail::Fail;
use crate::ids::Millis;

/// One clearing, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingRecord {
    /// Its row id.
    pub id: i64,
    /// When the box was counted.
    pub at: Millis,
    /// The two people present (dual control).
    pub operators: [String; 2],
    /// What the journal expected in the box: notes in it since the previous clearing.
    pub expected: Money,
    /// What was counted.
    pub counted: Money,
    /// Counterfeit notes found at counting (claimed from the vendor).
    pub counterfeit_found: u32,
    /// Cash payments still pending at the clearing (still retried after it).
    pub pending: Money,
    /// Notes still in doubt at the clearing.
    pub in_doubt_notes: u32,
    /// The head of the audit trail's hash chain with the clearing's own
    /// audit row (see [`Journal::chain_head`](crate::journal::Journal::chain_head)):
    /// print it on the clearing report. `None` for a clearing recorded
    /// before the journal had the chain.
    #[serde(default)]
    pub chain_head: Option<ChainHead>,
    /// Per denomination, smallest first: the notes expected and (when the
    /// count was given by denomination) counted. Empty for a clearing
    /// recorded before format 5, or of an empty box counted as a total.
    #[serde(default)]
    pub notes: Vec<DenominationLine>,
}

impl ClearingRecord {
    /// Counted minus expected: positive is over, negative is short.
    pub fn over_short(&self) -> i64 {
        self.counted.minor - self.expected.minor
    }

    /// The denominations whose count differs from what was expected, with
    /// counted minus expected notes (largest denomination first); empty
    /// when every denomination matched or the count was a total only.
    pub fn note_differences(&self) -> Vec<(Money, i64)> {
        let mut out: Vec<(Money, i64)> = self
            .notes
            .iter()
            .filter_map(|l| Some((l.value, l.difference()?)))
            .filter(|(_, d)| *d != 0)
            .collect();
        out.reverse();
        out
    }

    /// The part of the expected total the per-denomination lines do not
    /// account for (notes of unknown value add none): zero when the audit
    /// trail and the books agree, `None` for a clearing without lines.
    pub fn unattributed(&self) -> Option<i64> {
        if self.notes.is_empty() {
            return None;
        }
        let lines = self.notes.iter().try_fold(0i64, |sum, l| {
            sum.checked_add(l.value.minor.checked_mul(i64::from(l.expected))?)
        })?;
        self.expected.minor.checked_sub(lines)
    }
}

/// Records a clearing of `currency` cash.
pub(super) fn record(
    conn: &Writer<'_>,
    at: Millis,
    operators: &[String; 2],
    counted: Money,
    counted_notes: Option<&[NoteCount]>,
    counterfeit_found: u32,
) -> Result<ClearingRecord, Fail> {
    dual_control(operators, "a clearing")?;
    if let Some(notes) = counted_notes {
        // The machine refuses such a count before it gets here; the
        // journal records nothing that does not add up either.
        crate::machine::clearing::check_counted_notes(counted, notes)
            .map_err(|refusal| Fail::illegal(refusal.to_string()))?;
    }
    let currency = counted.currency;
    let totals = books::cash_totals(conn, currency)?;
    let cleared_before = cleared_total(conn, currency)?;
    let expected = Money::new(totals.in_box.minor - cleared_before, currency);
    let lines = counts::lines(&counts::cash_counts(conn, currency)?.in_box, counted_notes);
    // Its audit row is the next one: the chain head the clearing reports.
    let event = conn.head()?.rows + 1;
    conn.prepare_cached(
        "INSERT INTO clearings (at, operator_a, operator_b, currency, expected_minor,
                                counted_minor, counterfeit_found, pending_minor, in_doubt_notes,
                                event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        at.0,
        operators[0],
        operators[1],
        currency.code(),
        expected.minor,
        counted.minor,
        counterfeit_found,
        totals.pending.minor,
        totals.in_doubt_notes,
        event,
    ])?;
    let id = conn.last_insert_rowid();
    // Before the audit row, whose hash covers them.
    counts::insert_lines(conn, id, &lines)?;
    // The clearing's row (never changed) says the rest.
    Event::new(EventKind::Clearing, at)
        .detail(json!({ "clearing": id }))
        .append(conn)?;
    let head = conn.head()?;
    debug_assert_eq!(head.rows, event, "the clearing's audit row is the head");
    Ok(ClearingRecord {
        id,
        at,
        operators: operators.clone(),
        expected,
        counted,
        counterfeit_found,
        pending: totals.pending,
        in_doubt_notes: totals.in_doubt_notes,
        chain_head: Some(head),
        notes: lines,
    })
}

/// `IllegalTransition` unless `operators` are two different people: both
/// named (not blank), and not the same name twice (ignoring surrounding
/// spaces). `what` says what needs them, for the message.
pub(super) fn dual_control(operators: &[String; 2], what: &str) -> Result<(), Fail> {
    let [a, b] = operators.each_ref().map(|o| o.trim());
    if a.is_empty() || b.is_empty() || a == b {
        return Err(Fail::illegal(format!(
            "{what} needs two different people (dual control), got {operators:?}"
        )));
    }
    Ok(())
}

/// What all clearings of `currency` expected, in minor units.
fn cleared_total(conn: &Connection, currency: Currency) -> Result<i64, Fail> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(expected_minor), 0) FROM clearings WHERE currency = ?1",
        )?
        .query_row([currency.code()], |r| r.get(0))?)
}

/// Every clearing, oldest first.
pub(super) fn all(conn: &Connection) -> Result<Vec<ClearingRecord>, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.at, c.operator_a, c.operator_b, c.currency, c.expected_minor,
                c.counted_minor, c.counterfeit_found, c.pending_minor, c.in_doubt_notes,
                e.id, e.hash
         FROM clearings c LEFT JOIN events e ON e.id = c.event ORDER BY c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let code: String = r.get(4)?;
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, u64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            code,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, u32>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, u32>(9)?,
            r.get::<_, Option<u64>>(10)?,
            r.get::<_, Option<Vec<u8>>>(11)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, a, b, code, expected, counted, counterfeit, pending, in_doubt, event, hash) =
            row?;
        let chain_head = match (event, hash) {
            (Some(rows), Some(hash)) => Some(ChainHead {
                rows,
                hash: hash.as_slice().try_into().map_err(|_| {
                    Fail::corrupt(format!(
                        "clearing {id}: its audit row's hash is not 32 bytes"
                    ))
                })?,
            }),
            _ => None,
        };
        let currency =
            Currency::try_from(code).map_err(|e| Fail::corrupt(format!("clearing {id}: {e}")))?;
        out.push(ClearingRecord {
            id,
            at: Millis(at),
            operators: [a, b],
            expected: Money::new(expected, currency),
            counted: Money::new(counted, currency),
            counterfeit_found: counterfeit,
            pending: Money::new(pending, currency),
            in_doubt_notes: in_doubt,
            chain_head,
            notes: counts::lines_of(conn, id, currency)?,
        });
    }
    Ok(out)
}
