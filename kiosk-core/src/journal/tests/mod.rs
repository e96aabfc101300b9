//! Tests of the journal, and the helpers they share.

mod notes;
mod open;
mod payments;
mod props;
mod reports;
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
    IdempotencyKey(s.to_string())
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
        account: AccountNumber("0571-88886666".to_string()),
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
