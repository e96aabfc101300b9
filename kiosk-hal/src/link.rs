//! The network link to the billing backend ("BOSS").
//!
//! The link's defining fault is the **lost answer**: a posting may reach the
//! backend and be applied while its answer never comes back. Every posting
//! therefore carries an [`IdempotencyKey`]; a retry with the same key must
//! not credit twice, and the kiosk keeps a payment *pending* until some
//! answer for its key arrives.

use async_trait::async_trait;
use core::fmt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::{mask_middle, DeviceError, DeviceIdentity, Money};

/// The customer's payment number (account number) as typed.
///
/// Shared, not owned (`Arc<str>`): a session's account goes into its
/// journal rows, its posting, its pending payment and its events, and a
/// clone is a count, not an allocation (the same for [`IdempotencyKey`]
/// and the core's session id). Build one with `AccountNumber("…".into())`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountNumber(pub Arc<str>);

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.0)
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AccountNumber {
    /// The longest account number a customer can type (the screen's keypad
    /// field, and what backends issue).
    pub const MAX_DIGITS: usize = 32;

    /// An account number as typed, checked: 1 to [`MAX_DIGITS`](Self::MAX_DIGITS)
    /// ASCII digits. Every place that takes one from outside (the screen's
    /// API, scenario files) checks it here, so the rule is the same everywhere;
    /// a control character or a 10 000-digit string never reaches the journal
    /// or the backend.
    pub fn parse(typed: &str) -> Result<AccountNumber, AccountNumberError> {
        if typed.is_empty() {
            return Err(AccountNumberError::Empty);
        }
        let digits = typed.chars().count();
        if digits > Self::MAX_DIGITS {
            return Err(AccountNumberError::TooLong { digits });
        }
        if let Some(c) = typed.chars().find(|c| !c.is_ascii_digit()) {
            return Err(AccountNumberError::NotADigit(c));
        }
        Ok(AccountNumber(typed.to_string().into()))
    }
}

/// Why a typed account number is not one (see [`AccountNumber::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountNumberError {
    /// Nothing was typed.
    Empty,
    /// More than [`AccountNumber::MAX_DIGITS`] characters.
    TooLong {
        /// How many were typed.
        digits: usize,
    },
    /// A character that is not 0-9 (a letter, a dash, a control character).
    NotADigit(char),
}

impl fmt::Display for AccountNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = AccountNumber::MAX_DIGITS;
        match self {
            AccountNumberError::Empty => {
                write!(f, "an account number is 1 to {max} digits; it is empty")
            }
            AccountNumberError::TooLong { digits } => {
                write!(
                    f,
                    "an account number is 1 to {max} digits; this one has {digits}"
                )
            }
            AccountNumberError::NotADigit(c) => {
                write!(f, "an account number is 1 to {max} digits; it holds {c:?}")
            }
        }
    }
}

impl std::error::Error for AccountNumberError {}

/// The key that makes a posting safe to retry: the same key is applied at most once.
///
/// Shared (`Arc<str>`), like [`AccountNumber`]: it is cloned into every
/// journal row, call and event of its payment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(pub Arc<str>);

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the backend says about an account that passed the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The account holder's name as the backend has it; show it with [`AccountInfo::masked_name`].
    pub holder_name: String,
    /// The amount currently due.
    pub amount_due: Money,
    /// The current balance.
    pub balance: Money,
}

impl AccountInfo {
    /// The holder's name with all but its first character masked (`张**`).
    pub fn masked_name(&self) -> String {
        mask_middle(&self.holder_name, 1, 0)
    }
}

/// Why the backend will not take a payment for an account.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountRefusal {
    /// No such account.
    Unknown,
    /// The account is closed.
    Closed,
    /// The account exists but cannot be paid at a kiosk.
    NotPayable,
}

impl AccountRefusal {
    /// A clear message for the customer.
    pub fn describe(&self) -> &'static str {
        match self {
            AccountRefusal::Unknown => "account number not found",
            AccountRefusal::Closed => "account is closed",
            AccountRefusal::NotPayable => "account cannot be paid here",
        }
    }
}

/// The backend's answer to an account check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "answer")]
pub enum AccountAnswer {
    /// The account may be paid.
    Payable(AccountInfo),
    /// It may not.
    Refused {
        /// Why.
        reason: AccountRefusal,
    },
}

/// How the customer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentMethod {
    /// Notes through the bill acceptor.
    Cash,
    /// A customer-presented QR / card code.
    Code,
}

