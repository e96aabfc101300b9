//! What the crash test found in kiosk-core, reduced to scripted devices so
//! the kiosk-core engineer can reproduce it in virtual time.
//!
//! Each failed against the code it was found in, and passes since the fix
//! (kiosk-core's runner tests carry the same regression).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::journal::Journal;
use kiosk_core::{Clock, CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis};
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, AccountAnswer, AccountNumber, BillAcceptor, CashBox,
    CashBoxStatus, Currency, DeviceError, ErrorKind, FillLevel, Money, NetworkLink, PaymentPosting,
    PostingAnswer, PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter,
};
use tokio::sync::mpsc;

/// An acceptor whose reports the test sends.
struct Scripted(mpsc::UnboundedReceiver<AcceptorEvent>);

#[async_trait]
impl BillAcceptor for Scripted {
    async fn enable(&mut self, _: &[Money]) -> Result<(), DeviceError> {
        Ok(())
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        match self.0.recv().await {
            Some(e) => Ok(e),
            None => std::future::pending().await,
        }
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        Ok(AcceptorStatus::Inhibited)
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

struct PlainBox;

#[async_trait]
impl CashBox for PlainBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        Ok(CashBoxStatus {
            present: true,
            level: FillLevel::Normal,
            contents: None,
        })
    }
}

struct Printer;

#[async_trait]
impl ReceiptPrinter for Printer {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        Ok(PrinterStatus::Ready)
    }
    async fn print(&mut self, _: &Receipt) -> Result<PrintOutcome, DeviceError> {
        Ok(PrintOutcome::Printed)
    }
}

/// A backend the kiosk cannot reach: account checks fail.
struct LinkDown;

#[async_trait]
impl NetworkLink for LinkDown {
    async fn lookup_account(&mut self, _: &AccountNumber) -> Result<AccountAnswer, DeviceError> {
        Err(DeviceError::new(ErrorKind::Offline, "link down"))
    }
    async fn post_payment(&mut self, _: &PaymentPosting) -> Result<PostingAnswer, DeviceError> {
        Err(DeviceError::new(ErrorKind::Offline, "link down"))
    }
}

struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    fn now(&self) -> Millis {
        Millis(self.0.elapsed().as_millis() as u64)
    }
}

/// The running kiosk of one test life.
type Running = tokio::task::JoinHandle<(Result<(), String>, Kiosk)>;

/// Starts a kiosk on `journal` with the scripted acceptor, a plain box and
/// printer, and no backend: the acceptor's and the customer's ends, and
/// the kiosk's task (it ends when the customer's end is dropped).
fn start(
    journal: Journal,
) -> (
    mpsc::UnboundedSender<AcceptorEvent>,
    mpsc::Sender<CustomerAction>,
    Running,
) {
    let (device, reports) = mpsc::unbounded_channel();
    let devices = Devices {
        acceptor: Box::new(Scripted(reports)),
        cash_box: Box::new(PlainBox),
        printer: Box::new(Printer),
        reader: None,
        link: Box::new(LinkDown),
    };
    let mut kiosk = Kiosk::new(
        KioskConfig::default(),
        devices,
        journal,
        Arc::new(TokioClock(tokio::time::Instant::now())),
        Box::new(|_: Millis, _: &KioskEvent| {}),
    );
    let (customer, mut customers) = mpsc::channel(8);
    let running = tokio::spawn(async move {
        let result = kiosk.run(&mut customers).await.map_err(|e| e.to_string());
        (result, kiosk)
    });
    (device, customer, running)
}

/// Found by `kiosk-sim crash run --kills 1000 --seed 1000` (life 823): a
/// customer entered an account, the check failed (link down), so the
/// session ended before it was journaled — but the runner had already made
/// it `last_session`. A `Stacked` report then arrived between sessions (in
/// the crash run: a report the previous life never acknowledged), and
/// `journal_unaccounted_note` journaled the note in doubt against that
/// never-journaled session: `UnknownRecord`, `Kiosk::run` returned the
/// error, the kiosk went out of service, and the note in the box was not
/// recorded by that life.
#[tokio::test(start_paused = true)]
async fn a_note_reported_after_an_unjournaled_session_keeps_the_kiosk_in_service() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();
    let (device, customer, running) = start(journal);
    customer
        .send(CustomerAction::EnterAccount {
            account: AccountNumber("1001".into()),
        })
        .await
        .unwrap();
    // The account check times out; the session ends unjournaled.
    tokio::time::sleep(Duration::from_secs(20)).await;
    device
        .send(AcceptorEvent::Stacked {
            value: Money::major(50, Currency::CNY),
        })
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    drop(customer);
    let (result, kiosk) = running.await.unwrap();
    assert_eq!(result, Ok(()), "the kiosk stays in service");
    let totals = kiosk.journal().cash_totals(Currency::CNY).unwrap();
    assert_eq!(
        totals.in_doubt_notes, 1,
        "the note in the box is on the books"
    );
}

/// One life of a kiosk on `path` whose acceptor delivers `reports` (after
/// recovery has had its time), then stops: what the next life finds.
async fn life(path: &std::path::Path, reports: &[AcceptorEvent]) -> Journal {
    let (device, customer, running) = start(Journal::open(path).unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    for report in reports {
        device.send(*report).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    drop(customer);
    let (result, kiosk) = running.await.unwrap();
    assert_eq!(result, Ok(()), "the kiosk stays in service");
    kiosk.into_parts().1
}

/// Found by `kiosk-sim crash run --kills 1000 --seed 20261130` (kill 94):
/// one note, one `Stacked` report delivered to three lives. The first
/// journaled the note stacked and died before acknowledging the report; the
/// second got it again and (rightly: it cannot tell a repeat from a note
/// nobody knew of) journaled an unaccounted note in doubt, and died before
/// acknowledging it too; the third's recovery took that in-doubt note for
/// one still in the acceptor's path, and the third delivery settled it in
/// the box: a payment crediting the last customer again for the same note.
/// The box held 1 note, the books 2.
#[tokio::test(start_paused = true)]
async fn a_report_delivered_to_three_lives_is_never_credited_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let ten = Money::major(10, Currency::CNY);
    // The first life, as it died: the note escrowed and stacked.
    {
        let mut j = Journal::open(&path).unwrap();
        let s = kiosk_core::SessionId::new(&KioskConfig::default().kiosk_id, 1);
        j.begin_session(&kiosk_core::journal::SessionStart {
            id: s.clone(),
            kiosk: KioskConfig::default().kiosk_id,
            account: AccountNumber("1001".into()),
            method: kiosk_hal::PaymentMethod::Cash,
            at: Millis(0),
        })
        .unwrap();
        let note = j.note_escrowed(&s, ten, Millis(1)).unwrap();
        j.note_stacked(&s, Some(note), ten, Millis(2)).unwrap();
        j.abandon();
    }
    let repeat = AcceptorEvent::Stacked { value: ten };
    life(&path, &[repeat]).await.abandon();
    let third = life(&path, &[repeat]).await;
    let totals = third.cash_totals(Currency::CNY).unwrap();
    assert_eq!(totals.notes_in_box, 1, "one note on the books in the box");
    assert_eq!(totals.pending, ten, "one payment, the customer's own");
    assert_eq!(
        totals.in_doubt_notes, 2,
        "each repeat stays in doubt for staff to count out at a clearing"
    );
    let keys: Vec<_> = third
        .pending_payments()
        .unwrap()
        .into_iter()
        .map(|p| p.key.0)
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
}
