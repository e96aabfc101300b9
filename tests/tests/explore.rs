//! The seeded random explorer (`kiosk-sim explore`): deterministic, catches
//! a real loss and shrinks it, finds nothing in fault-free runs, and a
//! modest campaign passes with the known-bug checks allowed.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use kiosk_sim::drill::Scenario;
use kiosk_sim::explore::{
    self, generate, run_scenario, run_seed, shrink, Campaign, Check, ExploreOptions, PlantedBug,
};

/// Checks that fire because of bugs another change is fixing (see
/// the `kiosk_sim::explore` module docs): in-session power-ups and late reports settle the
/// wrong note (box-covered, box-explained, no-double-credit), one in-doubt
/// note disables cash for good (cash-offered), a retried QR posting differs
/// from the first (key-conflict).
fn known_bugs() -> BTreeSet<Check> {
    [
        Check::BoxCovered,
        Check::BoxExplained,
        Check::NoDoubleCredit,
        Check::CashOffered,
        Check::KeyConflict,
    ]
    .into_iter()
    .collect()
}

#[test]
fn same_seed_same_run() {
    let options = ExploreOptions::default();
    for seed in [3, 17, 404] {
        let (g1, a) = run_seed(seed, &options);
        let (g2, b) = run_seed(seed, &options);
        assert_eq!(g1.rates, g2.rates, "seed {seed}: rates differ");
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}: traces differ");
        assert_eq!(a.violations, b.violations, "seed {seed}: verdicts differ");
        assert!(a.steps > 5, "seed {seed}: the run did next to nothing");
    }
    // Different seeds explore different runs.
    let (_, x) = run_seed(1, &options);
    let (_, y) = run_seed(2, &options);
    assert_ne!(x.trace_hash, y.trace_hash);
}

#[test]
fn a_generated_scenario_survives_its_toml_file() {
    let options = ExploreOptions::default();
    for seed in 1..=25 {
        let g = generate(seed);
        let direct = run_scenario(&g.scenario, seed, &options);
        let text = shrink::to_toml(&g.scenario, seed, &BTreeSet::new(), "test").unwrap();
        let back = Scenario::from_toml("written", &text).unwrap();
        assert!(back.expect.explorer_checks);
        let replayed = run_scenario(&back, seed, &options);
        assert_eq!(
            direct.trace_hash, replayed.trace_hash,
            "seed {seed}: the written file runs differently:\n{text}"
        );
    }
}

#[test]
fn fault_free_runs_hold_every_check() {
    let options = ExploreOptions::default();
    for seed in 1..=15 {
        let mut s = generate(seed).scenario;
        s.acceptor.faults.clear();
        s.printer.faults.clear();
        s.link.faults.clear();
        s.power_losses.clear();
        s.commands.clear();
        s.staff.clear();
        s.account_changes.clear();
        let report = run_scenario(&s, seed, &options);
        assert!(
            report.violations.is_empty(),
            "seed {seed} without faults: {:?}",
            report.violations
        );
    }
}

#[test]
fn a_kiosk_that_credits_twice_is_caught_and_shrunk() {
    let planted = ExploreOptions {
        planted: Some(PlantedBug::RekeyFirstCredit),
        allow: known_bugs(),
        ..ExploreOptions::default()
    };
    let honest = ExploreOptions {
        allow: known_bugs(),
        ..ExploreOptions::default()
    };
    // The first seed whose run credits cash at all.
    let (seed, report) = (1..200)
        .map(|seed| (seed, run_seed(seed, &planted).1))
        .find(|(_, r)| r.checks().contains(&Check::BackendAgrees))
        .expect("some run credits cash");
    assert!(report.failed(&planted.allow), "{report:?}");
    assert!(
        report.checks().contains(&Check::NoDoubleCredit),
        "crediting the same cash twice exceeds the box: {:?}",
        report.violations
    );
    // Without the planted bug the same seed holds those checks.
    let (_, clean) = run_seed(seed, &honest);
    assert!(!clean.checks().contains(&Check::BackendAgrees), "{clean:?}");

    let g = generate(seed);
    let shrunk = shrink::shrink(&g.scenario, seed, &report.checks(), &planted, 400);
    assert!(!shrunk.checks.is_empty());
    let s = &shrunk.scenario;
    assert_eq!(s.customers.len(), 1, "one paying customer is enough");
    assert_eq!(s.customers[0].notes.len(), 1, "one note is enough");
    let faults = s.acceptor.faults.len() + s.link.faults.len() + s.printer.faults.len();
    assert_eq!(faults + s.power_losses.len() + s.staff.len(), 0);
    // The shrunk file still fails with the bug planted.
    let text = shrink::to_toml(s, seed, &planted.allow, "planted").unwrap();
    let back = Scenario::from_toml("shrunk", &text).unwrap();
    assert!(run_scenario(&back, seed, &planted).failed(&planted.allow));
    assert!(
        text.lines().count() < 80,
        "the shrunk file is short:\n{text}"
    );
}

