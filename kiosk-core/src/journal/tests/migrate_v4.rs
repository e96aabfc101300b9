//! Files of schema version 4 (clearings without per-denomination figures):
//! migrated on open to version 5 with the same hash chain.
//!
//! `fixtures/format4.sqlite` is a real format-4 file: written by the
//! format-4 build (the generator `write_format4_fixture` in this file's
//! first version, run at commit 6c528c9, which added the fixture). Its history:
//! sessions paid with ¥100 + ¥50 and ¥100 + ¥20 + ¥20, a clearing (counted
//! even), a session of ¥100 + ¥100 + ¥10, a clearing counted one ¥100
//! short (as a total: format 4 had nothing else), then sessions of ¥50 +
//! ¥50 + ¥100 and ¥20 + ¥10, a session with a ¥50 note returned and a ¥100
//! note in doubt, and an open session with a ¥20 note in escrow.

use kiosk_hal::Currency;
use rusqlite::Connection;

use super::*;
use crate::journal::{CheckKind, NoteCount, SCHEMA_VERSION};

/// The format-4 file.
const FIXTURE: &[u8] = include_bytes!("fixtures/format4.sqlite");

/// `count` notes of `minor` fen.
fn n(minor: i64, count: u32) -> NoteCount {
    NoteCount {
        value: cny(minor),
        count,
    }
}

/// One integer from the file, read without migrating it.
fn raw(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_format_4_journal_is_migrated_on_open_with_the_same_chain() {
    let (_dir, path) = temp_path();
    std::fs::write(&path, FIXTURE).unwrap();
    assert_eq!(raw(&path, "PRAGMA user_version"), 4, "a format-4 file");
    assert_eq!(
        raw(
            &path,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'clearing_counts'"
        ),
        0
    );
    let rows = raw(&path, "SELECT max(id) FROM events") as u64;
    // The heads its two clearings printed (a clearing row stores its whole hash).
    let printed: Vec<Vec<u8>> = {
        let c = Connection::open(&path).unwrap();
        let mut stmt = c
            .prepare("SELECT e.hash FROM clearings c JOIN events e ON e.id = c.event ORDER BY c.id")
            .unwrap();
        let hashes = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        hashes
    };
    assert_eq!(printed.len(), 2);

    // Read-only (the auditors' tool): migrated in a private copy, the
    // file left as it was.
    {
        let ro = Journal::open_read_only(&path).unwrap();
        assert_eq!(ro.clearings().unwrap().len(), 2);
        assert_eq!(
            ro.cash_counts(Currency::CNY).unwrap().since_clearing,
            Some(2)
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), FIXTURE, "untouched");

    let mut j = Journal::open(&path).unwrap();
    let version: i32 = j
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(j.chain_head().unwrap().rows, rows);
    let clearings = j.clearings().unwrap();
    for (c, hash) in clearings.iter().zip(&printed) {
        assert_eq!(&c.chain_head.unwrap().hash[..], &hash[..], "the same head");
        assert!(c.notes.is_empty(), "a format-4 clearing has no figures");
        assert_eq!(c.unattributed(), None);
        assert!(c.note_differences().is_empty());
    }
    assert_eq!(clearings[1].over_short(), -10000);
    assert_eq!(j.verify_full().unwrap().chain_rows_checked, rows);

    // What is in the box since the second clearing, by denomination, from
    // the rows format 4 wrote.
    let counts = j.cash_counts(Currency::CNY).unwrap();
    assert_eq!(counts.since_clearing, Some(clearings[1].id));
    assert_eq!(
        counts.in_box,
        vec![n(1000, 1), n(2000, 1), n(5000, 2), n(10000, 1)]
    );
    assert_eq!(counts.in_doubt, vec![n(10000, 1)]);
    let totals = j.cash_totals(Currency::CNY).unwrap();
    let cleared: i64 = clearings.iter().map(|c| c.expected.minor).sum();
    assert_eq!(
        counts.in_box_total().unwrap().minor,
        totals.in_box.minor - cleared
    );

    // The first clearing of format 5: one ¥100 missing from the count.
    let ops = ["王芳".to_string(), "李强".to_string()];
    let counted = [n(1000, 1), n(2000, 1), n(5000, 2)];
    let c = j
        .record_clearing(Millis(20_000), &ops, cny(13000), Some(&counted), 0)
        .unwrap();
    assert_eq!(c.expected, cny(23000));
    assert_eq!(c.note_differences(), vec![(cny(10000), -1)]);
    assert_eq!(
        crate::journal::differences(&c.notes, crate::journal::CountLang::En).unwrap(),
        "¥100 ×1 short"
    );
    assert_eq!(c.unattributed(), Some(0));
    assert_eq!(
        j.cash_counts(Currency::CNY).unwrap().in_box,
        Vec::new(),
        "nothing in the box since"
    );
    j.close().unwrap();
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(j.opened_with().kind, CheckKind::Cheap);
    assert_eq!(j.clearings().unwrap()[2], c);
    assert_eq!(j.verify_full().unwrap().chain_rows_checked, rows + 1);
}
