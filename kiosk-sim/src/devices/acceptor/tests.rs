use kiosk_core::Millis;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, Currency, DeviceError, ErrorKind,
    FillLevel, FraudKind, JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};
use tokio::time::Duration;

use super::*;
use crate::devices::shared::Machine;
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
    // Cut late in the stacking: past the point of no return, the note is in the box.
    let power = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
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
    // Stacked from 3000 for 800 ms: the cut comes at 80 %, 3640.
    assert_eq!(
        next(&mut u.acceptor).await,
        (
            Millis(3640),
            AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::InStacker
            }
        )
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
            stack_percent: None
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

// ----- power cuts: physics, not configuration -----

/// A timed power cut at `at_ms`, wherever the note is.
fn cut_at(at_ms: u64) -> FaultRule<AcceptorFault> {
    FaultRule::new(
        Trigger::At { at_ms },
        AcceptorFault::PowerCycle {
            stack_percent: None,
        },
    )
}

/// The bare machine (sans-IO) with these faults, default timings, default box.
fn machine(faults: Vec<FaultRule<AcceptorFault>>) -> AcceptorMachine {
    machine_timed(faults, 800, 500)
}

fn machine_timed(
    faults: Vec<FaultRule<AcceptorFault>>,
    stack_ms: u64,
    return_ms: u64,
) -> AcceptorMachine {
    let config = AcceptorConfig {
        stack_ms,
        return_ms,
        faults,
        ..AcceptorConfig::default()
    };
    let cash = BoxState::new(&CashBoxConfig::default());
    AcceptorMachine::new(&config, cash, SimRng::new(7)).unwrap()
}

/// What a scripted session saw: every event with its time, the notes the
/// box holds and the notes the customer got back.
#[derive(Debug)]
struct Seen {
    events: Vec<(Millis, AcceptorEvent)>,
    in_box: Vec<Money>,
    returned: Vec<Money>,
}

impl Seen {
    fn power_ups(&self) -> Vec<NoteAtPowerUp> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                AcceptorEvent::PowerUp { note } => Some(*note),
                _ => None,
            })
            .collect()
    }

    fn stacked(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, AcceptorEvent::Stacked { .. }))
            .count()
    }

    /// Notes in the box that no `Stacked` event announced: those a power
    /// cut (or a jam) put there.
    fn boxed_silently(&self) -> usize {
        self.in_box.len() - self.stacked()
    }
}

/// The host and the customer of a scripted session, reacting to events:
/// a 50 inserted at 0 and stacked once escrowed, then a 100 inserted and
/// returned once escrowed. Runs the machine deadline by deadline until
/// `until`.
fn scripted_session(m: &mut AcceptorMachine, until: Millis) -> Seen {
    let mut events = Vec::new();
    m.enable(&[cny(50), cny(100)]).unwrap();
    m.insert(Millis(0), cny(50), true).unwrap();
    while let Some(at) = m.next_deadline().filter(|at| *at <= until) {
        m.advance(at);
        // Each host call acknowledges the report handed over before it.
        while let Some(event) = m.host_call().ok().and_then(|()| m.pop_event(at)) {
            let event = event.expect("no offline fault here");
            // A cut in the same instant as the event may have emptied the
            // path already: then the host's call fails, as it would on a
            // real device, and the script goes on.
            let _refused = match event {
                AcceptorEvent::Escrowed { value } if value == cny(50) => m.stack(at),
                AcceptorEvent::Stacked { .. } => m
                    .insert(at, cny(100), true)
                    .map_err(|_| DeviceError::new(ErrorKind::InvalidState, "slot busy")),
                AcceptorEvent::Escrowed { .. } => m.return_note(at),
                _ => Ok(()),
            };
            events.push((at, event));
        }
    }
    Seen {
        events,
        in_box: m.cash().notes().to_vec(),
        returned: m.returned_to_customer().to_vec(),
    }
}

