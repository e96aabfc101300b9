//! The HID scanner reader's I/O path: `input_event` records through a FIFO
//! (this machine has no `/dev/input`), and a uinput keyboard where the
//! kernel allows one.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{HidScanner, HidScannerConfig};
use crate::wire::evdev::{InputEvent, EV_KEY, EV_SYN, SYN_REPORT};
use crate::{DeviceProtocol, ErrorKind, PaymentReader, PaymentScheme};

/// Key codes from `linux/input-event-codes.h`: KEY_1 = 2 … KEY_9 = 10, KEY_0 = 11.
fn digit_code(d: char) -> u16 {
    match d {
        '0' => 11,
        d => 2 + (d as u16 - '1' as u16),
    }
}

/// Press, report, release, report per digit; Enter (28) at the end.
fn typed(digits: &str) -> Vec<InputEvent> {
    let syn = InputEvent::new(EV_SYN, SYN_REPORT, 0);
    digits
        .chars()
        .map(digit_code)
        .chain([28])
        .flat_map(|code| {
            [
                InputEvent::new(EV_KEY, code, 1),
                syn,
                InputEvent::new(EV_KEY, code, 0),
                syn,
            ]
        })
        .collect()
}

fn bytes(events: &[InputEvent]) -> Vec<u8> {
    events.iter().flat_map(|e| e.to_bytes()).collect()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(ok.success());
}

async fn connected(scanner: &HidScanner, want: bool) {
    for _ in 0..300 {
        if scanner.is_connected() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("connected never became {want}");
}

fn config(path: &Path) -> HidScannerConfig {
    HidScannerConfig {
        reconnect_initial_ms: 50,
        reconnect_max_ms: 100,
        ..HidScannerConfig::for_device(path)
    }
}

async fn code_within(scanner: &mut HidScanner, ms: u64) -> Result<crate::PaymentCode, ErrorKind> {
    tokio::time::timeout(Duration::from_millis(ms), scanner.read_code())
        .await
        .expect("a code in time")
        .map_err(|e| e.kind())
}

const WECHAT: &str = "134567890123456789";

#[tokio::test]
async fn records_written_to_a_fifo_in_pieces_come_out_as_one_classified_code() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scanner");
    mkfifo(&fifo);
    let mut scanner = HidScanner::open(&config(&fifo)).unwrap();
    connected(&scanner, true).await;
    let id = scanner.identity().await.unwrap();
    assert_eq!(id.protocol, DeviceProtocol::HidScanner);
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    // Garbage records first (an F1 press spoils its line; a bogus type),
    // then an Enter so the spoiled line ends, then the code in two writes
    // split inside a record.
    let mut garbage = bytes(&[
        InputEvent::new(EV_KEY, 59, 1),
        InputEvent::new(0x7777, 3, -9),
        InputEvent::new(EV_KEY, 28, 1),
    ]);
    garbage.extend(bytes(&typed(WECHAT)));
    let cut = garbage.len() / 2 + 5;
    writer.write_all(&garbage[..cut]).unwrap();
    assert_eq!(
        code_within(&mut scanner, 2000).await,
        Err(ErrorKind::Protocol),
        "the spoiled line is refused, not read as a code"
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    writer.write_all(&garbage[cut..]).unwrap();
    let code = code_within(&mut scanner, 2000).await.unwrap();
    assert_eq!(code.scheme, PaymentScheme::WeChatPay);
    assert_eq!(code.expose_digits(), WECHAT);
    assert_eq!(scanner.key_stats().unknown_keys, 1);
    // The source vanishes: offline; it comes back: read again.
    drop(writer);
    std::fs::remove_file(&fifo).unwrap();
    connected(&scanner, false).await;
    assert_eq!(
        scanner.check().await.map_err(|e| e.kind()),
        Err(ErrorKind::Offline)
    );
    assert!(
        scanner.offline_reason().contains("gone"),
        "{}",
        scanner.offline_reason()
    );
    mkfifo(&fifo);
    connected(&scanner, true).await;
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer
        .write_all(&bytes(&typed("2812345678901234")))
        .unwrap();
    let code = code_within(&mut scanner, 2000).await.unwrap();
    assert_eq!(code.scheme, PaymentScheme::Alipay);
}

#[tokio::test]
async fn a_regular_file_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-device");
    std::fs::write(&file, bytes(&typed(WECHAT))).unwrap();
    let mut scanner = HidScanner::open(&config(&file)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!scanner.is_connected());
    assert_eq!(
        scanner.check().await.map_err(|e| e.kind()),
        Err(ErrorKind::Offline)
    );
    assert!(
        scanner
            .offline_reason()
            .contains("neither an input device nor a FIFO"),
        "{}",
        scanner.offline_reason()
    );
}

/// A virtual USB keyboard through uinput: the device is grabbed (a second
/// grab fails) and its keys come out as a code. Needs `/dev/uinput` and
/// the right to use it; skipped, saying why, where the kernel does not
/// offer it (containers, CI without the module).
#[tokio::test]
async fn a_uinput_keyboard_is_grabbed_and_read() {
    if !Path::new("/dev/uinput").exists() {
        eprintln!(
            "SKIPPED a_uinput_keyboard_is_grabbed_and_read: no /dev/uinput on this machine \
             (a container, or the uinput module not loaded); the FIFO test covers the read path"
        );
        return;
    }
    let mut keys = evdev::AttributeSet::<evdev::KeyCode>::new();
    for code in 1..=96u16 {
        keys.insert(evdev::KeyCode::new(code));
    }
    let mut virtual_kbd = match evdev::uinput::VirtualDevice::builder()
        .and_then(|b| b.name("kiosk test scanner").with_keys(&keys))
        .and_then(|b| b.build())
    {
        Ok(device) => device,
        Err(e) => {
            eprintln!(
                "SKIPPED a_uinput_keyboard_is_grabbed_and_read: cannot create a uinput device: {e}"
            );
            return;
        }
    };
    let node = virtual_kbd
        .enumerate_dev_nodes_blocking()
        .unwrap()
        .filter_map(Result::ok)
        .next()
        .expect("the virtual keyboard's event node");
    let mut scanner = HidScanner::open(&config(&node)).unwrap();
    connected(&scanner, true).await;
    let id = scanner.identity().await.unwrap();
    assert!(id.model.unwrap().contains("kiosk test scanner"));
    // Grabbed: nobody else gets the keys.
    let mut other = evdev::raw_stream::RawDevice::open(&node).unwrap();
    assert!(other.grab().is_err(), "the reader holds the grab");
    let events: Vec<evdev::InputEvent> = typed(WECHAT)
        .iter()
        .map(|e| evdev::InputEvent::new(e.kind, e.code, e.value))
        .collect();
    virtual_kbd.emit(&events).unwrap();
    let code = code_within(&mut scanner, 2000).await.unwrap();
    assert_eq!(code.expose_digits(), WECHAT);
    // Dropping the reader releases the grab.
    drop(scanner);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(other.grab().is_ok());
}
