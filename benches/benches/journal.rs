//! The journal next to raw SQLite doing the same synced commits, in one run.
//!
//! Prints, side by side:
//!
//! 1. **Synced commits per money event**: the commit frames SQLite wrote to
//!    the WAL (each one fsynced, `synchronous = FULL`) over the money events
//!    journaled, and how many checkpoints ran inside money events (the main
//!    file changed during a session). Raw SQLite is shown with the same
//!    pragmas, and with SQLite's default auto-checkpoint for comparison.
//! 2. **Throughput**: money events per second through [`Journal`] and raw
//!    single-row commits per second with the same pragmas (WAL,
//!    `synchronous = FULL`, `wal_autocheckpoint = 0`), the same number of
//!    commits, both checkpointing between sessions (outside the timing).
//!    Then the pages each money event writes (the journal's row, its index
//!    entries, the running totals and the audit row, each on its own page),
//!    and the throughput once more next to raw commits that write as many
//!    pages: the first ratio is what the journal's design costs in all, the
//!    second what its own work (checks, triggers, the hash chain) costs
//!    beyond the pages it writes.
//! 3. **Bytes of file per payment**: main-file growth over the payments.
//! 4. **Open + recovery on a journal of 500,000 payments**: built once in a
//!    temporary directory (the first payments through the journal, then
//!    copied row for row with SQL; the triggers keep the running totals),
//!    opened cold (page cache dropped, when this process may:
//!    `/proc/sys/vm/drop_caches`, as root) and warm, after a clean close and
//!    after an unclean shutdown, next to `PRAGMA quick_check` (what every
//!    open ran before). The copied audit rows get their links in the hash
//!    chain from this file's own implementation of the documented encoding,
//!    each storing its 4-byte tag or whole hash as the journal does (so the
//!    size is the journal's); the first open after the build re-hashes
//!    every one of them (so a mistake in either implementation stops the
//!    benchmark).
//!
//! A payment here is one cash session: two notes escrowed and stacked, the
//! payment journaled, one posting attempt, the backend's credit, the session
//! ended (9 money events). Then criterion measures one payment through each,
//! one after the other: on a shared disk whose fsync time swings, read the
//! interleaved ratio printed first, not the two criterion figures.
//!
//! Run with `cargo bench -p kiosk-benches --bench journal` (a few minutes;
//! set `JOURNAL_BENCH_PAYMENTS` to change the 500,000, `JOURNAL_BENCH_KEEP`
//! to keep the files for a look with `sqlite3`).
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use kiosk_core::journal::{Journal, SessionOutcome, SessionStart};
use kiosk_core::{KioskId, Millis, SessionId};
use kiosk_hal::{AccountNumber, Currency, IdempotencyKey, Money, PaymentMethod};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// Money events in one payment (see the module docs).
const EVENTS_PER_PAYMENT: u64 = 9;

/// Payments in the side-by-side synced run.
const SYNCED_PAYMENTS: u64 = 200;

/// Payments built through the journal before copying them to 500,000.
const TEMPLATE_PAYMENTS: u64 = 1_000;

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

fn kiosk() -> KioskId {
    KioskId("K01".into())
}

/// One payment through the journal, `check` called after every money event.
fn journal_payment(j: &mut Journal, seq: u64, mut check: impl FnMut()) {
    let s = SessionId::new(&kiosk(), seq);
    let at = Millis(seq * 60_000);
    j.begin_session(&SessionStart {
        id: s.clone(),
        kiosk: kiosk(),
        account: AccountNumber("0571-88886666".into()),
        method: PaymentMethod::Cash,
        at,
    })
    .unwrap();
    check();
    for value in [5000, 10000] {
        let n = j.note_escrowed(&s, cny(value), at).unwrap();
        check();
        j.note_stacked(&s, Some(n), cny(value), at).unwrap();
        check();
    }
    let k = IdempotencyKey(s.0.clone());
    j.payment_pending(&s, &k, cny(15000), at).unwrap();
    check();
    j.posting_attempted(&k, at).unwrap();
    check();
    j.payment_credited(&k, "BK-20261129-000001", cny(15000), at)
        .unwrap();
    check();
    j.end_session(&s, SessionOutcome::Credited, at).unwrap();
    check();
}