/// Where the scripted session's note is at `t`, worked out by hand from
/// the default timings (validate 1500, stack 800, return 500) and the
/// physics table on `AcceptorFault`: the honest power-up report for a cut
/// at `t`. On a tie the note's own step completes first.
fn honest_report_at(t: u64) -> NoteAtPowerUp {
    match t {
        // The 50 is being validated, then waits in escrow.
        0..=1500 => NoteAtPowerUp::InAcceptor,
        // Stacking 1500..2300: the point of no return is 50 %, at 1900.
        1501..=1899 => NoteAtPowerUp::InAcceptor,
        1900..=2299 => NoteAtPowerUp::InStacker,
        // Stacked at 2300 (before the cut), then the 100 is validated.
        2300 => NoteAtPowerUp::None,
        2301..=3800 => NoteAtPowerUp::InAcceptor,
        // Returning 3800..4300: out at the customer's from 50 %, 4050.
        3801..=4049 => NoteAtPowerUp::InAcceptor,
        _ => NoteAtPowerUp::None,
    }
}

#[test]
fn power_lost_while_validating_never_boxes_the_note() {
    // Regression: the old model dropped a note that was only being
    // validated into the box whenever the fault said `in-stacker`.
    for at_ms in [1, 700, 1499] {
        let mut m = machine(vec![cut_at(at_ms)]);
        let seen = scripted_session(&mut m, Millis(at_ms));
        assert_eq!(
            seen.events,
            vec![(
                Millis(at_ms),
                AcceptorEvent::PowerUp {
                    note: NoteAtPowerUp::InAcceptor
                }
            )],
            "cut at {at_ms}"
        );
        assert!(seen.in_box.is_empty(), "cut at {at_ms}: {seen:?}");
        assert_eq!(seen.returned, vec![cny(50)], "the device gives it back");
        assert_eq!(m.status().unwrap(), AcceptorStatus::Inhibited);
    }
}

#[test]
fn power_lost_while_idle_reports_nothing_found() {
    // Regression: the old model reported the configured `in-stacker` with
    // an empty path and nothing added to the box.
    let mut m = machine(vec![cut_at(10_000)]);
    let seen = scripted_session(&mut m, Millis(10_000));
    assert_eq!(seen.power_ups(), vec![NoteAtPowerUp::None]);
    assert_eq!(seen.in_box, vec![cny(50)], "only the note stacked before");
    assert_eq!(seen.returned, vec![cny(100)]);
}

#[test]
fn power_cut_on_a_stack_places_the_note_by_how_far_it_moved() {
    for (percent, report, in_box) in [
        (0, NoteAtPowerUp::InAcceptor, 0),
        (49, NoteAtPowerUp::InAcceptor, 0),
        (50, NoteAtPowerUp::InStacker, 1),
        (99, NoteAtPowerUp::InStacker, 1),
    ] {
        let cut = AcceptorFault::PowerCycle {
            stack_percent: Some(percent),
        };
        let mut m = machine(vec![FaultRule::new(Trigger::NthCall { n: 1 }, cut)]);
        let seen = scripted_session(&mut m, Millis(5_000));
        let cut_at = 1500 + 800 * u64::from(percent) / 100;
        assert_eq!(
            seen.events[1],
            (Millis(cut_at), AcceptorEvent::PowerUp { note: report }),
            "{percent} %"
        );
        assert_eq!(seen.in_box.len(), in_box, "{percent} %");
        assert_eq!(seen.returned.len(), 1 - in_box, "{percent} %");
        assert_eq!(seen.stacked(), 0, "the cut replaces the Stacked event");
    }
}

#[test]
fn power_cut_while_returning_never_boxes_the_note() {
    for (at_ms, report) in [
        (3900, NoteAtPowerUp::InAcceptor),
        (4100, NoteAtPowerUp::None),
    ] {
        let mut m = machine(vec![cut_at(at_ms)]);
        let seen = scripted_session(&mut m, Millis(at_ms));
        assert_eq!(seen.power_ups(), vec![report], "cut at {at_ms}");
        assert_eq!(seen.in_box, vec![cny(50)]);
        assert_eq!(seen.returned, vec![cny(100)]);
    }
}

