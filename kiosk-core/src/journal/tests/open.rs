//! Opening files: pragmas, refusing what is not a journal, surviving a crash.

use kiosk_hal::PaymentMethod;
use rusqlite::Connection;

use super::*;
use crate::journal::{APPLICATION_ID, SCHEMA_VERSION};

/// Asserts that opening `path` fails with `expected`, names the path, and
/// leaves the file's bytes (and its directory) as they were.
fn assert_refused_untouched(path: &std::path::Path, expected: &[JournalErrorKind]) {
    let dir = path.parent().unwrap();
    let before = std::fs::read(path).unwrap();
    let listing = |d: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files_before = listing(dir);
    let err = Journal::open(path).expect_err("must refuse");
    assert!(expected.contains(&err.kind()), "got {err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error must name the file: {err}"
    );
    assert_eq!(std::fs::read(path).unwrap(), before, "file bytes changed");
    assert_eq!(listing(dir), files_before, "files appeared or vanished");
}

#[test]
fn creates_a_journal_with_durable_settings() {
    let (_dir, path) = temp_path();
    let j = Journal::open(&path).unwrap();
    assert!(path.exists());
    assert_eq!(j.path(), path.as_path());
    let get = |name: &str| -> String {
        j.conn
            .pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(get("journal_mode"), "Text(\"wal\")");
    assert_eq!(get("synchronous"), "Integer(2)"); // FULL
    assert_eq!(get("foreign_keys"), "Integer(1)");
    assert_eq!(get("application_id"), format!("Integer({APPLICATION_ID})"));
    assert_eq!(get("user_version"), format!("Integer({SCHEMA_VERSION})"));
}

#[test]
fn reopening_shows_the_same_state_after_a_crash() {
    let (_dir, path) = temp_path();
    let (s, escrowed) = {
        let mut j = Journal::open(&path).unwrap();
        let s = begin(&mut j, 7, PaymentMethod::Cash);
        let n = j.note_escrowed(&s, cny(5000), Millis(1)).unwrap();
        j.note_stacked(&s, Some(n), cny(5000), Millis(2)).unwrap();
        let e = j.note_escrowed(&s, cny(1000), Millis(3)).unwrap();
        // The kiosk dies here: no end_session, no payment.
        drop(j);
        (s, e)
    };
    let j = Journal::open(&path).unwrap();
    let open = j.open_sessions().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, s);
    assert_eq!(open[0].method, PaymentMethod::Cash);
    assert_eq!(open[0].escrowed, vec![(escrowed, cny(1000))]);
    assert_eq!(open[0].unposted_stacked, Some(cny(5000)));
    assert!(!open[0].has_payment);
    assert_eq!(j.max_session_seq().unwrap(), 7);
    let t = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!((t.in_box, t.pending), (cny(5000), cny(5000)));
    // Reopening an existing journal keeps the durable settings.
    let sync: i64 = j
        .conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2);
}

#[test]
fn a_power_cut_leaves_a_wal_that_reopening_replays() {
    let (dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    let s = begin(&mut j, 9, PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(10000), Millis(1)).unwrap();
    j.payment_pending(&s, &key("K01-000009"), cny(10000), Millis(2))
        .unwrap();
    // The files as a power cut would leave them: the main file and the WAL
    // holding the commits (no checkpoint, no clean close, no shared memory).
    let crashed = dir.path().join("crashed");
    std::fs::create_dir(&crashed).unwrap();
    let copy = crashed.join("journal.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap();
    assert!(!wal.is_empty(), "the commits are in the WAL");
    std::fs::write(copy.with_extension("sqlite-wal"), wal).unwrap();
    drop(j);

    let j = Journal::open(&copy).unwrap();
    let open = j.open_sessions().unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].has_payment);
    let pending = j.pending_payments().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].amount, cny(10000));
    assert_balanced(&j.cash_totals(Currency::CNY).unwrap());
}

