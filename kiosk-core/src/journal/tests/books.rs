//! The running totals and the check that the books balance.

use kiosk_hal::{NoteFate, PaymentMethod};
use rusqlite::Connection;

use super::*;
use crate::journal::{CheckKind, RECENT_TAIL};

/// A file edited by someone else with `sql` (the kiosk is off).
fn edit(path: &std::path::Path, sql: &str) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(sql).unwrap();
}

/// Opening `path` fails with `Unbalanced`, names the file and every phrase in
/// `says`, and leaves the main file's bytes as they were.
fn assert_unbalanced(path: &std::path::Path, says: &[&str]) {
    let before = std::fs::read(path).unwrap();
    let err = Journal::open(path).expect_err("books that do not balance must be refused");
    assert_eq!(err.kind(), JournalErrorKind::Unbalanced, "{err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    for phrase in says {
        assert!(text.contains(phrase), "{phrase:?} not in: {text}");
    }
    assert_eq!(std::fs::read(path).unwrap(), before, "file bytes changed");
}

/// A closed journal of `payments` credited cash payments of two notes each.
fn closed_journal(payments: u64) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    for seq in 1..=payments {
        let s = begin(&mut j, seq, PaymentMethod::Cash);
        j.note_stacked(&s, None, cny(5000), Millis(seq)).unwrap();
        j.note_stacked(&s, None, cny(10000), Millis(seq)).unwrap();
        let k = key(&s.0);
        j.payment_pending(&s, &k, cny(15000), Millis(seq)).unwrap();
        j.payment_credited(&k, "B", cny(15000), Millis(seq))
            .unwrap();
    }
    j.close().unwrap();
    (dir, path)
}

#[test]
fn a_clean_close_lets_the_next_open_check_only_the_newest_payments() {
    let payments = RECENT_TAIL as u64 + 36;
    let (_dir, path) = closed_journal(payments);
    let j = Journal::open(&path).unwrap();
    let check = j.opened_with();
    assert_eq!(check.kind, CheckKind::Cheap);
    assert!(!check.after_unclean_shutdown);
    assert_eq!(check.payments_checked, RECENT_TAIL as u64);
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(t.credited, cny(15000 * payments as i64));
    assert_balanced(&t);
}

#[test]
fn after_a_crash_the_open_checks_what_came_after_the_mark() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    let j = Journal::open(&copy).unwrap();
    let check = j.opened_with();
    assert_eq!(check.kind, CheckKind::SinceMark);
    assert!(check.after_unclean_shutdown);
    assert_eq!(check.payments_checked, 1);
}

/// `payments` credited cash payments of two notes each, unsynced (the
/// logic is the same), from session `first` on.
fn pay(j: &mut Journal, first: u64, payments: u64) {
    for seq in first..first + payments {
        let s = begin(j, seq, PaymentMethod::Cash);
        j.note_stacked(&s, None, cny(5000), Millis(seq)).unwrap();
        j.note_stacked(&s, None, cny(10000), Millis(seq)).unwrap();
        let k = key(&s.0);
        j.payment_pending(&s, &k, cny(15000), Millis(seq)).unwrap();
        j.payment_credited(&k, "B", cny(15000), Millis(seq))
            .unwrap();
    }
}

#[test]
fn a_checkpoint_moves_the_mark_so_the_open_after_a_crash_stays_bounded() {
    let half = 2 * RECENT_TAIL as u64;
    for checkpoint in [false, true] {
        let (_dir, path) = temp_path();
        let mut j = Journal::open(&path).unwrap();
        j.unsynced_for_tests();
        pay(&mut j, 1, half);
        if checkpoint {
            j.checkpoint().unwrap();
        }
        pay(&mut j, half + 1, half);
        j.abandon();
        let j = Journal::open(&path).unwrap();
        let check = j.opened_with();
        assert_eq!(check.kind, CheckKind::SinceMark);
        assert!(check.after_unclean_shutdown);
        // Without the checkpoint the mark is where the open left it (no
        // payments): every payment is checked; with it, only the second half.
        let expected = if checkpoint { half } else { 2 * half };
        assert_eq!(check.payments_checked, expected, "checkpoint: {checkpoint}");
        assert_eq!(
            j.cash_totals(Currency::CNY).unwrap().credited,
            cny(15000 * 2 * half as i64)
        );
    }
}

