//! A customer's payment code is a bearer token: it goes to the backend and
//! nowhere else. This plants a code in a real QR payment and greps every
//! channel the kiosk writes to for its digits: the journal file and its
//! log, every event (as JSON and as `Debug`), every log line at TRACE
//! level, and every printed receipt.
#![forbid(unsafe_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use kiosk_core::journal::Journal;
use kiosk_core::{CustomerAction, Devices, Kiosk, KioskConfig, KioskEvent, Millis};
use kiosk_hal::{AccountNumber, PaymentMethod};
use kiosk_sim::backend::{BackendConfig, LinkConfig};
use kiosk_sim::devices::{
    AcceptorConfig, CashBoxConfig, CashUnit, PrinterConfig, ReaderConfig, VirtualPrinter,
    VirtualReader,
};
use kiosk_sim::{SimClock, SimRng, VirtualBackend};

const CODE: &str = "134567890123456789";
/// The digits a masked form keeps are not secret; the middle run is.
const SECRET_PART: &str = "4567890123";

const ACCOUNTS: &str = r#"
[accounts."13800000001"]
holder-name = "张三"
amount-due = { minor = 7000, currency = "CNY" }
"#;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_planted_payment_code_reaches_the_backend_and_no_other_channel() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.db");
    let events = Arc::new(Mutex::new(String::new()));
    let (backend, printed) = tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let clock = SimClock::new();
            let rng = SimRng::new(7);
            let unit = CashUnit::new(
                &AcceptorConfig::default(),
                &CashBoxConfig::default(),
                clock,
                rng.fork("acceptor"),
            )
            .unwrap();
            let (printer, printed) =
                VirtualPrinter::new(&PrinterConfig::default(), clock, rng.fork("printer")).unwrap();
            let (reader, window) = VirtualReader::new(&ReaderConfig::default(), clock);
            let backend_config: BackendConfig = toml::from_str(ACCOUNTS).unwrap();
            let backend = VirtualBackend::new(&backend_config, clock);
            let link = backend
                .link(&LinkConfig::default(), rng.fork("link"))
                .unwrap();
            let devices = Devices {
                acceptor: Box::new(unit.acceptor),
                cash_box: Box::new(unit.cash_box),
                printer: Box::new(printer),
                reader: Some(Box::new(reader)),
                link: Box::new(link),
            };
            let seen = events.clone();
            let observer = move |at: Millis, event: &KioskEvent| {
                let mut seen = seen.lock().unwrap();
                seen.push_str(&serde_json::to_string(event).unwrap());
                seen.push_str(&format!("{at} {event:?}\n"));
            };
            let mut kiosk = Kiosk::new(
                KioskConfig::default(),
                devices,
                Journal::open(&journal_path).unwrap(),
                Arc::new(clock),
                Box::new(observer),
            );
            let (buttons, mut button_rx) = tokio::sync::mpsc::channel(8);
            let customer = async move {
                let step = |ms| clock.sleep_until(Millis(ms));
                step(1_000).await;
                let account = AccountNumber("13800000001".into());
                buttons
                    .send(CustomerAction::EnterAccount { account })
                    .await
                    .ok();
                step(3_000).await;
                let method = PaymentMethod::Code;
                buttons
                    .send(CustomerAction::ChooseMethod { method })
                    .await
                    .ok();
                step(5_000).await;
                window.present_code(CODE);
                step(30_000).await;
            };
            let (result, ()) = tokio::join!(kiosk.run(&mut button_rx), customer);
            result.unwrap();
            let (_, journal) = kiosk.into_parts();
            journal.close().unwrap();
            (backend, printed)
        })
    });

    // Planted for real: the backend was charged with the full code, once.
    let postings = backend.postings();
    assert_eq!(postings.len(), 1, "one code payment");
    let charged = postings[0]
        .posting
        .code
        .as_ref()
        .expect("the posting carries the code");
    assert_eq!(charged.expose_digits(), CODE);
    assert_eq!(postings[0].times_applied, 1);

    let mut channels: Vec<(String, Vec<u8>)> = Vec::new();
    channels.push(("log lines".into(), logs.0.lock().unwrap().clone()));
    channels.push(("events".into(), events.lock().unwrap().clone().into_bytes()));
    let receipts: String = printed
        .receipts()
        .iter()
        .map(|r| format!("{r:?}\n"))
        .collect();
    assert!(!receipts.is_empty(), "a receipt was printed");
    channels.push(("printed receipts".into(), receipts.into_bytes()));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        channels.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        channels.iter().any(|(_, bytes)| !bytes.is_empty()),
        "nothing was captured"
    );
    for (name, bytes) in &channels {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(SECRET_PART),
            "the payment code leaked into {name}"
        );
    }
    // The journal did record the payment (the grep read a real file).
    let journal = channels
        .iter()
        .find(|(name, _)| name.ends_with("journal.db"))
        .expect("the journal file");
    assert!(String::from_utf8_lossy(&journal.1).contains("13800000001"));
}
