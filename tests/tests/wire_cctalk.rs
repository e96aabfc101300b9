//! The ccTalk driver against the ccTalk emulator (bus echo on) over a pty, in real time.
//!
//! Timings are shortened (events read every 40 ms, reply timeout 250 ms) so each test
//! takes a second or two.

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::cctalk::{CctalkAcceptor, CctalkConfig};
use kiosk_hal::wire::cctalk::Checksum;
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, CashBox, Currency, ErrorKind, FraudKind, JamLocation, Money,
    NoteAtPowerUp, NoteFate, RejectReason,
};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{
    CctalkEmulator, CctalkEmulatorConfig, LeftPlace, LineFault, NoteLeftInside,
};
use kiosk_sim::{FaultRule, Trigger};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

fn notes() -> Vec<Money> {
    [10, 20, 50, 100].map(cny).to_vec()
}

fn driver(path: &Path) -> CctalkAcceptor {
    CctalkAcceptor::open(&CctalkConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        offline_after_missed: 3,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..CctalkConfig::for_port(path)
    })
    .unwrap()
}

fn emulator(dir: &Path, config: CctalkEmulatorConfig) -> CctalkEmulator {
    CctalkEmulator::start(dir.join("cctalk"), &config).unwrap()
}

fn acceptor_with(faults: Vec<FaultRule<AcceptorFault>>) -> AcceptorConfig {
    AcceptorConfig {
        validate_ms: 150,
        stack_ms: 150,
        return_ms: 100,
        faults,
    }
}

/// The next event within `ms`.
async fn next(acceptor: &mut CctalkAcceptor, ms: u64) -> Result<AcceptorEvent, ErrorKind> {
    tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event())
        .await
        .unwrap_or_else(|_| panic!("no event within {ms} ms"))
        .map_err(|e| e.kind())
}

/// Starts: the emulator's power-up is reported, then notes are enabled.
async fn started(acceptor: &mut CctalkAcceptor) {
    let first = next(acceptor, 2000).await;
    assert_eq!(
        first,
        Ok(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        })
    );
    for _ in 0..100 {
        if acceptor.is_running() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    acceptor.enable(&notes()).await.unwrap();
}

/// Inserts a note and stacks it once escrowed; returns the events after escrow.
async fn pay(emu: &CctalkEmulator, acceptor: &mut CctalkAcceptor, value: Money) -> AcceptorEvent {
    emu.insert_note(value, true).unwrap();
    assert_eq!(
        next(acceptor, 2000).await,
        Ok(AcceptorEvent::Escrowed { value })
    );
    acceptor.stack().await.unwrap();
    next(acceptor, 2000).await.unwrap()
}

/// Nothing more happens for `ms`.
async fn quiet(acceptor: &mut CctalkAcceptor, ms: u64) {
    let more = tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event()).await;
    assert!(more.is_err(), "unexpected {more:?}");
}

#[tokio::test]
async fn a_note_is_escrowed_stacked_acked_and_credited_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(50)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(50) });
    // The credit event is read again and again: no second credit.
    quiet(&mut acceptor, 400).await;
    assert!(emu.stats().event_reads >= 5);
    assert!(acceptor.echoes_dropped() >= 5, "the bus echo is dropped");
    assert_eq!(acceptor.identity().manufacturer, "SIM");
    assert_eq!(emu.staff().physical_contents().value, cny(50));
    let box_status = acceptor.cash_box().status().await.unwrap();
    assert!(box_status.present);
}

#[tokio::test]
async fn a_counterfeit_is_rejected_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(100), false).unwrap();
    let rejected = AcceptorEvent::Rejected {
        reason: RejectReason::Counterfeit,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(rejected));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.customer().returned_notes(), [cny(100)]);
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn a_stacker_jam_is_reported_and_clears_into_the_cash_box() {
    let dir = tempfile::tempdir().unwrap();
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(400),
    };
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, jam)]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(20)).await;
    let jammed = AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value: Some(cny(20)),
    };
    assert_eq!(event, jammed);
    let cleared = AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(cleared));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.staff().physical_contents().value, cny(20));
}

#[tokio::test]
async fn a_cheat_is_reported_as_fraud_and_nothing_is_credited() {
    let dir = tempfile::tempdir().unwrap();
    let fraud = AcceptorFault::Fraud {
        kind: FraudKind::StringOrFishing,
    };
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, fraud)]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(100), true).unwrap();
    let fraud = AcceptorEvent::Fraud {
        kind: FraudKind::StringOrFishing,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(fraud));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
}

/// ccTalk has no "power up with a bill in the stacker": the device only
/// restarts its event counter. The note is in the box and the protocol
/// cannot say so; the kiosk's journal (a note in hand when the power went)
/// is what puts it in doubt.
#[tokio::test]
async fn power_up_with_a_bill_in_the_stacker_shows_only_as_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InStacker,
            value: cny(100),
        }),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let first = next(&mut acceptor, 2000).await;
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(first, Ok(power_up));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.staff().notes(), [cny(100)]);
}

#[tokio::test]
async fn power_up_with_a_bill_in_the_acceptor_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InAcceptor,
            value: cny(20),
        }),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(power_up));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
    assert_eq!(emu.customer().returned_notes(), [cny(20)]);
}

