//! One cash payment on a kiosk built from virtual devices, journaled to a
//! real SQLite file, printed screen by screen.
//!
//! This is the wiring an integrator writes for a real kiosk, with virtual
//! devices standing in for the drivers: swap each `Box::new(virtual…)` for a
//! serial driver and `SimClock` for `SystemClock`.
//!
//! Run with `cargo run -p kiosk-examples --example cash_payment`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis, Screen};
use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};
use kiosk_sim::backend::{BackendConfig, LinkConfig};
use kiosk_sim::devices::{AcceptorConfig, CashBoxConfig, CashUnit, PrinterConfig, VirtualPrinter};
use kiosk_sim::{SimClock, SimRng, VirtualBackend};

const ACCOUNTS: &str = r#"
[accounts."13800000001"]
holder-name = "张三"
amount-due = { minor = 7000, currency = "CNY" }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let journal_path = dir.path().join("kiosk-journal.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true) // virtual time: the minute-long payment runs instantly
        .build()?;
    runtime.block_on(async {
        let clock = SimClock::new();
        let rng = SimRng::new(42);
        let unit = CashUnit::new(
            &AcceptorConfig::default(),
            &CashBoxConfig::default(),
            clock,
            rng.fork("acceptor"),
        )?;
        let (printer, printed) =
            VirtualPrinter::new(&PrinterConfig::default(), clock, rng.fork("printer"))?;
        let backend_config: BackendConfig = toml::from_str(ACCOUNTS)?;
        let backend = VirtualBackend::new(&backend_config, clock);
        let link = backend.link(&LinkConfig::default(), rng.fork("link"))?;

        let devices = Devices {
            acceptor: Box::new(unit.acceptor),
            cash_box: Box::new(unit.cash_box),
            printer: Box::new(printer),
            reader: None,
            link: Box::new(link),
        };
        let observer = |at: Millis, event: &KioskEvent| {
            if let KioskEvent::Screen { screen } = event {
                println!("[{at}] screen: {}", describe(screen));
            }
        };
        let mut kiosk = Kiosk::new(
            KioskConfig::default(),
            devices,
            Journal::open(&journal_path)?,
            Arc::new(clock),
            Box::new(observer),
        );

        // The customer: types the account, confirms, inserts 50 and 20, confirms.
        let (buttons, mut button_rx) = tokio::sync::mpsc::channel(8);
        let slot = unit.customer;
        let customer = async move {
            let step = |ms| clock.sleep_until(Millis(ms));
            step(1_000).await;
            let account = AccountNumber("13800000001".into());
            buttons
                .send(CustomerAction::EnterAccount { account })
                .await
                .ok();
            step(3_000).await;
            let method = PaymentMethod::Cash;
            buttons
                .send(CustomerAction::ChooseMethod { method })
                .await
                .ok();
            step(5_000).await;
            slot.insert_note(Money::major(50, Currency::CNY), true).ok();
            step(9_000).await;
            slot.insert_note(Money::major(20, Currency::CNY), true).ok();
            step(13_000).await;
            buttons.send(CustomerAction::Confirm).await.ok();
            step(30_000).await;
            // Dropping the buttons ends the kiosk's run loop.
        };
        let (result, ()) = tokio::join!(kiosk.run(&mut button_rx), customer);
        result?;

        let totals = kiosk.journal().cash_totals(Currency::CNY)?;
        println!(
            "journal {}: {} credited, {} pending, {} notes in the box",
            journal_path.display(),
            totals.credited,
            totals.pending,
            totals.notes_in_box
        );
        println!("receipts printed: {}", printed.receipts().len());
        assert_eq!(totals.credited, Money::major(70, Currency::CNY));
        Ok(())
    })
}

fn describe(screen: &Screen) -> String {
    match screen {
        Screen::NoteAccepted { value, total } => format!("accepted {value}, total {total}"),
        Screen::PaymentSuccess {
            amount,
            new_balance,
            reference,
        } => format!("paid {amount}, new balance {new_balance}, reference {reference}"),
        other => format!("{other:?}"),
    }
}
