//! The receipt (缴费凭据) in the customer's language, from the catalog.
//!
//! The facts — site, kiosk, reference, time, masked account, method,
//! amount, masked payment code, backend reference and new balance, or the
//! pending mark — from [`Catalog`] texts, so an integrator edits a
//! catalog, not code. kiosk-core's session prints what this renders.

use kiosk_hal::{
    mask_middle, Money, PaymentCode, PaymentMethod, PaymentPosting, Receipt, ReceiptLine,
};

use crate::catalog::{push_digits, Catalog, Lang, Msg};

/// What a receipt says: the inputs of kiosk-core's `build_receipt` plus
/// the time of payment.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptFields<'a> {
    /// The site (business hall) name.
    pub site: &'a str,
    /// The kiosk's id.
    pub kiosk: &'a str,
    /// The transaction reference (the session id), also printed as a QR code.
    pub reference: &'a str,
    /// When the payment was made: kiosk time, milliseconds since the Unix
    /// epoch (what `SystemClock` gives).
    pub time_ms: u64,
    /// The site's offset from UTC in minutes (China: +480), for the printed time.
    pub utc_offset_minutes: i32,
    /// The payment.
    pub posting: &'a PaymentPosting,
    /// The backend's reference and the new balance; `None` marks the
    /// receipt pending.
    pub credited: Option<(&'a str, Money)>,
    /// The payment code, printed only masked.
    pub code: Option<&'a PaymentCode>,
}

/// The receipt's lines in `lang`, top to bottom.
///
/// The account number is masked to its last four digits and a payment
/// code appears only masked, as in kiosk-core's receipt.
pub fn receipt_lines(catalog: &Catalog, lang: Lang, f: &ReceiptFields<'_>) -> Vec<ReceiptLine> {
    let t = |msg: Msg, args: &[(&str, &str)]| catalog.text(lang, msg, args);
    let time = format_time(f.time_ms, f.utc_offset_minutes);
    let account = mask_middle(&f.posting.account.0, 0, 4);
    let method = catalog.text(lang, method_msg(f.posting.method), &[]);
    let amount = catalog.money(lang, f.posting.amount);
    let mut lines = vec![
        ReceiptLine::Bold(t(Msg::ReceiptTitle, &[])),
        ReceiptLine::Text(t(Msg::ReceiptSite, &[("site", f.site)])),
        ReceiptLine::Text(t(Msg::ReceiptKiosk, &[("kiosk", f.kiosk)])),
        ReceiptLine::Text(t(Msg::ReceiptReference, &[("reference", f.reference)])),
        ReceiptLine::Text(t(Msg::ReceiptTime, &[("time", &time)])),
        ReceiptLine::Text(t(Msg::ReceiptAccount, &[("account", &account)])),
        ReceiptLine::Text(t(Msg::ReceiptMethod, &[("method", &method)])),
        ReceiptLine::Bold(t(Msg::ReceiptAmount, &[("amount", &amount)])),
    ];
    if let Some(code) = f.code {
        lines.push(ReceiptLine::Text(t(
            Msg::ReceiptCode,
            &[("code", &code.masked())],
        )));
    }
    match f.credited {
        Some((backend_ref, balance)) => {
            lines.push(ReceiptLine::Text(t(
                Msg::ReceiptBackendRef,
                &[("reference", backend_ref)],
            )));
            let balance = catalog.money(lang, balance);
            lines.push(ReceiptLine::Text(t(
                Msg::ReceiptBalance,
                &[("amount", &balance)],
            )));
        }
        None => lines.push(ReceiptLine::Bold(t(Msg::ReceiptPending, &[]))),
    }
    lines.push(ReceiptLine::Text(t(Msg::ReceiptKeep, &[])));
    lines.push(ReceiptLine::Qr(f.reference.to_string()));
    lines
}

/// The whole receipt in `lang` (its reference and [`receipt_lines`]).
pub fn render_receipt(catalog: &Catalog, lang: Lang, f: &ReceiptFields<'_>) -> Receipt {
    Receipt {
        reference: f.reference.to_string(),
        lines: receipt_lines(catalog, lang, f),
    }
}

/// The catalog's name for a payment method.
pub fn method_msg(method: PaymentMethod) -> Msg {
    match method {
        PaymentMethod::Cash => Msg::MethodCash,
        PaymentMethod::Code => Msg::MethodCode,
    }
}

