//! The SSP driver against the SSP emulator over a pty, in real time.
//!
//! Timings are shortened (poll 40 ms, reply timeout 150 ms) so each test
//! takes a second or two.

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::ssp::{SspAcceptor, SspConfig};
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, Currency, ErrorKind, FraudKind,
    JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{
    LeftPlace, LineFault, LineFaultConfig, NoteLeftInside, SspEmulator, SspEmulatorConfig,
};
use kiosk_sim::{FaultRule, Trigger};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

fn notes() -> Vec<Money> {
    [10, 20, 50, 100].map(cny).to_vec()
}

fn config(path: &Path) -> SspConfig {
    SspConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 150,
        command_retries: 2,
        reset_grace_ms: 2000,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..SspConfig::for_port(path)
    }
}

fn driver(path: &Path) -> SspAcceptor {
    SspAcceptor::open(&config(path)).unwrap()
}

fn emulator(dir: &Path, config: SspEmulatorConfig) -> SspEmulator {
    SspEmulator::start(dir.join("ssp"), &config).unwrap()
}

fn acceptor_with(faults: Vec<FaultRule<AcceptorFault>>) -> AcceptorConfig {
    AcceptorConfig {
        validate_ms: 150,
        stack_ms: 150,
        return_ms: 100,
        faults,
    }
}

fn quick(faults: Vec<FaultRule<AcceptorFault>>) -> SspEmulatorConfig {
    SspEmulatorConfig {
        acceptor: acceptor_with(faults),
        ..SspEmulatorConfig::default()
    }
}

/// The next event within `ms`.
async fn next(acceptor: &mut SspAcceptor, ms: u64) -> Result<AcceptorEvent, ErrorKind> {
    tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event())
        .await
        .unwrap_or_else(|_| panic!("no event within {ms} ms"))
        .map_err(|e| e.kind())
}

/// Starts: the unit's power-up is reported, then notes are enabled.
async fn started(acceptor: &mut SspAcceptor) {
    let first = next(acceptor, 3000).await;
    assert_eq!(
        first,
        Ok(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        })
    );
    acceptor.enable(&notes()).await.unwrap();
}

/// Inserts a note and stacks it once escrowed; returns the event after.
async fn pay(emu: &SspEmulator, acceptor: &mut SspAcceptor, value: Money) -> AcceptorEvent {
    emu.insert_note(value, true).unwrap();
    assert_eq!(
        next(acceptor, 2000).await,
        Ok(AcceptorEvent::Escrowed { value })
    );
    acceptor.stack().await.unwrap();
    next(acceptor, 2000).await.unwrap()
}

/// Nothing more happens for `ms`.
async fn quiet(acceptor: &mut SspAcceptor, ms: u64) {
    let more = tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event()).await;
    assert!(more.is_err(), "unexpected {more:?}");
}

#[tokio::test]
async fn a_note_is_escrowed_stacked_and_credited_once_with_the_units_identity_read() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), quick(vec![]));
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    assert_eq!(acceptor.serial_number(), Some(772_961));
    assert_eq!(
        acceptor.setup().map(|s| s.firmware_text()),
        Some("0420".into())
    );
    let event = pay(&emu, &mut acceptor, cny(50)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(50) });
    quiet(&mut acceptor, 400).await;
    let stats = emu.stats();
    assert_eq!(stats.stacks, 1);
    assert!(stats.acks >= 1, "the credit was acknowledged: {stats:?}");
    assert_eq!(emu.staff().physical_contents().value, cny(50));
    assert!(acceptor.cash_box().status().await.unwrap().present);
}

#[tokio::test]
async fn a_note_waiting_for_the_kiosk_is_held_past_the_units_escrow_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let config = SspEmulatorConfig {
        escrow_timeout_ms: 300,
        ..quick(vec![])
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(20), true).unwrap();
    let escrowed = AcceptorEvent::Escrowed { value: cny(20) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(escrowed));
    // The kiosk takes three escrow timeouts to decide; HOLD keeps the note.
    quiet(&mut acceptor, 900).await;
    assert_eq!(acceptor.status().await.unwrap(), AcceptorStatus::Escrow);
    acceptor.stack().await.unwrap();
    let stacked = AcceptorEvent::Stacked { value: cny(20) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(stacked));
    assert!(emu.stats().holds >= 5, "{:?}", emu.stats());
    assert_eq!(emu.staff().notes(), [cny(20)]);
}

#[tokio::test]
async fn a_counterfeit_is_rejected_with_its_reason_and_a_returned_note_is_returned() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), quick(vec![]));
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(100), false).unwrap();
    let rejected = AcceptorEvent::Rejected {
        reason: RejectReason::Counterfeit,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(rejected));
    emu.insert_note(cny(10), true).unwrap();
    let escrowed = AcceptorEvent::Escrowed { value: cny(10) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(escrowed));
    acceptor.return_note().await.unwrap();
    let returned = AcceptorEvent::Returned { value: cny(10) };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(returned));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.customer().returned_notes(), [cny(100), cny(10)]);
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn a_stacker_jam_is_reported_and_clears_into_the_cash_box() {
    let dir = tempfile::tempdir().unwrap();
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(400),
    };
    let emu = emulator(
        dir.path(),
        quick(vec![FaultRule::new(Trigger::NthCall { n: 1 }, jam)]),
    );
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(100)).await;
    let jammed = AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value: Some(cny(100)),
    };
    assert_eq!(event, jammed);
    let cleared = AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(cleared));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.staff().notes(), [cny(100)]);
}

