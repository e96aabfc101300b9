//! The receipt printer.
//!
//! A printer that cannot print must never stop a payment: the core completes
//! the payment, shows the reference on screen and keeps the receipt for
//! reprint. What a printer must never do is claim a receipt was printed
//! without evidence: a one-way printer reports [`PrintOutcome::Unknown`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{DeviceError, DeviceIdentity};

/// The printer's condition, most severe condition first when several hold.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrinterStatus {
    /// Ready to print.
    Ready,
    /// Ready, but the paper roll is nearly used up: replenish soon.
    PaperNearEnd,
    /// No paper.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// The paper or cutter is jammed.
    Jammed,
    /// An error the printer cannot recover from by itself.
    Unrecoverable,
    /// Not answering.
    Offline,
    /// The printer cannot report its status (one-way link).
    Unknown,
}

impl PrinterStatus {
    /// Whether a receipt can be attempted in this condition.
    ///
    /// `Unknown` may be attempted; the outcome will then be unknown too.
    pub fn can_print(&self) -> bool {
        matches!(
            self,
            PrinterStatus::Ready | PrinterStatus::PaperNearEnd | PrinterStatus::Unknown
        )
    }
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "text")]
pub enum ReceiptLine {
    /// Ordinary text (may contain CJK characters; the driver encodes it).
    Text(String),
    /// Emphasised text (a heading or the amount).
    Bold(String),
    /// A QR code with this payload (e.g. the transaction reference).
    Qr(String),
}

/// A receipt (缴费凭据) to print: plain data, the driver renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction reference, also shown on screen.
    pub reference: String,
    /// The lines, top to bottom.
    pub lines: Vec<ReceiptLine>,
}

/// What happened to a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrintOutcome {
    /// Printed and cut, confirmed by the printer's status afterwards.
    Printed,
    /// Sent, but the printer gave no evidence either way.
    Unknown,
}

/// A receipt printer.
///
/// # Contract
///
/// - `print` checks the printer's status before and after the receipt.
///   It returns `Ok(Printed)` only with evidence, `Ok(Unknown)` for a printer
///   that cannot tell, and an error (kind `PaperOut`, `CoverOpen`, `Jam`,
///   `Offline`, …) when the receipt was not, or not wholly, printed.
/// - Printing is **not** idempotent: a retry prints a second copy.
#[async_trait]
pub trait ReceiptPrinter: Send {
    /// Reads the real-time status.
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError>;

    /// Prints and cuts one receipt.
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError>;

    /// What the device says about itself (model, firmware, serial number),
    /// as cached by the driver after set-up: reading it does not talk to
    /// the device. The default says nothing, so implementations written
    /// before this method keep compiling; drivers whose protocol offers an
    /// identity override it.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(DeviceIdentity::unknown())
    }
}

#[async_trait]
impl<T: ReceiptPrinter + ?Sized> ReceiptPrinter for Box<T> {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        (**self).status().await
    }
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        (**self).print(receipt).await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        (**self).identity().await
    }
}
