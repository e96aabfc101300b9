//! The three foundation drills with real drivers against emulators over
//! ptys, through the real `Kiosk` runner, in real time (a few seconds each):
//!
//! (a) the printer runs out of paper mid-payment: credited, receipt
//!     unavailable on screen, receipt kept in the journal;
//! (b) a counterfeit note: rejected, never credited, one reject journaled;
//! (c) the link drops after stacking: pending, credited exactly once when
//!     it returns (the backend applied the key once).
//!
//! Each ends with the money invariant: the journal's cash box equals the
//! emulator's physical box, and the backend credited what the journal says.
#![forbid(unsafe_code)]

use std::sync::Arc;

use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::drivers::id003::{Id003Acceptor, Id003Config};
use kiosk_hal::{AccountNumber, Currency, ErrorKind, Money, PaymentMethod};
use kiosk_sim::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use kiosk_sim::devices::AcceptorConfig;
use kiosk_sim::emulators::{
    EscPosEmulator, EscPosEmulatorConfig, Id003Emulator, Id003EmulatorConfig,
};
use kiosk_sim::faults::{LinkFault, LinkOp};
use kiosk_sim::{FaultRule, SimClock, SimRng, Trigger, VirtualBackend};
use tokio::sync::mpsc;

use crate::validator_drills::Watcher;

fn accounts() -> BackendConfig {
    let account = Account {
        holder_name: "张三".into(),
        amount_due: cny(70),
        balance: cny(0),
        status: AccountStatus::Open,
    };
    BackendConfig {
        currency: Currency::CNY,
        accounts: [(AccountNumber("1001".into()), account)].into(),
    }
}

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

/// A kiosk on real drivers, the emulators behind them, a virtual backend.
struct Site {
    _dir: tempfile::TempDir,
    acceptor: Id003Emulator,
    printer: EscPosEmulator,
    backend: VirtualBackend,
    kiosk: Kiosk,
    buttons: mpsc::Sender<CustomerAction>,
    buttons_rx: mpsc::Receiver<CustomerAction>,
    events: mpsc::UnboundedReceiver<KioskEvent>,
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

fn site(link: LinkConfig) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let emulated = Id003EmulatorConfig {
        acceptor: AcceptorConfig {
            validate_ms: 150,
            stack_ms: 150,
            return_ms: 100,
            faults: Vec::new(),
        },
        ..Id003EmulatorConfig::default()
    };
    let acceptor = Id003Emulator::start(dir.path().join("acceptor"), &emulated).unwrap();
    let printer =
        EscPosEmulator::start(dir.path().join("printer"), &EscPosEmulatorConfig::default())
            .unwrap();
    // The kiosk's clock: real time, zero now.
    let clock = SimClock::starting_at(tokio::time::Instant::now());
    let backend = VirtualBackend::new(&accounts(), clock);
    let link = backend.link(&link, SimRng::new(7).fork("link")).unwrap();
    let acceptor_driver = Id003Acceptor::open(&Id003Config {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..Id003Config::for_port(acceptor.path())
    })
    .unwrap();
    let cash_box = acceptor_driver.cash_box();
    let printer_driver = EscPosPrinter::open(&EscPosConfig {
        answer_timeout_ms: 250,
        print_settle_ms: 100,
        ..EscPosConfig::for_port(printer.path())
    })
    .unwrap();
    let devices = Devices {
        acceptor: Box::new(acceptor_driver),
        cash_box: Box::new(cash_box),
        printer: Box::new(printer_driver),
        reader: None,
        link: Box::new(link),
    };
    let (events_tx, events) = mpsc::unbounded_channel();
    let observer = move |_at: Millis, event: &KioskEvent| {
        let _ = events_tx.send(event.clone());
    };
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();
    let kiosk = Kiosk::new(
        kiosk_config(),
        devices,
        journal,
        Arc::new(clock),
        Box::new(observer),
    );
    let (buttons, buttons_rx) = mpsc::channel(8);
    Site {
        _dir: dir,
        acceptor,
        printer,
        backend,
        kiosk,
        buttons,
        buttons_rx,
        events,
    }
}

/// The customer's view: waits on the kiosk's events, remembers them all.
/// Welcome (cash offered) → account → cash → the notes → confirm.
async fn pay_cash(
    watcher: &mut Watcher,
    buttons: &mpsc::Sender<CustomerAction>,
    acceptor: &Id003Emulator,
    notes: &[(i64, bool)],
    during: impl Fn(usize),
) {
    watcher.ready_for_cash().await;
    let account = AccountNumber("1001".into());
    buttons
        .send(CustomerAction::EnterAccount { account })
        .await
        .unwrap();
    watcher
        .screen("account confirmation", |s| {
            matches!(s, Screen::ConfirmAccount { .. })
        })
        .await;
    let method = PaymentMethod::Cash;
    buttons
        .send(CustomerAction::ChooseMethod { method })
        .await
        .unwrap();
    watcher
        .screen("insert notes", |s| matches!(s, Screen::InsertNotes { .. }))
        .await;
    for (i, &(major, genuine)) in notes.iter().enumerate() {
        acceptor.insert_note(cny(major), genuine).unwrap();
        watcher
            .screen("the note's verdict", |s| {
                matches!(s, Screen::NoteAccepted { .. } | Screen::NoteRejected { .. })
            })
            .await;
        during(i);
    }
    buttons.send(CustomerAction::Confirm).await.unwrap();
}

