//! The serial shell around [`ScannerHost`]: the [`PaymentReader`].

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};

use super::config::ScannerConfig;
use super::host::{Scan, ScannerHost};
use crate::drivers::serial::{
    request_error, spawn, worker_gone, Epoch, PortProtocol, Shared, Worker, WorkerConfig,
};
use crate::wire::DecoderStats;
use crate::{DeviceError, ErrorKind, PaymentCode, PaymentReader};

const DEVICE: &str = "serial scanner";

struct ScannerPort {
    host: ScannerHost,
    scans: mpsc::UnboundedSender<Scan>,
    link: watch::Sender<bool>,
}

impl PortProtocol for ScannerPort {
    fn opened(&mut self, _now_ms: u64) {
        self.host.port_opened();
        self.link.send_replace(true);
    }

    fn closed(&mut self, _now_ms: u64, _why: &str) {
        self.host.port_closed();
        self.link.send_replace(false);
    }

    fn received(&mut self, now_ms: u64, bytes: &[u8]) {
        self.host.handle_bytes(now_ms, bytes);
    }

    fn transmit(&mut self, _now_ms: u64) -> Option<Vec<u8>> {
        self.host.poll_transmit().map(|t| t.to_vec())
    }

    fn deliver(&mut self) {
        while let Some(scan) = self.host.poll_scan() {
            let _ = self.scans.send(scan);
        }
    }
}

/// A barcode / QR scanner on a serial port.
///
/// `read_code` is cancel safe: scans wait in a channel. A scan older than
/// `stale-after-ms` when it is taken is dropped (it was presented while no
/// payment waited for it). While the port is gone, `read_code` and `check`
/// fail with `Offline`; the driver reopens the port by itself.
pub struct SerialScanner {
    shared: Shared<ScannerPort>,
    scans: mpsc::UnboundedReceiver<Scan>,
    link: watch::Receiver<bool>,
    epoch: Epoch,
    stale_after_ms: u64,
    stale_dropped: u64,
    _worker: Worker,
}

impl SerialScanner {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &ScannerConfig) -> Result<SerialScanner, DeviceError> {
        let line = config.line();
        line.validate()
            .map_err(|e| DeviceError::new(ErrorKind::Other, format!("{DEVICE}: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (link_tx, link_rx) = watch::channel(false);
        let shared = Shared::new(ScannerPort {
            host: ScannerHost::new(config),
            scans: tx,
            link: link_tx,
        });
        let epoch = Epoch::new();
        let worker = spawn(
            WorkerConfig {
                line,
                reconnect: config.reconnect(),
                tick_ms: config.io_tick_ms,
                name: format!("scanner {}", config.port.display()),
            },
            shared.clone(),
            epoch,
        )
        .map_err(DeviceError::from)?;
        Ok(SerialScanner {
            shared,
            scans: rx,
            link: link_rx,
            epoch,
            stale_after_ms: config.stale_after_ms,
            stale_dropped: 0,
            _worker: worker,
        })
    }

    /// Whether the port is open.
    pub fn is_connected(&self) -> bool {
        *self.link.borrow()
    }

    /// The line decoder's counters.
    pub fn decoder_stats(&self) -> DecoderStats {
        self.shared.lock().host.stats()
    }

    /// Scans dropped because nobody asked for a code in time.
    pub fn stale_dropped(&self) -> u64 {
        self.stale_dropped
    }
}

#[async_trait]
impl PaymentReader for SerialScanner {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        self.shared.lock().host.arm();
        loop {
            if !*self.link.borrow_and_update() {
                return Err(request_error(DEVICE, ErrorKind::Offline));
            }
            tokio::select! {
                biased;
                scan = self.scans.recv() => {
                    let Some(scan) = scan else {
                        return Err(worker_gone(DEVICE));
                    };
                    if self.epoch.now_ms().saturating_sub(scan.at_ms) > self.stale_after_ms {
                        self.stale_dropped += 1;
                        continue;
                    }
                    return scan.result.map_err(DeviceError::from);
                }
                changed = self.link.changed() => {
                    if changed.is_err() {
                        return Err(worker_gone(DEVICE));
                    }
                }
            }
        }
    }

    async fn check(&mut self) -> Result<(), DeviceError> {
        if *self.link.borrow() {
            Ok(())
        } else {
            Err(request_error(DEVICE, ErrorKind::Offline))
        }
    }

    /// The protocol only: a serial scanner has no identity command.
    async fn identity(&mut self) -> Result<crate::DeviceIdentity, DeviceError> {
        Ok(crate::DeviceIdentity::of(
            crate::DeviceProtocol::SerialScanner,
        ))
    }
}
