//! The receipt (缴费凭据) a payment prints, in the session's receipt
//! language from its catalog (kiosk-text): Chinese by default.

use kiosk_hal::{Money, PaymentCode, PaymentPosting, Receipt};
use kiosk_text::{render_receipt, ReceiptFields};

use crate::ids::{KioskId, Millis, SessionId};
use crate::session::SessionConfig;

/// Builds the receipt for `posting`, made at `at` (kiosk time: milliseconds
/// since the Unix epoch on a real kiosk).
///
/// `credited` is the backend's reference and the new balance; `None` marks
/// the receipt pending (the backend has not answered yet). The account
/// number is masked to its last four digits; a payment code appears only
/// masked. The texts, the language and the printed time's offset from UTC
/// are the session configuration's (`catalog`, `receipt_lang`,
/// `utc_offset_minutes`).
pub fn build_receipt(
    config: &SessionConfig,
    kiosk: &KioskId,
    reference: &SessionId,
    posting: &PaymentPosting,
    credited: Option<(&str, Money)>,
    code: Option<&PaymentCode>,
    at: Millis,
) -> Receipt {
    let fields = ReceiptFields {
        site: &config.site,
        kiosk: &kiosk.0,
        reference: &reference.0,
        time_ms: at.0,
        utc_offset_minutes: config.utc_offset_minutes,
        posting,
        credited,
        code,
    };
    render_receipt(&config.catalog, config.receipt_lang, &fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{
        AccountNumber, Currency, IdempotencyKey, PaymentMethod, PaymentScheme, ReceiptLine,
    };
    use kiosk_text::Lang;

    fn posting() -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey("K07-000012".into()),
            account: AccountNumber("13912345678".into()),
            amount: Money::major(150, Currency::CNY),
            method: PaymentMethod::Code,
            code: None,
        }
    }

    fn text(r: &Receipt) -> String {
        r.lines
            .iter()
            .map(|l| match l {
                ReceiptLine::Text(s) | ReceiptLine::Bold(s) | ReceiptLine::Qr(s) => s.as_str(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_session_prints_its_receipt_in_chinese_by_default_at_beijing_time() {
        let config = SessionConfig {
            site: "西城营业厅".into(),
            ..SessionConfig::default()
        };
        let code = PaymentCode::new(PaymentScheme::Alipay, "281234567890123456");
        // 2026-11-29 15:30:00 UTC is 23:30:00 in Beijing.
        let at = Millis(1_795_966_200_000);
        let r = build_receipt(
            &config,
            &KioskId("K07".into()),
            &SessionId("K07-000012".into()),
            &posting(),
            Some(("B-9", Money::major(0, Currency::CNY))),
            Some(&code),
            at,
        );
        let all = text(&r);
        for expected in [
            "缴费凭据",
            "营业厅：西城营业厅",
            "终端号：K07",
            "缴费时间：2026-11-29 23:30:00",
            "缴费号码：*******5678",
            "缴费金额：150.00 元",
            "系统流水号：B-9",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from\n{all}");
        }
        assert!(!all.contains("281234567890123456"), "full code printed");
        assert!(!all.contains("13912345678"), "full account printed");
    }

    #[test]
    fn the_receipt_language_and_time_zone_are_the_configurations() {
        let config = SessionConfig {
            receipt_lang: Lang::En,
            utc_offset_minutes: 0,
            ..SessionConfig::default()
        };
        let r = build_receipt(
            &config,
            &KioskId("K07".into()),
            &SessionId("K07-000013".into()),
            &posting(),
            None,
            None,
            Millis(1_795_966_200_000),
        );
        let all = text(&r);
        assert!(all.contains("2026-11-29 15:30:00"), "{all}");
        assert!(all.contains("PENDING"), "{all}");
        assert!(!all.contains("缴费凭据"), "{all}");
    }
}
