//! The serial shell around [`EscPosHost`]: the [`ReceiptPrinter`].

use std::collections::HashMap;

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::config::EscPosConfig;
use super::host::{EscPosHost, PrinterReply, PrinterRequest, PrinterStats};
use crate::drivers::serial::{
    request_error, spawn, worker_gone, Epoch, PortProtocol, Shared, Worker, WorkerConfig,
};
use crate::wire::escpos::render_receipt;
use crate::{DeviceError, ErrorKind, PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter};

const DEVICE: &str = "ESC/POS printer";

type Reply = Result<PrinterReply, ErrorKind>;

struct EscPosPort {
    host: EscPosHost,
    waiters: HashMap<u64, oneshot::Sender<Reply>>,
    next_token: u64,
}

impl PortProtocol for EscPosPort {
    fn opened(&mut self, now_ms: u64) {
        self.host.port_opened(now_ms);
    }

    fn closed(&mut self, now_ms: u64, _why: &str) {
        self.host.port_closed(now_ms);
    }

    fn received(&mut self, now_ms: u64, bytes: &[u8]) {
        self.host.handle_bytes(now_ms, bytes);
    }

    fn transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.host.poll_transmit(now_ms)
    }

    fn next_deadline_ms(&self) -> Option<u64> {
        self.host.next_deadline_ms()
    }

    fn deliver(&mut self) {
        while let Some(done) = self.host.poll_output() {
            if let Some(waiter) = self.waiters.remove(&done.token) {
                let _ = waiter.send(done.result);
            }
        }
    }
}

/// An ESC/POS receipt printer on a serial port.
///
/// `print` checks the real-time status (DLE EOT 1–4) before and after the
/// receipt and returns [`PrintOutcome::Printed`] only when the status after
/// it was read and shows a printer that can go on printing. Configured
/// `one-way`, it never reads anything: `status()` is `Unknown` and `print`
/// returns `Ok(Unknown)`.
pub struct EscPosPrinter {
    shared: Shared<EscPosPort>,
    _worker: Worker,
}

impl EscPosPrinter {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &EscPosConfig) -> Result<EscPosPrinter, DeviceError> {
        let line = config.line();
        line.validate()
            .map_err(|e| DeviceError::new(ErrorKind::Other, format!("{DEVICE}: {e}")))?;
        let shared = Shared::new(EscPosPort {
            host: EscPosHost::new(config),
            waiters: HashMap::new(),
            next_token: 1,
        });
        let worker = spawn(
            WorkerConfig {
                line,
                reconnect: config.reconnect(),
                tick_ms: config.io_tick_ms,
                name: format!("escpos {}", config.port.display()),
            },
            shared.clone(),
            Epoch::new(),
        )
        .map_err(DeviceError::from)?;
        Ok(EscPosPrinter {
            shared,
            _worker: worker,
        })
    }

    /// The host's counters.
    pub fn stats(&self) -> PrinterStats {
        self.shared.lock().host.stats()
    }

    /// Whether the port is open.
    pub fn is_connected(&self) -> bool {
        self.shared.lock().host.is_connected()
    }

    async fn request(&self, request: PrinterRequest) -> Result<PrinterReply, DeviceError> {
        let rx = {
            let mut port = self.shared.lock();
            let token = port.next_token;
            port.next_token += 1;
            let (tx, rx) = oneshot::channel();
            port.waiters.insert(token, tx);
            port.host.request(token, request);
            port.deliver();
            rx
        };
        match rx.await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(kind)) => Err(print_error(kind)),
            Err(_) => Err(worker_gone(DEVICE)),
        }
    }
}

fn print_error(kind: ErrorKind) -> DeviceError {
    match kind {
        ErrorKind::PaperOut => DeviceError::new(kind, format!("{DEVICE}: out of paper")),
        ErrorKind::CoverOpen => DeviceError::new(kind, format!("{DEVICE}: cover open")),
        ErrorKind::Jam => DeviceError::new(kind, format!("{DEVICE}: paper or cutter jam")),
        ErrorKind::Hardware => DeviceError::new(kind, format!("{DEVICE}: unrecoverable error")),
        other => request_error(DEVICE, other),
    }
}

#[async_trait]
impl ReceiptPrinter for EscPosPrinter {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        match self.request(PrinterRequest::Status).await? {
            PrinterReply::Status(status) => Ok(status),
            PrinterReply::Printed(_) => Err(request_error(DEVICE, ErrorKind::Protocol)),
        }
    }

    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        let bytes = render_receipt(receipt);
        match self.request(PrinterRequest::Print(bytes)).await? {
            PrinterReply::Printed(outcome) => Ok(outcome),
            PrinterReply::Status(_) => Err(request_error(DEVICE, ErrorKind::Protocol)),
        }
    }

    /// What the printer answered to `GS I n` after the port opened: model
    /// name, firmware version, maker, serial number (or the one-byte
    /// model and firmware IDs where the text forms go unanswered). A
    /// one-way printer, or one that answers nothing, stays unknown.
    async fn identity(&mut self) -> Result<crate::DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host.identity().clone())
    }
}
