//! USB HID keyboard-wedge scanners read through Linux evdev: the 24-byte
//! `struct input_event` record and the keystrokes-to-text decoder.
//!
//! Many payment-code scanners are USB keyboards: each scanned code arrives
//! as key presses, one per character, ended by Enter. Linux hands them to
//! a reader of `/dev/input/eventN` as `struct input_event` records
//! (`linux/input.h`, 64-bit layout):
//!
//! ```text
//! offset  0  i64  time, seconds            (native byte order)
//! offset  8  i64  time, microseconds
//! offset 16  u16  type   (EV_SYN 0, EV_KEY 1, EV_MSC 4, …)
//! offset 18  u16  code   (KEY_* from linux/input-event-codes.h)
//! offset 20  i32  value  (EV_KEY: 0 release, 1 press, 2 auto-repeat)
//! ```
//!
//! - [`InputEvent`]: `parse` / `emit` of one record, exact inverses.
//! - [`RecordDecoder`]: cuts a byte stream delivered in any chunking into
//!   records (a pipe may split one; the kernel never does).
//! - [`KeyDecoder`]: key events to scanned lines with the US layout,
//!   shift and caps lock, Enter as the terminator, auto-repeat ignored.
//!   Its lines go to the same classification as a serial scanner's
//!   ([`scanner::classify_with`](super::scanner::classify_with)).
//!
//! Every 24 bytes are some record, so nothing here can fail on garbage:
//! unknown types and codes are skipped or spoil the line they fall in, and
//! are counted. Nothing here panics. Key codes and event types are the
//! kernel header's values (`KEY_1` = 2 … `KEY_0` = 11, `KEY_A` = 30,
//! `KEY_ENTER` = 28, `KEY_LEFTSHIFT` = 42); a scanned code is a bearer
//! token, so no `Debug` here shows buffered characters.

mod decoder;
mod keymap;
mod record;

pub use decoder::{KeyDecoder, KeyStats};
pub use keymap::{key_char, KeyClass};
pub use record::{InputEvent, RecordDecoder, RECORD_LEN};

/// `EV_SYN`: a synchronization event (report boundaries, dropped events).
pub const EV_SYN: u16 = 0x00;
/// `EV_KEY`: a key or button changed state.
pub const EV_KEY: u16 = 0x01;
/// `EV_MSC`: miscellaneous (the HID usage as `MSC_SCAN`), ignored here.
pub const EV_MSC: u16 = 0x04;
/// `EV_LED`: a keyboard LED (caps lock light), ignored here.
pub const EV_LED: u16 = 0x11;
/// `SYN_REPORT`: the end of one report.
pub const SYN_REPORT: u16 = 0;
/// `SYN_DROPPED`: the kernel's buffer overflowed and events were lost.
pub const SYN_DROPPED: u16 = 3;

/// `EV_KEY` value of a key released.
pub const KEY_RELEASED: i32 = 0;
/// `EV_KEY` value of a key pressed.
pub const KEY_PRESSED: i32 = 1;
/// `EV_KEY` value of an auto-repeat while the key is held.
pub const KEY_REPEAT: i32 = 2;

/// `KEY_ENTER`.
pub const KEY_ENTER: u16 = 28;
/// `KEY_KPENTER` (keypad Enter; some scanners end with it).
pub const KEY_KPENTER: u16 = 96;
/// `KEY_TAB` (a scanner suffix some vendors configure).
pub const KEY_TAB: u16 = 15;
/// `KEY_LEFTSHIFT`.
pub const KEY_LEFTSHIFT: u16 = 42;
/// `KEY_RIGHTSHIFT`.
pub const KEY_RIGHTSHIFT: u16 = 54;
/// `KEY_CAPSLOCK`.
pub const KEY_CAPSLOCK: u16 = 58;
