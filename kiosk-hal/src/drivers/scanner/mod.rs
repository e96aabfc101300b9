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

mod config;
mod host;

#[cfg(feature = "serial")]
mod reader;

pub use config::ScannerConfig;
pub use host::{Scan, ScannerHost};

#[cfg(feature = "serial")]
pub use reader::SerialScanner;
