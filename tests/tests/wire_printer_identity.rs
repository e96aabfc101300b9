//! The ESC/POS driver reads the printer's identity (GS I n) from the
//! printer emulator over a pty, in real time: the text forms where the
//! printer has them, the one-byte IDs where it does not, nothing from a
//! one-way printer.

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosPrinter};
use kiosk_hal::{DeviceIdentity, DeviceProtocol, PrinterStatus, ReceiptPrinter};
use kiosk_sim::emulators::{EscPosEmulator, EscPosEmulatorConfig, EscPosIdentity};

fn driver(path: &Path, one_way: bool) -> EscPosPrinter {
    EscPosPrinter::open(&EscPosConfig {
        one_way,
        answer_timeout_ms: 200,
        print_settle_ms: 50,
        ..EscPosConfig::for_port(path)
    })
    .unwrap()
}

/// The identity once it stops changing (at most 3 s).
async fn settled_identity(
    printer: &mut EscPosPrinter,
    want: impl Fn(&DeviceIdentity) -> bool,
) -> DeviceIdentity {
    for _ in 0..300 {
        let id = printer.identity().await.unwrap();
        if want(&id) {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    printer.identity().await.unwrap()
}

#[tokio::test]
async fn the_text_forms_give_model_firmware_maker_and_serial() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        identity: EscPosIdentity {
            model: "TM-T82III".into(),
            firmware: "2.03 ESC/POS".into(),
            maker: "EPSON".into(),
            serial: "X7QK012345".into(),
            ..EscPosIdentity::default()
        },
        ..EscPosEmulatorConfig::default()
    };
    let emu = EscPosEmulator::start(dir.path().join("printer"), &config).unwrap();
    let mut printer = driver(emu.path(), false);
    let id = settled_identity(&mut printer, |id| id.serial.is_some()).await;
    assert_eq!(id.protocol, DeviceProtocol::EscPos);
    assert_eq!(id.model.as_deref(), Some("TM-T82III"));
    assert_eq!(id.firmware.as_deref(), Some("2.03 ESC/POS"));
    assert_eq!(id.manufacturer.as_deref(), Some("EPSON"));
    assert_eq!(id.serial.as_deref(), Some("X7QK012345"));
    assert_eq!(emu.id_requests(), 4);
    // Status reads work as before after it.
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::Ready);
}

#[tokio::test]
async fn a_printer_without_text_forms_gives_its_one_byte_ids() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        identity: EscPosIdentity {
            model_id: 0x2C,
            firmware_id: 0x02,
            text_ids: false,
            ..EscPosIdentity::default()
        },
        ..EscPosEmulatorConfig::default()
    };
    let emu = EscPosEmulator::start(dir.path().join("printer"), &config).unwrap();
    let mut printer = driver(emu.path(), false);
    let id = settled_identity(&mut printer, |id| id.firmware.is_some()).await;
    assert_eq!(id.model.as_deref(), Some("model id 0x2C"));
    assert_eq!(id.firmware.as_deref(), Some("firmware id 0x02"));
    assert_eq!(id.serial, None);
    assert_eq!(printer.stats().identity_timeouts, 1);
}

#[tokio::test]
async fn a_one_way_printer_is_never_asked() {
    let dir = tempfile::tempdir().unwrap();
    let config = EscPosEmulatorConfig {
        one_way: true,
        ..EscPosEmulatorConfig::default()
    };
    let emu = EscPosEmulator::start(dir.path().join("printer"), &config).unwrap();
    let mut printer = driver(emu.path(), true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!printer.identity().await.unwrap().is_known());
    assert_eq!(emu.id_requests(), 0);
}
