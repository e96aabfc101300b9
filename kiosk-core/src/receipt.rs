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
    let mut lines = Vec::with_capacity(10);
    lines.extend([
        ReceiptLine::Bold("PAYMENT RECEIPT 缴费凭据".into()),
        ReceiptLine::Text(labelled("Site: ", site)),
        ReceiptLine::Text(labelled("Kiosk: ", &kiosk.0)),
        ReceiptLine::Text(labelled("Reference: ", &reference.0)),
        ReceiptLine::Text(labelled(
            "Account: ",
            &mask_middle(&posting.account.0, 0, 4),
        )),
        ReceiptLine::Bold(format!("Amount: {}", posting.amount)),
    ]);
    if let Some(code) = code {
        lines.push(ReceiptLine::Text(labelled("Code: ", &code.masked())));
    }
    match credited {
        Some((backend_ref, balance)) => {
            lines.push(ReceiptLine::Text(labelled("Backend ref: ", backend_ref)));
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

/// `label` followed by `value`, built in one allocation (the same text as
/// `format!("{label}{value}")`, without the formatting machinery: every
/// payment builds a receipt, and a simulated hall builds thousands a second).
fn labelled(label: &str, value: &str) -> String {
    let mut line = String::with_capacity(label.len() + value.len());
    line.push_str(label);
    line.push_str(value);
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{IdempotencyKey, PaymentMethod, PaymentScheme};

    /// The text of every line, credited and pending, with and without a code.
    #[test]
    fn receipts_read_as_the_customer_and_staff_expect() {
        let kiosk = KioskId("hall-7-K01".into());
        let reference = SessionId::new(&kiosk, 42);
        let posting = PaymentPosting {
            key: IdempotencyKey(format!("{reference}-p")),
            account: kiosk_hal::AccountNumber("13800001234".into()),
            amount: Money::major(150, kiosk_hal::Currency::CNY),
            method: PaymentMethod::Code,
            code: None,
        };
        let code = PaymentCode::new(PaymentScheme::WeChatPay, "134567890123456789");
        let balance = Money::major(0, kiosk_hal::Currency::CNY);
        let text = |r: &Receipt| -> Vec<String> {
            r.lines
                .iter()
                .map(|l| match l {
                    ReceiptLine::Text(t) | ReceiptLine::Bold(t) | ReceiptLine::Qr(t) => t.clone(),
                })
                .collect()
        };
        let credited = build_receipt(
            &kiosk,
            "hall-7",
            &reference,
            &posting,
            Some(("BOSS-9", balance)),
            Some(&code),
        );
        assert_eq!(credited.reference, reference.0);
        assert_eq!(
            text(&credited),
            [
                "PAYMENT RECEIPT 缴费凭据".to_string(),
                "Site: hall-7".into(),
                format!("Kiosk: {kiosk}"),
                format!("Reference: {reference}"),
                "Account: *******1234".into(),
                format!("Amount: {}", posting.amount),
                "Code: 13************6789".into(),
                "Backend ref: BOSS-9".into(),
                format!("New balance: {balance}"),
                reference.0.clone(),
            ]
        );
        let pending = build_receipt(&kiosk, "hall-7", &reference, &posting, None, None);
        assert_eq!(
            text(&pending)[5..],
            [
                format!("Amount: {}", posting.amount),
                "PENDING: will be credited when the billing system answers".into(),
                reference.0.clone(),
            ]
        );
    }
}
