//! Checking that the books balance: a bounded check on every open (after
//! a clean close and after a crash alike), the full one when the marks or
//! the books' triggers are missing, and on request.
//!
//! # What "the books balance" means
//!
//! For every currency, from the rows of `notes` and `payments`:
//!
//! 1. **Every cash payment is exactly its notes**: its amount equals the sum
//!    of the notes assigned to it, and there is at least one; those notes
//!    are in the box (`stacked` or `settled-in-box`), of the payment's
//!    session, with a known value in the payment's currency. A code payment
//!    has no notes.
//! 2. **No note is assigned twice, or to nothing**: a note names at most one
//!    payment (one `payment` column), and every note that names one is
//!    found by (1) under that payment, so the notes counted by (1) are all
//!    the assigned notes.
//! 3. **The money invariant**: notes in the box = credited + pending +
//!    refused cash payments + box notes in no payment yet. (It follows from
//!    1 and 2 and is checked on its own.)
//! 4. **The running totals agree**: the `books` row of each currency equals
//!    the same sums computed from the rows (see `books`).
//!
//! # The mark
//!
//! `marks` holds how far the books were verified: the newest payment id and
//! event id at the last verification, and whether the journal was closed
//! cleanly. The mark moves forward, after checking the payments written
//! since it, at every open, at every [`crate::journal::Journal::checkpoint`]
//! (which the runner calls between sessions: the check runs there, never on
//! a customer's path), at [`crate::journal::Journal::verify_full`] and at a
//! clean close. So "since the mark" is at most what was written since the
//! last checkpoint: a session or so.
//!
//! # When what runs, and what each proves
//!
//! - **The bounded check, on every open** when the marks and all the books'
//!   triggers are there: after a clean close ([`CheckKind::Cheap`]) and
//!   after an unclean shutdown, a crash or power cut
//!   ([`CheckKind::SinceMark`]) alike. It proves:
//!   (a) the audit trail reaches at least the event id of the mark (no
//!   acknowledged event is missing from its end);
//!   (b) (3) on the running totals of every currency, and none negative;
//!   (c) (1) for every payment after the mark, plus the [`RECENT_TAIL`]
//!   newest;
//!   (d) the books' triggers and guards exist, each with the exact text
//!   this build writes (`sqlite_schema.sql`; one dropped, or replaced under
//!   its name by one that does something else, fails (d)).
//!   Its cost does not grow with the journal: a few index lookups per
//!   checked payment.
//!
//!   Why that is enough after a crash: SQLite's WAL keeps every commit
//!   whole or absent, and with `synchronous = FULL` every acknowledged
//!   commit is there. A money event is one commit, and the triggers update
//!   the running totals inside the statement that changes a row, so no
//!   crash can leave a half-written event or totals that disagree with the
//!   rows. The payments before the mark passed (1) when the mark moved, and
//!   the guard triggers (present: (d)) have kept the facts (1) rests on
//!   from changing since: a payment's key, session, amount and method; a
//!   note's payment once assigned; a note in the box and its value. What
//!   the guards still allow, assigning a note not yet in a payment to an
//!   old payment, moves money out of "not yet in a payment" without adding
//!   any to a payment, and (b) catches it.
//!
//!   What it does not prove: (2) and (4) over rows before the mark; rows
//!   edited by someone who dropped the guards and put them back exactly as
//!   they were before the kiosk opened the file again (after a clean close
//!   as after a crash: only [`crate::journal::Journal::verify_full`] finds
//!   that); pages it does not read are sound (a damaged page is reported by
//!   the first read that meets it).
//! - **The full check** ([`CheckKind::Full`]), 1–4 over every row, on open
//!   when the marks are missing (a new journal, or one from before the
//!   marks), when any of the books' triggers is missing or not as this
//!   build writes it (someone edited the file behind them: the triggers are
//!   put back after the check), and once
//!   after a migration from an older format. It reads all notes and
//!   payments once.
//! - **On request**: [`crate::journal::Journal::verify_full`], the full
//!   check plus SQLite's `quick_check` of every page (which reads the whole
//!   file); it also moves the mark.
//!
//! # What it costs (measured)
//!
//! `cargo bench -p kiosk-benches --bench journal`, a journal of 500,000 cash
//! payments on this project's shared 2-core build machine, page cache
//! dropped for "cold". Before: format 1 (730 MB), the full check after an
//! unclean shutdown (two runs, so ranges). After: format 2 (288 MB), the
//! bounded check (one run).
//!
//! | check                                   | before cold | before warm | after cold | after warm |
//! |-----------------------------------------|-------------|-------------|------------|------------|
//! | open + recovery reads, clean shutdown   | 10–23 ms    | 5–7 ms      | 5.0 ms     | 1.6 ms     |
//! | of it the check (64 payments)           | 1.2–1.7 ms  | 0.2 ms      | 1.4 ms     | 0.2 ms     |
//! | open + recovery, unclean shutdown       | 1.9–3.5 s   | 1.3–2.6 s   | 3.7 ms     | 1.6 ms     |
//! | of it the check                         | (all rows)  |             | 1.4 ms     | 0.2 ms     |
//! | [`crate::journal::Journal::verify_full`]| 5.6–11.2 s  | 3.7–9.1 s   | 4.1 s      | 2.1 s      |
//!
//! With the hash chain (format 3, 439 MB: 32 bytes more per audit row),
//! the same bench on the same machine, then loaded by other builds (load
//! average 12–15, so the totals swing): open + recovery after a clean close
//! 27.9 ms cold, 28.1 ms warm, of it the check (64 payments and 1,024
//! chained rows re-hashed) 2.9 ms cold, 1.1 ms warm; after an unclean
//! shutdown 32.6 ms cold, 24.3 ms warm (check 7.4 / 1.1 ms).
//! `verify_full`, which now re-hashes all 4.5 million audit rows with their
//! facts, 21.2 s cold, 14.4 s warm.
//!
//! Format 4 (281 MB: 562 bytes per payment where format 3 took 879; see
//! `migrate_v3`), the same bench, the machine loaded by other builds
//! (cold figures swing with the disk): open + recovery after a clean close
//! 45–133 ms cold, 5–24 ms warm, of it the check (64 payments and 1,056
//! chained rows: the tail from the last whole hash) about 3 ms; after an
//! unclean shutdown 31–80 ms cold, 10–32 ms warm (check 1–2 ms warm).
//!
//! So a kiosk opens in milliseconds whatever its age, after a clean close
//! and after a power cut alike; reading every row is left to
//! `verify_full`, run between sessions or in maintenance.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use kiosk_hal::{Currency, Money, PaymentMethod};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::books::{self, Totals};
use super::chain::{self, ChainHead};
use super::codec;
use super::fail::Fail;
use super::JournalErrorKind;

