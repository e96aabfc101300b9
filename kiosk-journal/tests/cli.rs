//! The `kiosk-journal` binary against journals written with the real
//! `Journal` API: the numbers it prints are the ones the test wrote (each
//! computed here from what was written), and no subcommand changes a byte
//! of the journal or creates a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiosk_core::events::DeviceKind;
use kiosk_core::journal::{Journal, NoteCount, SessionStart, Settlement};
use kiosk_core::tickets::{TicketBook, TicketChange, TicketId, TicketPolicy};
use kiosk_core::{KioskId, Millis, SessionId};
use kiosk_hal::{
    AccountNumber, Currency, IdempotencyKey, Money, NoteFate, PaymentMethod, RejectReason,
};

/// 2026-11-28 00:00 at +08:00, in kiosk milliseconds.
const DAY1: u64 = 1_795_795_200_000;
/// 2026-11-29 00:00 at +08:00.
const DAY2: u64 = DAY1 + 86_400_000;
const HOUR: u64 = 3_600_000;
const OPERATORS: [&str; 2] = ["王建国", "李秀英"];

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk-journal"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run kiosk-journal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// Every file in `dir` with its bytes (the journal, its -wal, -shm, …).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// Asserts that `dir` still holds exactly `before` (names and bytes), the
/// `-shm` aside when `shm_may_change` (SQLite's shared-memory index, which
/// a reader of a WAL takes its locks in).
fn assert_untouched(
    dir: &Path,
    before: &BTreeMap<String, Vec<u8>>,
    what: &str,
    shm_may_change: bool,
) {
    let after = snapshot(dir);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{what}: files created or removed"
    );
    for (name, bytes) in before {
        if shm_may_change && name.ends_with("-shm") {
            continue;
        }
        assert!(after[name] == *bytes, "{what}: {name} changed");
    }
}

/// What the test wrote, to compute the expected report from.
#[derive(Default)]
struct Model {
    /// Notes into the box: (day 1 or 2, value).
    box_notes: Vec<(u8, i64)>,
    /// Cash payments: (amount, day credited, day refused, day journaled).
    payments: Vec<(i64, Option<u8>, Option<u8>, u8)>,
    /// Notes in the box never put in a payment.
    unassigned: i64,
    /// In-doubt notes: (value, day settled).
    in_doubt: Vec<(i64, Option<u8>)>,
    /// Code payments credited: (amount, day).
    code: Vec<(i64, u8)>,
    /// Clearings: (expected, counted).
    clearings: Vec<(i64, i64)>,
}

struct Kiosk {
    j: Journal,
    seq: u64,
    m: Model,
}

impl Kiosk {
    fn kiosk() -> KioskId {
        KioskId("K07".into())
    }

    fn begin(&mut self, method: PaymentMethod, at: u64) -> SessionId {
        self.seq += 1;
        let id = SessionId::new(&Self::kiosk(), self.seq);
        self.j
            .begin_session(&SessionStart {
                id: id.clone(),
                kiosk: Self::kiosk(),
                account: AccountNumber("0571-88886666".into()),
                method,
                at: Millis(at),
            })
            .unwrap();
        id
    }

    /// Stacks `values` (through escrow) in a new cash session at `at`.
    fn stack(&mut self, day: u8, values: &[i64], at: u64) -> SessionId {
        let s = self.begin(PaymentMethod::Cash, at);
        for (i, &v) in values.iter().enumerate() {
            let t = Millis(at + 1 + i as u64);
            let n = self.j.note_escrowed(&s, cny(v), t).unwrap();
            self.j.note_stacked(&s, Some(n), cny(v), t).unwrap();
            self.m.box_notes.push((day, v));
        }
        s
    }

    fn pay(&mut self, s: &SessionId, amount: i64, at: u64) -> IdempotencyKey {
        let key = IdempotencyKey(s.0.clone());
        self.j
            .payment_pending(s, &key, cny(amount), Millis(at))
            .unwrap();
        self.j.posting_attempted(&key, Millis(at + 1)).unwrap();
        key
    }
}

