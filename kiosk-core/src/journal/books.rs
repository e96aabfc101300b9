//! Running totals: the books kept in the same transaction as every money event.
//!
//! `books` has one row per currency (`''` for notes of unknown value) holding
//! the sums the money invariant is about. Triggers on `notes` and `payments`
//! keep it current inside the very statement that changes a row, so a money
//! event and its effect on the totals are one commit, whichever code path
//! (or `sqlite3` session) made the change. Reading the totals is then one
//! lookup instead of a scan of a year of notes, and the open check can test
//! the invariant on the totals without touching the rows.
//!
//! Guard triggers make the facts the balance rests on immutable once written:
//! a payment's key, session, amount and method; a note's payment once
//! assigned; a note in the box (its state and value). That is what lets the
//! verification on open look only at payments written since the last check.

use kiosk_hal::{Currency, Money};
use rusqlite::Connection;

use super::fail::{count, Fail};
use super::CashTotals;

/// The running totals, the clean-shutdown mark, their triggers and the guards.
/// Added to the format during schema version 1 (created wherever missing, then filled from the
/// rows by [`rebuild`]).
pub(super) const SCHEMA_BOOKS: &str = r#"
CREATE TABLE IF NOT EXISTS books (
    currency          TEXT PRIMARY KEY,
    box_minor         INTEGER NOT NULL DEFAULT 0,
    box_notes         INTEGER NOT NULL DEFAULT 0,
    unassigned_minor  INTEGER NOT NULL DEFAULT 0,
    in_doubt_minor    INTEGER NOT NULL DEFAULT 0,
    in_doubt_notes    INTEGER NOT NULL DEFAULT 0,
    pending_minor     INTEGER NOT NULL DEFAULT 0,
    credited_minor    INTEGER NOT NULL DEFAULT 0,
    refused_minor     INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS marks (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    clean             INTEGER NOT NULL CHECK (clean IN (0, 1)),
    verified_payment  INTEGER NOT NULL,
    verified_event    INTEGER NOT NULL
) STRICT;

CREATE TRIGGER IF NOT EXISTS books_note_added AFTER INSERT ON notes BEGIN
    INSERT OR IGNORE INTO books (currency) VALUES (coalesce(NEW.value_currency, ''));
    UPDATE books SET
        box_minor = box_minor
            + iif(NEW.state IN (1, 4), coalesce(NEW.value_minor, 0), 0),
        box_notes = box_notes + (NEW.state IN (1, 4)),
        unassigned_minor = unassigned_minor
            + iif(NEW.state IN (1, 4) AND NEW.payment IS NULL,
                  coalesce(NEW.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            + iif(NEW.state = 3, coalesce(NEW.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes + (NEW.state = 3)
    WHERE currency = coalesce(NEW.value_currency, '');
END;

CREATE TRIGGER IF NOT EXISTS books_note_changed
AFTER UPDATE OF state, value_minor, value_currency, payment ON notes BEGIN
    UPDATE books SET
        box_minor = box_minor
            - iif(OLD.state IN (1, 4), coalesce(OLD.value_minor, 0), 0),
        box_notes = box_notes - (OLD.state IN (1, 4)),
        unassigned_minor = unassigned_minor
            - iif(OLD.state IN (1, 4) AND OLD.payment IS NULL,
                  coalesce(OLD.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            - iif(OLD.state = 3, coalesce(OLD.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes - (OLD.state = 3)
    WHERE currency = coalesce(OLD.value_currency, '');
    INSERT OR IGNORE INTO books (currency) VALUES (coalesce(NEW.value_currency, ''));
    UPDATE books SET
        box_minor = box_minor
            + iif(NEW.state IN (1, 4), coalesce(NEW.value_minor, 0), 0),
        box_notes = box_notes + (NEW.state IN (1, 4)),
        unassigned_minor = unassigned_minor
            + iif(NEW.state IN (1, 4) AND NEW.payment IS NULL,
                  coalesce(NEW.value_minor, 0), 0),
        in_doubt_minor = in_doubt_minor
            + iif(NEW.state = 3, coalesce(NEW.value_minor, 0), 0),
        in_doubt_notes = in_doubt_notes + (NEW.state = 3)
    WHERE currency = coalesce(NEW.value_currency, '');
END;

CREATE TRIGGER IF NOT EXISTS books_payment_added AFTER INSERT ON payments
WHEN NEW.method = 0 BEGIN
    INSERT OR IGNORE INTO books (currency) VALUES (NEW.amount_currency);
    UPDATE books SET
        pending_minor = pending_minor + iif(NEW.state = 0, NEW.amount_minor, 0),
        credited_minor = credited_minor + iif(NEW.state = 1, NEW.amount_minor, 0),
        refused_minor = refused_minor + iif(NEW.state = 2, NEW.amount_minor, 0)
    WHERE currency = NEW.amount_currency;
END;

CREATE TRIGGER IF NOT EXISTS books_payment_changed AFTER UPDATE OF state ON payments
WHEN NEW.method = 0 AND NEW.state <> OLD.state BEGIN
    UPDATE books SET
        pending_minor = pending_minor
            + iif(NEW.state = 0, NEW.amount_minor, 0)
            - iif(OLD.state = 0, OLD.amount_minor, 0),
        credited_minor = credited_minor
            + iif(NEW.state = 1, NEW.amount_minor, 0)
            - iif(OLD.state = 1, OLD.amount_minor, 0),
        refused_minor = refused_minor
            + iif(NEW.state = 2, NEW.amount_minor, 0)
            - iif(OLD.state = 2, OLD.amount_minor, 0)
    WHERE currency = NEW.amount_currency;
END;

CREATE TRIGGER IF NOT EXISTS payments_money_fixed
BEFORE UPDATE OF key, session, amount_minor, amount_currency, method ON payments
WHEN NEW.key IS NOT OLD.key OR NEW.session IS NOT OLD.session
  OR NEW.amount_minor IS NOT OLD.amount_minor OR NEW.amount_currency IS NOT OLD.amount_currency
  OR NEW.method IS NOT OLD.method BEGIN
    SELECT RAISE(ABORT, 'a payment''s key, session, amount and method never change');
END;

CREATE TRIGGER IF NOT EXISTS notes_assignment_fixed BEFORE UPDATE OF payment ON notes
WHEN OLD.payment IS NOT NULL AND NEW.payment IS NOT OLD.payment BEGIN
    SELECT RAISE(ABORT, 'a note assigned to a payment stays assigned to it');
END;

CREATE TRIGGER IF NOT EXISTS notes_in_box_fixed
BEFORE UPDATE OF state, value_minor, value_currency ON notes
WHEN OLD.state IN (1, 4)
 AND (NEW.state IS NOT OLD.state OR NEW.value_minor IS NOT OLD.value_minor
      OR NEW.value_currency IS NOT OLD.value_currency) BEGIN
    SELECT RAISE(ABORT, 'a note in the cash box stays in it, with its value');
END;

CREATE TRIGGER IF NOT EXISTS books_no_delete BEFORE DELETE ON books
    BEGIN SELECT RAISE(ABORT, 'running totals are never deleted'); END;
"#;

/// One currency's running totals (or, for currency `""`, the notes of
/// unknown value), in minor units and note counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Totals {
    /// Value of notes in the box (stacked, settled-in-box).
    pub box_minor: i64,
    /// Number of notes in the box.
    pub box_notes: i64,
    /// Value of notes in the box that no payment has taken yet.
    pub unassigned_minor: i64,
    /// Value of in-doubt notes.
    pub in_doubt_minor: i64,
    /// Number of in-doubt notes.
    pub in_doubt_notes: i64,
    /// Cash payments pending.
    pub pending_minor: i64,
    /// Cash payments credited.
    pub credited_minor: i64,
    /// Cash payments refused.
    pub refused_minor: i64,
}

impl Totals {
    /// The money invariant on these totals: what is in the box is exactly
    /// credited + pending + refused + not yet in a payment. `None` on
    /// overflow (which is itself a failure of the books).
    pub fn balances(&self) -> Option<bool> {
        let books = self
            .credited_minor
            .checked_add(self.pending_minor)?
            .checked_add(self.refused_minor)?
            .checked_add(self.unassigned_minor)?;
        Some(books == self.box_minor)
    }

    /// Each total with what it counts, for messages.
    pub fn named(&self) -> [(&'static str, i64); 8] {
        [
            ("box", self.box_minor),
            ("box notes", self.box_notes),
            ("box not yet in a payment", self.unassigned_minor),
            ("in-doubt", self.in_doubt_minor),
            ("in-doubt notes", self.in_doubt_notes),
            ("pending", self.pending_minor),
            ("credited", self.credited_minor),
            ("refused", self.refused_minor),
        ]
    }

    /// Whether any total is negative (a total can only go negative if rows
    /// changed behind the triggers' back).
    pub fn any_negative(&self) -> bool {
        self.named().iter().any(|(_, v)| *v < 0)
    }
}

/// The columns of `books` after `currency`, in [`Totals`] order.
pub(super) const TOTALS_COLUMNS: &str = "box_minor, box_notes, unassigned_minor, in_doubt_minor, \
     in_doubt_notes, pending_minor, credited_minor, refused_minor";

/// Reads [`Totals`] from a row whose columns `first..first+8` are [`TOTALS_COLUMNS`].
pub(super) fn totals_from(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Totals> {
    Ok(Totals {
        box_minor: r.get(first)?,
        box_notes: r.get(first + 1)?,
        unassigned_minor: r.get(first + 2)?,
        in_doubt_minor: r.get(first + 3)?,
        in_doubt_notes: r.get(first + 4)?,
        pending_minor: r.get(first + 5)?,
        credited_minor: r.get(first + 6)?,
        refused_minor: r.get(first + 7)?,
    })
}

/// Every row of `books`, by currency (`""`: notes of unknown value).
pub(super) fn stored(conn: &Connection) -> Result<Vec<(String, Totals)>, Fail> {
    let sql = format!("SELECT currency, {TOTALS_COLUMNS} FROM books ORDER BY currency");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, totals_from(r, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The stored totals of `currency` (all zero if it has none).
fn stored_one(conn: &Connection, currency: &str) -> Result<Totals, Fail> {
    use rusqlite::OptionalExtension;
    let sql = format!("SELECT {TOTALS_COLUMNS} FROM books WHERE currency = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([currency], |r| totals_from(r, 0))
        .optional()?
        .unwrap_or_default())
}

/// The same totals computed from the rows of `notes` and `payments` (a full
/// scan of both), by currency, and the number of notes assigned to a payment.
pub(super) fn from_rows(conn: &Connection) -> Result<(Vec<(String, Totals)>, i64), Fail> {
    let mut out: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut assigned = 0i64;
    {
        let mut stmt = conn.prepare(
            "SELECT coalesce(value_currency, '') AS c,
               coalesce(sum(value_minor) FILTER (WHERE state IN (1, 4)), 0),
               count(*) FILTER (WHERE state IN (1, 4)),
               coalesce(sum(value_minor) FILTER (WHERE state IN (1, 4)
                                                   AND payment IS NULL), 0),
               coalesce(sum(value_minor) FILTER (WHERE state = 3), 0),
               count(*) FILTER (WHERE state = 3),
               count(payment)
             FROM notes GROUP BY c",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let t = out.entry(r.get(0)?).or_default();
            t.box_minor = r.get(1)?;
            t.box_notes = r.get(2)?;
            t.unassigned_minor = r.get(3)?;
            t.in_doubt_minor = r.get(4)?;
            t.in_doubt_notes = r.get(5)?;
            assigned += r.get::<_, i64>(6)?;
        }
    }
    let mut stmt = conn.prepare(
        "SELECT amount_currency,
           coalesce(sum(amount_minor) FILTER (WHERE state = 0), 0),
           coalesce(sum(amount_minor) FILTER (WHERE state = 1), 0),
           coalesce(sum(amount_minor) FILTER (WHERE state = 2), 0)
         FROM payments WHERE method = 0 GROUP BY amount_currency",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let t = out.entry(r.get(0)?).or_default();
        t.pending_minor = r.get(1)?;
        t.credited_minor = r.get(2)?;
        t.refused_minor = r.get(3)?;
    }
    Ok((out.into_iter().collect(), assigned))
}

/// Replaces the running totals with the sums of the rows (once, when a
/// journal written before the books existed is first opened).
pub(super) fn rebuild(conn: &Connection) -> Result<(), Fail> {
    let (sums, _) = from_rows(conn)?;
    let sql = format!(
        "INSERT INTO books (currency, {TOTALS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    let mut stmt = conn.prepare(&sql)?;
    for (c, t) in sums {
        stmt.execute(rusqlite::params![
            c,
            t.box_minor,
            t.box_notes,
            t.unassigned_minor,
            t.in_doubt_minor,
            t.in_doubt_notes,
            t.pending_minor,
            t.credited_minor,
            t.refused_minor
        ])?;
    }
    Ok(())
}

/// The journal's money totals in `currency`, from the running totals (two
/// row lookups, whatever the size of the journal).
pub(super) fn cash_totals(conn: &Connection, currency: Currency) -> Result<CashTotals, Fail> {
    let t = stored_one(conn, currency.code())?;
    // Notes of unknown value count as notes in every currency's report but
    // add no value to any.
    let unknown = stored_one(conn, "")?;
    let rejected: i64 = conn
        .prepare_cached("SELECT count(*) FROM rejects")?
        .query_row([], |r| r.get(0))?;
    let m = |minor: i64| Money::new(minor, currency);
    let pending = t
        .pending_minor
        .checked_add(t.unassigned_minor)
        .ok_or_else(|| Fail::corrupt("pending total overflows"))?;
    Ok(CashTotals {
        in_box: m(t.box_minor),
        notes_in_box: count(t.box_notes + unknown.box_notes),
        credited: m(t.credited_minor),
        pending: m(pending),
        refused: m(t.refused_minor),
        in_doubt: m(t.in_doubt_minor),
        in_doubt_notes: count(t.in_doubt_notes + unknown.in_doubt_notes),
        rejected_notes: count(rejected),
    })
}