#[test]
fn a_wal_without_its_main_file_is_refused_not_taken_for_a_new_journal() {
    let (dir, path) = temp_path();
    let copy = crash_image(dir.path(), &path);
    let wal = copy.with_extension("sqlite-wal");
    let wal_bytes = std::fs::read(&wal).unwrap();
    for main_file in ["missing", "empty"] {
        match main_file {
            "missing" => std::fs::remove_file(&copy).unwrap(),
            _ => std::fs::write(&copy, b"").unwrap(),
        }
        let err = Journal::open(&copy).expect_err("a lone WAL must not become a new journal");
        assert_eq!(err.kind(), JournalErrorKind::OrphanLog, "{err}");
        let text = err.to_string();
        assert!(text.contains(&copy.display().to_string()), "{text}");
        assert!(text.contains(&wal.display().to_string()), "{text}");
        assert!(
            text.contains(main_file) && text.contains("Restore"),
            "{text}"
        );
        assert_eq!(std::fs::read(&wal).unwrap(), wal_bytes, "the WAL changed");
        assert_eq!(copy.exists(), main_file == "empty", "main file created");
        if main_file == "empty" {
            assert!(std::fs::read(&copy).unwrap().is_empty());
        }
    }
}

#[test]
fn a_rollback_journal_without_its_main_file_is_refused() {
    let (_dir, path) = temp_path();
    std::fs::write(&path, b"").unwrap();
    let hot = path.with_extension("sqlite-journal");
    std::fs::write(&hot, vec![0xd9u8; 4096]).unwrap();
    let err = Journal::open(&path).expect_err("must refuse");
    assert_eq!(err.kind(), JournalErrorKind::OrphanLog, "{err}");
    assert_eq!(std::fs::read(&hot).unwrap(), vec![0xd9u8; 4096]);
    assert!(std::fs::read(&path).unwrap().is_empty());
    // An empty log beside an empty file is only leftovers: a new journal.
    std::fs::write(&hot, b"").unwrap();
    let mut j = Journal::open(&path).unwrap();
    begin(&mut j, 1, PaymentMethod::Code);
}

#[test]
fn a_kill_while_the_journal_file_is_created_leaves_a_journal_that_opens() {
    // What SQLite leaves when the process dies inside the transaction that
    // creates a database: the empty main file and its rollback journal,
    // made here by SQLite itself and copied before the commit, as a kill
    // would leave them.
    let (dir, path) = temp_path();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode=DELETE; BEGIN IMMEDIATE; CREATE TABLE t(x);")
        .unwrap();
    let hot = path.with_extension("sqlite-journal");
    assert!(
        std::fs::metadata(&hot).unwrap().len() > 0,
        "SQLite wrote its journal"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        0,
        "nothing committed"
    );
    let killed = dir.path().join("killed");
    std::fs::create_dir(&killed).unwrap();
    let copy = killed.join("journal.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::copy(&hot, copy.with_extension("sqlite-journal")).unwrap();
    drop(conn);

    let mut j = Journal::open(&copy).expect("an interrupted creation opens as a new journal");
    begin(&mut j, 1, PaymentMethod::Code);
    assert_balanced(&j.cash_totals(Currency::CNY).unwrap());
}

#[test]
fn an_empty_file_becomes_a_new_journal() {
    let (_dir, path) = temp_path();
    std::fs::write(&path, b"").unwrap();
    let mut j = Journal::open(&path).unwrap();
    begin(&mut j, 1, PaymentMethod::Code);
}

#[test]
fn garbage_is_not_a_journal_and_stays_as_it_was() {
    let (_dir, path) = temp_path();
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    assert_refused_untouched(&path, &[JournalErrorKind::NotAJournal]);
    // A short text file too.
    std::fs::write(&path, b"hello").unwrap();
    assert_refused_untouched(&path, &[JournalErrorKind::NotAJournal]);
}

#[test]
fn garbage_behind_an_sqlite_header_is_refused_untouched() {
    let (_dir, path) = temp_path();
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..8192u32).map(|i| (i * 31 % 256) as u8));
    std::fs::write(&path, &bytes).unwrap();
    assert_refused_untouched(
        &path,
        &[JournalErrorKind::NotAJournal, JournalErrorKind::Corrupt],
    );
}