/// Raw SQLite with the journal's pragmas; `autocheckpoint` pages (0 = off).
fn raw_open(path: &Path, autocheckpoint: i64) -> Connection {
    let c = Connection::open(path).unwrap();
    let _: String = c
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    c.pragma_update(None, "wal_autocheckpoint", autocheckpoint)
        .unwrap();
    c.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)
        .unwrap();
    c
}

/// One row per commit: what raw SQLite writes for a money event.
const ONE_ROW: [u64; EVENTS_PER_PAYMENT as usize] = [1; EVENTS_PER_PAYMENT as usize];

/// One payment's worth of raw commits, `check` after each: commit `i` puts
/// one row into each of the tables `log0 … log{k-1}`, `k = pages[i]`, so
/// that it writes `k` pages (the last page of each table). [`ONE_ROW`] is
/// plain raw SQLite; the journal's measured pages per event give raw
/// commits that write as many pages as the journal's.
fn raw_payment(c: &mut Connection, seq: u64, pages: &[u64], mut check: impl FnMut()) {
    for (i, k) in pages.iter().enumerate() {
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        for table in 0..*k {
            tx.prepare_cached(&format!(
                "INSERT INTO log{table} (at, kind, detail) VALUES (?1, ?2, ?3)"
            ))
            .unwrap()
            .execute(rusqlite::params![
                (seq * 60_000 + i as u64) as i64,
                "note-stacked",
                format!("{{\"session\":\"K01-{seq:06}\",\"value\":5000}}")
            ])
            .unwrap();
        }
        tx.commit().unwrap();
        check();
    }
}

/// Creates the tables [`raw_payment`] writes with `pages`.
fn raw_tables(c: &Connection, pages: &[u64]) {
    for table in 0..pages.iter().copied().max().unwrap_or(1) {
        c.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS log{table} (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,
                                                    kind TEXT NOT NULL, detail TEXT NOT NULL) STRICT;"
        ))
        .unwrap();
    }
}

