//! The journal adds exactly one synced commit per money event.
#![forbid(unsafe_code)]

use kiosk_sim::drill::{run_once, Scenario};

const THREE_NOTES: &str = r#"
id = "three-notes"
title = "one payment of three notes"
duration-ms = 120000

[backend.accounts."1"]
holder-name = "A"
amount-due = { minor = 17000, currency = "CNY" }

[[customers]]
arrive-ms = 1000
account = "1"
notes = [50, 20, 100]
"#;

#[test]
fn one_commit_per_money_event() {
    let s = Scenario::from_toml("three-notes", THREE_NOTES).unwrap();
    let run = run_once(&s, 1).unwrap();
    // session started, 3 x (escrowed, stacked), payment pending, posting
    // attempted, backend answer (credited), session ended.
    let money_events = 1 + 3 * 2 + 1 + 1 + 1 + 1;
    assert_eq!(run.kiosk.journal().commits(), money_events);
}
