//! Three drills through the real SSP driver: the counterfeit note, the bill
//! jam and the power loss mid-payment, with the SSP emulator over a pty, the
//! real `Kiosk` runner and journal, in real time (a few seconds each).
//!
//! Each ends with the money invariant: the journal's cash box equals the
//! emulator's physical box, nothing is in doubt, and the backend credited
//! what the journal says, once.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::events::SettlementKind;
use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::drivers::ssp::{SspAcceptor, SspConfig};
use kiosk_hal::NoteFate;
use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};
use kiosk_sim::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{EscPosEmulator, EscPosEmulatorConfig, SspEmulator, SspEmulatorConfig};
use kiosk_sim::{FaultRule, SimClock, SimRng, Trigger, VirtualBackend};
use tokio::sync::mpsc;

use crate::validator_drills::{note_verdict, start_cash_payment, Watcher};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

fn accounts(amount_due: i64) -> BackendConfig {
    let account = Account {
        holder_name: "张三".into(),
        amount_due: cny(amount_due),
        balance: cny(0),
        status: AccountStatus::Open,
    };
    BackendConfig {
        currency: Currency::CNY,
        accounts: [(AccountNumber("1001".into()), account)].into(),
    }
}

fn kiosk_config() -> KioskConfig {
    let mut config = KioskConfig {
        lookup_timeout_ms: 1000,
        post_timeout_ms: 1000,
        print_timeout_ms: 3000,
        retry_initial_ms: 200,
        retry_max_ms: 800,
        health_check_interval_ms: 300,
        ..KioskConfig::default()
    };
    config.session.insert_idle_timeout_ms = 5000;
    config
}

/// The emulated hardware and the backend: what outlives a kiosk restart.
struct Hardware {
    dir: tempfile::TempDir,
    acceptor: SspEmulator,
    printer: EscPosEmulator,
    backend: VirtualBackend,
    clock: SimClock,
}

fn hardware(faults: Vec<FaultRule<AcceptorFault>>, amount_due: i64) -> Hardware {
    let dir = tempfile::tempdir().unwrap();
    let emulated = SspEmulatorConfig {
        acceptor: AcceptorConfig {
            validate_ms: 150,
            stack_ms: 150,
            return_ms: 100,
            faults,
        },
        ..SspEmulatorConfig::default()
    };
    let acceptor = SspEmulator::start(dir.path().join("acceptor"), &emulated).unwrap();
    let printer =
        EscPosEmulator::start(dir.path().join("printer"), &EscPosEmulatorConfig::default())
            .unwrap();
    // The kiosk's clock: real time, zero now.
    let clock = SimClock::starting_at(tokio::time::Instant::now());
    let backend = VirtualBackend::new(&accounts(amount_due), clock);
    Hardware {
        dir,
        acceptor,
        printer,
        backend,
        clock,
    }
}

fn ssp_driver(path: &Path) -> SspAcceptor {
    SspAcceptor::open(&SspConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 150,
        command_retries: 2,
        ..SspConfig::for_port(path)
    })
    .unwrap()
}

/// A kiosk on real drivers (a new SSP driver each time: a restart starts
/// the driver afresh) over the journal file in the hardware's directory.
fn kiosk(hw: &Hardware, events: mpsc::UnboundedSender<KioskEvent>) -> Kiosk {
    let link = LinkConfig {
        latency_ms: 50,
        faults: Vec::new(),
    };
    let link = hw.backend.link(&link, SimRng::new(7).fork("link")).unwrap();
    let acceptor = ssp_driver(hw.acceptor.path());
    let cash_box = acceptor.cash_box();
    let printer = EscPosPrinter::open(&EscPosConfig {
        answer_timeout_ms: 250,
        print_settle_ms: 100,
        ..EscPosConfig::for_port(hw.printer.path())
    })
    .unwrap();
    let devices = Devices {
        acceptor: Box::new(acceptor),
        cash_box: Box::new(cash_box),
        printer: Box::new(printer),
        reader: None,
        link: Box::new(link),
    };
    let observer = move |_at: Millis, event: &KioskEvent| {
        let _ = events.send(event.clone());
    };
    let journal = Journal::open(hw.dir.path().join("journal.db")).unwrap();
    Kiosk::new(
        kiosk_config(),
        devices,
        journal,
        Arc::new(hw.clock),
        Box::new(observer),
    )
}