#[test]
fn a_checkpoint_does_not_move_the_mark_over_books_that_do_not_balance() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    pay(&mut j, 1, 2);
    j.checkpoint().unwrap();
    pay(&mut j, 3, 1);
    // Someone raises the new payment behind the guards and the totals.
    j.conn
        .execute_batch(
            "DROP TRIGGER payments_money_fixed; DROP TRIGGER books_payment_changed;
             UPDATE payments SET amount_minor = 17000 WHERE key = 'K01-000003';",
        )
        .unwrap();
    let err = j.checkpoint().expect_err("the books do not balance");
    assert_eq!(err.kind(), JournalErrorKind::Unbalanced);
    assert!(
        err.to_string()
            .contains("payment K01-000003 of CNY 170.00 has notes worth CNY 150.00"),
        "{err}"
    );
    let verified: i64 = j
        .conn
        .query_row("SELECT verified_payment FROM marks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verified, 2, "the mark stays before the unchecked payment");
}

#[test]
fn a_crashed_journal_with_edited_running_totals_is_refused_by_the_bounded_check() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    // The triggers are all in place: the open after the crash is bounded,
    // and the totals themselves no longer balance.
    edit(
        &copy,
        "UPDATE books SET box_minor = box_minor - 5000 WHERE currency = 'CNY';",
    );
    assert_unbalanced(
        &copy,
        &["CNY: running totals: in the box CNY 100.00 but credited CNY 150.00"],
    );
}

#[test]
fn a_crashed_journal_missing_a_guard_is_checked_fully() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    edit(&copy, "DROP TRIGGER notes_assignment_fixed;");
    let j = Journal::open(&copy).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::Full);
    assert!(j.opened_with().after_unclean_shutdown);
    let back: i64 = j
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'notes_assignment_fixed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(back, 1, "the guard is put back after the full check");
}

#[test]
fn an_abandoned_journal_opens_like_after_a_power_cut() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(5000), Millis(1)).unwrap();
    j.abandon();
    let wal = std::fs::metadata(path.with_extension("sqlite-wal")).unwrap();
    assert!(wal.len() > 0, "the WAL stays as a power cut leaves it");
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::SinceMark);
    assert!(j.opened_with().after_unclean_shutdown);
    assert_eq!(
        j.open_sessions().unwrap()[0].unposted_stacked,
        Some(cny(5000))
    );
    drop(j);
    assert_eq!(
        Journal::open(&path).unwrap().opened_with().kind,
        CheckKind::Cheap
    );
}

#[test]
fn a_crashed_journal_whose_payment_is_not_its_notes_is_refused() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    // Someone raises the payment behind the guards and the running totals.
    edit(
        &copy,
        "DROP TRIGGER IF EXISTS payments_money_fixed;
         DROP TRIGGER IF EXISTS books_payment_changed;
         UPDATE payments SET amount_minor = 17000 WHERE key = 'K01-000001';",
    );
    assert_unbalanced(
        &copy,
        &[
            "payment K01-000001 of CNY 170.00 has notes worth CNY 150.00",
            "the books do not balance",
            "in the box CNY 150.00 but credited CNY 170.00",
        ],
    );
}

#[test]
fn a_note_edited_behind_the_triggers_after_a_clean_close_is_refused() {
    let (_dir, path) = closed_journal(3);
    // The guard refuses the edit while the triggers are in place ...
    let c = Connection::open(&path).unwrap();
    let err = c
        .execute("UPDATE notes SET value_minor = 2000 WHERE id = 1", [])
        .expect_err("a note in the box keeps its value");
    assert!(err.to_string().contains("stays in it"), "{err}");
    drop(c);
    // ... so the editor drops them: the open sees they are gone and checks all.
    edit(
        &path,
        "DROP TRIGGER IF EXISTS notes_in_box_fixed;
         DROP TRIGGER IF EXISTS books_note_changed;
         UPDATE notes SET value_minor = 2000 WHERE id = 1;",
    );
    assert_unbalanced(
        &path,
        &[
            "payment K01-000001 of CNY 150.00 has notes worth CNY 120.00",
            "CNY: running total of the box CNY 450.00, the rows say CNY 420.00",
        ],
    );
}

#[test]
fn edited_running_totals_are_refused_by_the_cheap_check() {
    let (_dir, path) = closed_journal(2);
    edit(
        &path,
        "UPDATE books SET credited_minor = credited_minor + 100 WHERE currency = 'CNY';",
    );
    assert_unbalanced(
        &path,
        &["CNY: running totals: in the box CNY 300.00 but credited CNY 301.00"],
    );
}

#[test]
fn a_shortened_audit_trail_is_refused() {
    let (_dir, path) = closed_journal(2);
    edit(
        &path,
        "DROP TRIGGER events_no_delete;
         DELETE FROM events WHERE id > (SELECT max(id) - 3 FROM events);",
    );
    // The guard is gone, so every row is re-hashed: what is left is a sound
    // chain, but shorter than the one verified at the close.
    let last: i64 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT max(id) FROM events", [], |r| r.get(0))
        .unwrap();
    let err = Journal::open(&path).expect_err("a shortened trail must be refused");
    assert_eq!(err.kind(), JournalErrorKind::ChainBroken, "{err}");
    assert_eq!(err.first_bad_row(), Some(last + 1), "{err}");
    assert!(err.to_string().contains("reached row"), "{err}");
}

