//! The serial scanner driver against the scanner emulator over a pty.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use kiosk_hal::drivers::scanner::{ScannerConfig, SerialScanner};
use kiosk_hal::wire::scanner::Terminator;
use kiosk_hal::{ErrorKind, PaymentCode, PaymentReader, PaymentScheme};
use kiosk_sim::emulators::{ScannerEmulator, ScannerEmulatorConfig};

const WECHAT: &str = "134567890123456789";
const ALIPAY: &str = "2812345678901234";

fn driver(path: &Path, trigger: bool) -> SerialScanner {
    SerialScanner::open(&ScannerConfig {
        terminator: Terminator::CrLf,
        trigger,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 400,
        ..ScannerConfig::for_port(path)
    })
    .unwrap()
}

fn emulator(dir: &Path) -> ScannerEmulator {
    let config = ScannerEmulatorConfig {
        terminator: Terminator::CrLf,
        ..ScannerEmulatorConfig::default()
    };
    ScannerEmulator::start(dir.join("scanner"), &config).unwrap()
}

async fn connected(scanner: &SerialScanner) {
    for _ in 0..200 {
        if scanner.is_connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the scanner's port never opened");
}

async fn read(scanner: &mut SerialScanner) -> Result<PaymentCode, ErrorKind> {
    tokio::time::timeout(Duration::from_secs(2), scanner.read_code())
        .await
        .expect("a scan within 2 s")
        .map_err(|e| e.kind())
}

#[tokio::test]
async fn payment_codes_are_read_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path());
    let mut scanner = driver(emu.path(), true);
    connected(&scanner).await;
    emu.scan(WECHAT);
    let code = read(&mut scanner).await.unwrap();
    assert_eq!(code.scheme, PaymentScheme::WeChatPay);
    assert_eq!(code.expose_digits(), WECHAT);
    emu.scan(ALIPAY);
    let code = read(&mut scanner).await.unwrap();
    assert_eq!(code.scheme, PaymentScheme::Alipay);
    assert!(emu.triggers().0 >= 1, "the serial trigger was sent");
}

#[tokio::test]
async fn garbage_is_a_protocol_error_and_the_reader_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path());
    let mut scanner = driver(emu.path(), false);
    connected(&scanner).await;
    emu.scan("https://example.invalid/not-a-payment-code");
    assert_eq!(read(&mut scanner).await.unwrap_err(), ErrorKind::Protocol);
    emu.send_raw(&[0xFF, 0xFE, 0x00, b'9', b'\r', b'\n']);
    assert_eq!(read(&mut scanner).await.unwrap_err(), ErrorKind::Protocol);
    emu.scan("99999999");
    assert_eq!(read(&mut scanner).await.unwrap_err(), ErrorKind::Protocol);
    emu.scan(WECHAT);
    assert_eq!(read(&mut scanner).await.unwrap().expose_digits(), WECHAT);
    assert_eq!(scanner.decoder_stats().frames_ok, 4);
}

#[tokio::test]
async fn an_unplugged_scanner_fails_checks_until_plugged_back() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path());
    let mut scanner = driver(emu.path(), false);
    connected(&scanner).await;
    scanner.check().await.unwrap();
    emu.line().unplug();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        scanner.check().await.unwrap_err().kind(),
        ErrorKind::Offline
    );
    assert_eq!(read(&mut scanner).await.unwrap_err(), ErrorKind::Offline);
    emu.line().replug().unwrap();
    connected(&scanner).await;
    emu.scan(WECHAT);
    assert_eq!(read(&mut scanner).await.unwrap().expose_digits(), WECHAT);
}
