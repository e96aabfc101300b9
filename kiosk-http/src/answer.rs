//! Reading the backend's HTTP answers: status and body in, a
//! [`NetworkLink`](kiosk_hal::NetworkLink) answer or a [`DeviceError`] of
//! the right [`ErrorKind`] out. Pure (no I/O), so every row of the table
//! below is a unit test.
//!
//! | answer | account check | posting |
//! |---|---|---|
//! | `200` + the contract's body | `Payable` | `Credited` |
//! | `404` + `account-unknown` | `Refused { Unknown }` | — |
//! | `422` + an error body | `Refused { Closed / NotPayable }` | `Refused { reason: message }` |
//! | `409` (key reused, different payment) | `Protocol` | `Indeterminate` |
//! | `5xx`, `429` | `Offline` | `Offline` |
//! | `408` | `Timeout` | `Timeout` |
//! | `401`, `403` | `Other` | `Other` |
//! | anything else, or a body that does not parse | `Protocol` | `Protocol` |
//!
//! Why these kinds: `Offline` and `Timeout` are what the machine and
//! `kiosk_core::FailoverLink` treat as "backend unreachable" (switch
//! to a backup link, keep the payment pending, retry with the same key). A
//! `409` means the backend holds **another** payment under this payment's
//! key: what happened to this payment cannot be known from the kiosk, so
//! it is `Indeterminate` (kept pending, retried with the same key, and the
//! link reported faulty, which opens a ticket) and never a refusal. A
//! `404` or `422` becomes a refusal only with a body that follows the
//! contract: an HTML error page from a proxy in front of the backend is a
//! `Protocol` error, not a customer's unknown account.

use kiosk_hal::{
    AccountAnswer, AccountInfo, AccountRefusal, DeviceError, ErrorKind, PaymentPosting,
    PostingAnswer,
};
use serde::de::DeserializeOwned;

use crate::wire::{AccountCheckResponse, ErrorBody, ErrorCode, PaymentCredited};

/// The most characters of an unparsable body quoted in an error message.
const QUOTE_MAX_CHARS: usize = 120;

/// The answer to an account check.
pub fn account_answer(status: u16, body: &[u8]) -> Result<AccountAnswer, DeviceError> {
    match status {
        200 => {
            let found: AccountCheckResponse = parse(status, body)?;
            if found.amount_due.currency != found.balance.currency {
                return Err(protocol(
                    status,
                    format!(
                        "amount due in {} but balance in {}",
                        found.amount_due.currency, found.balance.currency
                    ),
                ));
            }
            Ok(AccountAnswer::Payable(AccountInfo {
                holder_name: found.holder_name,
                amount_due: found.amount_due,
                balance: found.balance,
            }))
        }
        404 | 422 => {
            let error: ErrorBody = parse(status, body)?;
            let reason = match (status, error.error.code) {
                (404, ErrorCode::AccountUnknown) => AccountRefusal::Unknown,
                (422, ErrorCode::AccountClosed) => AccountRefusal::Closed,
                (422, ErrorCode::AccountNotPayable) => AccountRefusal::NotPayable,
                (_, code) => {
                    return Err(protocol(
                        status,
                        format!("{code:?} is not an account check's refusal"),
                    ))
                }
            };
            Ok(AccountAnswer::Refused { reason })
        }
        _ => Err(status_error(status, body)),
    }
}

