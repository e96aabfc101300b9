//! The card / QR reader: customer-presented mobile payment codes.
//!
//! A payment code is a single-use bearer token: whoever holds it can spend
//! it. [`PaymentCode`] therefore prints masked in `Debug` and `Display`, and
//! serializes masked too, so a `tracing` field, a panic message, an event
//! sent to a screen or a row written anywhere never leaks it; only the
//! backend request carries it in full, taken explicitly with
//! [`PaymentCode::expose_digits`].

use async_trait::async_trait;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::{DeviceError, DeviceIdentity};

/// Which payment network a code belongs to, by its prefix and length.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentScheme {
    /// WeChat Pay: 18 digits, prefix 10–15.
    WeChatPay,
    /// Alipay: 16–24 digits, prefix 25–30.
    Alipay,
    /// UnionPay QR: 19 digits, prefix 62.
    UnionPay,
}

/// A customer-presented payment code. Masked when displayed, logged or
/// serialized.
///
/// `Serialize` writes `{"scheme": …, "masked": "13************6789"}`: the
/// digits never leave the process through serde. `Deserialize` reads
/// `{"scheme": …, "digits": "…"}` (scenario files, tests), so a serialized
/// code cannot be read back as a spendable one.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct PaymentCode {
    /// The network.
    pub scheme: PaymentScheme,
    digits: String,
}

impl PaymentCode {
    /// A code of `scheme` with these digits (the caller has classified them).
    pub fn new(scheme: PaymentScheme, digits: impl Into<String>) -> PaymentCode {
        PaymentCode {
            scheme,
            digits: digits.into(),
        }
    }

    /// The full code. Send it to the backend; never log it.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }

    /// The code with all but the first two and last four digits masked:
    /// `13********5678`.
    pub fn masked(&self) -> String {
        mask_middle(&self.digits, 2, 4)
    }
}

/// Masks all but the first `keep_front` and last `keep_back` characters with `*`.
///
/// A string too short to keep anything hidden is masked entirely.
pub fn mask_middle(s: &str, keep_front: usize, keep_back: usize) -> String {
    // Counted, not collected into a Vec<char>: every receipt masks the
    // account number.
    let len = s.chars().count();
    if len <= keep_front + keep_back {
        return "*".repeat(len);
    }
    let mut masked = String::with_capacity(s.len());
    masked.extend(s.chars().enumerate().map(|(i, c)| {
        if i < keep_front || i >= len - keep_back {
            c
        } else {
            '*'
        }
    }));
    masked
}

impl Serialize for PaymentCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("PaymentCode", 2)?;
        s.serialize_field("scheme", &self.scheme)?;
        s.serialize_field("masked", &self.masked())?;
        s.end()
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentCode({:?}, {})", self.scheme, self.masked())
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A card / QR reader.
///
/// # Contract
///
/// - `read_code` waits until a customer presents a code and is **cancel
///   safe**: the core races it against a timeout and the customer's Cancel.
/// - A read that produced bytes but no valid code is an error of kind
///   [`Protocol`](crate::ErrorKind::Protocol); the reader stays usable.
#[async_trait]
pub trait PaymentReader: Send {
    /// Waits for the next valid payment code.
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError>;

    /// Checks the reader answers (for self-tests and health checks).
    async fn check(&mut self) -> Result<(), DeviceError>;

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
impl<T: PaymentReader + ?Sized> PaymentReader for Box<T> {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        (**self).read_code().await
    }
    async fn check(&mut self) -> Result<(), DeviceError> {
        (**self).check().await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        (**self).identity().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_codes_never_print_in_full() {
        let code = PaymentCode::new(PaymentScheme::WeChatPay, "134567890123456789");
        assert_eq!(code.to_string(), "13************6789");
        assert!(!format!("{code:?}").contains("4567890123"));
        assert_eq!(code.expose_digits(), "134567890123456789");
        assert_eq!(mask_middle("123", 2, 4), "***");
        assert_eq!(
            mask_middle("张三丰", 1, 0),
            "张**",
            "counts characters, not bytes"
        );
        assert_eq!(mask_middle("13800001234", 0, 4), "*******1234");
    }

    #[test]
    fn payment_codes_serialize_masked_and_do_not_read_back() {
        let code = PaymentCode::new(PaymentScheme::Alipay, "284567890123456789");
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, r#"{"scheme":"alipay","masked":"28************6789"}"#);
        assert!(serde_json::from_str::<PaymentCode>(&json).is_err());
        let given: PaymentCode =
            serde_json::from_str(r#"{"scheme":"alipay","digits":"284567890123456789"}"#).unwrap();
        assert_eq!(given, code);
    }
}
