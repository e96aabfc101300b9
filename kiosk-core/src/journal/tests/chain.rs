//! The hash chain over the audit trail: edits outside the kiosk are found
//! on open (or by the full check), naming the first bad row; the head is on
//! every clearing; an independent recomputation agrees.

use kiosk_hal::PaymentMethod;
use rusqlite::config::DbConfig;
use rusqlite::Connection;

use super::*;
use crate::journal::events::EventKind;
use crate::journal::{CheckKind, CHAIN_TAIL};

/// `count` notes of `minor` fen.
fn note_count(minor: i64, count: u32) -> crate::journal::NoteCount {
    crate::journal::NoteCount {
        value: cny(minor),
        count,
    }
}

/// `payments` credited cash payments of two notes each, from session `first`.
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

/// A cleanly closed journal of `payments` payments (unsynced: same rows).
fn closed(payments: u64) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    pay(&mut j, 1, payments);
    j.close().unwrap();
    (dir, path)
}

/// Runs `sql` on the file the way someone who knows SQLite would: with the
/// triggers switched off for the connection (the schema keeps them, word
/// for word, so the books' trigger check sees nothing).
fn edit_past_the_triggers(path: &std::path::Path, sql: &str) {
    let c = Connection::open(path).unwrap();
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    c.execute_batch(sql).unwrap();
}

