//! The ccTalk coin acceptor driver against the coin acceptor emulator (bus
//! echo on) over a pty, in real time.
//!
//! Coins have no escrow: each credit arrives as `Stacked` with the coin's
//! value, which the core credits once. Timings are shortened (credits read
//! every 40 ms, reply timeout 250 ms).

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::cctalk::{CctalkCoinAcceptor, CctalkCoinConfig};
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, Currency, DeviceProtocol, ErrorKind, FraudKind,
    JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{CctalkCoinEmulator, CctalkCoinEmulatorConfig};
use kiosk_sim::{FaultRule, Trigger};

fn fen(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

fn driver(path: &Path) -> CctalkCoinAcceptor {
    CctalkCoinAcceptor::open(&CctalkCoinConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        coin_positions: 3,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..CctalkCoinConfig::for_port(path)
    })
    .unwrap()
}

fn mechanism(faults: Vec<FaultRule<AcceptorFault>>) -> AcceptorConfig {
    AcceptorConfig {
        validate_ms: 40,
        stack_ms: 30,
        return_ms: 20,
        faults,
    }
}

fn emulator(dir: &Path, faults: Vec<FaultRule<AcceptorFault>>) -> CctalkCoinEmulator {
    let config = CctalkCoinEmulatorConfig {
        acceptor: mechanism(faults),
        ..CctalkCoinEmulatorConfig::default()
    };
    CctalkCoinEmulator::start(dir.join("coins"), &config).unwrap()
}

async fn next(acceptor: &mut CctalkCoinAcceptor, ms: u64) -> Result<AcceptorEvent, ErrorKind> {
    tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event())
        .await
        .unwrap_or_else(|_| panic!("no event within {ms} ms"))
        .map_err(|e| e.kind())
}

async fn quiet(acceptor: &mut CctalkCoinAcceptor, ms: u64) {
    let more = tokio::time::timeout(Duration::from_millis(ms), acceptor.next_event()).await;
    assert!(more.is_err(), "unexpected {more:?}");
}

/// Power-up reported, set-up finished, 5 jiao and 1 yuan enabled.
async fn started(acceptor: &mut CctalkCoinAcceptor) {
    assert_eq!(
        next(acceptor, 2000).await,
        Ok(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        })
    );
    for _ in 0..200 {
        if acceptor.is_running() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(acceptor.is_running());
    acceptor.enable(&[fen(50), fen(100)]).await.unwrap();
}

async fn drop_coin(emu: &CctalkCoinEmulator, value: Money, genuine: bool) {
    for _ in 0..100 {
        if emu.insert_coin(value, genuine).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the coin slot stayed busy");
}

#[tokio::test]
async fn a_coin_is_credited_once_with_the_value_of_its_coin_id() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), vec![]);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    assert_eq!(acceptor.coin_value(3), Some(fen(100)));
    let id = acceptor.identity();
    assert_eq!(
        (id.category.as_str(), id.product.as_str()),
        ("Coin Acceptor", "kiosk-sim CA")
    );
    let hal_id = BillAcceptor::identity(&mut acceptor).await.unwrap();
    assert_eq!(hal_id.protocol, DeviceProtocol::Cctalk);
    drop_coin(&emu, fen(100), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Stacked { value: fen(100) })
    );
    drop_coin(&emu, fen(50), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Stacked { value: fen(50) })
    );
    // Read again and again: no second credit.
    quiet(&mut acceptor, 400).await;
    assert!(emu.stats().credit_reads >= 5);
    assert!(acceptor.echoes_dropped() >= 5, "the bus echo is dropped");
    assert_eq!(emu.staff().physical_contents().value, fen(150));
    // No escrow.
    let stack = acceptor.stack().await.map_err(|e| e.kind());
    assert_eq!(stack, Err(ErrorKind::InvalidState));
    assert_eq!(
        acceptor.status().await.map_err(|e| e.kind()),
        Ok(AcceptorStatus::Accepting)
    );
}

#[tokio::test]
async fn a_slug_and_a_coin_not_enabled_are_refused_and_given_back() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), vec![]);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    drop_coin(&emu, fen(100), false).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Rejected {
            reason: RejectReason::Counterfeit
        })
    );
    drop_coin(&emu, fen(10), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Rejected {
            reason: RejectReason::Inhibited
        })
    );
    quiet(&mut acceptor, 200).await;
    assert_eq!(emu.customer().returned_notes(), [fen(100), fen(10)]);
    assert!(emu.staff().notes().is_empty());
}