/// How many of the newest payments the cheap check verifies on every open,
/// on top of those written since the last verification.
pub const RECENT_TAIL: i64 = 64;

/// The triggers the running totals and the cheap check depend on.
const BOOKS_TRIGGERS: &[&str] = &[
    "books_note_added",
    "books_note_changed",
    "books_payment_added",
    "books_payment_changed",
    "payments_money_fixed",
    "notes_assignment_fixed",
    "notes_in_box_fixed",
    "books_no_delete",
    "events_no_update",
    "events_no_delete",
    "chain_no_delete",
];

/// The books' triggers as this build creates them: each name with the text
/// SQLite keeps for it in `sqlite_schema.sql` (`CREATE TRIGGER name … END`:
/// the statement from the name on, without `IF NOT EXISTS` and the `;`).
fn books_triggers() -> Vec<(&'static str, String)> {
    [books::SCHEMA_BOOKS, chain::SCHEMA_EVENTS_GUARDS]
        .into_iter()
        .flat_map(|sql| sql.split("CREATE TRIGGER IF NOT EXISTS ").skip(1))
        .map(|part| {
            let text = part.find("END;").map_or(part, |end| &part[..end + 3]);
            let name = text.split_whitespace().next().unwrap_or_default();
            (name, format!("CREATE TRIGGER {text}"))
        })
        .collect()
}