/// Runs `sql` on the file as it is.
fn edit(path: &std::path::Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

/// One value from the file.
fn value(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Opening fails with `ChainBroken` at `row`, the message names the file,
/// the row and every phrase of `says`, and the file is left as it was.
fn assert_broken_at(path: &std::path::Path, row: i64, says: &[&str]) {
    let before = std::fs::read(path).unwrap();
    let err = Journal::open(path).expect_err("an edited journal must be refused");
    assert_eq!(err.kind(), JournalErrorKind::ChainBroken, "{err}");
    assert_eq!(err.first_bad_row(), Some(row), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("row {row}")), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    for phrase in says {
        assert!(text.contains(phrase), "{phrase:?} not in: {text}");
    }
    assert_eq!(std::fs::read(path).unwrap(), before, "file bytes changed");
}

#[test]
fn two_plain_updates_raising_a_credited_amount_are_found_on_open() {
    let (_dir, path) = closed(10);
    // Payment 3 and one of its notes raised together: the payment is still
    // its notes, and the running totals (untouched) still balance, so the
    // books check alone passes.
    edit_past_the_triggers(
        &path,
        "UPDATE payments SET amount_minor = 20000 WHERE key = 'K01-000003';
         UPDATE notes SET value_minor = 10000
             WHERE payment = (SELECT id FROM payments WHERE key = 'K01-000003')
               AND value_minor = 5000;",
    );
    let row = value(
        &path,
        "SELECT e.id FROM events e JOIN payments p ON p.id = e.payment
         WHERE p.key = 'K01-000003' AND e.kind = 10",
    );
    assert_broken_at(&path, row, &["payment-pending", "payment K01-000003"]);
}

#[test]
fn deleting_events_behind_a_dropped_trigger_is_found_on_open() {
    // Enough rows that the deleted ones are older than the tail every open
    // re-hashes: only the missing guard sends the open to every row.
    let (_dir, path) = closed(CHAIN_TAIL as u64 / 5 + 50);
    assert!(value(&path, "SELECT max(id) FROM events") > CHAIN_TAIL + 20);
    edit(
        &path,
        "DROP TRIGGER events_no_delete;
         DELETE FROM events WHERE id IN (10, 11);",
    );
    assert_broken_at(&path, 12, &["rows 10 to 11 are missing"]);
}

#[test]
fn a_row_edited_with_nothing_recomputed_is_found_on_open() {
    let (_dir, path) = closed(20);
    let row = value(&path, "SELECT max(id) - 7 FROM events");
    edit_past_the_triggers(
        &path,
        &format!("UPDATE events SET at = at + 1 WHERE id = {row}"),
    );
    assert_broken_at(&path, row, &["its stored hash does not match its content"]);
}

#[test]
fn an_old_row_edited_is_found_by_the_full_check_and_the_head() {
    let (_dir, path) = closed(CHAIN_TAIL as u64 / 5 + 50);
    let head = Journal::open(&path).unwrap().chain_head().unwrap();
    // Older than the tail and the mark: the open's bounded check does not
    // read it (see `chain`), the full check and the head do.
    edit_past_the_triggers(&path, "UPDATE events SET at = at + 1 WHERE id = 3");
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::Cheap);
    let err = j
        .verify_full()
        .expect_err("the full check re-hashes every row");
    assert_eq!(err.kind(), JournalErrorKind::ChainBroken, "{err}");
    assert_eq!(err.first_bad_row(), Some(3), "{err}");
    drop(j);
    // Recomputing the hashes from the edit on (and the mark) makes the file
    // consistent again, but the head no longer matches the one printed.
    recompute_from(&path, 3);
    let j = Journal::open(&path).unwrap();
    let now = j.chain_head().unwrap();
    assert_eq!(now.rows, head.rows);
    assert_ne!(
        now.hash, head.hash,
        "the head printed earlier shows the edit"
    );
}

/// What a forger would do: recompute every stored hash from row `from` on
/// (whole or tag, as the journal writes them), and the verified mark, with
/// the journal's own code.
fn recompute_from(path: &std::path::Path, from: i64) {
    let c = Connection::open(path).unwrap();
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    crate::journal::chain::forge_from(&c, from, false).unwrap();
}

#[test]
fn a_chain_recomputed_over_an_edit_before_the_mark_is_found_on_open() {
    let (_dir, path) = closed(10);
    edit_past_the_triggers(&path, "UPDATE events SET at = at + 1 WHERE id = 3");
    let mark = value(&path, "SELECT verified_event FROM chain");
    // The forger recomputes the hashes but not the mark's copy.
    let c = Connection::open(&path).unwrap();
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    let saved: Vec<u8> = c
        .query_row("SELECT verified_hash FROM chain", [], |r| r.get(0))
        .unwrap();
    drop(c);
    recompute_from(&path, 3);
    edit_past_the_triggers(
        &path,
        &format!(
            "UPDATE chain SET verified_hash = x'{}'",
            saved.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    );
    assert_broken_at(&path, mark, &["the chain was recomputed"]);
}

#[test]
fn the_head_counts_every_row_and_is_on_every_clearing() {
    let (_dir, mut j) = journal();
    assert_eq!(j.chain_head().unwrap().rows, 0);
    pay(&mut j, 1, 3);
    let head = j.chain_head().unwrap();
    assert_eq!(head.rows, j.event_count() as u64);
    let ops = ["王芳".to_string(), "李强".to_string()];
    let clearing = j
        .record_clearing(Millis(100), &ops, cny(45000), None, 0)
        .unwrap();
    let at_clearing = j.chain_head().unwrap();
    assert_eq!(clearing.chain_head, Some(at_clearing));
    assert_eq!(at_clearing.rows, head.rows + 1, "the clearing's own row");
    assert_eq!(j.clearings().unwrap()[0].chain_head, Some(at_clearing));
    assert_eq!(
        at_clearing.to_string().len(),
        format!("{}:", at_clearing.rows).len() + 64
    );
    // A clearing row changed behind its guard breaks its audit row.
    let path = j.path().to_path_buf();
    pay(&mut j, 4, 1);
    j.close().unwrap();
    edit_past_the_triggers(&path, "UPDATE clearings SET counted_minor = 40000");
    assert_broken_at(&path, at_clearing.rows as i64, &["clearing"]);
}

#[test]
fn every_kind_of_row_chains_and_survives_a_crash_and_a_reopen() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    let j = Journal::open(&copy).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::SinceMark);
    assert!(j.opened_with().chain_rows_checked > 0);
    let head = j.chain_head().unwrap();
    drop(j);
    let mut j = Journal::open(&copy).unwrap();
    assert_eq!(j.chain_head().unwrap(), head);
    let check = j.verify_full().unwrap();
    assert_eq!(check.chain_rows_checked, head.rows);
}

