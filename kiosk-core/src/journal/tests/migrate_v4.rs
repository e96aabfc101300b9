//! Files of schema version 4 (no per-denomination clearing counts): the
//! fixture `fixtures/format4.sqlite` was written by the format-4 build
//! (commit 71ea470) with `write_format4_fixture` below.

use kiosk_hal::PaymentMethod;

use super::*;
use crate::journal::SessionOutcome;

/// The history in the fixture: two clearings (the second counts one ¥100
/// short), then sessions of ¥100, ¥50, ¥20 and ¥10 notes, one returned,
/// one in doubt, one held in escrow by an open session.
fn format4_history(path: &std::path::Path) {
    let mut j = Journal::open(path).unwrap();
    let ops = ["王芳".to_string(), "李强".to_string()];
    let mut seq = 0;
    let mut pay = |j: &mut Journal, notes: &[i64], at: u64| {
        seq += 1;
        let s = begin(j, seq, PaymentMethod::Cash);
        let mut total = 0;
        for (i, v) in notes.iter().enumerate() {
            j.note_stacked(&s, None, cny(*v), Millis(at + i as u64))
                .unwrap();
            total += v;
        }
        j.payment_pending(&s, &key(&s.0), cny(total), Millis(at + 10))
            .unwrap();
        j.payment_credited(&key(&s.0), "B", cny(total), Millis(at + 11))
            .unwrap();
        j.end_session(&s, SessionOutcome::Credited, Millis(at + 12))
            .unwrap();
    };
    pay(&mut j, &[10000, 5000], 1000);
    pay(&mut j, &[10000, 2000, 2000], 2000);
    j.record_clearing(Millis(3000), &ops, cny(29000), 0).unwrap();
    pay(&mut j, &[10000, 10000, 1000], 4000);
    j.record_clearing(Millis(5000), &ops, cny(11000), 0).unwrap();
    pay(&mut j, &[5000, 5000, 10000], 6000);
    pay(&mut j, &[2000, 1000], 7000);
    let s = begin(&mut j, 10, PaymentMethod::Cash);
    let n = j.note_escrowed(&s, cny(5000), Millis(8000)).unwrap();
    j.note_returned(n, Millis(8001)).unwrap();
    let n = j.note_escrowed(&s, cny(10000), Millis(8002)).unwrap();
    j.note_in_doubt(&s, Some(n), None, Millis(8003)).unwrap();
    j.end_session(&s, SessionOutcome::Interrupted, Millis(8004))
        .unwrap();
    let s = begin(&mut j, 11, PaymentMethod::Cash);
    j.note_escrowed(&s, cny(2000), Millis(9000)).unwrap();
    j.close().unwrap();
}

/// Writes the fixture with this build: run by hand at a format-4 commit
/// (`KIOSK_FORMAT4_FIXTURE=path cargo test -p kiosk-core
/// write_format4_fixture -- --ignored`).
#[test]
#[ignore]
fn write_format4_fixture() {
    let out = std::env::var("KIOSK_FORMAT4_FIXTURE").expect("KIOSK_FORMAT4_FIXTURE");
    let (_dir, path) = temp_path();
    format4_history(&path);
    let c = rusqlite::Connection::open(&path).unwrap();
    let _ = std::fs::remove_file(&out);
    c.execute("VACUUM INTO ?1", [&out]).unwrap();
}