#[test]
fn another_applications_database_is_not_a_journal() {
    let (_dir, path) = temp_path();
    {
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "application_id", 0x1234_5678)
            .unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    assert_refused_untouched(&path, &[JournalErrorKind::NotAJournal]);
}

#[test]
fn another_applications_wal_is_not_checkpointed_into_it() {
    let (dir, path) = temp_path();
    let foreign = Connection::open(&path).unwrap();
    let _: String = foreign
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .unwrap();
    foreign
        .pragma_update(None, "application_id", 0x0BAD_F00D)
        .unwrap();
    foreign
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    // Its files as a crash leaves them: committed data still in the WAL.
    let copy = dir.path().join("foreign.db");
    std::fs::copy(&path, &copy).unwrap();
    let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap();
    assert!(!wal.is_empty());
    let copy_wal = dir.path().join("foreign.db-wal");
    std::fs::write(&copy_wal, &wal).unwrap();
    drop(foreign);

    let main_before = std::fs::read(&copy).unwrap();
    let err = Journal::open(&copy).expect_err("must refuse");
    assert_eq!(err.kind(), JournalErrorKind::NotAJournal, "{err}");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        main_before,
        "main file changed"
    );
    assert_eq!(std::fs::read(&copy_wal).unwrap(), wal, "its WAL changed");
}

#[test]
fn a_plain_sqlite_database_with_tables_is_not_a_journal() {
    let (_dir, path) = temp_path();
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE sessions (id TEXT);").unwrap();
    }
    assert_refused_untouched(&path, &[JournalErrorKind::NotAJournal]);
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, path) = temp_path();
    drop(Journal::open(&path).unwrap());
    {
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    assert_refused_untouched(&path, &[JournalErrorKind::SchemaVersion]);
}

#[test]
fn a_damaged_journal_is_corrupt_and_left_for_staff() {
    let (_dir, path) = temp_path();
    {
        let mut j = Journal::open(&path).unwrap();
        for seq in 1..=50 {
            let s = begin(&mut j, seq, PaymentMethod::Cash);
            j.note_escrowed(&s, cny(1000), Millis(seq)).unwrap();
        }
    } // closing checkpoints the WAL into the main file
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 4 * page);
    for b in &mut bytes[page..3 * page] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Opening no longer reads every page (quick_check took seconds on a year
    // of data), so the damage is reported by whichever comes first: the open
    // (if its checks touch a damaged page; then the file is left as it was),
    // else the first read of the damaged tables, and in any case the full
    // verification staff run.
    match Journal::open(&path) {
        Err(_) => assert_refused_untouched(&path, &[JournalErrorKind::Corrupt]),
        Ok(mut j) => {
            let recovery = j.max_session_seq().and_then(|_| j.open_sessions());
            assert_eq!(kind(recovery), JournalErrorKind::Corrupt);
            let err = j.verify_full().expect_err("damage must be found");
            assert_eq!(err.kind(), JournalErrorKind::Corrupt, "{err}");
            assert!(err.to_string().contains(&path.display().to_string()));
        }
    }
}

#[test]
fn the_audit_trail_is_append_only() {
    let (_dir, mut j) = journal();
    begin(&mut j, 1, PaymentMethod::Cash);
    assert_eq!(j.event_count(), 1);
    assert!(j.conn.execute("UPDATE events SET kind = 'x'", []).is_err());
    assert!(j.conn.execute("DELETE FROM events", []).is_err());
    assert!(j.conn.execute("DELETE FROM sessions", []).is_err());
    assert_eq!(j.event_count(), 1);
}
