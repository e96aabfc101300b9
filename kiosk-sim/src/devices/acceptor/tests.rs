use kiosk_core::Millis;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, Currency, ErrorKind, FillLevel,
    FraudKind, JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};
use tokio::time::Duration;

use super::*;
use crate::faults::{FaultRule, Trigger};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

fn unit_with(faults: Vec<FaultRule<AcceptorFault>>, box_config: CashBoxConfig) -> CashUnit {
    let config = AcceptorConfig {
        faults,
        ..AcceptorConfig::default()
    };
    CashUnit::new(&config, &box_config, SimClock::new(), SimRng::new(7)).unwrap()
}

fn unit(faults: Vec<FaultRule<AcceptorFault>>) -> CashUnit {
    unit_with(faults, CashBoxConfig::default())
}

async fn next(acceptor: &mut VirtualAcceptor) -> (Millis, AcceptorEvent) {
    let event = acceptor.next_event().await.expect("an event");
    (acceptor.clock().now(), event)
}

#[tokio::test(start_paused = true)]
async fn a_note_is_escrowed_stacked_and_lands_in_the_box() {
    let mut u = unit(vec![]);
    u.acceptor.enable(&[cny(50), cny(100)]).await.unwrap();
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::Accepting
    );
    u.customer.insert_note(cny(50), true).unwrap();
    assert_eq!(
        u.customer.insert_note(cny(50), true),
        Err(SlotRefusal::Busy)
    );
    let (at, event) = next(&mut u.acceptor).await;
    assert_eq!(
        (at, event),
        (Millis(1500), AcceptorEvent::Escrowed { value: cny(50) })
    );
    assert_eq!(u.acceptor.status().await.unwrap(), AcceptorStatus::Escrow);
    assert_eq!(
        u.staff.physical_contents().notes,
        0,
        "escrow is not the box"
    );
    u.acceptor.stack().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await,
        (Millis(2300), AcceptorEvent::Stacked { value: cny(50) })
    );
    let contents = u.staff.physical_contents();
    assert_eq!((contents.notes, contents.value), (1, cny(50)));

    u.customer.insert_note(cny(100), true).unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Escrowed { .. }
    ));
    u.acceptor.return_note().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await,
        (Millis(4300), AcceptorEvent::Returned { value: cny(100) })
    );
    assert_eq!(u.staff.physical_contents().value, cny(50));
    assert_eq!(u.customer.returned_notes(), vec![cny(100)]);
    let status = u.cash_box.status().await.unwrap();
    assert!(status.present);
    assert_eq!(status.contents.map(|c| c.value), Some(cny(50)));
}

#[tokio::test(start_paused = true)]
async fn counterfeit_and_inhibited_notes_are_rejected_and_never_boxed() {
    let mut u = unit(vec![]);
    u.customer.insert_note(cny(50), true).unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Rejected {
            reason: RejectReason::Inhibited
        },
        "a fresh acceptor is inhibited"
    );
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), false).unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Rejected {
            reason: RejectReason::Counterfeit
        }
    );
    u.customer.insert_note(cny(20), true).unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Rejected {
            reason: RejectReason::Inhibited
        }
    );
    assert_eq!(
        u.acceptor.stack().await.unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(u.staff.physical_contents().notes, 0);
    assert_eq!(u.customer.returned_notes(), vec![cny(50), cny(50), cny(20)]);
}

