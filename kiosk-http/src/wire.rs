//! The wire contract's types: what travels as JSON between a kiosk and the
//! billing backend, shared by [`HttpLink`](crate::HttpLink) and the reference
//! billing server (`kiosk-billing`) so that both sides read one definition.
//!
//! `docs/backend-wire-contract.md` is the prose version for a billing team;
//! the two must agree. Requests are built only from these structs; answers
//! are parsed into them, and anything that does not parse is a protocol
//! error, never a guess.
//!
//! Response structs ignore unknown fields (a backend may add fields without
//! breaking kiosks); request structs do too, so an older backend accepts a
//! newer kiosk's optional fields.

use kiosk_hal::{AccountNumber, Money, PaymentCode, PaymentMethod, PaymentPosting, PaymentScheme};
use serde::{Deserialize, Serialize};

/// The HTTP header that carries a posting's idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The header a backend sets (`true`) on an answer repeated for a key it had
/// already applied. Informational: the kiosk treats a repeated answer like a
/// first one.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// Path of the account check (`POST`), relative to the base address.
pub const ACCOUNT_CHECK_PATH: &str = "account-checks";

/// Path of the payment posting (`POST`), relative to the base address.
pub const PAYMENTS_PATH: &str = "payments";

/// Path of the health probe (`GET`), relative to the base address.
pub const HEALTH_PATH: &str = "health";

/// The longest idempotency key a backend must accept, in bytes.
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 128;

/// Whether `key` is a well-formed idempotency key: 1 to
/// [`IDEMPOTENCY_KEY_MAX_LEN`] printable ASCII characters without spaces
/// (a kiosk's keys look like `K01-000007-p1`).
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= IDEMPOTENCY_KEY_MAX_LEN
        && key.bytes().all(|b| b.is_ascii_graphic())
}

/// `POST account-checks`: which account the customer typed.
///
/// The number travels in the body, not the path, so that it stays out of
/// access logs and needs no escaping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCheckRequest {
    /// The account (payment number, 户号) as typed.
    pub account: AccountNumber,
}

/// `200` answer to an account check: the account may be paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCheckResponse {
    /// The holder's name in full; the kiosk masks it on screen.
    pub holder_name: String,
    /// The amount currently due (应缴金额).
    pub amount_due: Money,
    /// The current balance (余额).
    pub balance: Money,
}

/// `POST payments`: a payment to credit. The idempotency key travels in
/// the [`IDEMPOTENCY_KEY_HEADER`] header, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// The account to credit.
    pub account: AccountNumber,
    /// The amount, in minor units with its currency.
    pub amount: Money,
    /// How the customer paid.
    pub method: PaymentMethod,
    /// For a code payment's **first** posting only: the code to charge.
    /// Absent on every retry (a code is a single-use token the kiosk does
    /// not keep), and absent for cash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<WireCode>,
}

/// A payment code as the contract carries it: in full, on a first posting
/// only. [`PaymentCode`] never serializes its digits (so no event, log or
/// journal row can leak them); this is the one type that does, built
/// explicitly from [`PaymentCode::expose_digits`] for the request body.
/// Its `Debug` is masked like the code's.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCode {
    /// The network.
    pub scheme: PaymentScheme,
    digits: String,
}

impl WireCode {
    /// The code to send, in full.
    pub fn from_code(code: &PaymentCode) -> WireCode {
        WireCode {
            scheme: code.scheme,
            digits: code.expose_digits().to_string(),
        }
    }

    /// The code received (on the backend's side).
    pub fn to_code(&self) -> PaymentCode {
        PaymentCode::new(self.scheme, self.digits.clone())
    }

    /// The full digits. Charge them; never log them.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }
}

impl std::fmt::Debug for WireCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WireCode({:?})", self.to_code())
    }
}

impl PaymentRequest {
    /// The request body for `posting`, with or without its payment code.
    pub fn from_posting(posting: &PaymentPosting, with_code: bool) -> PaymentRequest {
        PaymentRequest {
            account: posting.account.clone(),
            amount: posting.amount,
            method: posting.method,
            code: if with_code {
                posting.code.as_ref().map(WireCode::from_code)
            } else {
                None
            },
        }
    }

    /// Whether `other` asks for the same payment: account, amount and
    /// method equal. The code is left out, as in
    /// [`PaymentPosting::same_payment`]: a retry never carries it, so a
    /// retry without a code is the same payment as a first posting with one.
    pub fn same_payment(&self, other: &PaymentRequest) -> bool {
        self.account == other.account && self.amount == other.amount && self.method == other.method
    }
}

/// `200` answer to a posting: credited (now, or earlier under the same key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCredited {
    /// The backend's own reference for the credit (流水号); never empty.
    pub backend_ref: String,
    /// The account's balance after the credit.
    pub new_balance: Money,
}

/// The body of every non-`200` answer from a backend that follows the
/// contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, as a stable code and words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The stable reason code the kiosk acts on.
    pub code: ErrorCode,
    /// Words for the customer and staff, 简体中文 first, English second
    /// (`账户不存在 / account number not found`). Shown as the refusal reason.
    pub message: String,
}

impl ErrorBody {
    /// An error body with `code` and its standard message.
    pub fn standard(code: ErrorCode) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: code.standard_message().to_string(),
            },
        }
    }
}

