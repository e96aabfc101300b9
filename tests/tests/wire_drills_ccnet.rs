//! The catalog's counterfeit-note, bill-jam and power-loss-mid-payment
//! drills with the real CCNET driver against the CCNET emulator over a pty,
//! through the real `Kiosk` runner and its SQLite journal, in real time.
//!
//! Each ends with the money invariant: the journal's cash box equals the
//! emulator's physical box, the backend credited what the journal says,
//! nothing twice, nothing left in doubt.

use crate::validator_drills;

use std::path::Path;
use std::time::Duration;

use kiosk_core::events::SettlementKind;
use kiosk_core::KioskEvent;
use kiosk_hal::drivers::ccnet::{CcnetAcceptor, CcnetConfig};
use kiosk_hal::{AcceptorEvent, Money};
use kiosk_sim::devices::{AcceptorFault, CashBoxHandle, CustomerSlot, SlotRefusal};
use kiosk_sim::emulators::{CcnetEmulator, CcnetEmulatorConfig};
use kiosk_sim::{FaultRule, Trigger};
use tokio::sync::mpsc;
use validator_drills::{
    check_money, cny, insert, kiosk, note_verdict, site, start_cash_payment, Protocol, Validator,
    Watcher,
};

impl Validator for CcnetEmulator {
    fn path(&self) -> &Path {
        CcnetEmulator::path(self)
    }
    fn insert_note(&self, value: Money, genuine: bool) -> Result<(), SlotRefusal> {
        CcnetEmulator::insert_note(self, value, genuine)
    }
    fn customer(&self) -> &CustomerSlot {
        CcnetEmulator::customer(self)
    }
    fn staff(&self) -> &CashBoxHandle {
        CcnetEmulator::staff(self)
    }
}

/// The CCNET emulator in front of the virtual acceptor, and the real
/// CCNET driver on its pty.
const PROTOCOL: Protocol = Protocol {
    start: |path, acceptor| {
        let config = CcnetEmulatorConfig {
            acceptor,
            ..CcnetEmulatorConfig::default()
        };
        Box::new(CcnetEmulator::start(path, &config).unwrap())
    },
    open: |path| {
        let acceptor = CcnetAcceptor::open(&CcnetConfig {
            poll_interval_ms: 40,
            answer_timeout_ms: 250,
            ..CcnetConfig::for_port(path)
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
async fn counterfeit_note_through_the_ccnet_driver() {
    validator_drills::counterfeit_note(PROTOCOL).await;
}

/// `bill-jam`: the second note jams in the drop cassette while stacking;
/// it is journaled in doubt, and when the jam clears into the box the
/// device's own report credits it exactly once.
#[tokio::test]
async fn bill_jam_through_the_ccnet_driver() {
    validator_drills::bill_jam(PROTOCOL).await;
}

/// `power-loss-mid-payment`: the kiosk and the validator lose power while
/// the second note is stacking, late enough that the note is in the box.
/// A new kiosk process recovers the journal, new drivers open the port,
/// and the validator's "power up with bill in stacker" settles the note
/// in doubt: both notes credited exactly once.
#[tokio::test]
async fn power_loss_mid_payment_through_the_ccnet_driver() {
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
        // Power is gone: drop everything the process held, the journal as
        // a power cut leaves it.
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
        // The kiosk stacks at once; the validator's power goes at 80 % of
        // its 150 ms stacking, the kiosk's a little before.
        tokio::time::sleep(Duration::from_millis(60)).await;
        cut_tx.send(()).unwrap();
        // The first Recovered was the first start's.
        watcher
            .until_count("the restart's recovery", 2, 5000, |e| {
                matches!(e, KioskEvent::Recovered { .. })
            })
            .await;
        watcher
            .until_count("the in-doubt note settled", 1, 8000, |e| {
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
            .until_count("the credits", 2, 8000, |e| {
                matches!(e, KioskEvent::PaymentCredited { .. })
            })
            .await;
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
    check_money(&second, &site, cny(70));
}