/// A payment to credit to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPosting {
    /// Makes the posting safe to retry.
    pub key: IdempotencyKey,
    /// The account to credit.
    pub account: AccountNumber,
    /// The amount.
    pub amount: Money,
    /// How it was paid.
    pub method: PaymentMethod,
    /// For [`PaymentMethod::Code`]: the code to charge.
    pub code: Option<crate::PaymentCode>,
}

impl PaymentPosting {
    /// Whether `other` posts the same payment: the fields a retry carries
    /// (key, account, amount, method) are equal. The payment code is left
    /// out on purpose: a retry never carries it (see [`NetworkLink`]).
    pub fn same_payment(&self, other: &PaymentPosting) -> bool {
        self.key == other.key
            && self.account == other.account
            && self.amount == other.amount
            && self.method == other.method
    }
}

/// The backend's answer to a posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "answer")]
pub enum PostingAnswer {
    /// Credited (now, or earlier under the same key).
    Credited {
        /// The backend's own reference.
        backend_ref: String,
        /// The account balance after the credit.
        new_balance: Money,
    },
    /// Refused; nothing was credited.
    Refused {
        /// Why, in words for the customer and staff.
        reason: String,
    },
}

/// The link to the billing backend.
///
/// # Contract
///
/// - `lookup_account` has no side effects.
/// - `post_payment` is **idempotent by key**: posting the same key twice
///   credits at most once, and the second answer repeats the first.
/// - An error of kind `Timeout`, `Offline` or `Indeterminate` from
///   `post_payment` means the posting **may have been applied**: the caller
///   keeps it pending and retries with the same key; it never re-keys.
/// - An error of kind `Protocol` means the backend answered nonsense; treat
///   it like a lost answer.
/// - **What a retry carries.** A retry repeats the first posting's key,
///   account, amount and method exactly, and never the payment code: a
///   code is a single-use token the kiosk does not store. A backend that
///   has the key answers with its stored answer (and may flag a retry whose
///   key, account, amount or method differ: [`PaymentPosting::same_payment`]
///   is that comparison); one that never saw the key refuses a code payment
///   without a code, which takes nothing from the customer.
#[async_trait]
pub trait NetworkLink: Send {
    /// Checks an account before any money is taken.
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError>;

    /// Posts a payment.
    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError>;

    /// A cheap call with no side effects that proves the backend answers.
    /// An idle kiosk calls it between customers so that a dead or slow link
    /// is seen before a customer tries to pay.
    ///
    /// The default looks up an account number no backend issues (empty):
    /// any answer, even "unknown account", proves the link works. A link
    /// with a real health endpoint overrides it.
    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        self.lookup_account(&AccountNumber("".into()))
            .await
            .map(|_| ())
    }

    /// Who answers at the other end, as far as the link can tell without
    /// a call of its own (the HTTPS link: the endpoint and the subject of
    /// the server certificate seen on the last answer), for the operator
    /// status beside the devices' identities. The default says nothing.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(DeviceIdentity::unknown())
    }
}

#[async_trait]
impl<T: NetworkLink + ?Sized> NetworkLink for Box<T> {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        (**self).lookup_account(account).await
    }
    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        (**self).post_payment(posting).await
    }
    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        (**self).heartbeat().await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        (**self).identity().await
    }
}

#[cfg(test)]
mod account_number_tests {
    use super::*;

    #[test]
    fn an_account_number_is_one_to_32_digits() {
        assert_eq!(
            AccountNumber::parse("13800000001"),
            Ok(AccountNumber("13800000001".into()))
        );
        assert!(AccountNumber::parse(&"9".repeat(32)).is_ok());
        assert_eq!(
            AccountNumber::parse(&"9".repeat(33)),
            Err(AccountNumberError::TooLong { digits: 33 })
        );
        assert_eq!(AccountNumber::parse(""), Err(AccountNumberError::Empty));
        assert_eq!(
            AccountNumber::parse("10\u{7}0"),
            Err(AccountNumberError::NotADigit('\u{7}'))
        );
        assert_eq!(
            AccountNumber::parse("0571-1234"),
            Err(AccountNumberError::NotADigit('-'))
        );
        let e = AccountNumber::parse("1\n").unwrap_err().to_string();
        assert!(e.contains("1 to 32 digits") && e.contains("'\\n'"), "{e}");
    }
}
