//! The receipt (缴费凭据) a payment prints, in the session's receipt
//! language from its catalog (kiosk-text): Chinese by default.
//!
//! A session hands its receipt out as a [`LazyReceipt`]: the texts are
//! only rendered when something reads them (the printer printing it, the
//! journal keeping it for a reprint), so a simulated hall, whose virtual
//! printers never read a receipt, does not pay for rendering one per
//! customer.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

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

/// A receipt rendered the first time it is read, then kept.
///
/// It dereferences to the [`Receipt`] that [`build_receipt`] gives for the
/// same inputs, so a printer prints (`printer.print(&receipt)`) and a
/// journal keeps exactly what an eagerly built receipt held. Rendering
/// (the catalog's texts, the masked account and code, the local time, the
/// amounts written out) was an eighth of a simulated site's instructions
/// when every session did it, while the site's virtual printers never read
/// a receipt. Clones share the one rendering.
#[derive(Clone)]
pub struct LazyReceipt(Arc<Lazy>);

struct Lazy {
    /// What to render from; `None` for a receipt made already rendered.
    source: Option<ReceiptSource>,
    rendered: OnceLock<Receipt>,
}

/// The inputs of [`build_receipt`], owned.
struct ReceiptSource {
    config: Arc<SessionConfig>,
    kiosk: KioskId,
    reference: SessionId,
    posting: Arc<PaymentPosting>,
    credited: Option<(String, Money)>,
    code: Option<PaymentCode>,
    at: Millis,
}

impl LazyReceipt {
    /// The receipt [`build_receipt`] would build from these inputs,
    /// rendered when first read.
    pub fn session(
        config: Arc<SessionConfig>,
        kiosk: KioskId,
        reference: SessionId,
        posting: Arc<PaymentPosting>,
        credited: Option<(String, Money)>,
        code: Option<PaymentCode>,
        at: Millis,
    ) -> LazyReceipt {
        LazyReceipt(Arc::new(Lazy {
            source: Some(ReceiptSource {
                config,
                kiosk,
                reference,
                posting,
                credited,
                code,
                at,
            }),
            rendered: OnceLock::new(),
        }))
    }

    /// Whether it has been rendered (read) yet.
    pub fn is_rendered(&self) -> bool {
        self.0.rendered.get().is_some()
    }

    /// The receipt, rendering it if this is its first reading.
    pub fn receipt(&self) -> &Receipt {
        self.0.rendered.get_or_init(|| {
            let s = self
                .0
                .source
                .as_ref()
                .expect("a receipt made without its inputs is made rendered");
            build_receipt(
                &s.config,
                &s.kiosk,
                &s.reference,
                &s.posting,
                s.credited.as_ref().map(|(r, b)| (r.as_str(), *b)),
                s.code.as_ref(),
                s.at,
            )
        })
    }
}

/// A receipt already rendered (a test print, a reprint of a kept one).
impl From<Receipt> for LazyReceipt {
    fn from(receipt: Receipt) -> LazyReceipt {
        LazyReceipt(Arc::new(Lazy {
            source: None,
            rendered: OnceLock::from(receipt),
        }))
    }
}

impl Deref for LazyReceipt {
    type Target = Receipt;

    fn deref(&self) -> &Receipt {
        self.receipt()
    }
}

/// Two receipts are equal when they print the same (both are rendered).
impl PartialEq for LazyReceipt {
    fn eq(&self, other: &LazyReceipt) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.receipt() == other.receipt()
    }
}

impl Eq for LazyReceipt {}

/// Shows the receipt as it prints (rendering it), as logs showed it when
/// receipts were rendered at once.
impl fmt::Debug for LazyReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.receipt().fmt(f)
    }
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