#[tokio::test]
async fn a_coin_on_a_string_is_fraud_and_nothing_is_credited() {
    let dir = tempfile::tempdir().unwrap();
    let fraud = AcceptorFault::Fraud {
        kind: FraudKind::StringOrFishing,
    };
    let emu = emulator(
        dir.path(),
        vec![FaultRule::new(Trigger::NthCall { n: 1 }, fraud)],
    );
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    drop_coin(&emu, fen(100), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Fraud {
            kind: FraudKind::StringOrFishing
        })
    );
    quiet(&mut acceptor, 300).await;
    assert!(emu.staff().notes().is_empty());
}

/// A coin sticks over the credit sensor and later falls into the box: the
/// jam is reported (in doubt), then the coin's credit, which the driver
/// reports after clearing the jam with an unknown fate.
#[tokio::test]
async fn a_coin_jam_is_reported_and_the_coin_that_lands_later_is_in_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let jam = AcceptorFault::JamInAcceptor {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(300),
    };
    let emu = emulator(
        dir.path(),
        vec![FaultRule::new(Trigger::NthCall { n: 1 }, jam)],
    );
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    drop_coin(&emu, fen(100), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Jammed {
            location: JamLocation::Acceptor,
            value: None
        })
    );
    assert_eq!(
        acceptor.status().await.map_err(|e| e.kind()),
        Ok(AcceptorStatus::Jammed)
    );
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown
        })
    );
    assert_eq!(
        next(&mut acceptor, 1000).await,
        Ok(AcceptorEvent::Stacked { value: fen(100) })
    );
    assert_eq!(emu.staff().physical_contents().value, fen(100));
}

/// The acceptor loses power while a second coin falls and comes back: the
/// counter is back at 0, the driver reports the restart and enables the
/// coins again by itself. (A restart before any entry was logged, 0 → 0,
/// cannot be told from the counter: ccTalk gives nothing for it.)
#[tokio::test]
async fn a_power_cut_restarts_the_counter_and_the_driver_sets_the_acceptor_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(50),
    };
    let emu = emulator(
        dir.path(),
        vec![FaultRule::new(Trigger::NthCall { n: 2 }, cut)],
    );
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    drop_coin(&emu, fen(100), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Stacked { value: fen(100) })
    );
    drop_coin(&emu, fen(100), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        })
    );
    // Set up again (inhibits, master): the next coin is credited.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop_coin(&emu, fen(50), true).await;
    assert_eq!(
        next(&mut acceptor, 2000).await,
        Ok(AcceptorEvent::Stacked { value: fen(50) })
    );
    assert_eq!(acceptor.host_stats().restarts, 1);
}

/// The driver cannot read while seven coins drop: the counter jumps by
/// seven, two entries fell out of the five-entry buffer, and a possible
/// coin goes in doubt with an alarm before the five credits it can see.
#[tokio::test]
async fn coins_lost_past_the_buffer_are_detected_and_put_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), vec![]);
    let mut acceptor = driver(emu.path());
    started(&mut acceptor).await;
    emu.line().set_silent(true);
    for _ in 0..7 {
        drop_coin(&emu, fen(100), true).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(emu.stats().coins_credited, 7);
    emu.line().set_silent(false);
    let mut seen = Vec::new();
    while let Ok(event) =
        tokio::time::timeout(Duration::from_millis(2000), acceptor.next_event()).await
    {
        if let Ok(e) = event {
            seen.push(e);
        }
        let credited = seen
            .iter()
            .filter(|e| matches!(e, AcceptorEvent::Stacked { .. }))
            .count();
        if credited == 5 {
            break;
        }
    }
    assert_eq!(acceptor.host_stats().lost_events, 2, "{seen:?}");
    let doubt = seen
        .iter()
        .position(|e| {
            *e == AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None,
            }
        })
        .expect("a coin in doubt");
    assert_eq!(
        seen.get(doubt + 1),
        Some(&AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown
        })
    );
    let credits = seen
        .iter()
        .filter(|e| **e == AcceptorEvent::Stacked { value: fen(100) })
        .count();
    assert_eq!(credits, 5);
    // The box holds seven: five credited, the rest for staff to settle.
    assert_eq!(emu.staff().physical_contents().value, fen(700));
}
