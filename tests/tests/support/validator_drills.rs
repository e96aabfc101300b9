//! The catalog's counterfeit-note, bill-jam and power-loss-mid-payment
//! drills through a real serial bill-validator driver against its emulator
//! over a pty, through the real `Kiosk` runner and its SQLite journal, in
//! real time: what every protocol's drill file shares. Each file says how
//! its emulator starts and its driver opens ([`Protocol`]) and keeps what
//! differs (a power-up report the protocol has, or lacks).
//!
//! Each drill ends with the money invariant: the journal's cash box equals
//! the emulator's physical box, the backend credited what the journal says,
//! nothing twice, nothing left in doubt.
#![allow(dead_code)] // Each drill file uses a different part.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::events::SettlementKind;
use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::{AcceptorEvent, AccountNumber, Currency, Money, NoteFate, PaymentMethod};
use kiosk_hal::{BillAcceptor, CashBox};
use kiosk_sim::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use kiosk_sim::devices::{AcceptorConfig, AcceptorFault, CashBoxHandle, CustomerSlot, SlotRefusal};
use kiosk_sim::emulators::{EscPosEmulator, EscPosEmulatorConfig};
use kiosk_sim::{FaultRule, SimClock, SimRng, Trigger, VirtualBackend};
use tokio::sync::mpsc;

pub fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

pub fn accounts() -> BackendConfig {
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

pub fn kiosk_config() -> KioskConfig {
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

/// A bill validator's emulator over a pty, whatever its protocol.
pub trait Validator {
    /// The pty the driver opens.
    fn path(&self) -> &Path;
    /// A customer puts a note in the slot.
    fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal>;
    /// The customer's side of the slot.
    fn customer(&self) -> &CustomerSlot;
    /// Staff's view of the cash box.
    fn staff(&self) -> &CashBoxHandle;
}

/// A real driver's acceptor and the cash box it reports on.
pub type Driver = (Box<dyn BillAcceptor>, Box<dyn CashBox>);

/// What differs between the protocols: starting the emulator in front of
/// a virtual acceptor, and opening the real driver on its pty.
#[derive(Clone, Copy)]
pub struct Protocol {
    /// Starts the emulator at this path in front of an acceptor so set up.
    pub start: fn(&Path, AcceptorConfig) -> Box<dyn Validator>,
    /// Opens the real driver (polling every 40 ms, answers within 250 ms).
    pub open: fn(&Path) -> Driver,
}

/// The devices and backend outside the kiosk: they outlive a kiosk power cut.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub acceptor: Box<dyn Validator>,
    pub printer: EscPosEmulator,
    pub backend: VirtualBackend,
    pub clock: SimClock,
    protocol: Protocol,
}

pub fn site(protocol: Protocol, faults: Vec<FaultRule<AcceptorFault>>) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let emulated = AcceptorConfig {
        validate_ms: 150,
        stack_ms: 150,
        return_ms: 100,
        faults,
    };
    let acceptor = (protocol.start)(&dir.path().join("acceptor"), emulated);
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
        protocol,
    }
}

/// A kiosk (re)started on the site's journal, with fresh drivers opening
/// the emulators' paths: what a kiosk finds after its power comes back.
pub fn kiosk(site: &Site, seed: u64, events: mpsc::UnboundedSender<KioskEvent>) -> Kiosk {
    let link = LinkConfig {
        latency_ms: 50,
        faults: Vec::new(),
    };
    let link = site
        .backend
        .link(&link, SimRng::new(seed).fork("link"))
        .unwrap();
    let (acceptor, cash_box) = (site.protocol.open)(site.acceptor.path());
    let printer = EscPosPrinter::open(&EscPosConfig {
        answer_timeout_ms: 250,
        print_settle_ms: 100,
        ..EscPosConfig::for_port(site.printer.path())
    })
    .unwrap();
    let devices = Devices {
        acceptor,
        cash_box,
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

pub fn journal_path(dir: &Path) -> std::path::PathBuf {
    dir.join("journal.db")
}

/// The customer's and the auditor's view: every kiosk event, in order.
pub struct Watcher {
    pub events: mpsc::UnboundedReceiver<KioskEvent>,
    pub seen: Vec<KioskEvent>,
}

impl Watcher {
    pub async fn until(&mut self, what: &str, ms: u64, want: impl Fn(&KioskEvent) -> bool) {
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
    pub async fn until_count(
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

    pub async fn screen(&mut self, what: &str, want: impl Fn(&Screen) -> bool) {
        self.until(
            what,
            5000,
            |e| matches!(e, KioskEvent::Screen { screen } if want(screen)),
        )
        .await
    }

    pub fn saw(&self, want: impl Fn(&KioskEvent) -> bool) -> bool {
        self.seen.iter().any(want)
    }

    /// Until the validator is up and the welcome screen offers cash. The
    /// driver reports the validator's power-up once it has set it up; on
    /// a loaded machine that can come after the welcome screen, and a
    /// power-up in the middle of a session ends it with nothing paid (as it
    /// must), so a customer starts only after it.
    pub async fn ready_for_cash(&mut self) {
        self.until_count("the validator's power-up report", 1, 15_000, |e| {
            matches!(
                e,
                KioskEvent::Acceptor {
                    acceptor: AcceptorEvent::PowerUp { .. }
                }
            )
        })
        .await;
        let welcome = |s: &Screen| matches!(s, Screen::Welcome { methods } if methods.contains(&PaymentMethod::Cash));
        let showing = self
            .seen
            .iter()
            .rev()
            .find_map(|e| match e {
                KioskEvent::Screen { screen } => Some(screen),
                _ => None,
            })
            .is_some_and(welcome);
        if !showing {
            self.screen("welcome with cash", welcome).await;
        }
    }
}

/// Welcome → account → cash: the insert-notes screen.
pub async fn start_cash_payment(watcher: &mut Watcher, buttons: &mpsc::Sender<CustomerAction>) {
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
}

/// The customer inserts a note as soon as the slot takes one (the last
/// rejected note may still be on its way out).
pub async fn insert(site: &Site, major: i64, genuine: bool) {
    for _ in 0..100 {
        if site.acceptor.insert_note(cny(major), genuine).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the slot never took the note");
}

pub async fn note_verdict(watcher: &mut Watcher) {
    watcher
        .screen("the note's verdict", |s| {
            matches!(s, Screen::NoteAccepted { .. } | Screen::NoteRejected { .. })
        })
        .await;
}

/// The money invariant: books, physical box and backend agree.
pub fn check_money(kiosk: &Kiosk, site: &Site, credited: Money) {
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
pub async fn counterfeit_note(protocol: Protocol) {
    let site = site(protocol, Vec::new());
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
pub async fn bill_jam(protocol: Protocol) {
    let jam = AcceptorFault::JamInStacker {
        fate: NoteFate::InCashBox,
        clear_after_ms: Some(600),
    };
    let site = site(
        protocol,
        vec![FaultRule::new(Trigger::NthCall { n: 2 }, jam)],
    );
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
