//! Serial barcode / QR scanner driver.
//!
//! - [`ScannerHost`]: the sans-IO host: line framing
//!   ([`LineDecoder`](crate::wire::scanner::LineDecoder)), classification
//!   with configurable rules
//!   ([`classify_with`](crate::wire::scanner::classify_with)), the optional
//!   serial trigger.
//! - `SerialScanner` (feature `serial`): the shell, a
//!   [`PaymentReader`](crate::PaymentReader). A line that is not a payment
//!   code is an error of kind `Protocol` and the reader stays usable.
//! - [`HidScannerHost`]: the sans-IO host of a USB HID (keyboard-wedge)
//!   scanner: `input_event` records
//!   ([`wire::evdev`](crate::wire::evdev)) to lines to the same
//!   classification.
//! - `HidScanner` (feature `evdev`): its shell on `/dev/input/eventN`,
//!   grabbed exclusively (`EVIOCGRAB`) so keystrokes reach nothing else.

mod config;
mod hid_config;
mod hid_host;
mod host;

#[cfg(feature = "evdev")]
mod hid_reader;

#[cfg(feature = "serial")]
mod reader;

pub use config::ScannerConfig;
pub use hid_config::HidScannerConfig;
pub use hid_host::HidScannerHost;
pub use host::{Scan, ScannerHost};

#[cfg(feature = "evdev")]
pub use hid_reader::HidScanner;

#[cfg(feature = "serial")]
pub use reader::SerialScanner;

/// The configured scheme rules, or the built-in ones.
fn config_rules(
    rules: Option<&Vec<crate::wire::scanner::SchemeRule>>,
) -> Vec<crate::wire::scanner::SchemeRule> {
    rules
        .cloned()
        .unwrap_or_else(crate::wire::scanner::default_rules)
}

#[cfg(all(test, feature = "evdev"))]
mod hid_tests;
