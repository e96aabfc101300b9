//! The catalog's counterfeit-note, bill-jam and power-loss-mid-payment
//! drills with the real ccTalk driver against the ccTalk emulator (bus echo on) over a pty,
//! through the real `Kiosk` runner and its SQLite journal, in real time.
//!
//! Each ends with the money invariant: the journal's cash box equals the
//! emulator's physical box, the backend credited what the journal says,
//! nothing twice, nothing left in doubt.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::events::SettlementKind;
use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::drivers::cctalk::{CctalkAcceptor, CctalkConfig};
use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::{AcceptorEvent, AccountNumber, Currency, Money, NoteFate, PaymentMethod};
use kiosk_sim::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault};
use kiosk_sim::emulators::{
    CctalkEmulator, CctalkEmulatorConfig, EscPosEmulator, EscPosEmulatorConfig,
};
use kiosk_sim::{FaultRule, SimClock, SimRng, Trigger, VirtualBackend};
use tokio::sync::mpsc;

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

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

/// The devices and backend outside the kiosk: they outlive a kiosk power cut.
struct Site {
    dir: tempfile::TempDir,
    acceptor: CctalkEmulator,
    printer: EscPosEmulator,
    backend: VirtualBackend,
    clock: SimClock,
}

fn site(faults: Vec<FaultRule<AcceptorFault>>) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let emulated = CctalkEmulatorConfig {
        acceptor: AcceptorConfig {
            validate_ms: 150,
            stack_ms: 150,
            return_ms: 100,
            faults,
        },
        ..CctalkEmulatorConfig::default()
    };
    let acceptor = CctalkEmulator::start(dir.path().join("acceptor"), &emulated).unwrap();
    let printer =
        EscPosEmulator::start(dir.path().join("printer"), &EscPosEmulatorConfig::default())
            .unwrap();
    let clock = SimClock::starting_at(tokio::time::Instant::now());
    let backend = VirtualBackend::new(&accounts(), clock);
    Site {
        dir,
        acceptor,
        printer,
        backend,
        clock,
    }
}

