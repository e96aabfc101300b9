//! The ESC/POS driver against the ESC/POS emulator over a pty, in real time.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::{ErrorKind, PrintOutcome, PrinterStatus, Receipt, ReceiptLine, ReceiptPrinter};
use kiosk_sim::emulators::{EscPosEmulator, EscPosEmulatorConfig};

fn driver(path: &Path, one_way: bool) -> EscPosPrinter {
    EscPosPrinter::open(&EscPosConfig {
        one_way,
        answer_timeout_ms: 250,
        print_settle_ms: 100,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..EscPosConfig::for_port(path)
    })
    .unwrap()
}

fn emulator(dir: &Path, config: EscPosEmulatorConfig) -> EscPosEmulator {
    EscPosEmulator::start(dir.join("printer"), &config).unwrap()
}

async fn connected(printer: &EscPosPrinter) {
    for _ in 0..200 {
        if printer.is_connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the printer's port never opened");
}

fn receipt(reference: &str) -> Receipt {
    Receipt {
        reference: reference.into(),
        lines: vec![
            ReceiptLine::Bold("缴费凭据 Payment receipt".into()),
            ReceiptLine::Text("Account 1001".into()),
            ReceiptLine::Text("Amount CNY 70.00".into()),
            ReceiptLine::Text(format!("Reference {reference}")),
            ReceiptLine::Qr(reference.into()),
        ],
    }
}

#[tokio::test]
async fn a_receipt_prints_and_decodes_to_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), EscPosEmulatorConfig::default());
    let mut printer = driver(emu.path(), false);
    connected(&printer).await;
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::Ready);
    let r = receipt("K01-000042");
    assert_eq!(printer.print(&r).await.unwrap(), PrintOutcome::Printed);
    assert_eq!(emu.receipts(), vec![r.lines.clone()]);
    let text = &emu.receipt_texts()[0];
    assert!(text.contains("Reference K01-000042"), "{text}");
    assert!(text.contains("缴费凭据"), "{text}");
    assert!(emu.status_requests() >= 8, "checked before and after");
}

#[tokio::test]
async fn paper_running_out_mid_receipt_is_an_error_and_blocks_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        paper_lines: 3,
        near_end_lines: 1,
        ..EscPosEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    let mut printer = driver(emu.path(), false);
    connected(&printer).await;
    let err = printer.print(&receipt("K01-1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PaperOut);
    assert!(emu.receipts().is_empty());
    assert_eq!(emu.torn_receipts().len(), 1, "half a receipt came out");
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::PaperOut);
    let lost = emu.lost_commands();
    let err = printer.print(&receipt("K01-2")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PaperOut);
    assert_eq!(
        emu.lost_commands(),
        lost,
        "nothing sent to a printer without paper"
    );
    emu.load_paper(1000);
    let printed = printer.print(&receipt("K01-3")).await.unwrap();
    assert_eq!(printed, PrintOutcome::Printed);
}

#[tokio::test]
async fn cover_open_and_cutter_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), EscPosEmulatorConfig::default());
    let mut printer = driver(emu.path(), false);
    connected(&printer).await;
    emu.set_cover_open(true);
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::CoverOpen);
    let err = printer.print(&receipt("K01-1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CoverOpen);
    emu.set_cover_open(false);
    emu.set_cutter_error(true);
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::Jammed);
}

#[tokio::test]
async fn a_one_way_printer_is_never_said_to_have_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        one_way: true,
        ..EscPosEmulatorConfig::default()
    };
    let emu = emulator(dir.path(), config);
    // Configured one-way: no status is even asked for.
    let mut printer = driver(emu.path(), true);
    connected(&printer).await;
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::Unknown);
    let r = receipt("K01-7");
    assert_eq!(printer.print(&r).await.unwrap(), PrintOutcome::Unknown);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(emu.receipts(), vec![r.lines.clone()], "it did print");
    assert_eq!(emu.status_requests(), 0);
    // A two-way driver on a printer that never answers: offline, nothing sent.
    drop(printer);
    let mut printer = driver(emu.path(), false);
    connected(&printer).await;
    let err = printer.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline);
    let err = printer.print(&r).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline);
    assert_eq!(emu.receipts().len(), 1);
}

#[tokio::test]
async fn an_unplugged_printer_is_offline_until_plugged_back() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), EscPosEmulatorConfig::default());
    let mut printer = driver(emu.path(), false);
    connected(&printer).await;
    emu.line().unplug();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = printer.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline);
    emu.line().replug().unwrap();
    connected(&printer).await;
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::Ready);
}
