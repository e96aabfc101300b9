//! Device drivers: real hardware behind the HAL traits.
//!
//! Every serial driver is split the sans-IO way (see `shared/docs/style.md`):
//!
//! - a **host state machine** that owns the protocol and nothing else: feed
//!   it decoded answers and the time, ask it what to send next and what
//!   happened ([`id003::Id003Host`], [`ccnet::CcnetHost`],
//!   [`cctalk::CctalkHost`] (bill validators and coin acceptors),
//!   [`ssp::SspHost`], [`escpos::EscPosHost`], [`scanner::ScannerHost`],
//!   [`scanner::HidScannerHost`]). These compile without any feature and
//!   are what the unit tests and property tests drive;
//! - a **thin shell** (feature `serial`): one I/O thread per port doing
//!   blocking `serialport` reads with a short timeout, reopening the port
//!   with bounded exponential backoff when it disappears, and talking to the
//!   async trait implementation through tokio channels. `next_event` and
//!   `read_code` are plain channel receives, so they are cancel safe.
//!
//! The USB HID scanner (feature `evdev`) has its own small I/O thread on
//! the input device (`scanner::HidScanner`): records, not a serial line.
//!
//! GPIO drivers (feature `gpio`) follow the same split: a pulse counter
//! ([`pulse::PulseCounter`]) fed with pin levels and the time, and sampling
//! shells over `embedded_hal::digital::InputPin`. Feature `gpio-cdev` adds
//! real pins on Linux's GPIO character device (`gpio::CdevInputPin`).
//!
//! [`config`] describes a kiosk's devices in a serde (TOML) file; with the
//! `serial` feature `config::build_devices` turns it into boxed HAL trait
//! objects (with `gpio-cdev` too, pulse acceptors and cash-box switches on
//! GPIO lines), so an integrator changes hardware by editing that file.
//!
//! # What is deliberately omitted
//!
//! - ID-003 encryption and the 0xC0 denomination bit meaning (⚠ disputed
//!   between drivers): the acceptor driver sends configurable bits and
//!   filters denominations itself.
//! - CCNET frames longer than 250 bytes (firmware download) and the
//!   bill-to-bill / recycler commands; ccTalk encryption (DES / BNV);
//!   coin hoppers and coin payout.
//! - ccTalk cannot report a note in the stacker at power-up: a note moving
//!   when the power went stays in doubt for staff.

pub mod backoff;
pub mod ccnet;
pub mod cctalk;
pub mod config;
pub mod escpos;
#[cfg(feature = "gpio")]
pub mod gpio;
pub mod id003;
pub mod line;
pub mod pulse;
pub mod scanner;
#[cfg(feature = "serial")]
pub mod serial;
pub mod ssp;

pub use backoff::{Backoff, ReconnectConfig};
pub use line::{Parity, SerialLine};
