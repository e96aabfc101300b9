//! The receipt (缴费凭据) a payment prints.

use kiosk_hal::{mask_middle, Money, PaymentCode, PaymentPosting, Receipt, ReceiptLine};

use crate::ids::{KioskId, SessionId};

/// Builds the receipt for `posting`.
///
/// `credited` is the backend's reference and the new balance; `None` marks
/// the receipt PENDING (the backend has not answered yet). The account
/// number is masked to its last four digits; a payment code appears only
/// masked.
pub fn build_receipt(
    kiosk: &KioskId,
    site: &str,
    reference: &SessionId,
    posting: &PaymentPosting,
    credited: Option<(&str, Money)>,
    code: Option<&PaymentCode>,
) -> Receipt {
    let mut lines = vec![
        ReceiptLine::Bold("PAYMENT RECEIPT 缴费凭据".into()),
        ReceiptLine::Text(format!("Site: {site}")),
        ReceiptLine::Text(format!("Kiosk: {kiosk}")),
        ReceiptLine::Text(format!("Reference: {reference}")),
        ReceiptLine::Text(format!(
            "Account: {}",
            mask_middle(&posting.account.0, 0, 4)
        )),
        ReceiptLine::Bold(format!("Amount: {}", posting.amount)),
    ];
    if let Some(code) = code {
        lines.push(ReceiptLine::Text(format!("Code: {}", code.masked())));
    }
    match credited {
        Some((backend_ref, balance)) => {
            lines.push(ReceiptLine::Text(format!("Backend ref: {backend_ref}")));
            lines.push(ReceiptLine::Text(format!("New balance: {balance}")));
        }
        None => lines.push(ReceiptLine::Bold(
            "PENDING: will be credited when the billing system answers".into(),
        )),
    }
    lines.push(ReceiptLine::Qr(reference.0.clone()));
    Receipt {
        reference: reference.0.clone(),
        lines,
    }
}