#[test]
fn two_hundred_runs_with_the_known_bugs_allowed() {
    let result = Campaign {
        first_seed: 10_000,
        runs: 200,
        jobs: 2,
        options: ExploreOptions {
            allow: known_bugs(),
            ..ExploreOptions::default()
        },
        progress: false,
        keep_failures: 5,
        print_every_run: false,
        lang: Default::default(),
    }
    .run();
    assert_eq!(result.runs, 200);
    let shown: Vec<String> = result
        .failures
        .iter()
        .map(|r| explore::render_run(r, &known_bugs()))
        .collect();
    assert_eq!(result.failed, 0, "{}", shown.join("\n"));
    assert!(
        result.steps > 200 * 10,
        "runs do something: {}",
        result.steps
    );
}

#[test]
fn checks_are_named_for_allow() {
    for c in Check::ALL {
        assert_eq!(c.name().parse::<Check>(), Ok(c));
    }
    let err = "no-such-check".parse::<Check>().unwrap_err();
    assert!(err.contains("books"), "{err}");
    assert!(explore::replay_command(7, &known_bugs()).contains("--seed 7 --runs 1"));
}

const ONE_LOST_ANSWER: &str = r#"
id = "one-lost-answer"
title = "one cash payment whose answer is lost"
duration-ms = 200000

[kiosk]
retry-max-ms = 8000

[[link.faults]]
trigger = { when = "nth-call", n = 1 }
fault = { type = "lose-answer", on = "post", timeout-ms = 5000 }

[backend.accounts."1001"]
holder-name = "A"
amount-due = { minor = 5000, currency = "CNY" }

[[customers]]
arrive-ms = 3000
account = "1001"
notes = [50]
"#;

#[test]
fn pending_drains_fires_when_retries_stall() {
    let options = ExploreOptions::default();
    let healthy = Scenario::from_toml("lost", ONE_LOST_ANSWER).unwrap();
    let report = run_scenario(&healthy, 1, &options);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    // A kiosk that waits far too long to retry leaves the payment pending
    // while the link is healthy: the end check says so.
    let mut stalled = healthy.clone();
    stalled.kiosk.retry_initial_ms = 10_000_000;
    stalled.kiosk.retry_max_ms = 10_000_000;
    // The idle heartbeat would make the payment due again as soon as the
    // link answers: turn it off to stall.
    stalled.kiosk.link_probe_interval_ms = 0;
    let report = run_scenario(&stalled, 1, &options);
    let checks = report.checks();
    assert!(
        checks.contains(&Check::PendingDrains),
        "{:?}",
        report.violations
    );
}

/// Scenarios the explorer found and shrank (kiosk-sim/src/explore/found/),
/// one per known bug, with the seed and the check each breaks.
const FOUND: &[(&str, &str, u64, Check)] = &[
    (
        "powerup-in-stacker-ignored",
        include_str!("../../kiosk-sim/src/explore/found/powerup-in-stacker-ignored.toml"),
        11,
        Check::BoxExplained,
    ),
    (
        "unrelated-report-settles",
        include_str!("../../kiosk-sim/src/explore/found/unrelated-report-settles.toml"),
        337,
        Check::BoxCovered,
    ),
    (
        "in-doubt-disables-cash",
        include_str!("../../kiosk-sim/src/explore/found/in-doubt-disables-cash.toml"),
        4,
        Check::CashOffered,
    ),
    (
        "qr-retry-conflict",
        include_str!("../../kiosk-sim/src/explore/found/qr-retry-conflict.toml"),
        29,
        Check::KeyConflict,
    ),
];

fn found_holds(name: &str) {
    let (_, text, seed, check) = FOUND.iter().find(|f| f.0 == name).unwrap();
    let scenario = Scenario::from_toml(name, text).unwrap();
    let report = run_scenario(&scenario, *seed, &ExploreOptions::default());
    assert!(
        !report.checks().contains(check),
        "{name} (seed {seed}) still breaks {check}: {:?}",
        report.violations
    );
}

#[test]
fn found_scenarios_still_parse_and_run() {
    for (name, text, seed, _) in FOUND {
        let scenario = Scenario::from_toml(name, text).unwrap();
        assert!(scenario.expect.explorer_checks, "{name}");
        let report = run_scenario(&scenario, *seed, &ExploreOptions::default());
        assert!(report.steps > 3, "{name}");
    }
}

#[test]
fn found_power_up_in_stacker_is_journaled() {
    found_holds("powerup-in-stacker-ignored");
}

#[test]
fn found_unrelated_report_does_not_settle() {
    found_holds("unrelated-report-settles");
}

#[test]
fn found_in_doubt_note_does_not_disable_cash() {
    found_holds("in-doubt-disables-cash");
}

#[test]
fn found_qr_retry_keeps_its_posting() {
    found_holds("qr-retry-conflict");
}

#[test]
fn a_campaign_finds_the_same_on_one_thread_or_two() {
    let campaign = |jobs| {
        Campaign {
            first_seed: 300,
            runs: 30,
            jobs,
            options: ExploreOptions::default(),
            progress: false,
            keep_failures: 30,
            print_every_run: false,
            lang: Default::default(),
        }
        .run()
    };
    let (one, two) = (campaign(1), campaign(2));
    assert_eq!(one.fired, two.fired);
    assert_eq!(one.steps, two.steps);
    let seeds = |r: &explore::CampaignResult| r.failures.iter().map(|f| f.seed).collect::<Vec<_>>();
    assert_eq!(seeds(&one), seeds(&two));
}