/// The reason codes of the contract. A backend may send codes this list
/// does not know yet; they read as [`ErrorCode::Unrecognised`], and the
/// HTTP status alone decides what the kiosk does.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// `404` on an account check, `422` on a posting: no such account.
    AccountUnknown,
    /// `422`: the account is closed (已销户).
    AccountClosed,
    /// `422`: the account exists but cannot be paid at a kiosk.
    AccountNotPayable,
    /// `422`: the amount is zero, negative or too large.
    AmountInvalid,
    /// `422`: the amount's currency is not the account's.
    CurrencyMismatch,
    /// `422`: a code payment without a code for a key the backend never
    /// saw (typically the retry of a posting that never arrived): nothing
    /// was charged.
    CodeMissing,
    /// `422`: the payment network declined the code (expired, used,
    /// insufficient funds).
    CodeDeclined,
    /// `422`: refused for another business reason, given in the message.
    Refused,
    /// `409`: this key was used before with a different account, amount or
    /// method.
    IdempotencyKeyConflict,
    /// `400`: the `Idempotency-Key` header is missing or malformed.
    IdempotencyKeyInvalid,
    /// `400`: the body is not a valid request.
    BadRequest,
    /// `401`/`403`: the kiosk's client certificate or credentials are not
    /// accepted.
    Unauthorised,
    /// `404`: no such endpoint.
    NotFound,
    /// `5xx`: the backend cannot answer now; nothing was applied by this
    /// request (an earlier one with the same key may have been).
    Unavailable,
    /// A code this version does not know.
    #[serde(other)]
    Unrecognised,
}

impl ErrorCode {
    /// The code's standard words, 简体中文 first, English second.
    pub fn standard_message(&self) -> &'static str {
        match self {
            ErrorCode::AccountUnknown => "账户不存在 / account number not found",
            ErrorCode::AccountClosed => "账户已销户 / account is closed",
            ErrorCode::AccountNotPayable => {
                "该账户不能在自助终端缴费 / account cannot be paid at a kiosk"
            }
            ErrorCode::AmountInvalid => "金额无效 / invalid amount",
            ErrorCode::CurrencyMismatch => "币种与账户不符 / currency does not match the account",
            ErrorCode::CodeMissing => "缺少付款码，未扣款 / no payment code, nothing charged",
            ErrorCode::CodeDeclined => "付款码被拒绝 / payment code declined",
            ErrorCode::Refused => "缴费被拒绝 / payment refused",
            ErrorCode::IdempotencyKeyConflict => {
                "流水键已用于另一笔缴费 / idempotency key already used for another payment"
            }
            ErrorCode::IdempotencyKeyInvalid => {
                "缺少或无效的 Idempotency-Key / missing or invalid Idempotency-Key"
            }
            ErrorCode::BadRequest => "请求无效 / bad request",
            ErrorCode::Unauthorised => "终端身份未被接受 / kiosk identity not accepted",
            ErrorCode::NotFound => "无此接口 / no such endpoint",
            ErrorCode::Unavailable => "后台暂时不可用 / backend temporarily unavailable",
            ErrorCode::Unrecognised => "未知错误 / unknown error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{Currency, IdempotencyKey, PaymentScheme};

    fn posting_with_code() -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey("K01-000001-p1".into()),
            account: AccountNumber("1001".into()),
            amount: Money::new(5000, Currency::CNY),
            method: PaymentMethod::Code,
            code: Some(PaymentCode::new(
                PaymentScheme::WeChatPay,
                "134567890123456789",
            )),
        }
    }

    #[test]
    fn a_payment_request_is_the_documented_json() {
        let body =
            serde_json::to_value(PaymentRequest::from_posting(&posting_with_code(), true)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "account": "1001",
                "amount": {"minor": 5000, "currency": "CNY"},
                "method": "code",
                "code": {"scheme": "we-chat-pay", "digits": "134567890123456789"},
            })
        );
    }

    #[test]
    fn a_request_without_its_code_has_no_code_field_and_is_the_same_payment() {
        let first = PaymentRequest::from_posting(&posting_with_code(), true);
        let retry = PaymentRequest::from_posting(&posting_with_code(), false);
        let text = serde_json::to_string(&retry).unwrap();
        assert!(!text.contains("\"code\":"), "{text}");
        assert!(!text.contains("134567890123456789"), "{text}");
        assert!(first.same_payment(&retry));
        let other = PaymentRequest {
            amount: Money::new(5001, Currency::CNY),
            ..retry
        };
        assert!(!first.same_payment(&other));
    }

    #[test]
    fn an_unknown_error_code_reads_as_unrecognised() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"brand-new","message":"x"}}"#).unwrap();
        assert_eq!(body.error.code, ErrorCode::Unrecognised);
        let known: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"account-closed","message":"x"}}"#).unwrap();
        assert_eq!(known.error.code, ErrorCode::AccountClosed);
    }

    #[test]
    fn keys_are_printable_ascii_of_bounded_length() {
        assert!(is_valid_key("K01-000007-p1"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a b"));
        assert!(!is_valid_key("键"));
        assert!(!is_valid_key(&"k".repeat(IDEMPOTENCY_KEY_MAX_LEN + 1)));
    }
}