/// Commit frames and all frames in the WAL beside `db` (valid frames only:
/// those with the WAL header's salts). Each commit frame ends one fsynced
/// commit; each frame is one page written.
fn wal_frames(db: &Path) -> (u64, u64) {
    let wal = std::fs::read(sibling(db, "-wal")).unwrap_or_default();
    if wal.len() < 32 {
        return (0, 0);
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let page = be(&wal[8..12]) as usize;
    let salts = &wal[16..24];
    let (mut commits, mut frames, mut at) = (0, 0, 32);
    while at + 24 + page <= wal.len() && &wal[at + 8..at + 16] == salts {
        commits += u64::from(be(&wal[at + 4..at + 8]) != 0);
        frames += 1;
        at += 24 + page;
    }
    (commits, frames)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The main file's identity as a checkpoint would change it.
fn main_file_stamp(path: &Path) -> (u64, std::time::SystemTime) {
    let m = std::fs::metadata(path).unwrap();
    (m.len(), m.modified().unwrap())
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// What one synced run measured.
#[derive(Default)]
struct Run {
    events: u64,
    wal_commits: u64,
    wal_bytes: u64,
    checkpoints_in_events: u64,
    customer_time: Duration,
    checkpoint_time: Duration,
    bytes_per_payment: f64,
    /// Pages each money event of a payment wrote, summed over the watched
    /// payments (page splits add a page now and then).
    pages_per_event: Vec<u64>,
}

/// Counts, per session, the WAL's commit frames, the pages each money
/// event wrote, and whether the main file changed (a checkpoint ran inside
/// a money event).
struct Watch {
    path: PathBuf,
    stamp: (u64, std::time::SystemTime),
    changes: u64,
    /// Valid frames in the WAL after the last event (`None` before the
    /// session's first: the WAL still holds the last session's frames until
    /// its first commit restarts it).
    frames: Option<u64>,
    pages_per_event: Vec<u64>,
}

impl Watch {
    fn new(path: &Path) -> Watch {
        Watch {
            path: path.to_path_buf(),
            stamp: main_file_stamp(path),
            changes: 0,
            frames: None,
            pages_per_event: Vec::new(),
        }
    }
    fn after_event(&mut self) {
        let now = main_file_stamp(&self.path);
        if now != self.stamp {
            self.changes += 1;
            self.stamp = now;
        }
        let (_, frames) = wal_frames(&self.path);
        let before = self.frames.filter(|before| *before <= frames).unwrap_or(0);
        self.pages_per_event.push(frames - before);
        self.frames = Some(frames);
    }
}

/// One side of the comparison: the journal, or raw SQLite.
trait Side {
    /// One payment's money events, `check` after each.
    fn payment(&mut self, seq: u64, check: &mut dyn FnMut());
    /// The checkpoint between sessions (none when SQLite checkpoints itself).
    fn between_sessions(&mut self);
    /// Money events so far.
    fn events(&self) -> u64;
}

impl Side for Journal {
    fn payment(&mut self, seq: u64, check: &mut dyn FnMut()) {
        journal_payment(self, seq, check);
    }
    fn between_sessions(&mut self) {
        self.checkpoint().unwrap();
    }
    fn events(&self) -> u64 {
        self.commits()
    }
}

/// Raw SQLite and its commit count.
struct Raw {
    conn: Connection,
    autocheckpoint: i64,
    /// Pages each money event's commit writes ([`raw_payment`]).
    pages: Vec<u64>,
    events: u64,
}

impl Raw {
    fn open(path: &Path, autocheckpoint: i64, pages: &[u64]) -> Raw {
        let conn = raw_open(path, autocheckpoint);
        raw_tables(&conn, pages);
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .unwrap();
        Raw {
            conn,
            autocheckpoint,
            pages: pages.to_vec(),
            events: 0,
        }
    }
}

impl Side for Raw {
    fn payment(&mut self, seq: u64, check: &mut dyn FnMut()) {
        raw_payment(&mut self.conn, seq, &self.pages, check);
        self.events += EVENTS_PER_PAYMENT;
    }
    fn between_sessions(&mut self) {
        if self.autocheckpoint == 0 {
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .unwrap();
        }
    }
    fn events(&self) -> u64 {
        self.events
    }
}

/// A side being measured, at `path`.
struct Measured<S: Side> {
    side: S,
    path: PathBuf,
    start_len: u64,
    start_events: u64,
    run: Run,
}

impl<S: Side> Measured<S> {
    fn new(side: S, path: &Path) -> Measured<S> {
        Measured {
            start_len: file_len(path),
            start_events: side.events(),
            side,
            path: path.to_path_buf(),
            run: Run::default(),
        }
    }

    /// One payment, timed; with `watch`, also the WAL's commits and any
    /// change of the main file after each money event (slower: untimed use).
    fn payment(&mut self, seq: u64, watch: bool) {
        let t = Instant::now();
        if watch {
            let mut w = Watch::new(&self.path);
            self.side.payment(seq, &mut || w.after_event());
            self.run.checkpoints_in_events += w.changes;
            let sums = &mut self.run.pages_per_event;
            sums.resize(w.pages_per_event.len().max(sums.len()), 0);
            for (sum, pages) in sums.iter_mut().zip(&w.pages_per_event) {
                *sum += pages;
            }
            // The checkpoint between sessions restarts the WAL at the first
            // commit of the next. (With auto-checkpoint the WAL may restart
            // mid-session; the commits are then counted from there on.)
            let (commits, frames) = wal_frames(&self.path);
            self.run.wal_commits += commits;
            self.run.wal_bytes += frames * (24 + 4096);
        } else {
            self.side.payment(seq, &mut || {});
        }
        self.run.customer_time += t.elapsed();
        let t = Instant::now();
        self.side.between_sessions();
        self.run.checkpoint_time += t.elapsed();
    }

    fn finish(mut self, payments: u64) -> Run {
        self.run.events = self.side.events() - self.start_events;
        self.run.bytes_per_payment =
            (file_len(&self.path) - self.start_len) as f64 / payments as f64;
        self.run
    }
}

/// The journal and raw SQLite side by side: payments alternate between them
/// so that both meet the same disk and the same neighbours.
fn run_pair(
    dir: &Path,
    name: &str,
    payments: u64,
    watch: bool,
    raw_autocheckpoint: i64,
    raw_pages: &[u64],
) -> (Run, Run) {
    let jpath = dir.join(format!("{name}-journal.sqlite"));
    let rpath = dir.join(format!("{name}-raw.sqlite"));
    let mut j = Journal::open(&jpath).unwrap();
    j.checkpoint().unwrap();
    let mut j = Measured::new(j, &jpath);
    let mut r = Measured::new(Raw::open(&rpath, raw_autocheckpoint, raw_pages), &rpath);
    for seq in 1..=payments {
        j.payment(seq, watch);
        r.payment(seq, watch);
    }
    (j.finish(payments), r.finish(payments))
}

/// Drops the page cache if this process may; says whether it did.
fn drop_page_cache() -> bool {
    // sync(1) first (the kernel drops only clean pages); the knob needs root.
    let synced = std::process::Command::new("sync").status().is_ok();
    synced && std::fs::write("/proc/sys/vm/drop_caches", b"1\n").is_ok()
}

/// Builds a journal of `payments` payments at `path`: the first
/// [`TEMPLATE_PAYMENTS`] through the journal (unsynced would be the same
/// rows), then copied with fresh ids, keys and notes in large transactions.
fn build_large(path: &Path, payments: u64) {
    // The chain's head after the template: the copies chain onto it.
    let mut prev: Vec<u8> = {
        let mut j = Journal::open(path).unwrap();
        for seq in 1..=TEMPLATE_PAYMENTS.min(payments) {
            journal_payment(&mut j, seq, || {});
            if seq % 100 == 0 {
                j.checkpoint().unwrap();
            }
        }
        let head = j.chain_head().unwrap();
        j.close().unwrap();
        head.hash.to_vec()
    };
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "synchronous", "OFF").unwrap();
    let t = TEMPLATE_PAYMENTS as i64;
    let notes: i64 = c
        .query_row("SELECT max(id) FROM notes", [], |r| r.get(0))
        .unwrap();
    let events: i64 = c
        .query_row("SELECT max(id) FROM events", [], |r| r.get(0))
        .unwrap();
    let renamed =
        |col: &str| format!("'K01-' || printf('%06d', CAST(substr({col}, 5) AS INTEGER) + ?1)");
    let copy = format!(
        "INSERT INTO sessions (id, seq, kiosk, account, method, started_at, ended_at, outcome)
           SELECT {sid}, seq + ?1, kiosk, account, method, started_at + ?1 * 60000,
                  ended_at + ?1 * 60000, outcome FROM sessions WHERE seq <= {t};
         INSERT INTO payments (key, session, amount_minor, amount_currency, method,
                               state, attempts, backend_ref, balance_minor, balance_currency,
                               reason, created_at)
           SELECT {pkey}, session + ?1, amount_minor, amount_currency, method, state,
                  attempts, backend_ref, balance_minor, balance_currency, reason,
                  created_at + ?1 * 60000
           FROM payments WHERE id <= {t};
         INSERT INTO notes (id, session, value_minor, value_currency, state, payment,
                            in_doubt_since)
           SELECT id + ?2, session + ?1, value_minor, value_currency, state, payment + ?1,
                  in_doubt_since + ?1 * 60000
           FROM notes WHERE id <= {notes};
",
        sid = renamed("id"),
        pkey = renamed("key"),
    );
    let statements: Vec<&str> = copy.split(";\n").collect();
    // The audit rows are copied from here, each with its link in the hash
    // chain, computed by this file's own implementation of the documented
    // encoding (the first open re-hashes them all: a check of both).
    let copy_events = format!(
        "SELECT e.id + ?3, e.at + ?1 * 60000, e.kind, e.session + ?1, e.note + ?2,
                e.payment + ?1, e.amount, e.detail,
                s.id, s.kiosk, s.account,
                CASE s.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' END, s.started_at,
                n.session, n.value_currency,
                p.key, p.session, p.amount_minor, p.amount_currency,
                CASE p.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' END,
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM events e
         LEFT JOIN sessions s ON s.n = e.session + ?1
         LEFT JOIN notes n ON n.id = e.note + ?2
         LEFT JOIN payments p ON p.id = e.payment + ?1
         WHERE e.id <= {events} ORDER BY e.id"
    );
    let mut done = TEMPLATE_PAYMENTS.min(payments);
    let mut copies = 1i64;
    while done < payments {
        c.execute_batch("BEGIN").unwrap();
        for _ in 0..20 {
            if done >= payments {
                break;
            }
            for sql in &statements {
                let sql = sql.trim().trim_end_matches(';');
                if sql.is_empty() {
                    continue;
                }
                let sql = sql
                    .replace("?1", &(copies * t).to_string())
                    .replace("?2", &(copies * notes).to_string());
                c.execute(&sql, []).unwrap();
            }
            let mut select = c.prepare_cached(&copy_events).unwrap();
            let mut rows = select
                .query([copies * t, copies * notes, copies * events])
                .unwrap();
            let mut insert = c
                .prepare_cached(
                    "INSERT INTO events (id, at, kind, session, note, payment, amount, detail,
                                         hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .unwrap();
            while let Some(r) = rows.next().unwrap() {
                let mut canonical = Vec::with_capacity(256);
                for i in 0..29 {
                    chain_field(&mut canonical, r.get_ref(i).unwrap());
                }
                let mut h = Sha256::new();
                h.update(&prev);
                h.update(&canonical);
                prev = h.finalize().to_vec();
                // A row stores its whole hash when its id is a multiple of
                // 64 or it is a clearing (kind 18), else its first 4 bytes.
                let (id, kind): (i64, i64) = (r.get(0).unwrap(), r.get(2).unwrap());
                let kept = if id % 64 == 0 || kind == 18 {
                    &prev[..]
                } else {
                    &prev[..4]
                };
                let v = |i: usize| r.get::<_, rusqlite::types::Value>(i).unwrap();
                insert
                    .execute(rusqlite::params![
                        v(0),
                        v(1),
                        v(2),
                        v(3),
                        v(4),
                        v(5),
                        v(6),
                        v(7),
                        kept
                    ])
                    .unwrap();
            }
            done += TEMPLATE_PAYMENTS;
            copies += 1;
        }
        c.execute_batch("COMMIT").unwrap();
    }
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
    // A clean close, as the kiosk leaves it at night.
    Journal::open(path).unwrap().close().unwrap();
}

/// One field of a row's canonical bytes for the journal's hash chain,
/// written from the encoding documented in `kiosk_core::journal` (`chain`):
/// NULL `00`; integer `01` + 8 bytes big-endian; text `02` + 4-byte
/// big-endian length + UTF-8; blob `03` + length + bytes; real `04` + bits.
fn chain_field(buf: &mut Vec<u8>, v: rusqlite::types::ValueRef<'_>) {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => buf.push(0),
        ValueRef::Integer(i) => {
            buf.push(1);
            buf.extend_from_slice(&i.to_be_bytes());
        }
        ValueRef::Text(t) => {
            buf.push(2);
            buf.extend_from_slice(&(t.len() as u32).to_be_bytes());
            buf.extend_from_slice(t);
        }
        ValueRef::Blob(b) => {
            buf.push(3);
            buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        ValueRef::Real(f) => {
            buf.push(4);
            buf.extend_from_slice(&f.to_bits().to_be_bytes());
        }
    }
}

/// Open plus everything recovery reads.
fn open_and_recover(path: &Path) -> (Duration, Duration, Journal) {
    let t = Instant::now();
    let j = Journal::open(path).unwrap();
    let opened = t.elapsed();
    black_box(j.open_sessions().unwrap());
    black_box(j.pending_payments().unwrap());
    black_box(j.in_doubt_notes().unwrap());
    black_box(j.unprinted_receipts().unwrap());
    black_box(j.max_session_seq().unwrap());
    black_box(j.cash_totals(Currency::CNY).unwrap());
    (opened, t.elapsed(), j)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn side_by_side(dir: &Path) {
    println!("\n== journal vs raw SQLite, same synced commits, same pragmas ==");
    // The timed pass first (no file watching), then the counting passes.
    let (timed_j, timed_r) = run_pair(dir, "timed", SYNCED_PAYMENTS, false, 0, &ONE_ROW);
    let (count_j, count_r) = run_pair(dir, "count", SYNCED_PAYMENTS, true, 0, &ONE_ROW);
    let (_, count_auto) = run_pair(dir, "auto", SYNCED_PAYMENTS, true, 1000, &ONE_ROW);
    // The pages each of the journal's money events wrote, rounded (a page
    // split adds one now and then), for raw commits that write as many.
    let payments = count_j.events / EVENTS_PER_PAYMENT;
    let journal_pages: Vec<u64> = count_j
        .pages_per_event
        .iter()
        .map(|sum| (sum + payments / 2) / payments)
        .collect();
    let (paged_j, paged_r) = run_pair(dir, "paged", SYNCED_PAYMENTS, false, 0, &journal_pages);
    let (_, count_paged) = run_pair(dir, "count-paged", SYNCED_PAYMENTS, true, 0, &journal_pages);

    let per_event = |r: &Run| r.wal_commits as f64 / r.events as f64;
    println!(
        "synced commits per money event: journal {:.3} (checkpoints inside money events: {}), \
         raw {:.3} ({}); raw with SQLite's default auto-checkpoint: {} checkpoints inside \
         {} commits",
        per_event(&count_j),
        count_j.checkpoints_in_events,
        per_event(&count_r),
        count_r.checkpoints_in_events,
        count_auto.checkpoints_in_events,
        count_auto.events
    );
    println!(
        "WAL bytes written per money event (page images): journal {:.0}, raw {:.0}",
        count_j.wal_bytes as f64 / count_j.events as f64,
        count_r.wal_bytes as f64 / count_r.events as f64
    );
    let rate = |r: &Run| r.events as f64 / r.customer_time.as_secs_f64();
    println!(
        "throughput (money events on the customer's path): journal {:.0}/s, raw {:.0}/s, \
         ratio {:.2}; checkpoints between sessions took {} (journal) and {} (raw) in all",
        rate(&timed_j),
        rate(&timed_r),
        rate(&timed_j) / rate(&timed_r),
        ms(timed_j.checkpoint_time),
        ms(timed_r.checkpoint_time)
    );
    let mean_pages = |r: &Run| -> String {
        let payments = r.events as f64 / EVENTS_PER_PAYMENT as f64;
        let means = r.pages_per_event.iter().map(|sum| *sum as f64 / payments);
        let means: Vec<String> = means.map(|m| format!("{m:.2}")).collect();
        format!("[{}]", means.join(", "))
    };
    println!(
        "pages written per money event of a payment, on average: journal {}, raw {}",
        mean_pages(&count_j),
        mean_pages(&count_r)
    );
    println!(
        "the same next to raw commits that write as many pages as the journal's \
         ({:?} a payment; WAL bytes per money event: {:.0}): journal {:.0}/s, raw {:.0}/s, \
         ratio {:.2} (what the journal's own work costs, beyond the pages it writes)",
        journal_pages,
        count_paged.wal_bytes as f64 / count_paged.events as f64,
        rate(&paged_j),
        rate(&paged_r),
        rate(&paged_j) / rate(&paged_r)
    );
    println!(
        "bytes of file per payment ({} payments): journal {:.0}, raw {:.0} ({} one-row commits)",
        SYNCED_PAYMENTS, timed_j.bytes_per_payment, timed_r.bytes_per_payment, EVENTS_PER_PAYMENT
    );
}

fn large(dir: &Path) {
    let payments: u64 = std::env::var("JOURNAL_BENCH_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let path = dir.join("large.sqlite");
    let t = Instant::now();
    build_large(&path, payments);
    let size = file_len(&path);
    println!(
        "\n== open + recovery, {payments} payments ({:.1} MB, {:.0} bytes per payment; built \
         in {:.0} s) ==",
        size as f64 / 1e6,
        size as f64 / payments as f64,
        t.elapsed().as_secs_f64()
    );
    let cold = drop_page_cache();
    let label = if cold {
        "cold"
    } else {
        "warm (could not drop the page cache)"
    };
    let report = |what: &str, f: &mut dyn FnMut() -> String| {
        let first = if drop_page_cache() { "cold" } else { "warm" };
        let a = f();
        let b = f();
        println!("{what}: {first} {a}; warm {b}");
    };
    report("open + recovery after a clean close", &mut || {
        let (open, total, j) = open_and_recover(&path);
        let check = j.opened_with();
        drop(j);
        format!(
            "{} (open {}, of it {:?} check {} over {} payments and {} chained rows)",
            ms(total),
            ms(open),
            check.kind,
            ms(check.took),
            check.payments_checked,
            check.chain_rows_checked
        )
    });
    let unclean = || {
        let c = Connection::open(&path).unwrap();
        c.execute("UPDATE marks SET clean = 0", []).unwrap();
    };
    report("open + recovery after an unclean shutdown", &mut || {
        unclean();
        let (open, total, j) = open_and_recover(&path);
        let check = j.opened_with();
        std::mem::drop(j);
        format!(
            "{} (open {}, of it {:?} check {} over {} payments and {} chained rows)",
            ms(total),
            ms(open),
            check.kind,
            ms(check.took),
            check.payments_checked,
            check.chain_rows_checked
        )
    });
    report("verify_full (books and quick_check)", &mut || {
        let mut j = Journal::open(&path).unwrap();
        let check = j.verify_full().unwrap();
        ms(check.took)
    });
    report(
        "before: PRAGMA quick_check alone (what every open ran)",
        &mut || {
            let c = Connection::open(&path).unwrap();
            let t = Instant::now();
            let ok: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
            assert_eq!(ok, "ok");
            ms(t.elapsed())
        },
    );
    println!("(first figure of each line: {label})");
}

fn criterion_part(dir: &Path) {
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut g = c.benchmark_group("journal-vs-raw");
    g.throughput(Throughput::Elements(EVENTS_PER_PAYMENT));
    let mut j = Journal::open(dir.join("criterion-journal.sqlite")).unwrap();
    let mut seq = 0;
    g.bench_function("journal-one-payment", |b| {
        b.iter(|| {
            seq += 1;
            journal_payment(&mut j, seq, || {});
            j.checkpoint().unwrap();
        })
    });
    let mut r = raw_open(&dir.join("criterion-raw.sqlite"), 0);
    raw_tables(&r, &ONE_ROW);
    let mut rseq = 0;
    g.bench_function("raw-same-commits", |b| {
        b.iter(|| {
            rseq += 1;
            raw_payment(&mut r, rseq, &ONE_ROW, || {});
            r.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .unwrap();
        })
    });
    g.finish();
    c.final_summary();
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    side_by_side(dir.path());
    large(dir.path());
    criterion_part(dir.path());
    if std::env::var_os("JOURNAL_BENCH_KEEP").is_some() {
        println!("files kept in {}", dir.keep().display());
    }
}