/// The books' triggers that are missing, or whose text is not the one this
/// build writes (someone replaced one under its name): empty when all are
/// in place as written.
pub(super) fn changed_triggers(conn: &Connection) -> Result<Vec<&'static str>, Fail> {
    let expected = books_triggers();
    debug_assert_eq!(
        expected.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        BOOKS_TRIGGERS,
        "the books' SQL and the list of its triggers agree"
    );
    let mut stmt =
        conn.prepare_cached("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?1")?;
    let mut changed = Vec::new();
    for (name, sql) in &expected {
        let stored: Option<String> = stmt.query_row([name], |r| r.get(0)).optional()?;
        if stored.as_deref() != Some(sql.as_str()) {
            changed.push(*name);
        }
    }
    Ok(changed)
}

/// At most this many problems are named in an error.
const MAX_PROBLEMS: usize = 5;

/// Which check of the books ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// After a clean shutdown: running totals, audit-trail length, the
    /// books' triggers in place, and the payments written since the last
    /// verification plus the newest few.
    Cheap,
    /// After an unclean shutdown (crash, power cut) with the books' triggers
    /// in place: the same checks as [`CheckKind::Cheap`], from the mark the
    /// last checkpoint, open or clean close left (see the `verify` module).
    SinceMark,
    /// Every note and payment (after an unclean shutdown).
    Full,
    /// Every note and payment, and SQLite's `quick_check` of every page.
    FullWithPages,
}

/// What a check of the books looked at, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BooksCheck {
    /// Which check ran.
    pub kind: CheckKind,
    /// `true` when the previous shutdown was not clean (the check is then
    /// [`CheckKind::SinceMark`]) or the books' triggers were missing (the
    /// check is then [`CheckKind::Full`]); `false` after a clean close, for a
    /// new journal, or for one from before the clean-shutdown mark (checked
    /// fully once).
    pub after_unclean_shutdown: bool,
    /// Payments whose notes were added up.
    pub payments_checked: u64,
    /// Audit rows whose link in the hash chain was recomputed (see
    /// [`crate::journal::ChainHead`]): those since the mark and the newest
    /// [`crate::journal::CHAIN_TAIL`], or every row.
    pub chain_rows_checked: u64,
    /// Wall time the check took.
    pub took: Duration,
}

/// The clean-shutdown mark and how far the books were verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Marks {
    /// Set by a clean close, cleared by the next open.
    pub clean: bool,
    /// Payments with an id up to this passed check (1).
    pub verified_payment: i64,
    /// The audit trail's last event id at that verification.
    pub verified_event: i64,
}

/// The stored marks, `None` if the row is missing.
pub(super) fn marks(conn: &Connection) -> Result<Option<Marks>, Fail> {
    Ok(conn
        .prepare_cached("SELECT clean, verified_payment, verified_event FROM marks WHERE id = 1")?
        .query_row([], |r| {
            Ok(Marks {
                clean: r.get(0)?,
                verified_payment: r.get(1)?,
                verified_event: r.get(2)?,
            })
        })
        .optional()?)
}

/// The largest payment id and event id (0 when there are none).
fn newest(conn: &Connection) -> Result<(i64, i64), Fail> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT coalesce(max(id), 0) FROM payments),
                    (SELECT coalesce(max(id), 0) FROM events)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Records that everything written so far is verified, and whether the
/// journal is being closed cleanly (`clean`) or is in use.
pub(super) fn set_marks(
    conn: &Connection,
    clean: bool,
    known_head: Option<ChainHead>,
) -> Result<(), Fail> {
    let (payment, event) = newest(conn)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO marks (id, clean, verified_payment, verified_event)
         VALUES (1, ?1, ?2, ?3)",
    )?
    .execute(params![clean, payment, event])?;
    chain::set_verified(conn, known_head)?;
    Ok(())
}