#[test]
fn the_guards_keep_verified_facts_fixed() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(5000), Millis(1)).unwrap();
    j.payment_pending(&s, &key("p"), cny(5000), Millis(2))
        .unwrap();
    for sql in [
        "UPDATE payments SET amount_minor = 1 WHERE key = 'p'",
        "UPDATE payments SET key = 'q' WHERE key = 'p'",
        "UPDATE payments SET method = 1 WHERE key = 'p'",
        "UPDATE notes SET payment = NULL WHERE id = 1",
        "UPDATE notes SET state = 2 WHERE id = 1",
        "DELETE FROM books",
    ] {
        assert!(j.conn.execute(sql, []).is_err(), "{sql} went through");
    }
    j.verify_full().unwrap();
}

#[test]
fn verify_full_finds_what_the_cheap_check_cannot() {
    let (_dir, mut j) = journal();
    for seq in 1..=3 {
        let s = begin(&mut j, seq, PaymentMethod::Cash);
        j.note_stacked(&s, None, cny(2000), Millis(seq)).unwrap();
        j.payment_pending(&s, &key(&s.0), cny(2000), Millis(seq))
            .unwrap();
    }
    let ok = j.verify_full().unwrap();
    assert_eq!(
        (ok.kind, ok.payments_checked),
        (CheckKind::FullWithPages, 3)
    );
    // A note moved from one payment to another, totals untouched: every
    // total still balances, only the per-payment sums show it.
    j.conn
        .execute_batch(
            "DROP TRIGGER notes_assignment_fixed;
             UPDATE notes SET payment = 2 WHERE id = 1;",
        )
        .unwrap();
    let err = j.verify_full().expect_err("must find the moved note");
    assert_eq!(err.kind(), JournalErrorKind::Unbalanced);
    let text = err.to_string();
    assert!(
        text.contains("payment K01-000001 of CNY 20.00 has no notes"),
        "{text}"
    );
    assert!(text.contains("3 notes name a payment but only 2"), "{text}");
}

#[test]
fn running_totals_follow_every_kind_of_change() {
    let (_dir, mut j) = journal();
    let s = begin(&mut j, 1, PaymentMethod::Cash);
    let a = j.note_escrowed(&s, cny(5000), Millis(1)).unwrap();
    j.note_stacked(&s, Some(a), cny(5000), Millis(2)).unwrap();
    let b = j.note_escrowed(&s, cny(1000), Millis(3)).unwrap();
    j.note_returned(b, Millis(4)).unwrap();
    let c = j
        .note_in_doubt(&s, None, Some(cny(2000)), Millis(5))
        .unwrap();
    let d = j.note_in_doubt(&s, None, None, Millis(6)).unwrap();
    j.payment_pending(&s, &key("p"), cny(5000), Millis(7))
        .unwrap();
    j.payment_refused(&key("p"), "no", Millis(8)).unwrap();
    j.settle_in_doubt(c, NoteFate::InCashBox, Millis(9))
        .unwrap();
    j.settle_in_doubt(d, NoteFate::InCashBox, Millis(10))
        .unwrap();
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (t.in_box, t.notes_in_box, t.refused, t.pending),
        (cny(7000), 3, cny(5000), cny(2000))
    );
    assert_eq!((t.in_doubt, t.in_doubt_notes), (cny(0), 0));
    assert_balanced(&t);
    j.verify_full().unwrap();
}

#[test]
fn a_journal_from_before_the_running_totals_gets_them_on_open() {
    let (_dir, path) = closed_journal(4);
    // What the previous build left: no books, no marks, its indexes.
    edit(
        &path,
        "DROP TRIGGER books_note_added; DROP TRIGGER books_note_changed;
         DROP TRIGGER books_payment_added; DROP TRIGGER books_payment_changed;
         DROP TRIGGER payments_money_fixed; DROP TRIGGER notes_assignment_fixed;
         DROP TRIGGER notes_in_box_fixed; DROP TRIGGER books_no_delete;
         DROP TABLE books; DROP TABLE marks;
         DROP INDEX notes_in_doubt; DROP INDEX payments_state_session;
         CREATE INDEX notes_state ON notes (state, value_currency);
         CREATE INDEX notes_payment ON notes (payment);
         CREATE INDEX payments_state ON payments (state, method, amount_currency);",
    );
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::Full);
    assert!(
        !j.opened_with().after_unclean_shutdown,
        "no mark: not a crash"
    );
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_box, t.credited), (cny(60000), cny(60000)));
    let indexes: Vec<String> = j
        .conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "notes_in_doubt",
            "notes_session",
            "payments_state_session",
            "rejects_at",
            "rejects_session",
            "sessions_state_seq",
            "tickets_open"
        ]
    );
}