#[tokio::test(start_paused = true)]
async fn stacker_jam_with_fate_in_box_boxes_the_note_and_later_clears() {
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(30_000),
    };
    let mut u = unit(vec![FaultRule::new(Trigger::NthCall { n: 2 }, jam)]);
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    for n in 1..=2 {
        u.customer.insert_note(cny(50), true).unwrap();
        assert!(matches!(
            next(&mut u.acceptor).await.1,
            AcceptorEvent::Escrowed { .. }
        ));
        u.acceptor.stack().await.unwrap();
        if n == 1 {
            // The first stack is clean, the second jams.
            assert!(matches!(
                next(&mut u.acceptor).await.1,
                AcceptorEvent::Stacked { .. }
            ));
        }
    }
    let (jammed_at, event) = next(&mut u.acceptor).await;
    assert_eq!(
        event,
        AcceptorEvent::Jammed {
            location: JamLocation::Stacker,
            value: Some(cny(50))
        }
    );
    assert_eq!(jammed_at, Millis(4600));
    assert_eq!(
        u.staff.physical_contents().value,
        cny(100),
        "note is in the box"
    );
    assert_eq!(u.acceptor.status().await.unwrap(), AcceptorStatus::Jammed);
    assert_eq!(
        u.customer.insert_note(cny(50), true),
        Err(SlotRefusal::Busy)
    );
    assert_eq!(
        next(&mut u.acceptor).await,
        (
            Millis(34_600),
            AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox
            }
        )
    );
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::Accepting
    );
    assert_eq!(u.staff.physical_contents().value, cny(100), "counted once");
}

#[tokio::test(start_paused = true)]
async fn acceptor_jam_is_cleared_by_reset_and_the_note_returned() {
    let jam = AcceptorFault::JamInAcceptor {
        fate: NoteFate::Returned,
        clear_after_ms: None,
    };
    let mut u = unit(vec![FaultRule::new(Trigger::At { at_ms: 0 }, jam)]);
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Jammed {
            location: JamLocation::Acceptor,
            ..
        }
    ));
    assert_eq!(u.acceptor.stack().await.unwrap_err().kind(), ErrorKind::Jam);
    u.acceptor.reset().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::JamCleared {
            fate: NoteFate::Returned
        }
    );
    assert_eq!(u.staff.physical_contents().notes, 0);
    assert_eq!(u.customer.returned_notes(), vec![cny(50)]);
}

#[tokio::test(start_paused = true)]
async fn offline_fails_calls_once_then_powers_up() {
    let window = Trigger::Between {
        from_ms: 10_000,
        until_ms: Some(70_000),
    };
    let mut u = unit(vec![FaultRule::new(window, AcceptorFault::Offline {})]);
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    let err = u.acceptor.next_event().await.unwrap_err();
    assert_eq!(
        (err.kind(), u.acceptor.clock().now()),
        (ErrorKind::Offline, Millis(10_000))
    );
    assert_eq!(
        u.acceptor.status().await.unwrap_err().kind(),
        ErrorKind::Offline
    );
    assert_eq!(
        u.acceptor.enable(&[cny(50)]).await.unwrap_err().kind(),
        ErrorKind::Offline
    );
    assert_eq!(
        u.customer.insert_note(cny(50), true),
        Err(SlotRefusal::Unpowered)
    );
    assert_eq!(
        next(&mut u.acceptor).await,
        (
            Millis(70_000),
            AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None
            }
        )
    );
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::Inhibited
    );
}

#[tokio::test(start_paused = true)]
async fn going_offline_mid_stack_reports_the_note_in_the_stacker() {
    let window = Trigger::Between {
        from_ms: 2000,
        until_ms: Some(5000),
    };
    let mut u = unit(vec![FaultRule::new(window, AcceptorFault::Offline {})]);
    u.acceptor.enable(&[cny(100)]).await.unwrap();
    u.customer.insert_note(cny(100), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap(); // at 1500, would stack at 2300
    assert_eq!(
        u.acceptor.next_event().await.unwrap_err().kind(),
        ErrorKind::Offline
    );
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker
        }
    );
    assert_eq!(u.staff.physical_contents().value, cny(100));
}

#[tokio::test(start_paused = true)]
async fn full_box_refuses_to_stack_and_the_note_waits_in_escrow() {
    let small = CashBoxConfig {
        capacity_notes: 1,
        near_full_notes: 1,
        ..CashBoxConfig::default()
    };
    let mut u = unit_with(vec![], small);
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Stacked { .. }
    ));
    assert_eq!(next(&mut u.acceptor).await.1, AcceptorEvent::StackerFull);
    assert_eq!(u.cash_box.status().await.unwrap().level, FillLevel::Full);

    u.customer.insert_note(cny(50), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    assert_eq!(next(&mut u.acceptor).await.1, AcceptorEvent::StackerFull);
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::StackerFull
    );
    u.acceptor.return_note().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Returned { value: cny(50) }
    );
    assert_eq!(u.staff.physical_contents().notes, 1);
}