#[tokio::test]
async fn a_fraud_attempt_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fraud = AcceptorFault::Fraud {
        kind: FraudKind::StringOrFishing,
    };
    // Fraud is consulted at validation: the first note is a cheat.
    let emu = emulator(
        dir.path(),
        quick(vec![FaultRule::new(Trigger::NthCall { n: 1 }, fraud)]),
    );
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.insert_note(cny(50), true).unwrap();
    let reported = AcceptorEvent::Fraud {
        kind: FraudKind::Unspecified,
    };
    assert_eq!(next(&mut acceptor, 2000).await, Ok(reported));
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn power_up_with_a_note_cleared_into_the_box_is_reported_in_the_stacker() {
    let dir = tempfile::tempdir().unwrap();
    let config = SspEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InStacker,
            value: cny(100),
        }),
        ..SspEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let in_stacker = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(next(&mut acceptor, 3000).await, Ok(in_stacker));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.staff().notes(), [cny(100)]);
    assert!(emu.customer().returned_notes().is_empty());
}

#[tokio::test]
async fn power_up_with_a_note_in_the_head_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = SspEmulatorConfig {
        left_inside: Some(NoteLeftInside {
            place: LeftPlace::InAcceptor,
            value: cny(20),
        }),
        ..SspEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    let in_acceptor = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InAcceptor,
    };
    assert_eq!(next(&mut acceptor, 3000).await, Ok(in_acceptor));
    quiet(&mut acceptor, 300).await;
    assert_eq!(emu.customer().returned_notes(), [cny(20)]);
}

#[tokio::test]
async fn a_power_cut_late_in_a_stack_is_reported_in_the_stacker_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
    };
    let emu = emulator(
        dir.path(),
        quick(vec![FaultRule::new(Trigger::NthCall { n: 1 }, cut)]),
    );
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
async fn garbage_and_corrupted_packets_are_survived_without_losing_a_credit() {
    let dir = tempfile::tempdir().unwrap();
    let line = LineFaultConfig {
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
    let config = SspEmulatorConfig {
        line,
        seed: 11,
        ..quick(vec![])
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
    assert!(line.corrupted > 0 && line.garbage_bytes > 0, "{line:?}");
    assert!(
        acceptor.host_stats().resends > 0,
        "{:?}",
        acceptor.host_stats()
    );
    assert!(
        emu.stats().repeats > 0,
        "repeated replies, not repeated actions"
    );
    assert_eq!(emu.staff().physical_contents().value, cny(80));
}

#[tokio::test]
async fn essp_keys_are_exchanged_and_every_command_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let config = SspEmulatorConfig {
        require_encryption: true,
        ..quick(vec![])
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = SspAcceptor::open(&SspConfig {
        encryption: true,
        ..config_for(emu.path())
    })
    .unwrap();
    started(&mut acceptor).await;
    assert!(acceptor.is_encrypted());
    let event = pay(&emu, &mut acceptor, cny(20)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(20) });
    let stats = emu.stats();
    assert_eq!(stats.key_exchanges, 1);
    assert_eq!(stats.refused_plain, 0, "{stats:?}");
    assert!(stats.encrypted_commands > 5, "{stats:?}");
}

#[tokio::test]
async fn a_unit_that_insists_on_essp_is_keyed_by_a_plain_driver() {
    let dir = tempfile::tempdir().unwrap();
    let config = SspEmulatorConfig {
        require_encryption: true,
        ..quick(vec![])
    };
    let emu = emulator(dir.path(), config);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    assert!(acceptor.is_encrypted());
    let event = pay(&emu, &mut acceptor, cny(10)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(10) });
    assert!(emu.stats().refused_plain > 0);
}

fn config_for(path: &Path) -> SspConfig {
    config(path)
}

#[tokio::test]
async fn silence_is_offline_once_and_the_unit_is_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), quick(vec![]));
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.line().set_silent(true);
    assert_eq!(next(&mut acceptor, 3000).await, Err(ErrorKind::Offline));
    let status = acceptor.status().await.unwrap_err();
    assert_eq!(status.kind(), ErrorKind::Offline);
    quiet(&mut acceptor, 300).await;
    emu.line().set_silent(false);
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(10)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(10) });
}

#[tokio::test]
async fn unplugging_is_offline_and_replugging_at_the_same_path_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), quick(vec![]));
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.line().unplug();
    assert_eq!(next(&mut acceptor, 1500).await, Err(ErrorKind::Offline));
    quiet(&mut acceptor, 500).await;
    emu.line().replug().unwrap();
    started(&mut acceptor).await;
    let event = pay(&emu, &mut acceptor, cny(100)).await;
    assert_eq!(event, AcceptorEvent::Stacked { value: cny(100) });
    assert_eq!(acceptor.host_stats().offline_episodes, 1);
}