/// A journal of two days at kiosk K07 (see the body), cleanly closed.
fn write_journal(path: &Path) -> Model {
    let mut k = Kiosk {
        j: Journal::open(path).unwrap(),
        seq: 0,
        m: Model::default(),
    };
    // Day 1.
    let t = DAY1 + 9 * HOUR;
    let s = k.stack(1, &[10000, 5000], t);
    let key = k.pay(&s, 15000, t + 100);
    k.j.payment_credited(&key, "B-1", cny(15000), Millis(t + 200))
        .unwrap();
    k.m.payments.push((15000, Some(1), None, 1));
    k.j.end_session(
        &s,
        kiosk_core::journal::SessionOutcome::Credited,
        Millis(t + 300),
    )
    .unwrap();

    let t = DAY1 + 10 * HOUR;
    let s2 = k.stack(1, &[10000, 2000], t);
    let pending_key = k.pay(&s2, 12000, t + 100);
    k.m.payments.push((12000, Some(2), None, 1)); // credited on day 2, below

    let t = DAY1 + 11 * HOUR;
    let s = k.stack(1, &[5000], t);
    k.j.note_rejected(&s, RejectReason::Counterfeit, Millis(t + 50))
        .unwrap();
    let key = k.pay(&s, 5000, t + 100);
    k.j.payment_refused(&key, "account closed", Millis(t + 200))
        .unwrap();
    k.m.payments.push((5000, None, Some(1), 1));

    let t = DAY1 + 12 * HOUR;
    let s = k.begin(PaymentMethod::Cash, t);
    let n = k.j.note_escrowed(&s, cny(1000), Millis(t + 1)).unwrap();
    k.j.note_in_doubt(&s, Some(n), None, Millis(t + 2)).unwrap();
    k.m.in_doubt.push((1000, None));
    let doubtful =
        k.j.note_in_doubt(&s, None, Some(cny(2000)), Millis(t + 3))
            .unwrap();
    k.m.in_doubt.push((2000, Some(2)));

    let t = DAY1 + 13 * HOUR;
    let s = k.begin(PaymentMethod::Code, t);
    let key = IdempotencyKey(s.0.clone());
    k.j.payment_pending(&s, &key, cny(3000), Millis(t + 1))
        .unwrap();
    k.j.payment_credited(&key, "B-2", cny(3000), Millis(t + 2))
        .unwrap();
    k.m.code.push((3000, 1));

    let t = DAY1 + 14 * HOUR;
    k.stack(1, &[2000], t); // never posted: pending, in no payment
    k.m.unassigned += 2000;

    // Day 2: staff settle the in-doubt note into the box, the pending
    // payment is credited, one more payment, then the clearing.
    let t = DAY2 + 8 * HOUR;
    let ops = OPERATORS.map(String::from);
    let Settlement::Credit(p) =
        k.j.settle_in_doubt_by_staff(doubtful, NoteFate::InCashBox, &ops, Millis(t))
            .unwrap()
    else {
        panic!("a note of known value found in the box is credited");
    };
    k.m.box_notes.push((2, 2000));
    k.j.payment_credited(&p.key, "B-3", cny(2000), Millis(t + 10))
        .unwrap();
    k.m.payments.push((2000, Some(2), None, 2));
    k.j.payment_credited(&pending_key, "B-4", cny(12000), Millis(t + 20))
        .unwrap();
    let s = k.stack(2, &[10000], t + HOUR);
    let key = k.pay(&s, 10000, t + HOUR + 100);
    k.j.payment_credited(&key, "B-5", cny(10000), Millis(t + HOUR + 200))
        .unwrap();
    k.m.payments.push((10000, Some(2), None, 2));

    let expected: i64 = k.m.box_notes.iter().map(|(_, v)| v).sum();
    // Counted by denomination: one ¥20 missing, one ¥10 that was not
    // expected (short 10.00 in all).
    let mut by_value: BTreeMap<i64, u32> = BTreeMap::new();
    for (_, v) in &k.m.box_notes {
        *by_value.entry(*v).or_default() += 1;
    }
    *by_value.get_mut(&2000).unwrap() -= 1;
    *by_value.entry(1000).or_default() += 1;
    let counted_notes: Vec<NoteCount> = by_value
        .iter()
        .map(|(v, n)| NoteCount {
            value: cny(*v),
            count: *n,
        })
        .collect();
    let counted = expected - 1000; // short 10.00
    let c =
        k.j.record_clearing(
            Millis(DAY2 + 20 * HOUR),
            &ops,
            cny(counted),
            Some(&counted_notes),
            1,
        )
        .unwrap();
    assert_eq!(c.expected, cny(expected));
    k.m.clearings.push((expected, counted));

    // A ticket with its handling steps.
    let mut book = TicketBook::new(Kiosk::kiosk(), "HALL7", TicketPolicy::default());
    let save = |j: &mut Journal, changes: Vec<TicketChange>| {
        for c in changes {
            j.save_ticket(c.ticket()).unwrap();
        }
    };
    let t = DAY2 + 9 * HOUR;
    save(
        &mut k.j,
        book.fault_detected(
            DeviceKind::Printer,
            "paper-out".parse().unwrap(),
            "no paper",
            Millis(t),
        ),
    );
    save(
        &mut k.j,
        book.acknowledge(TicketId(1), "ops-zhao", Millis(t + 60_000)),
    );
    save(
        &mut k.j,
        book.record_action(
            TicketId(1),
            "tech-qian",
            "装纸 loaded paper",
            "打印正常 prints",
            Millis(t + 600_000),
        ),
    );
    save(
        &mut k.j,
        book.resolve(TicketId(1), "tech-qian", "done", Millis(t + 700_000)),
    );
    k.j.record_command(Millis(t + 800_000), &ops, "begin-clearing", true, "ok")
        .unwrap();
    k.j.close().unwrap();
    k.m
}

