//! Checkpoints off the customer's path: one synced commit per money event,
//! counted in the WAL itself, and a WAL that checkpoints keep bounded.

use kiosk_hal::PaymentMethod;

use super::*;

/// The commits in a WAL file: frames whose header marks the end of a
/// transaction, counted while the frames carry the WAL header's salts (later
/// frames are left over from before the WAL was restarted). Each is one
/// synced commit (`synchronous = FULL` syncs the WAL at every commit).
fn wal_commits(path: &std::path::Path) -> usize {
    let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap_or_default();
    if wal.len() < 32 {
        return 0;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!(be(&wal[0..4]) & !1, 0x377f_0682, "WAL magic");
    let page = be(&wal[8..12]) as usize;
    let salts = &wal[16..24];
    let mut commits = 0;
    let mut at = 32;
    while at + 24 + page <= wal.len() {
        let frame = &wal[at..at + 24];
        if &frame[8..16] != salts {
            break;
        }
        if be(&frame[4..8]) != 0 {
            commits += 1;
        }
        at += 24 + page;
    }
    commits
}

/// One cash session of one note, credited: 7 money events.
fn one_session(j: &mut Journal, seq: u64) {
    let s = begin(j, seq, PaymentMethod::Cash);
    let n = j.note_escrowed(&s, cny(5000), Millis(seq)).unwrap();
    j.note_stacked(&s, Some(n), cny(5000), Millis(seq)).unwrap();
    let k = key(&s.0);
    j.payment_pending(&s, &k, cny(5000), Millis(seq)).unwrap();
    j.posting_attempted(&k, Millis(seq)).unwrap();
    j.payment_credited(&k, "B", cny(5000), Millis(seq)).unwrap();
    j.end_session(&s, crate::journal::SessionOutcome::Credited, Millis(seq))
        .unwrap();
}

const EVENTS_PER_SESSION: u64 = 7;

#[test]
fn n_money_events_are_n_synced_commits_and_no_checkpoint() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    let main_before = std::fs::read(&path).unwrap();
    let wal_before = wal_commits(&path);
    // Enough to pass SQLite's default auto-checkpoint (1000 WAL pages) a few
    // times over: with it on, the WAL would restart and the main file change.
    let sessions = 120;
    for seq in 1..=sessions {
        one_session(&mut j, seq);
    }
    let events = sessions * EVENTS_PER_SESSION;
    assert_eq!(j.commits(), events);
    let wal_pages = std::fs::metadata(path.with_extension("sqlite-wal"))
        .unwrap()
        .len()
        / 4096;
    assert!(
        wal_pages > 2000,
        "only {wal_pages} WAL pages: test too small"
    );
    assert_eq!(
        (wal_commits(&path) - wal_before) as u64,
        events,
        "synced commits in the WAL"
    );
    assert!(
        std::fs::read(&path).unwrap() == main_before,
        "the main file was written during money events: a checkpoint ran on a customer's path"
    );
}

#[test]
fn checkpoints_between_sessions_keep_the_wal_bounded() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    let wal_size = || {
        std::fs::metadata(path.with_extension("sqlite-wal"))
            .unwrap()
            .len()
    };
    let mut sizes = Vec::new();
    for seq in 1..=30 {
        one_session(&mut j, seq);
        let commits = j.commits();
        let done = j.checkpoint().unwrap();
        assert!(done.complete() && done.wal_frames > 0, "{done:?}");
        assert_eq!(j.commits(), commits, "a checkpoint is not a money event");
        sizes.push(wal_size());
    }
    // Every session after the first reuses the same WAL space.
    assert!(
        sizes[1..].iter().all(|s| *s == sizes[1]),
        "WAL sizes after each checkpoint: {sizes:?}"
    );
    // Without checkpoints it grows by a session's worth each time.
    for seq in 31..=40 {
        one_session(&mut j, seq);
    }
    assert!(wal_size() > 3 * sizes[1], "{} vs {}", wal_size(), sizes[1]);
    // The books are all in the main file after a checkpoint: a copy of the
    // main file alone reads them.
    j.checkpoint().unwrap();
    let (_copy_dir, copy) = temp_path();
    std::fs::copy(&path, &copy).unwrap();
    let alone = Journal::open(&copy).unwrap();
    assert_eq!(alone.max_session_seq().unwrap(), 40);
    assert_eq!(
        alone.cash_totals(Currency::CNY).unwrap().credited,
        cny(40 * 5000)
    );
}