#[test]
fn a_journal_from_before_the_running_totals_that_does_not_balance_is_left_as_it_was() {
    let (_dir, path) = closed_journal(2);
    edit(
        &path,
        "DROP TRIGGER books_note_added; DROP TRIGGER books_note_changed;
         DROP TRIGGER books_payment_added; DROP TRIGGER books_payment_changed;
         DROP TRIGGER payments_money_fixed; DROP TRIGGER notes_assignment_fixed;
         DROP TRIGGER notes_in_box_fixed; DROP TRIGGER books_no_delete;
         DROP TABLE books; DROP TABLE marks;
         UPDATE payments SET amount_minor = 9000 WHERE key = 'K01-000002';",
    );
    assert_unbalanced(
        &path,
        &["payment K01-000002 of CNY 90.00 has notes worth CNY 150.00"],
    );
    let c = Connection::open(&path).unwrap();
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN ('books', 'marks')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        tables, 0,
        "the running totals were not added to a refused file"
    );
}

/// The query plan of `sql`, one line.
fn plan(j: &Journal, sql: &str) -> String {
    let mut stmt = j
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join(" | ")
}

#[test]
fn the_recovery_queries_use_the_small_indexes_that_remain() {
    let (_dir, j) = journal();
    let in_doubt = plan(&j, "SELECT id FROM notes WHERE state = 3 ORDER BY id");
    assert!(in_doubt.contains("notes_in_doubt"), "{in_doubt}");
    let pending = plan(
        &j,
        "SELECT key FROM payments WHERE (state = 0) = 1 ORDER BY id",
    );
    assert!(pending.contains("payments_state_session"), "{pending}");
    let has_payment = plan(&j, &crate::journal::queries::HAS_PAYMENT.replace("?1", "1"));
    assert!(
        has_payment.contains("payments_state_session (<expr>=? AND session=?)"),
        "{has_payment}"
    );
    let open = plan(
        &j,
        "SELECT n FROM sessions WHERE (ended_at IS NULL) = 1 ORDER BY started_at",
    );
    assert!(open.contains("sessions_state_seq"), "{open}");
    let seq = plan(&j, crate::journal::queries::MAX_SEQ);
    assert_eq!(
        seq.matches("SEARCH sessions USING INDEX sessions_state_seq")
            .count(),
        2,
        "{seq}"
    );
    let unposted = plan(
        &j,
        "SELECT value_minor FROM notes
         WHERE session = 1 AND state = 1 AND payment IS NULL",
    );
    assert!(unposted.contains("notes_session"), "{unposted}");
    let verify = plan(
        &j,
        "SELECT p.id, count(n.id) FROM payments p
         LEFT JOIN notes n ON n.session = p.session AND n.payment = p.id
         WHERE p.id > 0 GROUP BY p.id",
    );
    assert!(verify.contains("notes_session"), "{verify}");
    assert!(!verify.contains("TEMP B-TREE"), "{verify}");
}

#[test]
fn a_guard_replaced_under_its_name_is_noticed_and_the_books_checked_fully() {
    let (_dir, path) = closed_journal(RECENT_TAIL as u64 + 5);
    // Note 1 belongs to payment 1, older than the tail the cheap check reads.
    // The editor swaps the guard and the running-total trigger for no-ops of
    // the same names, so every total still balances, and edits the note.
    edit(
        &path,
        "DROP TRIGGER notes_in_box_fixed;
         CREATE TRIGGER notes_in_box_fixed BEFORE UPDATE ON notes BEGIN SELECT 1; END;
         DROP TRIGGER books_note_changed;
         CREATE TRIGGER books_note_changed AFTER UPDATE ON notes BEGIN SELECT 1; END;
         UPDATE notes SET value_minor = 2000 WHERE id = 1;",
    );
    assert_unbalanced(
        &path,
        &[
            "payment K01-000001 of CNY 150.00 has notes worth CNY 120.00",
            "running total of the box",
        ],
    );
}

#[test]
fn replaced_triggers_come_back_as_this_build_writes_them() {
    let (_dir, path) = closed_journal(2);
    edit(
        &path,
        "DROP TRIGGER books_no_delete;
         CREATE TRIGGER books_no_delete BEFORE DELETE ON books BEGIN SELECT 1; END;",
    );
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::Full);
    assert!(j.opened_with().after_unclean_shutdown);
    assert!(
        j.conn.execute("DELETE FROM books", []).is_err(),
        "the guard is back"
    );
    drop(j);
    assert_eq!(
        Journal::open(&path).unwrap().opened_with().kind,
        CheckKind::Cheap
    );
}