fn fixture() -> (tempfile::TempDir, PathBuf, Model) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let m = write_journal(&path);
    (dir, path, m)
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "failed: {}\n{}", stderr(o), stdout(o));
    serde_json::from_slice(&o.stdout).expect("json output")
}

/// The sum of `values` of day `day` (`None`: every day up to the end of `upto`).
fn sum_days(values: &[(u8, i64)], keep: impl Fn(u8) -> bool) -> i64 {
    values
        .iter()
        .filter(|(d, _)| keep(*d))
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn the_day_statement_adds_up_to_what_was_written() {
    let (dir, path, m) = fixture();
    let before = snapshot(dir.path());
    let p = path.to_str().unwrap();
    for (day, name) in [(1u8, "2026-11-28"), (2, "2026-11-29")] {
        let out = run(&["report", p, "--day", name, "--json"]);
        let v = json(&out);
        let c = &v["currencies"][0];
        assert_eq!(c["currency"], "CNY");
        // By denomination: the notes written that day.
        let mut by_value: BTreeMap<i64, u64> = BTreeMap::new();
        for (_, v) in m.box_notes.iter().filter(|(d, _)| *d == day) {
            *by_value.entry(*v).or_default() += 1;
        }
        let shown: BTreeMap<i64, u64> = c["denominations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["value"]["minor"].as_i64().unwrap(),
                    d["notes"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(shown, by_value, "day {day} denominations");
        assert_eq!(
            c["into_box"]["amount"]["minor"],
            sum_days(&m.box_notes, |d| d == day)
        );
        let credited_on = |d: u8| -> i64 {
            m.payments
                .iter()
                .filter(|p| p.1 == Some(d))
                .map(|p| p.0)
                .sum()
        };
        assert_eq!(
            c["credited_during_day"]["amount"]["minor"],
            credited_on(day)
        );
        let refused_on: i64 = m
            .payments
            .iter()
            .filter(|p| p.2 == Some(day))
            .map(|p| p.0)
            .sum();
        assert_eq!(c["refused_during_day"]["amount"]["minor"], refused_on);
        let code: i64 = m.code.iter().filter(|c| c.1 == day).map(|c| c.0).sum();
        assert_eq!(c["code_credited_during_day"]["amount"]["minor"], code);

        // End of the day, cumulative.
        let e = &c["end_of_day"];
        let in_box = sum_days(&m.box_notes, |d| d <= day);
        let credited: i64 = (1..=day).map(credited_on).sum();
        let refused: i64 = m
            .payments
            .iter()
            .filter(|p| p.2.is_some_and(|d| d <= day))
            .map(|p| p.0)
            .sum();
        // Pending: payments journaled by then and not answered by the end of the day.
        let pending_payments: i64 = m
            .payments
            .iter()
            .filter(|p| p.3 <= day && p.1.is_some_and(|d| d > day))
            .map(|p| p.0)
            .sum();
        let pending = pending_payments + m.unassigned;
        assert_eq!(e["in_box"]["amount"]["minor"], in_box, "day {day}");
        assert_eq!(e["credited"]["minor"], credited, "day {day}");
        assert_eq!(e["refused_held"]["minor"], refused, "day {day}");
        assert_eq!(e["pending"]["minor"], pending, "day {day}");
        assert_eq!(in_box, credited + pending + refused, "the model balances");
        assert_eq!(e["money_line_holds"], true);
        let still_in_doubt: Vec<i64> = m
            .in_doubt
            .iter()
            .filter(|(_, settled)| settled.is_none_or(|d| d > day))
            .map(|(v, _)| *v)
            .collect();
        assert_eq!(
            e["in_doubt"]["count"],
            still_in_doubt.len() as u64,
            "day {day}"
        );
        // The note in doubt since escrow kept its escrowed value.
        assert_eq!(
            e["in_doubt"]["amount"]["minor"],
            still_in_doubt.iter().sum::<i64>()
        );
        let cleared: i64 = if day == 2 {
            m.clearings.iter().map(|c| c.0).sum()
        } else {
            0
        };
        assert_eq!(e["cleared"]["minor"], cleared);
        assert_eq!(e["in_box_since_clearing"]["minor"], in_box - cleared);
        assert_eq!(
            v["clearings"].as_array().unwrap().len(),
            if day == 2 { 1 } else { 0 }
        );
        assert_untouched(dir.path(), &before, "report --json", false);
    }
    // The text form, in Chinese by default and in English on request.
    let zh = run(&["report", p, "--day", "2026-11-28"]);
    assert!(zh.status.success(), "{}", stderr(&zh));
    let text = stdout(&zh);
    assert!(
        text.contains("现金对账单") && text.contains("成立"),
        "{text}"
    );
    assert!(text.contains("100.00") && text.contains("K07"), "{text}");
    let en = run(&["--lang", "en", "report", p, "--day", "2026-11-28"]);
    let text = stdout(&en);
    assert!(
        text.contains("Cash statement") && text.contains("holds"),
        "{text}"
    );
    assert!(!text.contains("对账单"), "{text}");
    // The day of the clearing names the notes its over/short is made of.
    let zh = stdout(&run(&["report", p, "--day", "2026-11-29"]));
    assert!(zh.contains("¥20 短 1 张，¥10 多 1 张"), "{zh}");
    let en = stdout(&run(&["--lang", "en", "report", p, "--day", "2026-11-29"]));
    assert!(en.contains("¥20 ×1 short, ¥10 ×1 over"), "{en}");
    let v = json(&run(&["report", p, "--day", "2026-11-29", "--json"]));
    let lines = v["clearings"][0]["notes"].as_array().unwrap();
    let twenty = lines
        .iter()
        .find(|l| l["value"]["minor"] == 2000)
        .expect("a ¥20 line");
    assert_eq!(
        (twenty["expected"].as_u64(), twenty["counted"].as_u64()),
        (Some(3), Some(2))
    );
    assert_untouched(dir.path(), &before, "report", false);
}

#[test]
fn verify_passes_a_sound_journal_and_names_the_row_of_an_edit() {
    let (dir, path, _) = fixture();
    let p = path.to_str().unwrap();
    let before = snapshot(dir.path());
    let ok = run(&["verify", p]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let head = {
        let j = Journal::open_read_only(&path).unwrap();
        j.chain_head().unwrap()
    };
    let text = stdout(&ok);
    assert!(text.contains(&head.hex()), "{text}");
    assert!(
        text.contains(&format!("审计记录行数: {}", head.rows)),
        "{text}"
    );
    assert_untouched(dir.path(), &before, "verify", false);

    // An edit outside the kiosk: the account of session 2, which its rows hash.
    let first_row_of_session_2: i64 = {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute(
            "UPDATE sessions SET account = '0571-00000000' WHERE id = 'K07-000002'",
            [],
        )
        .unwrap();
        c.query_row(
            "SELECT min(id) FROM audit WHERE session = 'K07-000002'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let tampered = snapshot(dir.path());
    let bad = run(&["verify", p]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let err = stderr(&bad);
    assert!(
        err.contains(&format!("第一处坏行：{first_row_of_session_2}"))
            && err.contains(&format!("first bad row: {first_row_of_session_2}")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Every report refuses it the same way, and leaves it as it is.
    let report = run(&["report", p, "--day", "2026-11-28"]);
    assert_eq!(report.status.code(), Some(1));
    assert_untouched(dir.path(), &tampered, "verify of a tampered journal", false);
}

#[test]
fn the_clearing_record_has_both_operators_and_the_chain_head() {
    let (dir, path, m) = fixture();
    let p = path.to_str().unwrap();
    let html_path = dir
        .path()
        .join("..")
        .join(format!("clearing-{}.html", std::process::id()));
    let before = snapshot(dir.path());
    let out = run(&[
        "clearing-report",
        p,
        "--last",
        "--html",
        html_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let clearing = {
        let j = Journal::open_read_only(&path).unwrap();
        j.clearings().unwrap().pop().unwrap()
    };
    let head = clearing.chain_head.expect("a chained clearing");
    let text = stdout(&out);
    for must in [
        OPERATORS[0],
        OPERATORS[1],
        &head.to_string(),
        "短款 10.00",
        "双人确认",
        // Which notes: ¥20 short by one, ¥10 over by one.
        "长短款明细",
        "¥20 短 1 张，¥10 多 1 张",
        "按面额清点",
    ] {
        assert!(text.contains(must), "missing {must:?} in\n{text}");
    }
    let en = stdout(&run(&["--lang", "en", "clearing-report", p, "--last"]));
    for must in ["Over / short by note", "¥20 ×1 short, ¥10 ×1 over"] {
        assert!(en.contains(must), "missing {must:?} in\n{en}");
    }
    let html = std::fs::read_to_string(&html_path).unwrap();
    std::fs::remove_file(&html_path).unwrap();
    for must in [
        OPERATORS[0],
        OPERATORS[1],
        &head.hex(),
        "实点",
        "Counted",
        "¥20 短 1 张，¥10 多 1 张 / ¥20 ×1 short, ¥10 ×1 over",
        "<td>¥20</td><td>3</td><td>2</td><td>-1</td>",
        "<td>¥10</td><td>0</td><td>1</td><td>+1</td>",
        "@page",
        "A4",
    ] {
        assert!(html.contains(must), "missing {must:?} in the HTML");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "self-contained"
    );
    // Chinese first, English second on a label.
    assert!(html.find("签名").unwrap() < html.find("Signature").unwrap());
    assert_untouched(dir.path(), &before, "clearing-report", false);

    let v = json(&run(&[
        "clearing-report",
        p,
        "--clearing",
        &clearing.id.to_string(),
        "--json",
    ]));
    let (expected, counted) = m.clearings[0];
    assert_eq!(v["clearing"]["expected"]["minor"], expected);
    assert_eq!(v["clearing"]["counted"]["minor"], counted);
    assert_eq!(v["over_short"]["minor"], counted - expected);
    let by_note: Vec<(i64, i64)> = v["over_short_by_note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["value"]["minor"].as_i64().unwrap(),
                d["notes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_note, vec![(2000, -1), (1000, 1)]);
    let lines = v["clearing"]["notes"].as_array().unwrap();
    assert_eq!(lines.len(), 4, "¥10, ¥20, ¥50, ¥100: {lines:?}");
    let settled = v["settled"].as_array().unwrap();
    assert_eq!(settled.len(), 1, "the note two staff found in the box");
    assert_eq!(settled[0]["fate"], "in-cash-box");
    assert_eq!(settled[0]["by"]["staff"][0], OPERATORS[0]);

    let none = run(&["clearing-report", p, "--clearing", "99"]);
    assert_eq!(none.status.code(), Some(2));
    assert_untouched(dir.path(), &before, "clearing-report --json", false);
}

#[test]
fn the_csv_export_parses_back_to_every_money_event() {
    let (dir, path, _) = fixture();
    let p = path.to_str().unwrap();
    let before = snapshot(dir.path());
    let out = run(&["--lang", "en", "export", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (money_rows, all_rows): (i64, i64) = {
        // `immutable`: a plain read-only connection would leave a -wal and -shm.
        let c = rusqlite::Connection::open_with_flags(
            format!("file:{}?immutable=1", path.display()),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap();
        c.query_row(
            "SELECT count(*) FILTER (WHERE kind NOT LIKE 'ticket-%' AND kind NOT IN ('staff-command', 'security-event')),
                    count(*) FROM audit",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert!(
        money_rows < all_rows,
        "the fixture has ticket and staff rows too"
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "row");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len() as i64, money_rows);
    // Quoting: a JSON detail with commas and quotes comes back whole.
    let detail = headers.iter().position(|h| h == "detail").unwrap();
    let refused = records
        .iter()
        .find(|r| r[3] == *"note-settled-by-staff")
        .expect("the staff settlement");
    let v: serde_json::Value = serde_json::from_str(&refused[detail]).unwrap();
    assert_eq!(v["operators"][1], OPERATORS[1]);
    assert_untouched(dir.path(), &before, "export to stdout", false);

    let csv_path = dir
        .path()
        .join("..")
        .join(format!("events-{}.csv", std::process::id()));
    let out = run(&["export", p, "--csv", csv_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let n = csv::Reader::from_path(&csv_path).unwrap().records().count();
    std::fs::remove_file(&csv_path).unwrap();
    assert_eq!(n as i64, money_rows);
    // The journal itself is never an output.
    let refused = run(&["export", p, "--csv", p]);
    assert_eq!(refused.status.code(), Some(2));
    assert_untouched(dir.path(), &before, "export to a file", false);
}

#[test]
fn tickets_show_every_handling_step() {
    let (dir, path, _) = fixture();
    let p = path.to_str().unwrap();
    let before = snapshot(dir.path());
    let out = run(&["tickets", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for must in [
        "故障工单",
        "paper-out",
        "ops-zhao",
        "tech-qian",
        "装纸 loaded paper",
        "打印正常 prints",
        "2026-11-29 09:10:00",
    ] {
        assert!(text.contains(must), "missing {must:?} in\n{text}");
    }
    let v = json(&run(&["tickets", p, "--json"]));
    assert_eq!(v[0]["actions"].as_array().unwrap().len(), {
        let j = Journal::open_read_only(&path).unwrap();
        j.tickets().unwrap()[0].actions.len()
    });
    assert_untouched(dir.path(), &before, "tickets", false);
}

#[test]
fn a_missing_path_is_not_created_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    for args in [
        vec!["verify"],
        vec!["report", "--day", "2026-11-28"],
        vec!["export"],
        vec!["tickets"],
        vec!["clearing-report"],
    ] {
        let mut a: Vec<&str> = vec![args[0], missing.to_str().unwrap()];
        a.extend(&args[1..]);
        let out = run(&a);
        assert_eq!(out.status.code(), Some(2), "{a:?}");
        let err = stderr(&out);
        assert!(
            err.contains("文件不存在") && err.contains("no such file"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(snapshot(dir.path()).is_empty(), "nothing was created");
    // The library refuses it too, creating nothing.
    let e = Journal::open_read_only(&missing).unwrap_err();
    assert_eq!(e.kind(), kiosk_core::journal::JournalErrorKind::Storage);
    assert!(snapshot(dir.path()).is_empty());

    // A log without its journal file: the file is not taken as missing, nor created.
    let lost = dir.path().join("lost.sqlite");
    std::fs::write(dir.path().join("lost.sqlite-wal"), [7u8; 4096]).unwrap();
    let before = snapshot(dir.path());
    let out = run(&["verify", lost.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("日志主文件丢失或为空") && err.contains("holds acknowledged events"),
        "{err}"
    );
    assert_untouched(dir.path(), &before, "an orphaned log", false);

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all, just text").unwrap();
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = snapshot(dir.path());
    for f in [&text, &other] {
        let out = run(&["verify", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains("不是终端日志文件") && err.contains("not a kiosk journal"),
            "{err}"
        );
    }
    assert_untouched(dir.path(), &before, "refused files", false);
}

/// A journal left by a writer that never closed it: the newest commits are
/// only in the `-wal`.
fn unclosed(path: &Path) -> Journal {
    let mut j = Journal::open(path).unwrap();
    let s = SessionId::new(&Kiosk::kiosk(), 1);
    j.begin_session(&SessionStart {
        id: s.clone(),
        kiosk: Kiosk::kiosk(),
        account: AccountNumber("1".into()),
        method: PaymentMethod::Cash,
        at: Millis(DAY1 + HOUR),
    })
    .unwrap();
    j.note_stacked(&s, None, cny(5000), Millis(DAY1 + HOUR + 1))
        .unwrap();
    j.note_stacked(&s, None, cny(10000), Millis(DAY1 + HOUR + 2))
        .unwrap();
    let key = IdempotencyKey(s.0.clone());
    j.payment_pending(&s, &key, cny(15000), Millis(DAY1 + HOUR + 3))
        .unwrap();
    j.payment_credited(&key, "B", cny(15000), Millis(DAY1 + HOUR + 4))
        .unwrap();
    j
}

fn credited_on_day1(p: &str) -> serde_json::Value {
    let v = json(&run(&["report", p, "--day", "2026-11-28", "--json"]));
    v["currencies"][0]["end_of_day"]["credited"]["minor"].clone()
}

#[test]
fn a_journal_of_a_killed_writer_is_read_with_its_wal_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    // Power cut: no clean close, no checkpoint; -wal and -shm stay.
    unclosed(&path).abandon();
    let before = snapshot(dir.path());
    assert!(
        before
            .get("journal.sqlite-wal")
            .is_some_and(|w| !w.is_empty()),
        "{:?}",
        before.keys()
    );
    assert!(before.contains_key("journal.sqlite-shm"));
    let p = path.to_str().unwrap();
    assert_eq!(
        credited_on_day1(p),
        15000,
        "the commits in the -wal are read"
    );
    let ok = run(&["verify", p]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_untouched(dir.path(), &before, "killed writer", true);

    // Files copied off the kiosk without the -shm: read from a private copy.
    std::fs::remove_file(dir.path().join("journal.sqlite-shm")).unwrap();
    let before = snapshot(dir.path());
    let out = run(&["report", p, "--day", "2026-11-28", "--json"]);
    assert!(stderr(&out).contains("私有临时副本"), "{}", stderr(&out));
    assert_eq!(credited_on_day1(p), 15000);
    assert!(run(&["verify", p]).status.success());
    assert_untouched(dir.path(), &before, "-wal without -shm", false);
    let j = Journal::open_read_only(&path).unwrap();
    assert_eq!(j.via(), kiosk_core::journal::ReadVia::PrivateCopy);
}

#[test]
fn a_journal_still_open_by_its_writer_is_read_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    // The writer is alive (this process) and never closes it.
    let writer = unclosed(&path);
    let before = snapshot(dir.path());
    let p = path.to_str().unwrap();
    assert_eq!(credited_on_day1(p), 15000);
    assert!(run(&["verify", p]).status.success());
    assert!(run(&["export", p]).status.success());
    assert_untouched(dir.path(), &before, "live writer", true);
    std::mem::forget(writer);
}

#[test]
fn a_cleanly_closed_journal_gets_no_wal_or_shm() {
    let (dir, path, _) = fixture();
    let before = snapshot(dir.path());
    assert_eq!(
        before.len(),
        1,
        "a clean close leaves the main file alone: {:?}",
        before.keys()
    );
    let j = Journal::open_read_only(&path).unwrap();
    assert_eq!(j.via(), kiosk_core::journal::ReadVia::InPlace);
    let check = j.verify_all().unwrap();
    assert!(check.payments_checked >= 5);
    drop(j);
    assert_untouched(dir.path(), &before, "open_read_only + verify_all", false);
}

#[test]
fn a_journal_lacking_a_newer_table_is_brought_up_to_date_in_a_private_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    unclosed(&path).close().unwrap();
    // As a build from before fault tickets left it (the table is added on open).
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE tickets;")
        .unwrap();
    let before = snapshot(dir.path());
    let p = path.to_str().unwrap();
    let out = run(&["tickets", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("没有工单"), "{}", stdout(&out));
    assert_eq!(credited_on_day1(p), 15000);
    assert_untouched(dir.path(), &before, "an older format", false);
    let j = Journal::open_read_only(&path).unwrap();
    assert_eq!(j.via(), kiosk_core::journal::ReadVia::PrivateCopy);
}
