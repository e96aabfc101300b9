//! The virtual card / QR reader and the window the customer shows codes to.

use std::collections::VecDeque;

use async_trait::async_trait;
use kiosk_core::Millis;
use kiosk_hal::{DeviceError, ErrorKind, PaymentCode, PaymentReader, PaymentScheme};
use serde::{Deserialize, Serialize};

use super::shared::{Machine, Shared};
use crate::clock::SimClock;
use crate::faults::{ConfigError, FaultRule, FaultyReader, ReaderFault};
use crate::rng::SimRng;

/// Timing and planned faults of the reader.
///
/// ```toml
/// [reader]
/// scan-ms = 300
///
/// [[reader.faults]]
/// trigger = { when = "between", from-ms = 60000 }
/// fault = { type = "offline" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ReaderConfig {
    /// Time from a code being presented to the reader returning it. Default 300.
    pub scan_ms: u64,
    /// Planned faults, applied by a [`FaultyReader`] around the reader
    /// (see [`VirtualReader::with_faults`]). Default none.
    pub faults: Vec<FaultRule<ReaderFault>>,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            scan_ms: 300,
            faults: Vec::new(),
        }
    }
}

/// The payment scheme of `digits` by length and prefix, or `None` if it is
/// not a payment code: WeChat Pay 18 digits with prefix 10–15, Alipay 16–24
/// digits with prefix 25–30, UnionPay 19 digits starting 62.
pub fn classify_code(digits: &str) -> Option<PaymentScheme> {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u32 = digits[..2].parse().ok()?;
    match (digits.len(), prefix) {
        (18, 10..=15) => Some(PaymentScheme::WeChatPay),
        (16..=24, 25..=30) => Some(PaymentScheme::Alipay),
        (19, 62) => Some(PaymentScheme::UnionPay),
        _ => None,
    }
}

struct ReaderMachine {
    scan_ms: u64,
    /// Presented codes and when each has been scanned.
    scans: VecDeque<(Millis, String)>,
}

impl Machine for ReaderMachine {
    fn advance(&mut self, _now: Millis) {}

    fn next_deadline(&self) -> Option<Millis> {
        self.scans.front().map(|(at, _)| *at)
    }
}

impl ReaderMachine {
    fn take(&mut self, now: Millis) -> Option<Result<PaymentCode, DeviceError>> {
        if self.scans.front()?.0 > now {
            return None;
        }
        let (_, digits) = self.scans.pop_front()?;
        Some(match classify_code(&digits) {
            Some(scheme) => Ok(PaymentCode::new(scheme, digits)),
            None => Err(DeviceError::new(
                ErrorKind::Protocol,
                format!("not a payment code ({} characters)", digits.len()),
            )),
        })
    }
}

/// The virtual reader, as the kiosk sees it ([`PaymentReader`]).
///
/// `read_code` waits for a presented code and is cancel safe: a code is
/// taken from the queue only in the step that returns it.
pub struct VirtualReader {
    shared: Shared<ReaderMachine>,
}

/// The reader's window, as the simulated customer uses it (cloneable).
#[derive(Clone)]
pub struct CodeWindow {
    shared: Shared<ReaderMachine>,
}

impl CodeWindow {
    /// Shows a code (the digits of a payment QR code, or anything else).
    /// The reader returns it `scan-ms` later; codes are read in order.
    pub fn present_code(&self, digits: &str) {
        self.shared.with(|m, now| {
            let at = now.plus_ms(m.scan_ms);
            m.scans.push_back((at, digits.to_string()));
        });
    }
}

impl VirtualReader {
    /// A fault-free reader (`config.faults` is not used; see [`VirtualReader::with_faults`]).
    pub fn new(config: &ReaderConfig, clock: SimClock) -> (VirtualReader, CodeWindow) {
        let shared = Shared::new(
            ReaderMachine {
                scan_ms: config.scan_ms,
                scans: VecDeque::new(),
            },
            clock,
        );
        (
            VirtualReader {
                shared: shared.clone(),
            },
            CodeWindow { shared },
        )
    }

