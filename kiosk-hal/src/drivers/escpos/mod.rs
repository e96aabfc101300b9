//! ESC/POS receipt printer driver.
//!
//! - [`EscPosHost`]: the sans-IO host: one request at a time, the
//!   real-time status read byte by byte (DLE EOT 1–4, each answer checked
//!   for the fixed bits, garbage skipped), a receipt sent only after a
//!   status that allows printing, and `Printed` only with a good status
//!   after it.
//! - `EscPosPrinter` (feature `serial`): the shell, a
//!   [`ReceiptPrinter`](crate::ReceiptPrinter) over a serial port. Receipts
//!   are rendered with [`render_receipt`](crate::wire::escpos::render_receipt).

mod config;
mod host;

#[cfg(feature = "serial")]
mod printer;

pub use config::EscPosConfig;
pub use host::{failure_kind, EscPosHost, PrinterDone, PrinterReply, PrinterRequest, PrinterStats};

#[cfg(feature = "serial")]
pub use printer::EscPosPrinter;
