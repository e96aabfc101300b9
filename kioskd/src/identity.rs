//! Which physical device is which: each device's identity (model, firmware,
//! serial number, as its protocol reports it) for the operator status and
//! the log.
//!
//! The kiosk owns its devices, so the service cannot ask them later. Each
//! device is therefore handed over wrapped in [`Identified`], which
//! forwards every call unchanged and, after every successful status check
//! (the kiosk's health checks and its daily self-test make them), reads the
//! driver's cached identity into a shared [`Identities`]. A driver reads
//! the identity once after it set the device up and again after every
//! reconnect, so a swapped unit shows its new serial number at the next
//! check; the change is logged (`device identity`), the first reading at
//! start included.
//!
//! The self-test itself lives in the kiosk's state machine (kiosk-core);
//! its device checks are status reads, which is what refreshes this.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kiosk_core::DeviceKind;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, CashBoxStatus, DeviceError,
    DeviceIdentity, Money, PaymentCode, PaymentReader, PrintOutcome, PrinterStatus, Receipt,
    ReceiptPrinter,
};

use crate::metrics::device_label;

/// The last identity each device reported (shared, cheap to clone).
#[derive(Clone, Default)]
pub struct Identities {
    known: Arc<Mutex<BTreeMap<DeviceKind, DeviceIdentity>>>,
    /// The cash box's last successful reading (for the hall's telemetry).
    cash_box: Arc<Mutex<Option<CashBoxStatus>>>,
}

impl Identities {
    /// An empty set: every device unknown.
    pub fn new() -> Identities {
        Identities::default()
    }

    /// What `device` last reported, if it was asked yet.
    pub fn get(&self, device: DeviceKind) -> Option<DeviceIdentity> {
        self.lock().get(&device).cloned()
    }

    /// Records `identity` for `device`; logs it when it differs from the
    /// last one (first reading, a reconnect, a swapped unit).
    pub fn record(&self, device: DeviceKind, identity: DeviceIdentity) {
        let mut known = self.lock();
        if known.get(&device) == Some(&identity) {
            return;
        }
        tracing::info!(
            device = device_label(device),
            protocol = identity.protocol.as_str(),
            model = identity.model.as_deref().unwrap_or("?"),
            firmware = identity.firmware.as_deref().unwrap_or("?"),
            serial = identity.serial.as_deref().unwrap_or("?"),
            "device identity"
        );
        known.insert(device, identity);
    }

    /// The cash box's last successful reading, if it was read yet.
    pub fn cash_box(&self) -> Option<CashBoxStatus> {
        *self.cash_box.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record_cash_box(&self, status: CashBoxStatus) {
        *self.cash_box.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<DeviceKind, DeviceIdentity>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A device whose identity is read into [`Identities`] after each
/// successful status check. Every call is forwarded unchanged (so
/// `next_event` and `read_code` stay cancel safe).
pub struct Identified<T: ?Sized> {
    device: DeviceKind,
    identities: Identities,
    inner: Box<T>,
}

impl<T: ?Sized> Identified<T> {
    /// Wraps `inner`, the kiosk's `device`.
    pub fn new(device: DeviceKind, inner: Box<T>, identities: &Identities) -> Identified<T> {
        Identified {
            device,
            identities: identities.clone(),
            inner,
        }
    }

    fn keep(&self, answer: &Result<DeviceIdentity, DeviceError>) {
        // A driver that cannot answer now keeps its last identity on show.
        if let Ok(identity) = answer {
            self.identities.record(self.device, identity.clone());
        }
    }
}

#[async_trait]
impl BillAcceptor for Identified<dyn BillAcceptor> {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        self.inner.enable(accepted).await
    }
    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.inner.inhibit().await
    }
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        self.inner.next_event().await
    }
    async fn stack(&mut self) -> Result<(), DeviceError> {
        self.inner.stack().await
    }
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        self.inner.return_note().await
    }
    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        let status = self.inner.status().await;
        if status.is_ok() {
            self.identity().await.ok();
        }
        status
    }
    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.inner.reset().await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let answer = self.inner.identity().await;
        self.keep(&answer);
        answer
    }
}

#[async_trait]
impl CashBox for Identified<dyn CashBox> {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let status = self.inner.status().await;
        if let Ok(reading) = &status {
            self.identities.record_cash_box(*reading);
            self.identity().await.ok();
        }
        status
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let answer = self.inner.identity().await;
        self.keep(&answer);
        answer
    }
}

#[async_trait]
impl ReceiptPrinter for Identified<dyn ReceiptPrinter> {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        let status = self.inner.status().await;
        if status.is_ok() {
            self.identity().await.ok();
        }
        status
    }
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        self.inner.print(receipt).await
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let answer = self.inner.identity().await;
        self.keep(&answer);
        answer
    }
}

#[async_trait]
impl PaymentReader for Identified<dyn PaymentReader> {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        self.inner.read_code().await
    }
    async fn check(&mut self) -> Result<(), DeviceError> {
        let checked = self.inner.check().await;
        if checked.is_ok() {
            self.identity().await.ok();
        }
        checked
    }
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let answer = self.inner.identity().await;
        self.keep(&answer);
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::{DeviceProtocol, ErrorKind};

    /// A cash box whose identity changes (a swapped unit) and whose status
    /// can fail.
    struct Swappable {
        serial: &'static str,
        broken: bool,
    }

    #[async_trait]
    impl CashBox for Swappable {
        async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
            if self.broken {
                return Err(DeviceError::new(ErrorKind::Offline, "gone"));
            }
            Ok(CashBoxStatus {
                present: true,
                level: kiosk_hal::FillLevel::Normal,
                contents: None,
            })
        }
        async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
            Ok(DeviceIdentity {
                serial: Some(self.serial.into()),
                ..DeviceIdentity::of(DeviceProtocol::Id003)
            })
        }
    }

    #[tokio::test]
    async fn a_status_check_refreshes_the_identity_and_a_failed_one_keeps_it() {
        let ids = Identities::new();
        let inner: Box<dyn CashBox> = Box::new(Swappable {
            serial: "A1",
            broken: false,
        });
        let mut cash_box = Identified::new(DeviceKind::CashBox, inner, &ids);
        assert_eq!(ids.get(DeviceKind::CashBox), None, "not asked yet");
        cash_box.status().await.unwrap();
        let serial = |ids: &Identities| ids.get(DeviceKind::CashBox).and_then(|i| i.serial);
        assert_eq!(serial(&ids).as_deref(), Some("A1"));
        // The unit is swapped and then stops answering: the new serial shows
        // after the next good check, and a failed check changes nothing.
        let mut cash_box = Identified::new(
            DeviceKind::CashBox,
            Box::new(Swappable {
                serial: "B2",
                broken: true,
            }) as Box<dyn CashBox>,
            &ids,
        );
        assert!(cash_box.status().await.is_err());
        assert_eq!(serial(&ids).as_deref(), Some("A1"));
        cash_box.inner = Box::new(Swappable {
            serial: "B2",
            broken: false,
        });
        cash_box.status().await.unwrap();
        assert_eq!(serial(&ids).as_deref(), Some("B2"));
    }
}