/// The chain recomputed by `chain_check.py` (Python's sqlite3 and hashlib
/// only) agrees with the journal's head, and finds an edit.
#[test]
fn an_independent_recomputation_in_python_agrees() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/src/journal/chain_check.py");
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if python.map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("python3 not found: the independent recomputation is not run");
        return;
    }
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    pay(&mut j, 1, 5);
    let s = begin(&mut j, 6, PaymentMethod::Cash);
    j.note_rejected(&s, kiosk_hal::RejectReason::Counterfeit, Millis(7))
        .unwrap();
    let n = j.note_escrowed(&s, cny(2000), Millis(8)).unwrap();
    j.note_in_doubt(&s, Some(n), None, Millis(9)).unwrap();
    j.settle_in_doubt(n, kiosk_hal::NoteFate::InCashBox, Millis(10))
        .unwrap();
    let ops = ["王芳".to_string(), "李强".to_string()];
    // Counted by denomination: the clearing row hashes its figures (v30).
    let counted = [
        note_count(10000, 5),
        note_count(5000, 5),
        note_count(2000, 1),
    ];
    let clearing = j
        .record_clearing(Millis(11), &ops, cny(77000), Some(&counted), 0)
        .unwrap();
    let clearing_row = clearing.chain_head.unwrap().rows;
    let head = j.chain_head().unwrap();
    j.close().unwrap();
    let run = || {
        std::process::Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap()
    };
    let out = run();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text, format!("{} {}", head.rows, head.hex()));
    // One ¥100 fewer counted, one ¥50 more, on paper the same total.
    edit_past_the_triggers(
        &path,
        "UPDATE clearing_counts SET counted = counted - 1 WHERE value_minor = 10000;
         UPDATE clearing_counts SET counted = counted + 2 WHERE value_minor = 5000;",
    );
    let out = run();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("chain breaks at row {clearing_row}")
    );
    edit_past_the_triggers(&path, "UPDATE events SET amount = 1 WHERE id = 5");
    let out = run();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "chain breaks at row 5"
    );
}

/// A clearing's per-denomination figures are in its audit row's hash: an
/// edit of one count (triggers off, totals left alone) breaks the chain at
/// the clearing's row, and the check names it; so does deleting one, or
/// adding one.
#[test]
fn an_edited_clearing_count_breaks_the_chain_at_the_clearing_row() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    pay(&mut j, 1, 3);
    let ops = ["王芳".to_string(), "李强".to_string()];
    let counted = [note_count(10000, 3), note_count(5000, 3)];
    let first = j
        .record_clearing(Millis(100), &ops, cny(45000), Some(&counted), 0)
        .unwrap();
    let row = first.chain_head.unwrap().rows as i64;
    pay(&mut j, 10, 1);
    let second = j
        .record_clearing(Millis(200), &ops, cny(15000), None, 0)
        .unwrap();
    let second_row = second.chain_head.unwrap().rows as i64;
    j.close().unwrap();
    let pristine = std::fs::read(&path).unwrap();
    let broken_at = |sql: &str| {
        std::fs::write(&path, &pristine).unwrap();
        edit_past_the_triggers(&path, sql);
        let e = Journal::open(&path)
            .and_then(|mut j| j.verify_full())
            .expect_err("the edit is found");
        assert_eq!(e.kind(), JournalErrorKind::ChainBroken, "{e}");
        e.first_bad_row()
    };
    assert_eq!(
        broken_at("UPDATE clearing_counts SET counted = 2 WHERE value_minor = 10000"),
        Some(row)
    );
    assert_eq!(
        broken_at("UPDATE clearing_counts SET expected = 4 WHERE value_minor = 5000"),
        Some(row)
    );
    assert_eq!(
        broken_at("DELETE FROM clearing_counts WHERE value_minor = 5000"),
        Some(row)
    );
    assert_eq!(
        broken_at(&format!(
            "INSERT INTO clearing_counts VALUES ({}, 2000, 0, 1)",
            second.id
        )),
        Some(second_row)
    );
    // Untouched, it verifies.
    std::fs::write(&path, &pristine).unwrap();
    Journal::open(&path).unwrap().verify_full().unwrap();
}

/// Turns a closed journal of this build into what the version-2 build left:
/// no hashes, no chain table, clearings without their audit row's id, the
/// audit trail's guards as version 2 wrote them.
fn as_version_2(path: &std::path::Path) {
    edit(
        path,
        "DROP TRIGGER chain_no_delete; DROP TABLE chain;
         DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;
         ALTER TABLE events DROP COLUMN hash;
         DROP TRIGGER clearings_no_change;
         ALTER TABLE clearings DROP COLUMN event;
         CREATE TRIGGER clearings_no_change BEFORE UPDATE ON clearings
             BEGIN SELECT RAISE(ABORT, 'clearings are never changed'); END;
         CREATE TRIGGER events_no_update BEFORE UPDATE ON events
             BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
         CREATE TRIGGER events_no_delete BEFORE DELETE ON events
             BEGIN SELECT RAISE(ABORT, 'the events audit trail is append-only'); END;
         PRAGMA user_version = 2;",
    );
}