    #[cfg(test)]
    pub(crate) fn wakeups(&self) -> u64 {
        self.shared.wakeups()
    }

    /// A reader wrapped in a [`FaultyReader`] applying `config.faults`.
    /// `rng` should be the drill's generator forked for this device.
    pub fn with_faults(
        config: &ReaderConfig,
        clock: SimClock,
        rng: SimRng,
    ) -> Result<(FaultyReader<VirtualReader>, CodeWindow), ConfigError> {
        let (reader, window) = VirtualReader::new(config, clock);
        let faulty = FaultyReader::new(reader, config.faults.clone(), clock, rng)?;
        Ok((faulty, window))
    }
}

#[async_trait]
impl PaymentReader for VirtualReader {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        self.shared.wait_for(|m, now| m.take(now)).await
    }

    async fn check(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_READER_MODEL,
        ))
    }
}

#[cfg(test)]
mod tests {
    use kiosk_core::Millis;
    use tokio::time::Duration;

    use super::*;
    use crate::faults::Trigger;

    const WECHAT: &str = "134567890123456789";

    #[test]
    fn classifies_codes_by_prefix_and_length() {
        assert_eq!(classify_code(WECHAT), Some(PaymentScheme::WeChatPay));
        assert_eq!(
            classify_code("2812345678901234"),
            Some(PaymentScheme::Alipay)
        );
        assert_eq!(
            classify_code("6212345678901234567"),
            Some(PaymentScheme::UnionPay)
        );
        assert_eq!(classify_code("16345678901234567"), None, "17 digits");
        assert_eq!(classify_code("99345678901234567890"), None);
        assert_eq!(classify_code("13456789012345678x"), None);
        assert_eq!(classify_code(""), None);
    }

    #[tokio::test(start_paused = true)]
    async fn reads_presented_codes_and_survives_garbage() {
        let clock = SimClock::new();
        let (mut reader, window) = VirtualReader::new(&ReaderConfig::default(), clock);
        window.present_code("hello");
        window.present_code(WECHAT);
        let err = reader.read_code().await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::Protocol, Millis(300))
        );
        let code = reader.read_code().await.unwrap();
        assert_eq!(code.scheme, PaymentScheme::WeChatPay);
        assert_eq!(code.expose_digits(), WECHAT);
        // Cancel safety: a timed-out read loses nothing.
        assert!(
            tokio::time::timeout(Duration::from_secs(60), reader.read_code())
                .await
                .is_err()
        );
        window.present_code(WECHAT);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), reader.read_code())
                .await
                .is_err()
        );
        assert!(reader.read_code().await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn faulty_reader_goes_offline_and_returns_garbage() {
        let clock = SimClock::new();
        let config = ReaderConfig {
            faults: vec![
                FaultRule::new(Trigger::NthCall { n: 1 }, ReaderFault::Garbage {}),
                FaultRule::new(
                    Trigger::Between {
                        from_ms: 10_000,
                        until_ms: Some(20_000),
                    },
                    ReaderFault::Offline {
                        fail_after_ms: 1000,
                    },
                ),
            ],
            ..ReaderConfig::default()
        };
        let (mut reader, window) =
            VirtualReader::with_faults(&config, clock, SimRng::new(5)).unwrap();
        window.present_code(WECHAT);
        assert_eq!(
            reader.read_code().await.unwrap_err().kind(),
            ErrorKind::Protocol
        );
        // A read waiting when the offline window opens fails.
        let err = reader.read_code().await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::Offline, Millis(11_000))
        );
        assert_eq!(reader.check().await.unwrap_err().kind(), ErrorKind::Offline);
        clock.sleep_until(Millis(20_000)).await;
        reader.check().await.unwrap();
        window.present_code(WECHAT);
        assert!(reader.read_code().await.is_ok());
    }
}
