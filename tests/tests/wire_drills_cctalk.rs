//! The catalog's counterfeit-note, bill-jam and power-loss-mid-payment
//! drills with the real ccTalk driver against the ccTalk emulator (bus echo on) over a pty,
//! through the real `Kiosk` runner and its SQLite journal, in real time.
//!
//! Each ends with the money invariant: the journal's cash box equals the
//! emulator's physical box, the backend credited what the journal says,
//! nothing twice, nothing left in doubt.

use crate::validator_drills;

use std::path::Path;
use std::time::Duration;

use kiosk_core::KioskEvent;
use kiosk_hal::drivers::cctalk::{CctalkAcceptor, CctalkConfig};
use kiosk_hal::{AcceptorEvent, Currency, Money, PaymentMethod};
use kiosk_sim::devices::{AcceptorFault, CashBoxHandle, CustomerSlot, SlotRefusal};
use kiosk_sim::emulators::{CctalkEmulator, CctalkEmulatorConfig};
use kiosk_sim::{FaultRule, Trigger};
use tokio::sync::mpsc;
use validator_drills::{
    cny, insert, kiosk, note_verdict, site, start_cash_payment, Protocol, Validator, Watcher,
};

impl Validator for CctalkEmulator {
    fn path(&self) -> &Path {
        CctalkEmulator::path(self)
    }
    fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        CctalkEmulator::insert_note(self, value, genuine)
    }
    fn customer(&self) -> &CustomerSlot {
        CctalkEmulator::customer(self)
    }
    fn staff(&self) -> &CashBoxHandle {
        CctalkEmulator::staff(self)
    }
}

/// The ccTalk emulator in front of the virtual acceptor, and the real
/// ccTalk driver on its pty.
const PROTOCOL: Protocol = Protocol {
    start: |path, acceptor| {
        let config = CctalkEmulatorConfig {
            acceptor,
            ..CctalkEmulatorConfig::default()
        };
        Box::new(CctalkEmulator::start(path, &config).unwrap())
    },
    open: |path| {
        let acceptor = CctalkAcceptor::open(&CctalkConfig {
            poll_interval_ms: 40,
            answer_timeout_ms: 250,
            ..CctalkConfig::for_port(path)
        })
        .unwrap();
        let cash_box = acceptor.cash_box();
        let driver: validator_drills::Driver = (Box::new(acceptor), Box::new(cash_box));
        driver
    },
};

/// `counterfeit-note`: returned, never credited, counted; the payment
/// completes with the genuine notes.
#[tokio::test]
async fn counterfeit_note_through_the_cctalk_driver() {
    validator_drills::counterfeit_note(PROTOCOL).await;
}

/// `bill-jam`: the second note jams in the drop cassette while stacking;
/// it is journaled in doubt, and when the jam clears into the box the
/// device's own report credits it exactly once.
#[tokio::test]
async fn bill_jam_through_the_cctalk_driver() {
    validator_drills::bill_jam(PROTOCOL).await;
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
    let site = site(
        PROTOCOL,
        vec![FaultRule::new(Trigger::NthCall { n: 2 }, cut)],
    );
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