/// A kiosk (re)started on the site's journal, with fresh drivers opening
/// the emulators' paths: what a kiosk finds after its power comes back.
fn kiosk(site: &Site, seed: u64, events: mpsc::UnboundedSender<KioskEvent>) -> Kiosk {
    let link = LinkConfig {
        latency_ms: 50,
        faults: Vec::new(),
    };
    let link = site
        .backend
        .link(&link, SimRng::new(seed).fork("link"))
        .unwrap();
    let acceptor = CctalkAcceptor::open(&CctalkConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..CctalkConfig::for_port(site.acceptor.path())
    })
    .unwrap();
    let cash_box = acceptor.cash_box();
    let printer = EscPosPrinter::open(&EscPosConfig {
        answer_timeout_ms: 250,
        print_settle_ms: 100,
        ..EscPosConfig::for_port(site.printer.path())
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
    let journal = Journal::open(journal_path(site.dir.path())).unwrap();
    Kiosk::new(
        kiosk_config(),
        devices,
        journal,
        Arc::new(site.clock),
        Box::new(observer),
    )
}

fn journal_path(dir: &Path) -> std::path::PathBuf {
    dir.join("journal.db")
}

/// The customer's and the auditor's view: every kiosk event, in order.
struct Watcher {
    events: mpsc::UnboundedReceiver<KioskEvent>,
    seen: Vec<KioskEvent>,
}

impl Watcher {
    async fn until(&mut self, what: &str, ms: u64, want: impl Fn(&KioskEvent) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within {ms} ms; saw {:#?}", self.seen))
                .expect("kiosk running");
            let done = want(&event);
            self.seen.push(event);
            if done {
                return;
            }
        }
    }

    /// Waits until `want` has been seen `n` times in all.
    async fn until_count(
        &mut self,
        what: &str,
        n: usize,
        ms: u64,
        want: impl Fn(&KioskEvent) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while self.seen.iter().filter(|e| want(e)).count() < n {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {n} × {what} within {ms} ms; saw {:#?}", self.seen))
                .expect("kiosk running");
            self.seen.push(event);
        }
    }

    async fn screen(&mut self, what: &str, want: impl Fn(&Screen) -> bool) {
        self.until(
            what,
            5000,
            |e| matches!(e, KioskEvent::Screen { screen } if want(screen)),
        )
        .await
    }

    fn saw(&self, want: impl Fn(&KioskEvent) -> bool) -> bool {
        self.seen.iter().any(want)
    }
}

/// Welcome → account → cash: the insert-notes screen.
async fn start_cash_payment(watcher: &mut Watcher, buttons: &mpsc::Sender<CustomerAction>) {
    watcher
        .screen(
            "welcome with cash",
            |s| matches!(s, Screen::Welcome { methods } if methods.contains(&PaymentMethod::Cash)),
        )
        .await;
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
}

/// The customer inserts a note as soon as the slot takes one (the last
/// rejected note may still be on its way out).
async fn insert(site: &Site, major: i64, genuine: bool) {
    for _ in 0..100 {
        if site.acceptor.insert_note(cny(major), genuine).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the slot never took the note");
}

async fn note_verdict(watcher: &mut Watcher) {
    watcher
        .screen("the note's verdict", |s| {
            matches!(s, Screen::NoteAccepted { .. } | Screen::NoteRejected { .. })
        })
        .await;
}

/// The money invariant: books, physical box and backend agree.
fn check_money(kiosk: &Kiosk, site: &Site, credited: Money) {
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    let physical = site.acceptor.staff().physical_contents().value;
    assert_eq!(totals.in_box, physical, "journal vs cash box: {totals:?}");
    let books = totals.credited.minor + totals.pending.minor + totals.refused.minor;
    assert_eq!(books, totals.in_box.minor, "{totals:?}");
    assert_eq!(totals.credited, credited, "{totals:?}");
    assert_eq!(
        site.backend.credited_total(PaymentMethod::Cash),
        totals.credited
    );
    assert!(site.backend.postings().iter().all(|p| p.times_applied <= 1));
    assert_eq!(totals.in_doubt_notes, 0, "{totals:?}");
}

/// `counterfeit-note`: returned, never credited, counted; the payment
/// completes with the genuine notes.
#[tokio::test]
async fn counterfeit_note_through_the_cctalk_driver() {
    let site = site(Vec::new());
    let (tx, events) = mpsc::unbounded_channel();
    let mut kiosk = kiosk(&site, 7, tx);
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        start_cash_payment(&mut watcher, &buttons).await;
        for (major, genuine) in [(100, false), (50, true), (20, true)] {
            insert(&site, major, genuine).await;
            note_verdict(&mut watcher).await;
        }
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
    assert_eq!(
        site.acceptor.customer().returned_notes(),
        [cny(100)],
        "{:#?}",
        watcher.seen
    );
    check_money(&kiosk, &site, cny(70));
}

/// `bill-jam`: the second note jams in the drop cassette while stacking;
/// it is journaled in doubt, and when the jam clears into the box the
/// device's own report credits it exactly once.
#[tokio::test]
async fn bill_jam_through_the_cctalk_driver() {
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(600),
    };
    let site = site(vec![FaultRule::new(Trigger::NthCall { n: 2 }, jam)]);
    let (tx, events) = mpsc::unbounded_channel();
    let mut kiosk = kiosk(&site, 7, tx);
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let script = async {
        start_cash_payment(&mut watcher, &buttons).await;
        insert(&site, 50, true).await;
        note_verdict(&mut watcher).await;
        insert(&site, 20, true).await;
        watcher
            .until_count("the jam", 1, 3000, |e| {
                matches!(
                    e,
                    KioskEvent::Acceptor {
                        acceptor: AcceptorEvent::Jammed { .. }
                    }
                )
            })
            .await;
        watcher
            .until_count("the note in doubt", 1, 3000, |e| {
                matches!(e, KioskEvent::NoteInDoubt { .. })
            })
            .await;
        watcher
            .until_count("the jam's settlement", 1, 8000, |e| {
                matches!(
                    e,
                    KioskEvent::InDoubtSettled {
                        settlement: SettlementKind::Credit,
                        ..
                    }
                )
            })
            .await;
        // Both notes end up credited: the first with the session, the
        // jammed one by its settlement.
        watcher
            .until_count("two credits", 2, 8000, |e| {
                matches!(e, KioskEvent::PaymentCredited { .. })
            })
            .await;
        drop(buttons);
    };
    let (ran, ()) = tokio::join!(kiosk.run(&mut buttons_rx), script);
    ran.unwrap();
    assert!(watcher.saw(|e| matches!(
        e,
        KioskEvent::Acceptor {
            acceptor: AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox
            }
        }
    )));
    assert_eq!(site.acceptor.staff().notes(), [cny(50), cny(20)]);
    check_money(&kiosk, &site, cny(70));
}

/// `power-loss-mid-payment`: the kiosk and the validator lose power while
/// the second note is stacking, late enough that the note is in the box.
/// ccTalk cannot say so: the validator only restarts its event counter. A
/// new kiosk process recovers the journal and the note stays in doubt for
/// staff (never credited on a guess, never lost from the books); the first
/// note is credited once.
#[tokio::test]
async fn power_loss_mid_payment_through_the_cctalk_driver() {
    let cut = AcceptorFault::PowerCycle {
        stack_percent: Some(80),
    };
    let site = site(vec![FaultRule::new(Trigger::NthCall { n: 2 }, cut)]);
    let (tx, events) = mpsc::unbounded_channel();
    let mut first = kiosk(&site, 7, tx.clone());
    let (buttons, mut buttons_rx) = mpsc::channel(8);
    let (cut_tx, cut_rx) = tokio::sync::oneshot::channel::<()>();
    let mut watcher = Watcher {
        events,
        seen: Vec::new(),
    };
    let life = async {
        tokio::select! {
            biased;
            _ = cut_rx => {}
            ran = first.run(&mut buttons_rx) => panic!("the kiosk ended before the cut: {ran:?}"),
        }
        let (devices, journal) = first.into_parts();
        journal.abandon();
        drop(devices);
        tokio::time::sleep(Duration::from_millis(400)).await;
        while buttons_rx.try_recv().is_ok() {}
        let mut second = kiosk(&site, 8, tx);
        second.run(&mut buttons_rx).await.unwrap();
        second
    };
    let script = async {
        start_cash_payment(&mut watcher, &buttons).await;
        insert(&site, 50, true).await;
        note_verdict(&mut watcher).await;
        insert(&site, 20, true).await;
        watcher
            .until("the second escrow", 3000, |e| {
                matches!(
                    e,
                    KioskEvent::Acceptor {
                        acceptor: AcceptorEvent::Escrowed { value }
                    } if *value == cny(20)
                )
            })
            .await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        cut_tx.send(()).unwrap();
        watcher
            .until_count("the restart's recovery", 2, 5000, |e| {
                matches!(e, KioskEvent::Recovered { .. })
            })
            .await;
        watcher
            .until_count("the first note's credit", 1, 8000, |e| {
                matches!(e, KioskEvent::PaymentCredited { .. })
            })
            .await;
        watcher
            .until_count("the restarted validator", 1, 3000, |e| {
                matches!(
                    e,
                    KioskEvent::Acceptor {
                        acceptor: AcceptorEvent::PowerUp { .. }
                    }
                )
            })
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        drop(buttons);
    };
    let (second, ()) = tokio::join!(life, script);
    let recovered = watcher
        .seen
        .iter()
        .rev()
        .find_map(|e| match e {
            KioskEvent::Recovered { in_doubt_notes, .. } => Some(*in_doubt_notes),
            _ => None,
        })
        .unwrap();
    assert!(recovered >= 1, "the moving note was in doubt after the cut");
    assert_eq!(site.acceptor.staff().notes(), [cny(50), cny(20)]);
    let totals = second.journal().cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        (totals.credited, totals.in_doubt),
        (cny(50), cny(20)),
        "{totals:?}"
    );
    assert_eq!(totals.in_doubt_notes, 1);
    // The money line: the physical box = credited + pending + refused + in doubt.
    let physical = site.acceptor.staff().physical_contents().value;
    let books =
        totals.credited.minor + totals.pending.minor + totals.refused.minor + totals.in_doubt.minor;
    assert_eq!(books, physical.minor, "{totals:?}");
    assert_eq!(site.backend.credited_total(PaymentMethod::Cash), cny(50));
    assert!(site.backend.postings().iter().all(|p| p.times_applied <= 1));
}
