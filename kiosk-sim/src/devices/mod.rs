//! Virtual kiosk devices: each implements its HAL trait, is configured by a
//! serde struct a drill scenario embeds, and can stage the faults of the
//! contingency catalog. All run on the paused tokio clock through
//! [`SimClock`](crate::clock::SimClock) and cost nothing while idle.

mod acceptor;
mod cashbox;
mod identity;
mod printer;
mod reader;
mod shared;

pub(crate) use acceptor::AfterCut;
pub use acceptor::{
    AcceptorConfig, AcceptorFault, CashUnit, CustomerSlot, HostPower, SlotRefusal, VirtualAcceptor,
    RETURN_OUT_PERCENT, STACK_POINT_OF_NO_RETURN_PERCENT,
};
pub use cashbox::{CashBoxConfig, CashBoxHandle, VirtualCashBox};
pub use identity::{
    virtual_identity, VIRTUAL_ACCEPTOR_MODEL, VIRTUAL_CASH_BOX_MODEL, VIRTUAL_PRINTER_MODEL,
    VIRTUAL_READER_MODEL,
};
pub use printer::{PrintedReceipt, PrinterConfig, PrinterFault, PrinterHandle, VirtualPrinter};
pub use reader::{classify_code, CodeWindow, ReaderConfig, VirtualReader};

#[cfg(test)]
mod tests {
    use kiosk_core::Millis;
    use kiosk_hal::{BillAcceptor, CashBox, PaymentReader, PrinterStatus, ReceiptPrinter};
    use tokio::time::Duration;

    use super::*;
    use crate::clock::SimClock;
    use crate::rng::SimRng;

    #[tokio::test(start_paused = true)]
    async fn an_idle_hour_of_every_device_costs_nothing() {
        let clock = SimClock::new();
        let seed = SimRng::new(2024);
        let mut unit = CashUnit::new(
            &AcceptorConfig::default(),
            &CashBoxConfig::default(),
            clock,
            seed.fork("acceptor"),
        )
        .unwrap();
        let (mut printer, _) =
            VirtualPrinter::new(&PrinterConfig::default(), clock, seed.fork("printer")).unwrap();
        let (mut reader, _window) =
            VirtualReader::with_faults(&ReaderConfig::default(), clock, seed.fork("reader"))
                .unwrap();
        let hour = Duration::from_secs(3600);
        let (event, code) = tokio::join!(
            tokio::time::timeout(hour, unit.acceptor.next_event()),
            tokio::time::timeout(hour, reader.read_code()),
        );
        assert!(event.is_err() && code.is_err(), "nothing happens");
        assert_eq!(clock.now(), Millis(3_600_000));
        assert!(unit.acceptor.wakeups() <= 1);
        assert!(reader.inner().wakeups() <= 1);
        assert_eq!(printer.status().await.unwrap(), PrinterStatus::Ready);
        assert!(unit.cash_box.status().await.unwrap().present);
    }

    #[tokio::test(start_paused = true)]
    async fn virtual_devices_say_they_are_virtual() {
        let clock = SimClock::new();
        let seed = SimRng::new(7);
        let mut unit = CashUnit::new(
            &AcceptorConfig::default(),
            &CashBoxConfig::default(),
            clock,
            seed.fork("acceptor"),
        )
        .unwrap();
        let (mut printer, _) =
            VirtualPrinter::new(&PrinterConfig::default(), clock, seed.fork("printer")).unwrap();
        let (mut reader, _window) =
            VirtualReader::with_faults(&ReaderConfig::default(), clock, seed.fork("reader"))
                .unwrap();
        let ids = [
            unit.acceptor.identity().await.unwrap(),
            unit.cash_box.identity().await.unwrap(),
            printer.identity().await.unwrap(),
            reader.identity().await.unwrap(),
        ];
        let models = [
            VIRTUAL_ACCEPTOR_MODEL,
            VIRTUAL_CASH_BOX_MODEL,
            VIRTUAL_PRINTER_MODEL,
            VIRTUAL_READER_MODEL,
        ];
        for (id, model) in ids.iter().zip(models) {
            assert_eq!(id.protocol, kiosk_hal::DeviceProtocol::Virtual);
            assert_eq!(id.model.as_deref(), Some(model));
            assert_eq!(id.firmware.as_deref(), Some(env!("CARGO_PKG_VERSION")));
        }
    }
}
