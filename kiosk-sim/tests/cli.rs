//! The `kiosk-sim drill` command line as an operator meets it: clear errors
//! for bad arguments and bad scenario files, reproduce commands that work,
//! any number of seeds, and text in Chinese unless English is asked for.
//!
//! Runs the real binary (`CARGO_BIN_EXE_kiosk-sim`, built by cargo from the
//! current sources for this test).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use unicode_width::UnicodeWidthStr;

fn kiosk_sim(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk-sim"));
    cmd.args(args)
        .env_remove("KIOSK_LANG")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run kiosk-sim")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scenario that runs and fails: it expects more credited than paid.
const FAILING: &str = r#"id = "my-own-drill"
title = "expects too much on purpose"
duration-ms = 60000
[[customers]]
arrive-ms = 1000
account = "1001"
notes = [50]
[backend.accounts."1001"]
holder-name = "张三"
amount-due = { minor = 5000, currency = "CNY" }
[expect.money]
credited = 999
"#;

#[test]
fn zero_seeds_is_an_error_not_one_run() {
    let out = kiosk_sim(&["--lang", "en", "drill", "bill-jam", "--seeds", "0"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("--seeds must be at least 1"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).is_empty(),
        "ran anyway: {}",
        text(&out.stdout)
    );
}

#[test]
fn a_huge_number_of_seeds_streams_instead_of_allocating_up_front() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk-sim"))
        .args([
            "drill",
            "bill-jam",
            "--seeds",
            "100000000000",
            "--jobs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kiosk-sim");
    std::thread::sleep(Duration::from_secs(3));
    let status = child.try_wait().expect("poll kiosk-sim");
    let _ = child.kill();
    let out = child.wait_with_output().expect("reap kiosk-sim");
    assert!(
        status.is_none(),
        "kiosk-sim stopped ({status:?}) instead of running the seeds: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_file_drill_is_reproduced_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, FAILING).unwrap();
    let shown = path.display().to_string();
    let out = kiosk_sim(&["--lang", "en", "drill", "--file", &shown], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let command = format!("kiosk-sim drill --file {shown} --seed 1");
    assert!(
        stdout.contains(&format!("reproduce with: {command}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("reproduce with `{command}`")),
        "{stdout}"
    );
    assert!(!stdout.contains("kiosk-sim drill my-own-drill"), "{stdout}");
}

#[test]
fn scenario_errors_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "late.toml",
            "id = \"a\"\ntitle = \"b\"\nduration-ms = 60000\n[[customers]]\narrive-ms = 900000\naccount = \"1001\"\n",
            "line 5, column 13: customers[0].arrive-ms",
        ),
        (
            "owes.toml",
            "id = \"a\"\ntitle = \"b\"\n[backend.accounts.\"1001\"]\nholder-name = \"x\"\namount-due = { minor = -1, currency = \"CNY\" }\n",
            "line 5, column 14: backend.accounts.1001.amount-due",
        ),
        (
            "bell.toml",
            "id = \"a\"\ntitle = \"b\"\n[[customers]]\narrive-ms = 1\naccount = \"10\\u00070\"\n",
            "line 5, column 11: customers[0].account",
        ),
        (
            "note.toml",
            "id = \"a\"\ntitle = \"b\"\n[[customers]]\narrive-ms = 1\naccount = \"1\"\nnotes = [100000000000000000]\n",
            "line 6, column 10: customers[0].notes[0]",
        ),
    ];
    for (name, scenario, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, scenario).unwrap();
        let out = kiosk_sim(&["drill", "--file", &path.display().to_string()], &[]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("错误："), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: {expected}", path.display())),
            "{name}: {stderr}"
        );
    }
}

/// The results table's header and first row.
fn table(stdout: &str, header_starts: &str) -> (String, String) {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(header_starts));
    let header = lines.next().unwrap_or_else(|| panic!("no table: {stdout}"));
    (header.to_string(), lines.next().unwrap().to_string())
}

#[test]
fn operator_text_is_chinese_first_english_on_request_and_json_the_same() {
    let zh = kiosk_sim(&["drill", "bill-jam"], &[]);
    assert_eq!(zh.status.code(), Some(0), "{}", text(&zh.stderr));
    let zh_out = text(&zh.stdout);
    assert!(zh_out.starts_with("通过  bill-jam"), "{zh_out}");
    assert!(
        zh_out.contains("共 1 次演练运行（1 个演练 × 1 个种子）"),
        "{zh_out}"
    );
    assert!(zh_out.contains("1 次通过，0 次失败"), "{zh_out}");
    // Columns line up by display width, Chinese characters taking two.
    let (header, row) = table(&zh_out, "演练");
    assert!(
        header.ends_with("资金平衡") && row.ends_with("成立"),
        "{zh_out}"
    );
    assert_eq!(header.width(), row.width(), "{header}\n{row}");

    for (args, env) in [
        (vec!["--lang", "en", "drill", "bill-jam"], vec![]),
        (vec!["drill", "bill-jam", "--lang", "en"], vec![]),
        (
            vec!["drill", "bill-jam"],
            vec![("KIOSK_LANG", "en_US.UTF-8")],
        ),
    ] {
        let en = kiosk_sim(&args, &env);
        let out = text(&en.stdout);
        assert!(out.starts_with("PASS  bill-jam"), "{args:?} {env:?}: {out}");
        assert!(
            out.contains("1 drill runs (1 drills x 1 seeds)") && out.contains("1 passed, 0 failed"),
            "{out}"
        );
        let (header, row) = table(&out, "DRILL");
        assert_eq!(header.width(), row.width(), "{header}\n{row}");
    }
    // --lang beats the environment.
    let zh_anyway = kiosk_sim(
        &["--lang", "zh", "drill", "bill-jam"],
        &[("KIOSK_LANG", "en")],
    );
    assert!(text(&zh_anyway.stdout).starts_with("通过"));

    let json = |lang: &str| {
        let out = kiosk_sim(
            &[
                "--lang", lang, "drill", "bill-jam", "--seeds", "2", "--json",
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0));
        text(&out.stdout)
    };
    let (zh_json, en_json) = (json("zh"), json("en"));
    assert_eq!(zh_json, en_json);
    let reports: serde_json::Value = serde_json::from_str(&zh_json).unwrap();
    assert_eq!(reports.as_array().map(Vec::len), Some(2));
    assert_eq!(reports[1]["seed"], 2);
}

#[test]
fn the_report_file_holds_every_run_as_one_json_array() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("reports.json");
    let out = kiosk_sim(
        &[
            "drill",
            "bill-jam",
            "counterfeit-note",
            "--seeds",
            "3",
            "--report",
            &report.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reports: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(Path::new(&report)).unwrap()).unwrap();
    let runs: Vec<(String, u64)> = reports
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = ["bill-jam", "counterfeit-note"]
        .iter()
        .flat_map(|id| (1..=3).map(move |s| (id.to_string(), s)))
        .collect();
    assert_eq!(runs, expected);
}