#[test]
fn a_clean_close_leaves_no_wal_behind() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    one_session(&mut j, 1);
    j.close().unwrap();
    let wal = path.with_extension("sqlite-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.max_session_seq().unwrap(), 1);
}

#[test]
fn a_runner_that_never_checkpoints_still_has_a_bounded_wal() {
    use crate::journal::BACKSTOP_CHECKPOINT_COMMITS;
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    let main_before = std::fs::read(&path).unwrap();
    let sessions = BACKSTOP_CHECKPOINT_COMMITS / EVENTS_PER_SESSION + 2;
    let mut main_changed_at = None;
    for seq in 1..=sessions {
        let main = std::fs::read(&path).unwrap();
        one_session(&mut j, seq);
        if main_changed_at.is_none() && std::fs::read(&path).unwrap() != main {
            main_changed_at = Some(j.commits());
        }
    }
    assert_ne!(std::fs::read(&path).unwrap(), main_before);
    // The backstop ran once, at the end of the session that crossed it.
    let at = main_changed_at.expect("a backstop checkpoint");
    assert!(
        (BACKSTOP_CHECKPOINT_COMMITS..BACKSTOP_CHECKPOINT_COMMITS + EVENTS_PER_SESSION)
            .contains(&at),
        "checkpointed after {at} commits"
    );
    assert_eq!(at % EVENTS_PER_SESSION, 0, "only at a session's end");
}

/// Frames (page images) in the WAL, counted like [`wal_commits`].
fn wal_frames(path: &std::path::Path) -> u64 {
    wal_pages(path).len() as u64
}

/// The page numbers of the frames in the WAL.
fn wal_pages(path: &std::path::Path) -> Vec<u32> {
    let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap_or_default();
    if wal.len() < 32 {
        return Vec::new();
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let page = be(&wal[8..12]) as usize;
    let salts = &wal[16..24];
    let (mut frames, mut at) = (Vec::new(), 32);
    while at + 24 + page <= wal.len() && &wal[at + 8..at + 16] == salts {
        frames.push(be(&wal[at..at + 4]));
        at += 24 + page;
    }
    frames
}

/// Pages each money event of a cash payment writes, once the journal has
/// some history (so each B-tree's newest leaf is not its root): what a
/// commit costs in bytes, and so in sync time, beside raw SQLite's one page
/// per one-row commit. The bound is the budget the format is held to.
#[test]
fn a_money_event_writes_few_pages() {
    let (_dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    j.unsynced_for_tests();
    for seq in 1..=300 {
        one_session(&mut j, seq);
    }
    j.checkpoint().unwrap();
    let mut pages = Vec::new();
    let mut step = |what: &'static str, j: &mut Journal, f: &mut dyn FnMut(&mut Journal)| {
        j.checkpoint().unwrap();
        f(j);
        pages.push((what, wal_frames(&path)));
        let names: Vec<String> = wal_pages(&path)
            .iter()
            .map(|p| {
                j.conn
                    .query_row("SELECT name FROM dbstat WHERE pageno = ?1", [p], |r| {
                        r.get::<_, String>(0)
                    })
                    .unwrap_or_else(|_| format!("page {p}"))
            })
            .collect();
        println!("{what}: {names:?}");
    };
    let seq = 301;
    let s = SessionId::new(&kiosk(), seq);
    let k = key(&s.0);
    step("begin", &mut j, &mut |j| {
        begin(j, seq, PaymentMethod::Cash);
    });
    let mut note = None;
    step("escrow", &mut j, &mut |j| {
        note = Some(j.note_escrowed(&s, cny(5000), Millis(seq)).unwrap());
    });
    step("stack", &mut j, &mut |j| {
        j.note_stacked(&s, note, cny(5000), Millis(seq)).unwrap();
    });
    step("pending", &mut j, &mut |j| {
        j.payment_pending(&s, &k, cny(5000), Millis(seq)).unwrap();
    });
    step("attempt", &mut j, &mut |j| {
        j.posting_attempted(&k, Millis(seq)).unwrap();
    });
    step("credit", &mut j, &mut |j| {
        j.payment_credited(&k, "B", cny(5000), Millis(seq)).unwrap();
    });
    step("end", &mut j, &mut |j| {
        j.end_session(&s, crate::journal::SessionOutcome::Credited, Millis(seq))
            .unwrap();
    });
    let total: u64 = pages.iter().map(|(_, p)| p).sum();
    println!("pages per money event: {pages:?}, {total} in all");
    assert!(total <= 25, "{pages:?}");
}
