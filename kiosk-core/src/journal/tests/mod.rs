//! Tests of the journal, and the helpers they share.

mod audit;
mod books;
mod chain;
mod checkpoint;
mod commands;
mod migrate;
mod migrate_v3;
mod migrate_v4;
mod notes;
mod open;
mod payments;
mod props;
mod reports;
mod size;
mod staff;
mod tickets;

use std::path::PathBuf;

use kiosk_hal::{AccountNumber, Currency, IdempotencyKey, Money, PaymentMethod};
use tempfile::TempDir;

use super::{CashTotals, Journal, JournalError, JournalErrorKind, SessionStart};
use crate::ids::{KioskId, Millis, SessionId};

/// `minor` fen.
fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

/// A key.
fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey(s.to_string().into())
}

/// The test kiosk.
fn kiosk() -> KioskId {
    KioskId("K01".to_string())
}

/// The journal file in a fresh temporary directory (kept alive by the `TempDir`).
fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.sqlite");
    (dir, path)
}

/// A new journal in a temporary directory.
fn journal() -> (TempDir, Journal) {
    let (dir, path) = temp_path();
    let j = Journal::open(&path).expect("open new journal");
    (dir, j)
}

/// Begins session `seq` paying by `method`.
fn begin(j: &mut Journal, seq: u64, method: PaymentMethod) -> SessionId {
    let id = SessionId::new(&kiosk(), seq);
    j.begin_session(&SessionStart {
        id: id.clone(),
        kiosk: kiosk(),
        account: AccountNumber("0571-88886666".into()),
        method,
        at: Millis(seq * 1000),
    })
    .expect("begin session");
    id
}

/// The error kind of a result that must have failed.
fn kind<T: std::fmt::Debug>(r: Result<T, JournalError>) -> JournalErrorKind {
    r.expect_err("expected an error").kind()
}

/// The money invariant, asserted.
fn assert_balanced(t: &CashTotals) {
    let books = t
        .credited
        .checked_add(t.pending)
        .and_then(|s| s.checked_add(t.refused))
        .expect("same currency");
    assert_eq!(
        t.in_box, books,
        "in_box != credited + pending + refused: {t:?}"
    );
}

/// A journal with one credited cash payment, and the files a power cut
/// would leave of it (main file and WAL copied while it is open) in
/// `dir/crashed/`, whose path is returned.
fn crash_image(dir: &std::path::Path, path: &std::path::Path) -> PathBuf {
    let mut j = Journal::open(path).unwrap();
    let s = begin(&mut j, 1, kiosk_hal::PaymentMethod::Cash);
    j.note_stacked(&s, None, cny(5000), Millis(1)).unwrap();
    j.note_stacked(&s, None, cny(10000), Millis(2)).unwrap();
    j.payment_pending(&s, &key("K01-000001"), cny(15000), Millis(3))
        .unwrap();
    j.payment_credited(&key("K01-000001"), "B1", cny(15000), Millis(4))
        .unwrap();
    let crashed = dir.join("crashed");
    std::fs::create_dir(&crashed).unwrap();
    let copy = crashed.join("journal.sqlite");
    std::fs::copy(path, &copy).unwrap();
    let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap();
    assert!(!wal.is_empty(), "the commits are in the WAL");
    std::fs::write(copy.with_extension("sqlite-wal"), wal).unwrap();
    copy
}
