//! Property: whatever customers do and whatever faults strike, the money
//! invariant holds — every note in the cash box is credited, pending,
//! refused-and-held or in doubt, and nothing is credited twice.
//!
//! A failing case prints the scenario parameters and the seed; rebuild it
//! with `scenario(...)` below to reproduce.
#![forbid(unsafe_code)]

use kiosk_hal::NoteFate;
use kiosk_sim::devices::{AcceptorFault, PrinterFault};
use kiosk_sim::drill::check::check_money;
use kiosk_sim::drill::scenario::{CustomerScript, Finish, NoteSpec, PowerLoss};
use kiosk_sim::drill::{run_once, Scenario};
use kiosk_sim::faults::{LinkFault, LinkOp};
use kiosk_sim::{FaultRule, Trigger};
use proptest::prelude::*;

const BASE: &str = r#"
id = "money-property"
title = "random customers and faults"
duration-ms = 900000

[backend.accounts."1"]
holder-name = "A"
amount-due = { minor = 20000, currency = "CNY" }
[backend.accounts."2"]
holder-name = "B"
amount-due = { minor = 5000, currency = "CNY" }
[backend.accounts."3"]
holder-name = "C"
status = "closed"
"#;

#[derive(Debug, Clone)]
struct Customer {
    account: u8,
    notes: Vec<(i64, bool)>,
    finish: Finish,
}

#[derive(Debug, Clone)]
enum Fault {
    Printer(u64, PrinterFault),
    LinkDown(u64, u64),
    LostAnswer(u64),
    LinkNonsense(u64),
    Jam(u64, bool, NoteFate),
    /// Power cut on the n-th stack, this far (percent) into the stacking:
    /// where the note ends up (box or back to the customer) is the
    /// acceptor's physics.
    PowerCycleWhileStacking(u64, u8),
    Fraud(u64),
    AcceptorOffline(u64, u64),
    KioskPowerLoss(u64, u64),
}

fn customer() -> impl Strategy<Value = Customer> {
    let note = (
        prop_oneof![Just(10i64), Just(20), Just(50), Just(100)],
        prop::bool::weighted(0.85),
    );
    (
        1u8..=3,
        prop::collection::vec(note, 0..5),
        prop_oneof![
            Just(Finish::Confirm),
            Just(Finish::IdleTimeout),
            Just(Finish::Cancel)
        ],
    )
        .prop_map(|(account, notes, finish)| Customer {
            account,
            notes,
            finish,
        })
}

fn fault() -> impl Strategy<Value = Fault> {
    let t = 5_000u64..200_000;
    prop_oneof![
        (
            t.clone(),
            prop_oneof![
                Just(PrinterFault::PaperOut),
                Just(PrinterFault::Jam),
                Just(PrinterFault::CoverOpen)
            ]
        )
            .prop_map(|(at, f)| Fault::Printer(at, f)),
        (t.clone(), 1_000u64..90_000).prop_map(|(at, len)| Fault::LinkDown(at, len)),
        (1u64..4).prop_map(Fault::LostAnswer),
        (1u64..4).prop_map(Fault::LinkNonsense),
        (
            1u64..6,
            any::<bool>(),
            prop_oneof![
                Just(NoteFate::InCashBox),
                Just(NoteFate::Returned),
                Just(NoteFate::Unknown)
            ]
        )
            .prop_map(|(n, stacker, fate)| Fault::Jam(n, stacker, fate)),
        (1u64..6, 0u8..100).prop_map(|(n, percent)| Fault::PowerCycleWhileStacking(n, percent)),
        (1u64..6).prop_map(Fault::Fraud),
        (t.clone(), 1_000u64..60_000).prop_map(|(at, len)| Fault::AcceptorOffline(at, len)),
        (t, 1_000u64..20_000).prop_map(|(at, len)| Fault::KioskPowerLoss(at, len)),
    ]
}

fn scenario(customers: &[Customer], faults: &[Fault]) -> Scenario {
    let mut s = Scenario::from_toml("money-property", BASE).unwrap();
    for (i, c) in customers.iter().enumerate() {
        s.customers.push(CustomerScript {
            arrive_ms: 5_000 + 150_000 * i as u64,
            account: c.account.to_string(),
            method: kiosk_hal::PaymentMethod::Cash,
            notes: c
                .notes
                .iter()
                .map(|&(value, genuine)| NoteSpec::Detailed { value, genuine })
                .collect(),
            code: None,
            finish: c.finish,
            think_ms: 1_000,
        });
    }
    for f in faults {
        match f.clone() {
            Fault::Printer(at, fault) => s
                .printer
                .faults
                .push(FaultRule::new(Trigger::At { at_ms: at }, fault)),
            Fault::LinkDown(at, len) => s.link.faults.push(FaultRule::new(
                Trigger::Between {
                    from_ms: at,
                    until_ms: Some(at + len),
                },
                LinkFault::Down {
                    fail_after_ms: 1_000,
                    on: LinkOp::Any,
                },
            )),
            Fault::LostAnswer(n) => s.link.faults.push(FaultRule::new(
                Trigger::NthCall { n },
                LinkFault::LoseAnswer {
                    timeout_ms: 5_000,
                    on: LinkOp::Post,
                },
            )),
            Fault::LinkNonsense(n) => s.link.faults.push(FaultRule::new(
                Trigger::NthCall { n },
                LinkFault::Nonsense { on: LinkOp::Post },
            )),
            Fault::Jam(n, stacker, fate) => s.acceptor.faults.push(FaultRule::new(
                Trigger::NthCall { n },
                if stacker {
                    AcceptorFault::JamInStacker {
                        fate,
                        clear_after_ms: Some(20_000),
                    }
                } else {
                    AcceptorFault::JamInAcceptor {
                        fate,
                        clear_after_ms: Some(20_000),
                    }
                },
            )),
            Fault::PowerCycleWhileStacking(n, percent) => s.acceptor.faults.push(FaultRule::new(
                Trigger::NthCall { n },
                AcceptorFault::PowerCycle {
                    stack_percent: Some(percent),
                },
            )),
            Fault::Fraud(n) => s.acceptor.faults.push(FaultRule::new(
                Trigger::NthCall { n },
                AcceptorFault::Fraud {
                    kind: kiosk_hal::FraudKind::StringOrFishing,
                },
            )),
            Fault::AcceptorOffline(at, len) => s.acceptor.faults.push(FaultRule::new(
                Trigger::Between {
                    from_ms: at,
                    until_ms: Some(at + len),
                },
                AcceptorFault::Offline {},
            )),
            Fault::KioskPowerLoss(at, len) => {
                s.power_losses.push(PowerLoss {
                    at_ms: at,
                    down_ms: len,
                });
                s.power_losses.sort_by_key(|p| p.at_ms);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn money_invariant_holds_under_random_customers_and_faults(
        customers in prop::collection::vec(customer(), 1..4),
        faults in prop::collection::vec(fault(), 0..4),
        seed in any::<u64>(),
    ) {
        let s = scenario(&customers, &faults);
        let run = run_once(&s, seed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let inv = check_money(&s, &run);
        prop_assert!(inv.holds, "seed {seed}: {:?}", inv.violations);
        // The box never holds more than the customers inserted.
        let inserted: i64 = customers.iter().flat_map(|c| c.notes.iter()).map(|(v, _)| v * 100).sum();
        let in_box: i64 = run.staff.physical_contents().value.minor;
        prop_assert!(in_box <= inserted, "box {in_box} holds more than was inserted {inserted}");
    }
}
