//! A drill is a seed plus a scenario: the same seed gives the same run.
#![forbid(unsafe_code)]

use kiosk_sim::drill::trace::trace_hash;
use kiosk_sim::drill::{run_once, Scenario};

/// Faults drawn with a probability from the seed, so different seeds differ.
const RANDOM_FAULTS: &str = r#"
id = "random-faults"
title = "faults drawn from the seed"
duration-ms = 400000

[[link.faults]]
trigger = { when = "probability", p = 0.4 }
fault = { type = "lose-answer", on = "post" }

[[acceptor.faults]]
trigger = { when = "probability", p = 0.2 }
fault = { type = "jam-in-stacker", fate = "in-cash-box", clear-after-ms = 20000 }

[backend.accounts."1"]
holder-name = "A"
amount-due = { minor = 10000, currency = "CNY" }

[[customers]]
arrive-ms = 5000
account = "1"
notes = [10, 20, 50, 10, 20]

[[customers]]
arrive-ms = 120000
account = "1"
notes = [100, 10, 10]
"#;

#[test]
fn same_seed_same_trace_different_seeds_differ() {
    let scenario = Scenario::from_toml("random-faults", RANDOM_FAULTS).unwrap();
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 0..8u64 {
        let a = trace_hash(&run_once(&scenario, seed).unwrap().trace);
        let b = trace_hash(&run_once(&scenario, seed).unwrap().trace);
        assert_eq!(a, b, "seed {seed} diverged between two runs");
        hashes.insert(a);
    }
    assert!(
        hashes.len() > 1,
        "the seed changes the faults and so the trace"
    );
}
