//! The file's size per payment (issue 7: at most 600 bytes), on a fixed
//! workload: page counts are deterministic, so this is a test, not a
//! benchmark.

use kiosk_hal::PaymentMethod;

use super::*;
use crate::journal::SessionOutcome;

/// A kiosk clock of late 2026 (Unix milliseconds): timestamps take the
/// bytes real ones do.
const EPOCH_MS: u64 = 1_795_000_000_000;

/// The most bytes of file one payment may add.
const MAX_BYTES_PER_PAYMENT: u64 = 600;

/// One payment as the journal benchmark writes it: a cash session of two
/// notes escrowed and stacked, the payment, one posting attempt, the
/// backend's credit, the session ended (9 money events).
fn bench_payment(j: &mut Journal, seq: u64) {
    let at = Millis(EPOCH_MS + seq * 60_000);
    let s = SessionId::new(&kiosk(), seq);
    j.begin_session(&SessionStart {
        id: s.clone(),
        kiosk: kiosk(),
        account: AccountNumber("0571-88886666".into()),
        method: PaymentMethod::Cash,
        at,
    })
    .unwrap();
    for value in [5000, 10000] {
        let n = j.note_escrowed(&s, cny(value), at).unwrap();
        j.note_stacked(&s, Some(n), cny(value), at).unwrap();
    }
    let k = IdempotencyKey(s.0.clone());
    j.payment_pending(&s, &k, cny(15000), at).unwrap();
    j.posting_attempted(&k, at).unwrap();
    j.payment_credited(&k, "BK-20261129-000001", cny(15000), at)
        .unwrap();
    j.end_session(&s, SessionOutcome::Credited, at).unwrap();
}

/// Pages in use (the file's size once checkpointed) times the page size.
fn bytes(j: &Journal) -> u64 {
    let pages: u64 = j
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let size: u64 = j
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    pages * size
}

#[test]
fn a_payment_adds_at_most_600_bytes_to_the_file() {
    // The first payments fill the tables' first pages; measured from
    // there, as the benchmark measures a journal already in use.
    const WARM_UP: u64 = 100;
    const PAYMENTS: u64 = 2_000;
    let (_dir, mut j) = journal();
    j.unsynced_for_tests();
    for seq in 1..=WARM_UP {
        bench_payment(&mut j, seq);
    }
    j.checkpoint().unwrap();
    let before = bytes(&j);
    for seq in WARM_UP + 1..=WARM_UP + PAYMENTS {
        bench_payment(&mut j, seq);
        if seq % 50 == 0 {
            j.checkpoint().unwrap();
        }
    }
    j.checkpoint().unwrap();
    let per_payment = (bytes(&j) - before) / PAYMENTS;
    eprintln!("{per_payment} bytes of file per payment");
    assert!(
        per_payment <= MAX_BYTES_PER_PAYMENT,
        "{per_payment} bytes of file per payment (at most {MAX_BYTES_PER_PAYMENT})"
    );
}
