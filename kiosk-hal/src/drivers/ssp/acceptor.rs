//! The serial shell around [`SspHost`]: the [`BillAcceptor`] and the cash
//! box's [`CashBox`] view.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::config::SspConfig;
use super::host::{HostOutput, HostStats, Request, SspHost};
use crate::drivers::serial::{
    request_error, spawn, worker_gone, Epoch, PortProtocol, Shared, Worker, WorkerConfig,
};
use crate::wire::ssp::{Decoder, SetupData};
use crate::wire::DecoderStats;
use crate::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, CashBoxStatus, DeviceError,
    DeviceIdentity, ErrorKind, Money,
};

const DEVICE: &str = "SSP acceptor";

type EventResult = Result<AcceptorEvent, DeviceError>;

/// Eight bytes of OS entropy for a session's key exchange (the kernel's
/// generator; a hasher keyed by std's per-process random keys if
/// `/dev/urandom` cannot be read).
fn os_entropy() -> u64 {
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_ok() {
        return u64::from_le_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// The protocol state the I/O thread drives.
struct SspPort {
    host: SspHost,
    decoder: Decoder,
    events: mpsc::UnboundedSender<EventResult>,
    waiters: HashMap<u64, oneshot::Sender<Result<(), ErrorKind>>>,
    next_token: u64,
    offline_reason: String,
}

impl PortProtocol for SspPort {
    fn opened(&mut self, now_ms: u64) {
        self.decoder.clear();
        self.host.port_opened(now_ms, os_entropy());
    }

    fn closed(&mut self, now_ms: u64, why: &str) {
        self.offline_reason = why.to_string();
        self.host.port_closed(now_ms);
    }

    fn received(&mut self, now_ms: u64, bytes: &[u8]) {
        self.decoder.push(bytes);
        while let Some(packet) = self.decoder.next_packet() {
            match packet {
                Ok(packet) => self.host.handle_packet(now_ms, &packet),
                Err(e) => self.host.handle_wire_error(now_ms, e),
            }
        }
    }

    fn transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        let out = self.host.poll_transmit(now_ms)?;
        // The unit speaks only when asked: whatever is still buffered when
        // the next command goes out is a reply given up on.
        self.decoder.clear();
        Some(out.bytes)
    }

    fn next_deadline_ms(&self) -> Option<u64> {
        self.host.next_deadline_ms()
    }

    fn deliver(&mut self) {
        while let Some(output) = self.host.poll_output() {
            match output {
                HostOutput::Event(event) => {
                    // A closed receiver means the driver was dropped.
                    let _ = self.events.send(Ok(event));
                }
                HostOutput::WentOffline => {
                    let reason = if self.offline_reason.is_empty() {
                        "no answer to repeated commands".to_string()
                    } else {
                        std::mem::take(&mut self.offline_reason)
                    };
                    let e = DeviceError::new(ErrorKind::Offline, format!("{DEVICE}: {reason}"));
                    let _ = self.events.send(Err(e));
                }
                HostOutput::Done { token, result } => {
                    if let Some(waiter) = self.waiters.remove(&token) {
                        let _ = waiter.send(result);
                    }
                }
            }
        }
    }
}

/// An ITL SSP / eSSP note validator on a serial port.
///
/// Opening never fails because the unit is absent: the I/O thread keeps
/// trying, and the absence shows as an `Offline` event and `Offline` errors
/// until the unit answers. After every outage the driver sets the unit up
/// again (keys included) and reports [`AcceptorEvent::PowerUp`].
pub struct SspAcceptor {
    shared: Shared<SspPort>,
    events: mpsc::UnboundedReceiver<EventResult>,
    worker: Arc<Worker>,
}

/// The unit's cash box as a [`CashBox`]: present unless the unit reports
/// it removed, full while it reports the stacker full; contents unknown.
pub struct SspCashBox {
    shared: Shared<SspPort>,
    _worker: Arc<Worker>,
}

impl SspAcceptor {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &SspConfig) -> Result<SspAcceptor, DeviceError> {
        config
            .validate()
            .map_err(|e| DeviceError::new(ErrorKind::Other, format!("{DEVICE}: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Shared::new(SspPort {
            host: SspHost::new(config),
            decoder: Decoder::new(),
            events: tx,
            waiters: HashMap::new(),
            next_token: 1,
            offline_reason: String::new(),
        });
        let worker = spawn(
            WorkerConfig {
                line: config.line(),
                reconnect: config.reconnect(),
                tick_ms: config.io_tick_ms,
                name: format!("ssp {}", config.port.display()),
            },
            shared.clone(),
            Epoch::new(),
        )
        .map_err(DeviceError::from)?;
        Ok(SspAcceptor {
            shared,
            events: rx,
            worker: Arc::new(worker),
        })
    }

    /// The cash box (shares this driver's port).
    pub fn cash_box(&self) -> SspCashBox {
        SspCashBox {
            shared: self.shared.clone(),
            _worker: Arc::clone(&self.worker),
        }
    }

    /// The host's counters (answers, timeouts, resends, key exchanges…).
    pub fn host_stats(&self) -> HostStats {
        self.shared.lock().host.stats()
    }

    /// The packet decoder's counters (CRC errors, skipped garbage).
    pub fn decoder_stats(&self) -> DecoderStats {
        self.shared.lock().decoder.stats()
    }

    /// Whether set-up finished and the unit is being polled.
    pub fn is_running(&self) -> bool {
        self.shared.lock().host.is_running()
    }

    /// Whether the link is encrypted (eSSP keys exchanged).
    pub fn is_encrypted(&self) -> bool {
        self.shared.lock().host.is_encrypted()
    }

    /// What the unit said about itself (firmware, country, channel values), once read.
    pub fn setup(&self) -> Option<SetupData> {
        self.shared.lock().host.setup().cloned()
    }

    /// The unit's serial number, once read.
    pub fn serial_number(&self) -> Option<u32> {
        self.shared.lock().host.serial_number()
    }

    async fn request(&mut self, request: Request) -> Result<(), DeviceError> {
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
            Ok(Ok(())) => Ok(()),
            Ok(Err(kind)) => Err(request_error(DEVICE, kind)),
            Err(_) => Err(worker_gone(DEVICE)),
        }
    }
}

#[async_trait]
impl BillAcceptor for SspAcceptor {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        self.request(Request::Enable(accepted.to_vec())).await
    }

    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.request(Request::Inhibit).await
    }

    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        match self.events.recv().await {
            Some(event) => event,
            None => Err(worker_gone(DEVICE)),
        }
    }

    async fn stack(&mut self) -> Result<(), DeviceError> {
        self.request(Request::Stack).await
    }

    async fn return_note(&mut self) -> Result<(), DeviceError> {
        self.request(Request::Return).await
    }

    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        let status = self.shared.lock().host.status();
        status.map_err(|kind| request_error(DEVICE, kind))
    }

    async fn reset(&mut self) -> Result<(), DeviceError> {
        self.request(Request::Reset).await
    }

    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host.identity())
    }
}

#[async_trait]
impl CashBox for SspCashBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let status = self.shared.lock().host.cash_box();
        status.map_err(|kind| request_error(DEVICE, kind))
    }

    /// The cash box is part of the acceptor: the acceptor's identity.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host.identity())
    }
}
