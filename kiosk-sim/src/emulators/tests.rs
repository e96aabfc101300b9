//! The emulators spoken to in raw bytes over their ptys (no driver).

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use kiosk_hal::wire::escpos::{render_receipt, RealTimeStatus};
use kiosk_hal::wire::id003::{Decoder, HostCommand, Setting, StatusResponse};
use kiosk_hal::{Currency, Money, PrinterStatus, Receipt, ReceiptLine};
use serialport::SerialPort;

use super::*;

fn open(path: &Path) -> Box<dyn SerialPort> {
    serialport::new(path.to_string_lossy(), 9600)
        .timeout(Duration::from_millis(20))
        .open()
        .expect("open the emulator's pty")
}

/// Sends a command and waits (up to 1 s) for one answer frame.
fn ask(port: &mut Box<dyn SerialPort>, cmd: HostCommand) -> Option<StatusResponse> {
    port.write_all(&cmd.to_bytes()).unwrap();
    let mut decoder = Decoder::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        if let Ok(n) = port.read(&mut buf) {
            decoder.push(&buf[..n]);
        }
        if let Some(Ok(frame)) = decoder.next_frame() {
            return StatusResponse::from_frame(&frame).ok();
        }
    }
    None
}

/// Polls until `wanted` is shown (up to 3 s); returns what was seen.
fn poll_until(
    port: &mut Box<dyn SerialPort>,
    wanted: impl Fn(&StatusResponse) -> bool,
) -> Vec<StatusResponse> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(s) = ask(port, HostCommand::StatusRequest) {
            let done = wanted(&s);
            seen.push(s);
            if done {
                return seen;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("not seen; saw {seen:?}");
}

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

#[test]
fn id003_emulator_speaks_the_status_sequence_of_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let config = Id003EmulatorConfig::default();
    let emu = Id003Emulator::start(dir.path().join("id003"), &config).unwrap();
    let mut port = open(emu.path());
    assert_eq!(
        ask(&mut port, HostCommand::StatusRequest),
        Some(StatusResponse::PowerUp)
    );
    assert_eq!(
        ask(&mut port, HostCommand::Reset),
        Some(StatusResponse::Ack)
    );
    let Some(StatusResponse::CurrencyAssign(entries)) =
        ask(&mut port, HostCommand::CurrencyAssignRequest)
    else {
        panic!("no currency table")
    };
    assert_eq!(entries.len(), 6);
    let echo = ask(&mut port, HostCommand::SetInhibit(false));
    assert_eq!(
        echo,
        Some(StatusResponse::SettingEcho(Setting::Inhibit(false)))
    );
    emu.insert_note(cny(20), true).unwrap();
    let seen = poll_until(&mut port, |s| matches!(s, StatusResponse::Escrow(_)));
    assert!(seen.contains(&StatusResponse::Accepting), "{seen:?}");
    assert_eq!(seen.last(), Some(&StatusResponse::Escrow(0x65)));
    assert_eq!(
        ask(&mut port, HostCommand::Stack1),
        Some(StatusResponse::Ack)
    );
    poll_until(&mut port, |s| *s == StatusResponse::VendValid);
    // VEND VALID repeats until the ACK.
    assert_eq!(
        ask(&mut port, HostCommand::StatusRequest),
        Some(StatusResponse::VendValid)
    );
    port.write_all(&HostCommand::Ack.to_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(
        ask(&mut port, HostCommand::StatusRequest),
        Some(StatusResponse::Stacked)
    );
    assert_eq!(
        ask(&mut port, HostCommand::StatusRequest),
        Some(StatusResponse::Idling)
    );
    assert_eq!(emu.staff().physical_contents().value, cny(20));
    assert_eq!(emu.stats().escrow_to_stack.len(), 1);
}

#[test]
fn id003_emulator_goes_silent_and_comes_back_at_a_new_pty() {
    let dir = tempfile::tempdir().unwrap();
    let emu =
        Id003Emulator::start(dir.path().join("id003"), &Id003EmulatorConfig::default()).unwrap();
    let mut port = open(emu.path());
    emu.line().set_silent(true);
    assert_eq!(ask(&mut port, HostCommand::StatusRequest), None);
    emu.line().set_silent(false);
    assert!(ask(&mut port, HostCommand::StatusRequest).is_some());
    emu.line().unplug();
    assert!(!emu.path().exists());
    let mut buf = [0u8; 8];
    assert!(port.read(&mut buf).is_err(), "the old pty is gone");
    emu.line().replug().unwrap();
    let mut port = open(emu.path());
    assert!(ask(&mut port, HostCommand::StatusRequest).is_some());
    emu.line().stage(LineFault::Corrupt { bits: 1 });
    port.write_all(&HostCommand::StatusRequest.to_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let n = port.read(&mut buf).unwrap();
    let mut decoder = Decoder::new();
    decoder.push(&buf[..n]);
    assert!(matches!(decoder.next_frame(), Some(Err(_))), "a CRC error");
}

#[test]
fn escpos_emulator_prints_answers_status_and_runs_out_of_paper() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        paper_lines: 3,
        near_end_lines: 1,
        ..EscPosEmulatorConfig::default()
    };
    let emu = EscPosEmulator::start(dir.path().join("printer"), &config).unwrap();
    let mut port = open(emu.path());
    let receipt = Receipt {
        reference: "K01-000001".into(),
        lines: vec![
            ReceiptLine::Bold("缴费凭据".into()),
            ReceiptLine::Text("K01-000001".into()),
        ],
    };
    port.write_all(&render_receipt(&receipt)).unwrap();
    port.write_all(&[0x10, 0x04, 4]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut buf = [0u8; 8];
    let n = port.read(&mut buf).unwrap();
    assert_eq!(n, 1);
    let near_end = RealTimeStatus::from_printer_status(PrinterStatus::PaperNearEnd).unwrap();
    assert_eq!(buf[0], near_end.roll.emit());
    assert_eq!(emu.receipts(), vec![receipt.lines.clone()]);
    assert!(emu.receipt_texts()[0].contains("K01-000001"));
    // Two more lines: the roll runs out under the second.
    port.write_all(&render_receipt(&receipt)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(emu.status(), PrinterStatus::PaperOut);
    assert_eq!(emu.receipts().len(), 1);
    assert_eq!(emu.torn_receipts().len(), 1);
    emu.set_one_way(true);
    port.write_all(&[0x10, 0x04, 1]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        port.read(&mut buf).is_err(),
        "a one-way printer never answers"
    );
}

#[test]
fn scanner_emulator_writes_lines_and_counts_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let emu = ScannerEmulator::start(dir.path().join("scanner"), &Default::default()).unwrap();
    let mut port = open(emu.path());
    port.write_all(&kiosk_hal::wire::scanner::TRIGGER_START)
        .unwrap();
    emu.scan("134567890123456789");
    std::thread::sleep(Duration::from_millis(60));
    let mut buf = [0u8; 64];
    let n = port.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"134567890123456789\r");
    assert_eq!(emu.triggers(), (1, 0));
}