#[tokio::test(start_paused = true)]
async fn fraud_pulls_the_note_back_and_power_cycle_mid_stack_boxes_it() {
    let fraud = AcceptorFault::Fraud {
        kind: FraudKind::StringOrFishing,
    };
    let power = AcceptorFault::PowerCycle {
        note: NoteAtPowerUp::InStacker,
    };
    let mut u = unit(vec![
        FaultRule::new(Trigger::NthCall { n: 1 }, fraud),
        FaultRule::new(Trigger::NthCall { n: 1 }, power),
    ]);
    u.acceptor.enable(&[cny(20)]).await.unwrap();
    u.customer.insert_note(cny(20), true).unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Fraud {
            kind: FraudKind::StringOrFishing
        }
    );
    assert_eq!(u.staff.physical_contents().notes, 0);
    u.customer.insert_note(cny(20), true).unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Escrowed { .. }
    ));
    u.acceptor.stack().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker
        }
    );
    assert_eq!(u.staff.physical_contents().value, cny(20));
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::Inhibited
    );
}

#[tokio::test(start_paused = true)]
async fn stacker_removed_window_and_clearing_by_staff() {
    let window = Trigger::Between {
        from_ms: 5000,
        until_ms: Some(6000),
    };
    let mut u = unit(vec![FaultRule::new(
        window,
        AcceptorFault::StackerRemoved {},
    )]);
    assert_eq!(
        next(&mut u.acceptor).await,
        (Millis(5000), AcceptorEvent::StackerRemoved)
    );
    assert!(!u.cash_box.status().await.unwrap().present);
    assert_eq!(
        next(&mut u.acceptor).await,
        (Millis(6000), AcceptorEvent::StackerReplaced)
    );

    u.acceptor.enable(&[cny(10)]).await.unwrap();
    u.customer.insert_note(cny(10), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    next(&mut u.acceptor).await;
    assert_eq!(u.staff.remove_box(), vec![cny(10)]);
    assert_eq!(next(&mut u.acceptor).await.1, AcceptorEvent::StackerRemoved);
    assert_eq!(
        u.acceptor.status().await.unwrap(),
        AcceptorStatus::StackerRemoved
    );
    u.staff.insert_box();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::StackerReplaced
    );
    assert_eq!(u.staff.physical_contents().notes, 0);
}

#[tokio::test(start_paused = true)]
async fn next_event_is_cancel_safe() {
    let mut u = unit(vec![]);
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), true).unwrap();
    let early = tokio::time::timeout(Duration::from_millis(1000), u.acceptor.next_event()).await;
    assert!(early.is_err(), "nothing yet at 1000 ms");
    // The event produced while nobody was waiting is still delivered.
    tokio::time::sleep(Duration::from_millis(5000)).await;
    assert_eq!(
        u.acceptor.next_event().await.unwrap(),
        AcceptorEvent::Escrowed { value: cny(50) }
    );
}

async fn probabilistic_run(seed: u64) -> Vec<(Millis, AcceptorEvent)> {
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(1000),
    };
    let config = AcceptorConfig {
        faults: vec![FaultRule::new(Trigger::Probability { p: 0.3 }, jam)],
        ..AcceptorConfig::default()
    };
    let clock = SimClock::new();
    let mut u =
        CashUnit::new(&config, &CashBoxConfig::default(), clock, SimRng::new(seed)).unwrap();
    u.acceptor.enable(&[cny(10)]).await.unwrap();
    let mut trace = Vec::new();
    for _ in 0..20 {
        u.customer.insert_note(cny(10), true).unwrap();
        trace.push(next(&mut u.acceptor).await);
        u.acceptor.stack().await.unwrap();
        let done = next(&mut u.acceptor).await;
        let jammed = matches!(done.1, AcceptorEvent::Jammed { .. });
        trace.push(done);
        if jammed {
            trace.push(next(&mut u.acceptor).await);
        }
    }
    // Each run has its own clock, so times are relative to the run's start.
    trace
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_jams_at_the_same_times() {
    let a = probabilistic_run(11).await;
    let b = probabilistic_run(11).await;
    assert_eq!(a, b);
    assert!(a
        .iter()
        .any(|(_, e)| matches!(e, AcceptorEvent::Jammed { .. })));
    assert_ne!(a, probabilistic_run(12).await);
}