#[tokio::test(start_paused = true)]
async fn going_offline_early_in_a_stack_gives_the_note_back() {
    // Stack at 1500 for 800 ms; power goes at 1600 (12 %): not yet past the gate.
    let window = Trigger::Between {
        from_ms: 1600,
        until_ms: Some(5000),
    };
    let mut u = unit(vec![FaultRule::new(window, AcceptorFault::Offline {})]);
    u.acceptor.enable(&[cny(100)]).await.unwrap();
    u.customer.insert_note(cny(100), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    assert_eq!(
        u.acceptor.next_event().await.unwrap_err().kind(),
        ErrorKind::Offline
    );
    assert_eq!(
        next(&mut u.acceptor).await,
        (
            Millis(5000),
            AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::InAcceptor
            }
        )
    );
    assert_eq!(u.staff.physical_contents().notes, 0);
    assert_eq!(u.customer.returned_notes(), vec![cny(100)]);
}

#[test]
fn only_a_misreport_fault_makes_the_power_up_report_lie() {
    // Power goes while the 50 is validated: it is in the acceptor and is
    // given back. The lying device claims it reached the box.
    let lie = AcceptorFault::MisreportPowerUp {
        report: NoteAtPowerUp::InStacker,
    };
    let log = crate::faults::FaultLog::new();
    let mut m = machine(vec![
        FaultRule::new(Trigger::NthCall { n: 1 }, lie),
        cut_at(700),
    ]);
    m.set_log(crate::faults::LogSink::new(log.clone(), "acceptor"));
    let seen = scripted_session(&mut m, Millis(700));
    assert_eq!(seen.power_ups(), vec![NoteAtPowerUp::InStacker]);
    assert!(seen.in_box.is_empty(), "the lie moves no note");
    assert_eq!(seen.returned, vec![cny(50)]);
    let logged: Vec<String> = log.entries().into_iter().map(|e| e.fault).collect();
    assert_eq!(
        logged,
        vec![
            "PowerCycle { stack_percent: None }".to_string(),
            "MisreportPowerUp { report: InStacker }".to_string()
        ]
    );

    // nth-call counts power-ups: the second one lies, the first does not.
    let lie = AcceptorFault::MisreportPowerUp {
        report: NoteAtPowerUp::None,
    };
    let mut m = machine(vec![
        FaultRule::new(Trigger::NthCall { n: 2 }, lie),
        cut_at(700),
        cut_at(1000),
    ]);
    let seen = scripted_session(&mut m, Millis(1000));
    assert_eq!(
        seen.power_ups(),
        vec![NoteAtPowerUp::InAcceptor, NoteAtPowerUp::None]
    );
}