async fn insert(watcher: &mut Watcher, acceptor: &SspEmulator, major: i64, genuine: bool) {
    acceptor.insert_note(cny(major), genuine).unwrap();
    note_verdict(watcher).await;
}

/// The money invariant: books, physical box and backend agree.
fn check_money(kiosk: &Kiosk, hw: &Hardware, credited: i64) {
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    let physical = hw.acceptor.staff().physical_contents().value;
    assert_eq!(totals.in_box, physical, "journal vs cash box: {totals:?}");
    let books = totals.credited.minor + totals.pending.minor + totals.refused.minor;
    assert_eq!(books, totals.in_box.minor, "{totals:?}");
    assert_eq!(totals.credited, cny(credited), "{totals:?}");
    assert_eq!(totals.pending, cny(0), "{totals:?}");
    assert_eq!(totals.in_doubt_notes, 0, "{totals:?}");
    assert_eq!(
        hw.backend.credited_total(PaymentMethod::Cash),
        totals.credited
    );
    assert!(hw.backend.postings().iter().all(|p| p.times_applied <= 1));
}

#[tokio::test]
async fn counterfeit_note_drill_through_the_ssp_driver() {
    let hw = hardware(Vec::new(), 70);
    let (events_tx, events) = mpsc::unbounded_channel();
    let mut kiosk = kiosk(&hw, events_tx);
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        start_cash_payment(&mut watcher, &buttons).await;
        insert(&mut watcher, &hw.acceptor, 50, true).await;
        insert(&mut watcher, &hw.acceptor, 100, false).await;
        insert(&mut watcher, &hw.acceptor, 20, true).await;
        buttons.send(CustomerAction::Confirm).await.unwrap();
        watcher
            .screen("payment success", |s| {
                matches!(s, Screen::PaymentSuccess { .. })
            })
            .await;
        watcher
            .until("session end", 5000, |e| {
                matches!(e, KioskEvent::SessionEnded { .. })
            })
            .await;
        drop(buttons);
    };
    let (ran, ()) = tokio::join!(kiosk.run(&mut buttons_rx), script);
    ran.unwrap();
    assert!(watcher.saw(|e| matches!(
        e,
        KioskEvent::Screen {
            screen: Screen::NoteRejected { .. }
        }
    )));
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    assert_eq!(totals.rejected_notes, 1);
    assert_eq!(hw.acceptor.customer().returned_notes(), [cny(100)]);
    assert!(!watcher.saw(|e| matches!(e, KioskEvent::NoteInDoubt { .. })));
    check_money(&kiosk, &hw, 70);
}