/// The answer to `posting`.
pub fn posting_answer(
    status: u16,
    body: &[u8],
    posting: &PaymentPosting,
) -> Result<PostingAnswer, DeviceError> {
    match status {
        200 => {
            let credited: PaymentCredited = parse(status, body)?;
            if credited.backend_ref.trim().is_empty() {
                return Err(protocol(status, "credited without a backend reference"));
            }
            if credited.new_balance.currency != posting.amount.currency {
                return Err(protocol(
                    status,
                    format!(
                        "credited {} but the new balance is in {}",
                        posting.amount.currency, credited.new_balance.currency
                    ),
                ));
            }
            Ok(PostingAnswer::Credited {
                backend_ref: credited.backend_ref,
                new_balance: credited.new_balance,
            })
        }
        422 => {
            let error: ErrorBody = parse(status, body)?;
            let reason = if error.error.message.trim().is_empty() {
                error.error.code.standard_message().to_string()
            } else {
                error.error.message
            };
            Ok(PostingAnswer::Refused { reason })
        }
        409 => Err(DeviceError::new(
            ErrorKind::Indeterminate,
            format!(
                "backend answered 409: key {} is already used for another payment \
                 (account, amount or method differ); this payment stays pending{}",
                posting.key,
                detail(body)
            ),
        )),
        _ => Err(status_error(status, body)),
    }
}

/// The answer to a health probe: any `200` proves the backend answers.
pub fn health_answer(status: u16, body: &[u8]) -> Result<(), DeviceError> {
    match status {
        200 => Ok(()),
        _ => Err(status_error(status, body)),
    }
}

/// The error for a status that is no answer to the call.
fn status_error(status: u16, body: &[u8]) -> DeviceError {
    let kind = match status {
        500..=599 | 429 => ErrorKind::Offline,
        408 => ErrorKind::Timeout,
        401 | 403 => ErrorKind::Other,
        _ => ErrorKind::Protocol,
    };
    DeviceError::new(kind, format!("backend answered {status}{}", detail(body)))
}

fn parse<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, DeviceError> {
    serde_json::from_slice(body).map_err(|e| {
        DeviceError::new(
            ErrorKind::Protocol,
            format!(
                "backend answered {status} with a body outside the contract ({e}): {}",
                quote(body)
            ),
        )
        .with_source(e)
    })
}

fn protocol(status: u16, message: impl std::fmt::Display) -> DeviceError {
    DeviceError::new(
        ErrorKind::Protocol,
        format!("backend answered {status}: {message}"),
    )
}

/// `: code: message` from a contract error body, else a quote of the body.
fn detail(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => format!(": {:?}: {}", e.error.code, e.error.message),
        Err(_) => format!(": {}", quote(body)),
    }
}