/// The validator restarts late in a stack (the note is in the box): the
/// counter is back at 0, so the note the driver was stacking goes in
/// doubt, then the restart is reported.
#[tokio::test]
async fn a_power_cut_late_in_a_stack_puts_the_note_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
    };
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, cut)]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(50)).await;
    let jammed = AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value: Some(cny(50)),
    };
    assert_eq!(event, jammed);
    let unknown = AcceptorEvent::JamCleared {
        fate: NoteFate::Unknown,
    };
    assert_eq!(next(&mut acceptor, 1000).await, Ok(unknown));
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(next(&mut acceptor, 1000).await, Ok(power_up));
    assert_eq!(emu.staff().notes(), [cny(50)]);
}

/// Events lost past the five-event buffer: the driver reads too slowly
/// while six notes are refused; the counter jumps by six, one event is
/// lost, and a possible unseen note is put in doubt.
#[tokio::test]
async fn events_lost_past_the_buffer_are_detected_and_end_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: AcceptorConfig {
            validate_ms: 40,
            stack_ms: 150,
            return_ms: 20,
            faults: Vec::new(),
        },
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = CctalkAcceptor::open(&CctalkConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..CctalkConfig::for_port(emu.path())
    })
    .unwrap();
    started(&mut acceptor).await;
    // Stop reading events: silence the line's answers while six
    // counterfeits are refused (the device keeps its own log).
    emu.line().set_silent(true);
    for _ in 0..6 {
        for _ in 0..50 {
            if emu.insert_note(cny(100), false).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    emu.line().set_silent(false);
    // The silence took the device offline; back, the driver compares the
    // counter with the last one it read.
    let mut seen = Vec::new();
    while let Ok(event) =
        tokio::time::timeout(Duration::from_millis(1500), acceptor.next_event()).await
    {
        if let Ok(e) = event {
            seen.push(e);
        }
        let rejected = seen
            .iter()
            .filter(|e| matches!(e, AcceptorEvent::Rejected { .. }))
            .count();
        if rejected == 5 {
            break;
        }
    }
    assert!(acceptor.host_stats().lost_events >= 1, "{seen:?}");
    assert!(
        seen.contains(&AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown
        }),
        "{seen:?}"
    );
    assert_eq!(emu.customer().returned_notes().len(), 6);
}

#[tokio::test]
async fn garbage_and_corrupted_frames_are_survived_without_losing_a_credit() {
    let dir = tempfile::tempdir().unwrap();
    let line = kiosk_sim::emulators::LineFaultConfig {
        faults: vec![
            FaultRule::new(
                Trigger::Probability { p: 0.15 },
                LineFault::Corrupt { bits: 1 },
            ),
            FaultRule::new(
                Trigger::Probability { p: 0.15 },
                LineFault::Garbage { bytes: 7 },
            ),
        ],
    };
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        line,
        seed: 11,
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    for value in [cny(10), cny(20), cny(50)] {
        let event = pay(&emu, &mut acceptor, value).await;
        assert_eq!(event, AcceptorEvent::Stacked { value });
    }
    quiet(&mut acceptor, 400).await;
    let line = emu.line().stats();
    let decoder = acceptor.decoder_stats();
    assert!(line.corrupted > 0 && line.garbage_bytes > 0, "{line:?}");
    assert!(decoder.crc_errors > 0, "{decoder:?}");
    assert!(acceptor.host_stats().resends > 0);
    assert_eq!(acceptor.host_stats().lost_events, 0);
    assert_eq!(emu.staff().physical_contents().value, cny(80));
}

#[tokio::test]
async fn silence_is_offline_once_and_the_device_is_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.line().set_silent(true);
    assert_eq!(next(&mut acceptor, 3000).await, Err(ErrorKind::Offline));
    let status = acceptor.status().await.unwrap_err();
    assert_eq!(status.kind(), ErrorKind::Offline);
    let refused = acceptor.enable(&notes()).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Offline);
    quiet(&mut acceptor, 300).await;
    emu.line().set_silent(false);
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(10)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(10) });
}

#[tokio::test]
async fn unplugging_is_offline_and_replugging_at_the_same_path_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.line().unplug();
    assert_eq!(next(&mut acceptor, 1000).await, Err(ErrorKind::Offline));
    // Reopening fails while the path is gone; no second Offline.
    quiet(&mut acceptor, 500).await;
    emu.line().replug().unwrap();
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(100)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(100) });
    assert_eq!(acceptor.host_stats().offline_episodes, 1);
}

#[tokio::test]
async fn a_value_not_enabled_is_refused_by_the_validator_and_never_credited() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    // 5 yuan is in the table but not enabled: the bill types sent leave it out.
    emu.insert_note(cny(5), true).unwrap();
    let refused = AcceptorEvent::Rejected {
        reason: RejectReason::Inhibited,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(refused));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.customer().returned_notes(), [cny(5)]);
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn a_returned_note_is_reported_returned_and_stays_out_of_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(20), true).unwrap();
    let escrowed = AcceptorEvent::Escrowed { value: cny(20) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(escrowed));
    acceptor.return_note().await.unwrap();
    let returned = AcceptorEvent::Returned { value: cny(20) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(returned));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.customer().returned_notes(), [cny(20)]);
}

#[tokio::test]
async fn the_crc16_variant_without_echo_pays_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let config = CctalkEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        checksum: Checksum::Crc16,
        echo: false,
        ..CctalkEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = CctalkAcceptor::open(&CctalkConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        checksum: Checksum::Crc16,
        echo: false,
        ..CctalkConfig::for_port(emu.path())
    })
    .unwrap();
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(100)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(100) });
    assert_eq!(acceptor.echoes_dropped(), 0);
}