#[tokio::test]
async fn bill_jam_drill_through_the_ssp_driver() {
    // The second note jams in the stacker and clears into the box.
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(1500),
    };
    let hw = hardware(vec![FaultRule::new(Trigger::NthCall { n: 2 }, jam)], 150);
    let (events_tx, events) = mpsc::unbounded_channel();
    let mut kiosk = kiosk(&hw, events_tx);
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        start_cash_payment(&mut watcher, &buttons).await;
        insert(&mut watcher, &hw.acceptor, 50, true).await;
        hw.acceptor.insert_note(cny(100), true).unwrap();
        watcher
            .until("the jammed note in doubt", 5000, |e| {
                matches!(e, KioskEvent::NoteInDoubt { .. })
            })
            .await;
        watcher
            .screen("ask staff", |s| matches!(s, Screen::AskStaff { .. }))
            .await;
        watcher
            .until("the jam's settlement", 8000, |e| {
                matches!(
                    e,
                    KioskEvent::InDoubtSettled {
                        settlement: SettlementKind::Credit,
                        ..
                    }
                )
            })
            .await;
        watcher
            .until("the credit", 8000, |e| {
                matches!(e, KioskEvent::PaymentCredited { .. })
            })
            .await;
        // Let the books settle, then stop.
        tokio::time::sleep(Duration::from_millis(500)).await;
        drop(buttons);
    };
    let (ran, ()) = tokio::join!(kiosk.run(&mut buttons_rx), script);
    ran.unwrap();
    assert!(watcher.saw(|e| matches!(e, KioskEvent::FaultDetected { .. })));
    assert_eq!(hw.acceptor.staff().notes(), [cny(50), cny(100)]);
    check_money(&kiosk, &hw, 150);
}

#[tokio::test]
async fn power_loss_mid_payment_drill_through_the_ssp_driver() {
    // Power goes while the second note is 80 % into the stacker (past the
    // point of no return): the acceptor restarts with the note in the box,
    // and the kiosk loses power with it.
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
    };
    let hw = hardware(vec![FaultRule::new(Trigger::NthCall { n: 2 }, cut)], 70);
    let (events_tx, events) = mpsc::unbounded_channel();
    let mut first = kiosk(&hw, events_tx.clone());
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let customer = async {
        start_cash_payment(&mut watcher, &buttons).await;
        insert(&mut watcher, &hw.acceptor, 50, true).await;
        hw.acceptor.insert_note(cny(20), true).unwrap();
        // The kiosk stacks the second note; the cut comes in the stacking.
        for _ in 0..400 {
            if hw.acceptor.stats().stacks >= 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!(
            "the second note was never stacked: {:?}",
            hw.acceptor.stats()
        );
    };
    tokio::select! {
        biased;
        () = customer => {}
        ran = first.run(&mut buttons_rx) => panic!("the kiosk stopped early: {ran:?}"),
    }
    // Power is gone: the kiosk and its drivers stop here, mid-stack.
    let (devices, journal) = first.into_parts();
    journal.abandon();
    drop(devices);
    tokio::time::sleep(Duration::from_millis(300)).await;
    while buttons_rx.try_recv().is_ok() {}
    // Power is back: a new kiosk on the same journal, new drivers.
    let mut second = kiosk(&hw, events_tx);
    let script = async {
        watcher
            .until("recovery", 5000, |e| {
                matches!(e, KioskEvent::Recovered { .. })
            })
            .await;
        let in_stacker = KioskEvent::Acceptor {
            acceptor: kiosk_hal::AcceptorEvent::PowerUp {
                note: kiosk_hal::NoteAtPowerUp::InStacker,
            },
        };
        watcher
            .until("the power-up report: a note in the stacker", 5000, |e| {
                *e == in_stacker
            })
            .await;
        watcher
            .until(
                "the moving note settled by the power-up report",
                8000,
                |e| {
                    matches!(
                        e,
                        KioskEvent::InDoubtSettled {
                            settlement: SettlementKind::Credit,
                            ..
                        }
                    )
                },
            )
            .await;
        for _ in 0..2 {
            if hw.backend.credited_total(PaymentMethod::Cash) == cny(70) {
                break;
            }
            watcher
                .until("a credit", 8000, |e| {
                    matches!(e, KioskEvent::PaymentCredited { .. })
                })
                .await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        drop(buttons);
    };
    let (ran, ()) = tokio::join!(second.run(&mut buttons_rx), script);
    ran.unwrap();
    assert!(watcher.saw(|e| matches!(
        e,
        KioskEvent::Recovered {
            interrupted_sessions: 1,
            ..
        }
    )));
    assert_eq!(hw.acceptor.staff().notes(), [cny(50), cny(20)]);
    check_money(&second, &hw, 70);
}