#[tokio::test(start_paused = true)]
async fn an_idle_hour_costs_nothing() {
    let mut u = unit(vec![]);
    let hour = Duration::from_secs(3600);
    assert!(tokio::time::timeout(hour, u.acceptor.next_event())
        .await
        .is_err());
    assert_eq!(u.acceptor.clock().now(), Millis(3_600_000));
    assert!(
        u.acceptor.wakeups() <= 1,
        "woke {} times",
        u.acceptor.wakeups()
    );
}

#[test]
fn config_reads_from_toml_with_defaults() {
    let config: AcceptorConfig = toml::from_str(
        r#"
        stack-ms = 900
        [[faults]]
        trigger = { when = "nth-call", n = 2 }
        fault = { type = "jam-in-stacker", clear-after-ms = 30000 }
        [[faults]]
        trigger = { when = "between", from-ms = 1000, until-ms = 2000 }
        fault = { type = "offline" }
        [[faults]]
        trigger = { when = "at", at-ms = 5000 }
        fault = { type = "power-cycle" }
        "#,
    )
    .unwrap();
    assert_eq!((config.validate_ms, config.stack_ms), (1500, 900));
    assert_eq!(
        config.faults[0].fault,
        AcceptorFault::JamInStacker {
            fate: NoteFate::InCashBox,
            clear_after_ms: Some(30_000)
        }
    );
    assert_eq!(
        config.faults[2].fault,
        AcceptorFault::PowerCycle {
            note: NoteAtPowerUp::InStacker
        }
    );
    assert!(toml::from_str::<AcceptorConfig>("stack-time = 1").is_err());
    let extra = r#"
        [[faults]]
        trigger = { when = "at", at-ms = 1 }
        fault = { type = "offline", for-ms = 5 }
    "#;
    assert!(toml::from_str::<AcceptorConfig>(extra).is_err());
    let boxed: CashBoxConfig = toml::from_str(
        "capacity-notes = 10\ninitial-notes = [{ minor = 5000, currency = \"CNY\" }]",
    )
    .unwrap();
    assert_eq!((boxed.capacity_notes, boxed.near_full_notes), (10, 900));
}

#[test]
fn faults_refuse_triggers_they_cannot_honour() {
    let config = AcceptorConfig {
        faults: vec![FaultRule::new(
            Trigger::NthCall { n: 1 },
            AcceptorFault::Offline {},
        )],
        ..AcceptorConfig::default()
    };
    let built = CashUnit::new(
        &config,
        &CashBoxConfig::default(),
        SimClock::new(),
        SimRng::new(0),
    );
    assert!(built.is_err());
}

#[tokio::test(start_paused = true)]
async fn the_fault_log_says_when_each_fault_struck() {
    let jam = AcceptorFault::JamInAcceptor {
        fate: NoteFate::Returned,
        clear_after_ms: Some(1000),
    };
    let window = Trigger::Between {
        from_ms: 60_000,
        until_ms: Some(61_000),
    };
    let log = crate::faults::FaultLog::new();
    let mut u = unit(vec![
        FaultRule::new(Trigger::NthCall { n: 1 }, jam),
        FaultRule::new(window, AcceptorFault::Offline {}),
    ])
    .with_fault_log(log.clone(), "acceptor");
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    let entries: Vec<_> = log
        .entries()
        .into_iter()
        .map(|e| (e.at, e.device, e.fault))
        .collect();
    assert_eq!(
        entries,
        vec![
            (
                Millis(2300),
                "acceptor".to_string(),
                "JamInAcceptor { fate: Returned, clear_after_ms: Some(1000) }".to_string()
            ),
            (
                Millis(60_000),
                "acceptor".to_string(),
                "Offline".to_string()
            ),
            (
                Millis(61_000),
                "acceptor".to_string(),
                "end of Offline".to_string()
            ),
        ]
    );
}