/// The check to run on open, run: bounded (from the mark) when the marks
/// and the books' triggers are in place, full otherwise or when `migrated`
/// (a file just migrated from an older format is checked in full once).
pub(super) fn on_open(conn: &Connection, migrated: bool) -> Result<BooksCheck, Fail> {
    let started = Instant::now();
    let all_triggers = changed_triggers(conn)?.is_empty();
    match marks(conn)? {
        Some(m) if all_triggers && !migrated => {
            let payments = cheap(conn, m)?;
            let rows = chain::check_recent(conn)?;
            Ok(BooksCheck {
                kind: if m.clean {
                    CheckKind::Cheap
                } else {
                    CheckKind::SinceMark
                },
                after_unclean_shutdown: !m.clean,
                payments_checked: payments,
                chain_rows_checked: rows,
                took: started.elapsed(),
            })
        }
        marks => {
            // No mark at all: a new journal, or one from before the marks.
            // Triggers missing: someone edited the file behind them.
            // (A migration drops the books' triggers itself.)
            let after_unclean_shutdown =
                (!all_triggers && !migrated) || marks.is_some_and(|m| !m.clean);
            let payments = full(conn)?;
            let rows = chain::check_all(conn)?;
            Ok(BooksCheck {
                kind: CheckKind::Full,
                after_unclean_shutdown,
                payments_checked: payments,
                chain_rows_checked: rows,
                took: started.elapsed(),
            })
        }
    }
}

/// The cheap check (see the module docs); returns the payments checked.
pub(super) fn cheap(conn: &Connection, m: Marks) -> Result<u64, Fail> {
    bounded(conn, m, RECENT_TAIL)
}

/// The cheap check without the recent tail: what a checkpoint checks before
/// it moves the mark (the payments since the mark were never checked).
pub(super) fn since(conn: &Connection, m: Marks) -> Result<u64, Fail> {
    bounded(conn, m, 0)
}

/// The cheap check, over the payments after the mark and the `tail` newest.
fn bounded(conn: &Connection, m: Marks, tail: i64) -> Result<u64, Fail> {
    let (newest_payment, newest_event) = newest(conn)?;
    let mut problems = Vec::new();
    if newest_event < m.verified_event {
        problems.push(format!(
            "the audit trail ends at event {newest_event} but reached event {} when last \
             verified: acknowledged events are missing",
            m.verified_event
        ));
    }
    for (currency, t) in books::stored(conn)? {
        totals_balance(&currency, &t, "running totals", &mut problems);
    }
    let from = m.verified_payment.min(newest_payment - tail).max(0);
    let (checked, _) = payments(conn, from, &mut problems)?;
    refuse_if(problems)?;
    Ok(checked)
}

/// The full check (see the module docs); returns the payments checked.
pub(super) fn full(conn: &Connection) -> Result<u64, Fail> {
    let mut problems = Vec::new();
    let (checked, joined) = payments(conn, 0, &mut problems)?;
    let (sums, assigned) = books::from_rows(conn)?;
    if assigned != joined {
        problems.push(format!(
            "{assigned} notes name a payment but only {joined} belong to a payment of their \
             session"
        ));
    }
    let stored = books::stored(conn)?;
    let mut currencies: Vec<&String> = sums.iter().map(|(c, _)| c).collect();
    currencies.extend(stored.iter().map(|(c, _)| c));
    currencies.sort();
    currencies.dedup();
    let find = |list: &[(String, Totals)], c: &str| {
        list.iter()
            .find(|(k, _)| k == c)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    };
    for c in currencies {
        let rows = find(&sums, c);
        let kept = find(&stored, c);
        totals_balance(c, &rows, "notes and payments", &mut problems);
        for (what, kept, rows) in kept
            .named()
            .into_iter()
            .zip(rows.named())
            .filter_map(|((what, kept), (_, rows))| (kept != rows).then_some((what, kept, rows)))
        {
            let (kept, rows) = match what.ends_with("notes") {
                true => (kept.to_string(), rows.to_string()),
                false => (show(kept, c), show(rows, c)),
            };
            problems.push(format!(
                "{}: running total of the {what} {kept}, the rows say {rows}",
                label(c)
            ));
        }
    }
    refuse_if(problems)?;
    Ok(checked)
}