/// The start of `body` as text, for a message.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut quoted: String = text.chars().take(QUOTE_MAX_CHARS).collect();
    if text.chars().count() > QUOTE_MAX_CHARS {
        quoted.push('…');
    }
    format!("{quoted:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{AccountNumber, Currency, IdempotencyKey, Money, PaymentMethod};

    fn posting() -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey("K01-000001-p1".into()),
            account: AccountNumber("1001".into()),
            amount: Money::new(5000, Currency::CNY),
            method: PaymentMethod::Cash,
            code: None,
        }
    }

    fn kind<T: std::fmt::Debug>(r: Result<T, DeviceError>) -> ErrorKind {
        r.expect_err("an error").kind()
    }

    #[test]
    fn a_credit_is_read_with_its_reference_and_balance() {
        let body =
            br#"{"backend_ref":"B1","new_balance":{"minor":7000,"currency":"CNY"},"extra":1}"#;
        assert_eq!(
            posting_answer(200, body, &posting()).unwrap(),
            PostingAnswer::Credited {
                backend_ref: "B1".into(),
                new_balance: Money::new(7000, Currency::CNY),
            }
        );
    }

    #[test]
    fn a_credit_in_another_currency_or_without_reference_is_a_protocol_error() {
        let eur = br#"{"backend_ref":"B1","new_balance":{"minor":7000,"currency":"EUR"}}"#;
        assert_eq!(
            kind(posting_answer(200, eur, &posting())),
            ErrorKind::Protocol
        );
        let blank = br#"{"backend_ref":" ","new_balance":{"minor":7000,"currency":"CNY"}}"#;
        assert_eq!(
            kind(posting_answer(200, blank, &posting())),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn garbage_and_schema_mismatch_are_protocol_errors() {
        assert_eq!(
            kind(posting_answer(200, b"<html>", &posting())),
            ErrorKind::Protocol
        );
        assert_eq!(
            kind(posting_answer(200, b"{\"ok\":true}", &posting())),
            ErrorKind::Protocol
        );
        assert_eq!(kind(account_answer(200, b"")), ErrorKind::Protocol);
        let lower_case_currency = br#"{"holder_name":"x","amount_due":{"minor":1,"currency":"cny"},"balance":{"minor":1,"currency":"CNY"}}"#;
        assert_eq!(
            kind(account_answer(200, lower_case_currency)),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn a_422_with_a_reason_is_a_refusal_with_the_backends_words() {
        let body =
            r#"{"error":{"code":"account-closed","message":"账户已销户 / account is closed"}}"#;
        assert_eq!(
            posting_answer(422, body.as_bytes(), &posting()).unwrap(),
            PostingAnswer::Refused {
                reason: "账户已销户 / account is closed".into()
            }
        );
        let blank = br#"{"error":{"code":"code-declined","message":""}}"#;
        assert_eq!(
            posting_answer(422, blank, &posting()).unwrap(),
            PostingAnswer::Refused {
                reason: ErrorCode::CodeDeclined.standard_message().into()
            }
        );
    }

    #[test]
    fn a_422_or_404_without_the_contracts_body_is_no_refusal() {
        assert_eq!(
            kind(posting_answer(422, b"<h1>Unprocessable</h1>", &posting())),
            ErrorKind::Protocol
        );
        assert_eq!(kind(account_answer(404, b"Not Found")), ErrorKind::Protocol);
        let wrong = br#"{"error":{"code":"account-closed","message":"x"}}"#;
        assert_eq!(kind(account_answer(404, wrong)), ErrorKind::Protocol);
    }

    #[test]
    fn account_refusals_map_to_their_reasons() {
        let unknown = br#"{"error":{"code":"account-unknown","message":"x"}}"#;
        let closed = br#"{"error":{"code":"account-closed","message":"x"}}"#;
        let not_payable = br#"{"error":{"code":"account-not-payable","message":"x"}}"#;
        let refused = |r| AccountAnswer::Refused { reason: r };
        assert_eq!(
            account_answer(404, unknown).unwrap(),
            refused(AccountRefusal::Unknown)
        );
        assert_eq!(
            account_answer(422, closed).unwrap(),
            refused(AccountRefusal::Closed)
        );
        assert_eq!(
            account_answer(422, not_payable).unwrap(),
            refused(AccountRefusal::NotPayable)
        );
    }

    #[test]
    fn statuses_map_to_the_kinds_in_the_table() {
        assert_eq!(
            kind(posting_answer(409, b"", &posting())),
            ErrorKind::Indeterminate
        );
        assert_eq!(kind(account_answer(409, b"")), ErrorKind::Protocol);
        for s in [500, 502, 503, 504, 429] {
            assert_eq!(
                kind(posting_answer(s, b"", &posting())),
                ErrorKind::Offline,
                "{s}"
            );
            assert_eq!(kind(account_answer(s, b"")), ErrorKind::Offline, "{s}");
        }
        assert_eq!(
            kind(posting_answer(408, b"", &posting())),
            ErrorKind::Timeout
        );
        assert_eq!(kind(health_answer(401, b"")), ErrorKind::Other);
        assert_eq!(kind(health_answer(403, b"")), ErrorKind::Other);
        assert_eq!(
            kind(posting_answer(400, b"", &posting())),
            ErrorKind::Protocol
        );
        assert_eq!(
            kind(posting_answer(201, b"{}", &posting())),
            ErrorKind::Protocol
        );
        assert!(health_answer(200, b"anything").is_ok());
    }

    #[test]
    fn an_error_message_quotes_a_long_body_cut_short() {
        let body = "x".repeat(1000);
        let e = posting_answer(502, body.as_bytes(), &posting()).unwrap_err();
        assert!(e.message().starts_with("backend answered 502"));
        assert!(e.message().len() < 300, "{}", e.message());
    }
}