#[tokio::test(start_paused = true)]
async fn a_jam_clearing_reports_the_real_fate_unless_the_device_lies() {
    for (lie, reported) in [
        (None, NoteFate::InCashBox),
        (Some(NoteFate::Returned), NoteFate::Returned),
    ] {
        let jam = AcceptorFault::JamInAcceptor {
            fate: NoteFate::InCashBox,
            clear_after_ms: Some(1000),
        };
        let mut faults = vec![FaultRule::new(Trigger::NthCall { n: 1 }, jam)];
        if let Some(report) = lie {
            let misreport = AcceptorFault::MisreportJamFate { report };
            faults.push(FaultRule::new(Trigger::NthCall { n: 1 }, misreport));
        }
        let mut u = unit(faults);
        u.acceptor.enable(&[cny(20)]).await.unwrap();
        u.customer.insert_note(cny(20), true).unwrap();
        next(&mut u.acceptor).await;
        u.acceptor.stack().await.unwrap();
        assert!(matches!(
            next(&mut u.acceptor).await.1,
            AcceptorEvent::Jammed { .. }
        ));
        assert_eq!(
            next(&mut u.acceptor).await,
            (Millis(3300), AcceptorEvent::JamCleared { fate: reported })
        );
        // Either way the note is where the jam's fate put it.
        assert_eq!(u.staff.notes(), vec![cny(20)], "lie: {lie:?}");
        assert!(u.customer.returned_notes().is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_jam_cleared_by_reset_consults_the_lie_at_the_reset() {
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::Returned,
        clear_after_ms: None,
    };
    let lie = AcceptorFault::MisreportJamFate {
        report: NoteFate::InCashBox,
    };
    let mut u = unit(vec![
        FaultRule::new(Trigger::NthCall { n: 1 }, jam),
        FaultRule::new(Trigger::At { at_ms: 10_000 }, lie),
    ]);
    u.acceptor.enable(&[cny(20)]).await.unwrap();
    u.customer.insert_note(cny(20), true).unwrap();
    next(&mut u.acceptor).await;
    u.acceptor.stack().await.unwrap();
    next(&mut u.acceptor).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    u.acceptor.reset().await.unwrap();
    assert_eq!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::JamCleared {
            fate: NoteFate::InCashBox
        },
        "the lie is active from 10 s"
    );
    assert_eq!(
        u.staff.physical_contents().notes,
        0,
        "but the note came back"
    );
    assert_eq!(u.customer.returned_notes(), vec![cny(20)]);
}

#[test]
fn power_cycle_and_misreport_configs_are_checked() {
    let build = |trigger: Trigger, fault: AcceptorFault| {
        let config = AcceptorConfig {
            faults: vec![FaultRule::new(trigger, fault)],
            ..AcceptorConfig::default()
        };
        AcceptorMachine::new(
            &config,
            BoxState::new(&CashBoxConfig::default()),
            SimRng::new(0),
        )
        .err()
        .map(|e| e.message().to_string())
    };
    let on_stack = |p| AcceptorFault::PowerCycle { stack_percent: p };
    let nth = Trigger::NthCall { n: 1 };
    let at = Trigger::At { at_ms: 1 };
    assert!(build(nth.clone(), on_stack(None))
        .unwrap()
        .contains("stack-percent = 0..=99"));
    assert!(build(nth.clone(), on_stack(Some(100)))
        .unwrap()
        .contains("not in 0..=99"));
    assert!(build(at.clone(), on_stack(Some(50)))
        .unwrap()
        .contains("cut at that instant"));
    let window = Trigger::Between {
        from_ms: 1,
        until_ms: None,
    };
    assert!(build(window, on_stack(None)).is_some());
    assert_eq!(build(nth.clone(), on_stack(Some(99))), None);
    assert_eq!(build(at.clone(), on_stack(None)), None);
    let lie = AcceptorFault::MisreportPowerUp {
        report: NoteAtPowerUp::None,
    };
    for trigger in [nth, at, Trigger::Probability { p: 0.5 }] {
        assert_eq!(build(trigger, lie), None);
    }

    // The old way of choosing the report is refused, by name.
    let old = r#"
        [[faults]]
        trigger = { when = "at", at-ms = 1 }
        fault = { type = "power-cycle", note = "in-stacker" }
    "#;
    let refused = toml::from_str::<AcceptorConfig>(old)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("unknown field `note`"), "{refused}");
    let lies: AcceptorConfig = toml::from_str(
        r#"
        [[faults]]
        trigger = { when = "nth-call", n = 1 }
        fault = { type = "misreport-power-up", report = "in-acceptor" }
        [[faults]]
        trigger = { when = "probability", p = 0.5 }
        fault = { type = "misreport-jam-fate", report = "unknown" }
        [[faults]]
        trigger = { when = "nth-call", n = 2 }
        fault = { type = "power-cycle", stack-percent = 80 }
        "#,
    )
    .unwrap();
    assert_eq!(
        lies.faults
            .iter()
            .map(|rule| rule.fault)
            .collect::<Vec<_>>(),
        vec![
            AcceptorFault::MisreportPowerUp {
                report: NoteAtPowerUp::InAcceptor
            },
            AcceptorFault::MisreportJamFate {
                report: NoteFate::Unknown
            },
            AcceptorFault::PowerCycle {
                stack_percent: Some(80)
            },
        ]
    );
    for bad in [
        r#"fault = { type = "misreport-power-up" }"#,
        r#"fault = { type = "misreport-power-up", report = "in-box" }"#,
        r#"fault = { type = "misreport-jam-fate", report = "in-stacker" }"#,
        r#"fault = { type = "power-cycle", stack-percent = -1 }"#,
    ] {
        let text = format!("[[faults]]\ntrigger = {{ when = \"at\", at-ms = 1 }}\n{bad}");
        assert!(toml::from_str::<AcceptorConfig>(&text).is_err(), "{bad}");
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn any_report() -> impl Strategy<Value = NoteAtPowerUp> {
        prop_oneof![
            Just(NoteAtPowerUp::None),
            Just(NoteAtPowerUp::InAcceptor),
            Just(NoteAtPowerUp::InStacker),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Wherever in the session power is cut, the box gains a note
        /// without a `Stacked` event iff the device reports `in-stacker`,
        /// no note is lost or doubled, and the report is where the note
        /// really is. With a `misreport-power-up` the report is the lie,
        /// and the note is still where physics put it.
        #[test]
        fn power_up_report_matches_the_box_unless_the_device_lies(
            cut in 0u64..5_000,
            lie in proptest::option::of(any_report()),
        ) {
            let mut faults = vec![cut_at(cut)];
            if let Some(report) = lie {
                let misreport = AcceptorFault::MisreportPowerUp { report };
                faults.push(FaultRule::new(Trigger::NthCall { n: 1 }, misreport));
            }
            let mut m = machine(faults);
            let seen = scripted_session(&mut m, Millis(10_000));
            let honest = honest_report_at(cut);
            prop_assert_eq!(seen.power_ups(), vec![lie.unwrap_or(honest)]);
            prop_assert_eq!(
                seen.boxed_silently(),
                usize::from(honest == NoteAtPowerUp::InStacker),
                "{:?}", seen
            );
            // Every note inserted before the cut is in the box or back
            // with the customer, exactly once.
            let inserted = if cut < 2300 { 1 } else { 2 };
            prop_assert_eq!(seen.in_box.len() + seen.returned.len(), inserted);
        }

        /// A cut `stack-percent` into a stacking of any length: the note is
        /// in the box iff the cut is at or past the point of no return, and
        /// the report says so.
        #[test]
        fn a_cut_on_a_stack_boxes_the_note_iff_past_the_point_of_no_return(
            stack_ms in 200u64..5_000,
            percent in 0u8..100,
        ) {
            let cut = AcceptorFault::PowerCycle { stack_percent: Some(percent) };
            let mut m = machine_timed(
                vec![FaultRule::new(Trigger::NthCall { n: 1 }, cut)],
                stack_ms,
                500,
            );
            let seen = scripted_session(&mut m, Millis(20_000));
            let past = u64::from(percent) >= STACK_POINT_OF_NO_RETURN_PERCENT;
            let expected = if past { NoteAtPowerUp::InStacker } else { NoteAtPowerUp::InAcceptor };
            prop_assert_eq!(seen.power_ups(), vec![expected]);
            prop_assert_eq!(seen.in_box.len(), usize::from(past));
            prop_assert_eq!(seen.returned.len(), usize::from(!past));
        }
    }
}

// ----- reports are kept until the host acknowledges them -----

/// The device keeps a report until the host's next call: a host that took
/// `Stacked` and lost power before calling again gets it again at its next
/// start (the first call of a new host acknowledges nothing), as often as
/// that happens, and once acknowledged it is gone. The note is in the box
/// once, whatever the reports say.
#[tokio::test(start_paused = true)]
async fn a_report_taken_but_not_acknowledged_is_handed_to_the_next_host() {
    let log = crate::faults::FaultLog::new();
    let mut u = unit(vec![]).with_fault_log(log.clone(), "acceptor");
    u.acceptor.enable(&[cny(50)]).await.unwrap();
    u.customer.insert_note(cny(50), true).unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Escrowed { .. }
    ));
    u.acceptor.stack().await.unwrap();
    let stacked = AcceptorEvent::Stacked { value: cny(50) };
    assert_eq!(next(&mut u.acceptor).await.1, stacked);
    for life in 2..=3 {
        // The host lost power before its next call: a new host starts
        // with a status read and then asks for events.
        u.host.lost_power();
        // (The acceptor kept its power: still enabled, its path empty.)
        assert_eq!(
            u.acceptor.status().await.unwrap(),
            AcceptorStatus::Accepting,
            "life {life}: the new host's first call acknowledges nothing"
        );
        assert_eq!(next(&mut u.acceptor).await.1, stacked, "life {life}");
    }
    // This host lives on: its next call acknowledges the report.
    u.acceptor.status().await.unwrap();
    let more = tokio::time::timeout(Duration::from_secs(60), u.acceptor.next_event()).await;
    assert!(more.is_err(), "acknowledged, not handed again: {more:?}");
    assert_eq!(
        u.staff.physical_contents().notes,
        1,
        "one note, three reports"
    );
    let repeats: Vec<_> = log
        .entries()
        .into_iter()
        .filter(|e| e.fault.starts_with("ReportRepeated"))
        .map(|e| e.fault)
        .collect();
    assert_eq!(
        repeats,
        vec![format!("ReportRepeated {{ report: {stacked:?} }}"); 2],
        "each repeat is in the fault log"
    );
}