#[test]
fn a_version_2_journal_gets_the_chain_anchored_on_its_whole_history() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    pay(&mut j, 1, 4);
    let ops = ["王芳".to_string(), "李强".to_string()];
    j.record_clearing(Millis(100), &ops, cny(60000), None, 0)
        .unwrap();
    j.close().unwrap();
    as_version_2(&path);
    let rows = value(&path, "SELECT count(*) FROM events");

    let mut j = Journal::open(&path).unwrap();
    assert_eq!(
        j.opened_with().kind,
        CheckKind::Full,
        "migrated: checked in full once"
    );
    let version: i32 = j
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, crate::journal::SCHEMA_VERSION);
    let anchored = j.chain_head().unwrap();
    assert_eq!(anchored.rows, rows as u64);
    assert_eq!(
        j.clearings().unwrap()[0].chain_head,
        None,
        "a clearing from before the chain has no head"
    );
    // New rows chain onto the anchor; every check passes.
    pay(&mut j, 5, 1);
    assert_eq!(j.chain_head().unwrap().rows, rows as u64 + 5);
    assert_eq!(j.verify_full().unwrap().chain_rows_checked, rows as u64 + 5);
    j.close().unwrap();
    assert_eq!(
        Journal::open(&path).unwrap().opened_with().kind,
        CheckKind::Cheap
    );
    // A row from before the chain edited: its anchor no longer holds.
    edit_past_the_triggers(&path, "UPDATE events SET at = at + 1 WHERE id = 2");
    let mut j = Journal::open(&path).unwrap();
    let err = j.verify_full().expect_err("the anchor covers the old rows");
    assert_eq!(err.kind(), JournalErrorKind::ChainBroken, "{err}");
    assert_eq!(err.first_bad_row(), Some(rows), "{err}");
    assert!(
        err.to_string().contains("no longer hash to its anchor"),
        "{err}"
    );
}

/// The journal keeps the chain's head in memory between money events; a
/// second handle on the same file appends rows the first has not seen.
/// Each handle's next row must chain onto the file's last row, not onto the
/// head it kept: the full check finds every link whole.
#[test]
fn two_handles_taking_turns_on_one_file_keep_the_chain_whole() {
    let (_dir, path) = temp_path();
    let mut a = Journal::open(&path).unwrap();
    let mut b = Journal::open(&path).unwrap();
    for round in 0..4u64 {
        pay(&mut a, 1 + round * 20, 2);
        pay(&mut b, 11 + round * 20, 1);
        // `a` appends right after `b`: its kept head is `b`'s predecessor.
        let s = begin(&mut a, 100 + round, PaymentMethod::Cash);
        a.note_stacked(&s, None, cny(2000), Millis(round)).unwrap();
        assert_eq!(a.chain_head().unwrap(), b.chain_head().unwrap());
    }
    drop(b);
    let check = a.verify_full().unwrap();
    assert_eq!(check.kind, CheckKind::FullWithPages);
    a.close().unwrap();
    let reopened = Journal::open(&path).unwrap();
    assert_eq!(reopened.opened_with().kind, CheckKind::Cheap);
}

/// A money event that fails after its audit row was written is rolled
/// back whole, and the head it computed goes with it: the next events
/// chain onto the last committed row (the full check and a reopen agree).
#[test]
fn an_event_rolled_back_after_its_audit_row_leaves_no_head_behind() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    pay(&mut j, 1, 2);
    let before = j.chain_head().unwrap();
    let stacked = EventKind::NoteStacked.code();
    j.conn
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER fail_after_row AFTER INSERT ON main.events
             WHEN NEW.kind = {stacked} BEGIN SELECT RAISE(ABORT, 'injected'); END;"
        ))
        .unwrap();
    let s = begin(&mut j, 50, PaymentMethod::Cash);
    let at_begin = j.chain_head().unwrap();
    assert_eq!(at_begin.rows, before.rows + 1);
    let err = j.note_stacked(&s, None, cny(5000), Millis(50)).unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
    assert_eq!(j.chain_head().unwrap(), at_begin, "nothing of it stays");
    j.conn
        .execute_batch("DROP TRIGGER temp.fail_after_row;")
        .unwrap();
    j.note_stacked(&s, None, cny(5000), Millis(51)).unwrap();
    pay(&mut j, 60, 1);
    j.verify_full().unwrap();
    j.close().unwrap();
    Journal::open(&path).unwrap();
}
