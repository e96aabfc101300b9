//! The CCNET driver against the CCNET emulator over a pty, in real time.
//!
//! Timings are shortened (poll 40 ms, answer timeout 250 ms) so each test
//! takes a second or two.

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::ccnet::{CcnetAcceptor, CcnetConfig};
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, CashBox, Currency, ErrorKind, FraudKind, JamLocation, Money,
    NoteAtPowerUp, NoteFate, RejectReason,
};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{
    CcnetEmulator, CcnetEmulatorConfig, LeftPlace, LineFault, NoteLeftInside,
};
use kiosk_sim::{FaultRule, Trigger};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

fn notes() -> Vec<Money> {
    [10, 20, 50, 100].map(cny).to_vec()
}

fn driver(path: &Path) -> CcnetAcceptor {
    CcnetAcceptor::open(&CcnetConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        offline_after_missed: 3,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..CcnetConfig::for_port(path)
    })
    .unwrap()
}

fn emulator(dir: &Path, config: CcnetEmulatorConfig) -> CcnetEmulator {
    CcnetEmulator::start(dir.join("ccnet"), &config).unwrap()
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
async fn next(acceptor: &mut CcnetAcceptor, ms: u64) -> Result<AcceptorEvent, ErrorKind> {
    tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event())
        .await
        .unwrap_or_else(|_| panic!("no event within {ms} ms"))
        .map_err(|e| e.kind())
}

/// Starts: the emulator's power-up is reported, then notes are enabled.
async fn started(acceptor: &mut CcnetAcceptor) {
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
async fn pay(emu: &CcnetEmulator, acceptor: &mut CcnetAcceptor, value: Money) -> AcceptorEvent {
    emu.insert_note(value, true).unwrap();
    assert_eq!(
        next(acceptor, 2000).await,
        Ok(AcceptorEvent::Escrowed { value })
    );
    acceptor.stack().await.unwrap();
    next(acceptor, 2000).await.unwrap()
}

/// Nothing more happens for `ms`.
async fn quiet(acceptor: &mut CcnetAcceptor, ms: u64) {
    let more = tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event()).await;
    assert!(more.is_err(), "unexpected {more:?}");
}

#[tokio::test]
async fn a_note_is_escrowed_stacked_acked_and_credited_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(50)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(50) });
    // Polled through "bill stacked" (ACKed) and idle: no second credit.
    quiet(&mut acceptor, 400).await;
    assert!(emu.stats().acks >= 1);
    let id = acceptor.identification().expect("identification read");
    assert_eq!(id.part_number, "SM-CN1134");
    assert_eq!(emu.staff().physical_contents().value, cny(50));
    let box_status = acceptor.cash_box().status().await.unwrap();
    assert!(box_status.present);
}

#[tokio::test]
async fn a_counterfeit_is_rejected_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, jam)]),
        ..CcnetEmulatorConfig::default()
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, fraud)]),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(100), true).unwrap();
    let fraud = AcceptorEvent::Fraud {
        kind: FraudKind::Unspecified,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(fraud));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn power_up_with_a_bill_in_the_stacker_is_reported_and_the_bill_is_in_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let config = CcnetEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InStacker,
            value: cny(100),
        }),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let first = next(&mut acceptor, 2000).await;
    let in_stacker = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(first, Ok(in_stacker));
    quiet(&mut acceptor, 300).await;
    // The report is the device's real state: the note is in the box.
    assert_eq!(emu.staff().notes(), [cny(100)]);
    assert!(emu.customer().returned_notes().is_empty());
}

#[tokio::test]
async fn power_up_with_a_bill_in_the_acceptor_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = CcnetEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InAcceptor,
            value: cny(20),
        }),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let in_acceptor = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InAcceptor,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(in_acceptor));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
    assert_eq!(emu.customer().returned_notes(), [cny(20)]);
}

#[tokio::test]
async fn a_power_cut_late_in_a_stack_is_reported_in_the_stacker_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
    };
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, cut)]),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(50)).await;
    let in_stacker = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(event, in_stacker);
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.staff().notes(), [cny(50)]);
}

#[tokio::test]
async fn a_misreporting_device_lies_on_the_wire_but_moves_no_note() {
    let dir = tempfile::tempdir().unwrap();
    // Power-up 1 is the emulator's start: it claims a bill in the stacker.
    let lie = AcceptorFault::MisreportPowerUp {
        report: NoteAtPowerUp::InStacker,
    };
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![FaultRule::new(Trigger::NthCall { n: 1 }, lie)]),
        ..CcnetEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let claimed = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(claimed));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty(), "the box is still empty");
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        line,
        seed: 11,
        ..CcnetEmulatorConfig::default()
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
    assert_eq!(emu.staff().physical_contents().value, cny(80));
}

#[tokio::test]
async fn silence_is_offline_once_and_the_device_is_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
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
    let config = CcnetEmulatorConfig {
        acceptor: acceptor_with(vec![]),
        ..CcnetEmulatorConfig::default()
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