/// SQLite's `quick_check`: any answer but `ok` means damage.
pub(super) fn pages(conn: &Connection) -> Result<(), Fail> {
    let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(Fail::corrupt(format!(
        "integrity check failed ({}); left untouched for staff",
        problems.join("; ")
    )))
}

/// Check (1) for payments with `id > after`; returns how many were checked
/// and how many notes they hold.
fn payments(conn: &Connection, after: i64, problems: &mut Vec<String>) -> Result<(u64, i64), Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.key, p.method, p.amount_minor, p.amount_currency,
                count(n.id),
                count(n.id) FILTER (WHERE n.state IN (1, 4)
                                      AND n.value_currency = p.amount_currency),
                coalesce(sum(n.value_minor) FILTER (WHERE n.state IN (1, 4)
                                      AND n.value_currency = p.amount_currency), 0)
         FROM payments p LEFT JOIN notes n ON n.session = p.session AND n.payment = p.id
         WHERE p.id > ?1
         GROUP BY p.id ORDER BY p.id",
    )?;
    let mut rows = stmt.query([after])?;
    let (mut checked, mut joined) = (0u64, 0i64);
    while let Some(r) = rows.next()? {
        checked += 1;
        let key: String = r.get(0)?;
        let method = codec::method_from(r.get(1)?)?;
        let amount: i64 = r.get(2)?;
        let currency: String = r.get(3)?;
        let (notes, good, sum): (i64, i64, i64) = (r.get(4)?, r.get(5)?, r.get(6)?);
        joined += notes;
        let cash = method == PaymentMethod::Cash;
        let problem = match method {
            _ if cash && notes == 0 => Some("has no notes".to_string()),
            _ if cash && good != notes => Some(format!(
                "has {} notes not in the box in {currency}",
                notes - good
            )),
            _ if cash && sum != amount => Some(format!("has notes worth {}", show(sum, &currency))),
            _ if cash => None,
            _ if notes > 0 => Some(format!("is paid by code but has {notes} notes")),
            _ => None,
        };
        if let Some(p) = problem {
            problems.push(format!("payment {key} of {} {p}", show(amount, &currency)));
        }
    }
    Ok((checked, joined))
}

/// Check (3) on one currency's totals, and that none is negative.
fn totals_balance(currency: &str, t: &Totals, what: &str, problems: &mut Vec<String>) {
    let c = |minor| show(minor, currency);
    if t.any_negative() {
        let negative: Vec<String> = t
            .named()
            .iter()
            .filter(|(_, v)| *v < 0)
            .map(|(name, v)| format!("{name} {v}"))
            .collect();
        problems.push(format!(
            "{}: {what} has negative totals ({})",
            label(currency),
            negative.join(", ")
        ));
    }
    if t.balances() != Some(true) {
        problems.push(format!(
            "{}: {what}: in the box {} but credited {} + pending {} + refused {} + not yet in \
             a payment {}",
            label(currency),
            c(t.box_minor),
            c(t.credited_minor),
            c(t.pending_minor),
            c(t.refused_minor),
            c(t.unassigned_minor)
        ));
    }
}

/// `Unbalanced`, naming the first problems, unless there are none.
fn refuse_if(problems: Vec<String>) -> Result<(), Fail> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut message = String::from("the books do not balance: ");
    message.push_str(
        &problems
            .iter()
            .take(MAX_PROBLEMS)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
    );
    if problems.len() > MAX_PROBLEMS {
        let _ = write!(message, "; and {} more", problems.len() - MAX_PROBLEMS);
    }
    message.push_str(
        ". The file is left as it was: reconcile it against the audit trail (table events) \
         and the cash box before the kiosk takes money again",
    );
    Err(Fail::new(JournalErrorKind::Unbalanced, message))
}

/// A currency code for messages (`""` is the notes of unknown value).
fn label(currency: &str) -> String {
    if currency.is_empty() {
        "notes of unknown value".to_string()
    } else {
        currency.to_string()
    }
}

/// An amount for messages.
fn show(minor: i64, currency: &str) -> String {
    match Currency::try_from(currency.to_string()) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} (minor units of {currency:?})"),
    }
}