/// `YYYY-MM-DD HH:MM:SS` at `offset_minutes` from UTC, for `ms` since the
/// Unix epoch (the proleptic Gregorian calendar; days from civil per
/// Howard Hinnant's public-domain algorithm).
pub fn format_time(ms: u64, offset_minutes: i32) -> String {
    let secs = (ms / 1000) as i64 + i64::from(offset_minutes) * 60;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if year < 0 {
        // Before 1 BC: never a kiosk's clock, but written as `format!` would.
        return format!(
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        );
    }
    // Written digit by digit, not with `format!`: every receipt has a time,
    // and a simulated hall prints millions of receipts.
    let mut out = String::with_capacity(19);
    let fields = [
        (year as u64, 4, '-'),
        (month as u64, 2, '-'),
        (day as u64, 2, ' '),
        ((sod / 3600) as u64, 2, ':'),
        ((sod % 3600 / 60) as u64, 2, ':'),
    ];
    for (value, width, separator) in fields {
        push_digits(&mut out, value, width);
        out.push(separator);
    }
    push_digits(&mut out, (sod % 60) as u64, 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{AccountNumber, Currency, IdempotencyKey, PaymentScheme};

    fn posting(method: PaymentMethod) -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey("K01-000001".into()),
            account: AccountNumber("13800000001".into()),
            amount: Money::major(70, Currency::CNY),
            method,
            code: None,
        }
    }

    fn texts(lines: &[ReceiptLine]) -> Vec<&str> {
        lines
            .iter()
            .map(|l| match l {
                ReceiptLine::Text(s) | ReceiptLine::Bold(s) | ReceiptLine::Qr(s) => s.as_str(),
            })
            .collect()
    }

    /// The time written digit by digit reads exactly as `format!` wrote
    /// it, across centuries, leap days and both sides of midnight.
    #[test]
    fn format_time_writes_what_format_wrote() {
        fn by_format(ms: u64, offset_minutes: i32) -> String {
            let secs = (ms / 1000) as i64 + i64::from(offset_minutes) * 60;
            let days = secs.div_euclid(86_400);
            let sod = secs.rem_euclid(86_400);
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z.rem_euclid(146_097);
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = doy - (153 * mp + 2) / 5 + 1;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            format!(
                "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
                sod / 3600,
                sod % 3600 / 60,
                sod % 60
            )
        }
        let mut ms: u64 = 0;
        for step in 0..20_000u64 {
            for offset in [0, 480, -300, 345] {
                assert_eq!(
                    format_time(ms, offset),
                    by_format(ms, offset),
                    "{ms} {offset}"
                );
            }
            ms = ms.wrapping_add(step * 7_919_993 + 86_399_999) % 400_000_000_000_000;
        }
        assert_eq!(format_time(1_700_000_000_000, 480), "2023-11-15 06:13:20");
        assert_eq!(format_time(0, -480), by_format(0, -480));
    }

    #[test]
    fn a_credited_cash_receipt_in_chinese_has_every_fact() {
        let c = Catalog::builtin();
        let p = posting(PaymentMethod::Cash);
        let f = ReceiptFields {
            site: "东城营业厅",
            kiosk: "K01",
            reference: "K01-000001",
            // 2026-11-29 08:00:05 UTC is 16:00:05 in Beijing.
            time_ms: 1_795_939_205_000,
            utc_offset_minutes: 480,
            posting: &p,
            credited: Some(("B-42", Money::major(-50, Currency::CNY))),
            code: None,
        };
        let r = render_receipt(&c, Lang::Zh, &f);
        assert_eq!(r.reference, "K01-000001");
        assert_eq!(
            texts(&r.lines),
            [
                "缴费凭据",
                "营业厅：东城营业厅",
                "终端号：K01",
                "交易凭证号：K01-000001",
                "缴费时间：2026-11-29 16:00:05",
                "缴费号码：*******0001",
                "缴费方式：现金",
                "缴费金额：70.00 元",
                "系统流水号：B-42",
                "账户余额：-50.00 元",
                "请妥善保管本凭据",
                "K01-000001",
            ]
        );
        assert!(
            matches!(r.lines[7], ReceiptLine::Bold(_)),
            "the amount stands out"
        );
    }

    #[test]
    fn a_pending_code_receipt_in_english_masks_the_code() {
        let c = Catalog::builtin();
        let code = PaymentCode::new(PaymentScheme::WeChatPay, "134567890123456789");
        let p = posting(PaymentMethod::Code);
        let f = ReceiptFields {
            site: "Dongcheng",
            kiosk: "K01",
            reference: "K01-000002",
            time_ms: 0,
            utc_offset_minutes: 0,
            posting: &p,
            credited: None,
            code: Some(&code),
        };
        let lines = receipt_lines(&c, Lang::En, &f);
        let all = texts(&lines).join("\n");
        assert!(all.contains("Time: 1970-01-01 00:00:00"), "{all}");
        assert!(all.contains("Method: Payment code"), "{all}");
        assert!(all.contains("Code: 13************6789"), "{all}");
        assert!(!all.contains("134567890123456789"), "{all}");
        assert!(all.contains("PENDING"), "{all}");
        assert!(!all.contains("New balance"), "{all}");
    }

    #[test]
    fn times_cross_days_years_and_leap_days() {
        assert_eq!(format_time(951_782_400_000, 0), "2000-02-29 00:00:00");
        // 23:59:59 UTC on 31 Dec 2025 is the next year in Beijing.
        assert_eq!(format_time(1_767_225_599_000, 480), "2026-01-01 07:59:59");
        assert_eq!(format_time(0, -60), "1969-12-31 23:00:00");
    }
}