/// `kiosk-power-loss-before-ack`: the host's next call after the struck
/// report never reaches the device (the kiosk is dark), the drill's
/// [`HostPower`] learns how long the outage is, and the report goes to the
/// next host; a `probability` rule is consulted again for the repeat.
#[tokio::test(start_paused = true)]
async fn the_kiosk_dies_between_a_report_and_its_acknowledgement() {
    let log = crate::faults::FaultLog::new();
    let dies = AcceptorFault::KioskPowerLossBeforeAck { down_ms: 2_000 };
    let mut u = unit(vec![FaultRule::new(Trigger::NthCall { n: 2 }, dies)])
        .with_fault_log(log.clone(), "acceptor");
    u.acceptor.enable(&[cny(20)]).await.unwrap();
    u.customer.insert_note(cny(20), true).unwrap();
    assert!(matches!(
        next(&mut u.acceptor).await.1,
        AcceptorEvent::Escrowed { .. }
    ));
    // The first report was acknowledged by this call, which got through.
    u.acceptor.stack().await.unwrap();
    let stacked = AcceptorEvent::Stacked { value: cny(20) };
    assert_eq!(next(&mut u.acceptor).await.1, stacked, "report 2: struck");
    let host = u.host.clone();
    let (call, down_ms) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(30), u.acceptor.status()),
        host.power_loss(),
    );
    assert!(
        call.is_err(),
        "the call after the struck report never returns"
    );
    assert_eq!(down_ms, 2_000);
    // The drill stops the kiosk and tells the device; the next life gets
    // the report again, and keeps it (report 3 is not struck).
    u.host.lost_power();
    u.acceptor.enable(&[cny(20)]).await.unwrap();
    assert_eq!(next(&mut u.acceptor).await.1, stacked, "handed again");
    u.acceptor.status().await.unwrap();
    let more = tokio::time::timeout(Duration::from_secs(60), u.acceptor.next_event()).await;
    assert!(more.is_err(), "acknowledged: {more:?}");
    assert_eq!(u.staff.physical_contents().notes, 1);
    let faults: Vec<_> = log.entries().into_iter().map(|e| e.fault).collect();
    assert_eq!(
        faults,
        vec![
            "KioskPowerLossBeforeAck { down_ms: 2000 }".to_string(),
            format!("ReportRepeated {{ report: {stacked:?} }}"),
        ]
    );
}

/// Without the host losing power, nothing is ever handed twice: each
/// call acknowledges, so the same session's reports come once each.
#[tokio::test(start_paused = true)]
async fn a_living_host_gets_each_report_once() {
    let mut u = unit(vec![]);
    u.acceptor.enable(&[cny(10)]).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        u.customer.insert_note(cny(10), true).unwrap();
        seen.push(next(&mut u.acceptor).await.1);
        u.acceptor.stack().await.unwrap();
        seen.push(next(&mut u.acceptor).await.1);
    }
    let more = tokio::time::timeout(Duration::from_secs(60), u.acceptor.next_event()).await;
    assert!(more.is_err(), "{more:?}");
    assert_eq!(seen.len(), 6);
    assert_eq!(u.staff.physical_contents().notes, 3);
}