/// The money invariant: books, physical box and backend agree.
fn check_money(kiosk: &Kiosk, acceptor: &Id003Emulator, backend: &VirtualBackend) {
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    let physical = acceptor.staff().physical_contents().value;
    assert_eq!(totals.in_box, physical, "journal vs cash box: {totals:?}");
    let books = totals.credited.minor + totals.pending.minor + totals.refused.minor;
    assert_eq!(books, totals.in_box.minor, "{totals:?}");
    assert_eq!(backend.credited_total(PaymentMethod::Cash), totals.credited);
    assert!(backend.postings().iter().all(|p| p.times_applied <= 1));
    assert_eq!(totals.in_doubt_notes, 0);
}

#[tokio::test]
async fn a_printer_out_of_paper_mid_payment_still_credits_and_keeps_the_receipt() {
    let Site {
        _dir,
        acceptor,
        printer,
        backend,
        mut kiosk,
        buttons,
        mut buttons_rx,
        events,
    } = site(LinkConfig {
        latency_ms: 50,
        faults: Vec::new(),
    });
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        // The roll runs out while the customer inserts notes.
        let out_of_paper = |i: usize| {
            if i == 0 {
                printer.load_paper(0);
            }
        };
        pay_cash(
            &mut watcher,
            &buttons,
            &acceptor,
            &[(50, true), (20, true)],
            out_of_paper,
        )
        .await;
        watcher
            .screen("payment success", |s| {
                matches!(s, Screen::PaymentSuccess { .. })
            })
            .await;
        watcher
            .screen("receipt unavailable", |s| {
                matches!(s, Screen::ReceiptUnavailable { .. })
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
    assert!(watcher.saw(|e| matches!(e, KioskEvent::ReceiptKept { .. })));
    assert!(watcher.saw(|e| matches!(
        e,
        KioskEvent::FaultDetected {
            kind: ErrorKind::PaperOut,
            ..
        }
    )));
    let kept = kiosk.journal().unprinted_receipts().unwrap();
    assert_eq!(kept.len(), 1);
    assert!(
        printer.receipts().is_empty(),
        "nothing printed without paper"
    );
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    assert_eq!(totals.credited, cny(70));
    check_money(&kiosk, &acceptor, &backend);
}

#[tokio::test]
async fn a_counterfeit_note_is_rejected_never_credited_and_counted() {
    let Site {
        _dir,
        acceptor,
        printer,
        backend,
        mut kiosk,
        buttons,
        mut buttons_rx,
        events,
    } = site(LinkConfig {
        latency_ms: 50,
        faults: Vec::new(),
    });
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        pay_cash(
            &mut watcher,
            &buttons,
            &acceptor,
            &[(100, false), (20, true)],
            |_| {},
        )
        .await;
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
    assert_eq!(
        totals.credited,
        cny(20),
        "the counterfeit is never credited"
    );
    assert_eq!(acceptor.customer().returned_notes(), [cny(100)]);
    assert_eq!(printer.receipts().len(), 1, "the receipt printed");
    check_money(&kiosk, &acceptor, &backend);
}

#[tokio::test]
async fn a_link_drop_after_stacking_is_credited_exactly_once_when_it_returns() {
    // The first posting is applied but its answer is lost; the first retry
    // finds the backend unreachable; the second gets the stored answer.
    let faults = vec![
        FaultRule::new(
            Trigger::NthCall { n: 1 },
            LinkFault::LoseAnswer {
                timeout_ms: 300,
                on: LinkOp::Post,
            },
        ),
        FaultRule::new(
            Trigger::NthCall { n: 2 },
            LinkFault::Down {
                fail_after_ms: 100,
                on: LinkOp::Post,
            },
        ),
    ];
    let Site {
        _dir,
        acceptor,
        printer: _printer,
        backend,
        mut kiosk,
        buttons,
        mut buttons_rx,
        events,
    } = site(LinkConfig {
        latency_ms: 50,
        faults,
    });
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        pay_cash(
            &mut watcher,
            &buttons,
            &acceptor,
            &[(50, true), (20, true)],
            |_| {},
        )
        .await;
        watcher
            .screen("payment pending", |s| {
                matches!(s, Screen::PaymentPending { .. })
            })
            .await;
        watcher
            .until("the retried credit", 8000, |e| {
                matches!(e, KioskEvent::PaymentCredited { .. })
            })
            .await;
        drop(buttons);
    };
    let (ran, ()) = tokio::join!(kiosk.run(&mut buttons_rx), script);
    ran.unwrap();
    assert!(watcher.saw(|e| matches!(e, KioskEvent::PaymentRetryScheduled { .. })));
    let postings = backend.postings();
    assert_eq!(postings.len(), 1, "one key for the one payment");
    assert_eq!(postings[0].times_applied, 1);
    assert!(postings[0].times_received >= 2, "{:?}", postings[0]);
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    assert_eq!((totals.credited, totals.pending), (cny(70), cny(0)));
    check_money(&kiosk, &acceptor, &backend);
}
