//! The serial shell around [`CctalkHost`]: the [`BillAcceptor`] and the
//! stacker's [`CashBox`] view.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::config::CctalkConfig;
use super::host::{CctalkHost, HostOutput, HostStats, Identity, Request};
use crate::drivers::serial::{
    request_error, spawn, worker_gone, Epoch, PortProtocol, Shared, Worker, WorkerConfig,
};
use crate::wire::cctalk::{Checksum, Decoder, FrameRepr};
use crate::wire::DecoderStats;
use crate::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, CashBoxStatus, DeviceError,
    DeviceIdentity, ErrorKind, Money,
};

const DEVICE: &str = "ccTalk acceptor";

pub(super) type EventResult = Result<AcceptorEvent, DeviceError>;

/// The protocol state the I/O thread drives (bill validators and coin
/// acceptors alike: only the host inside differs).
pub(super) struct CctalkPort {
    host: CctalkHost,
    decoder: Decoder,
    events: mpsc::UnboundedSender<EventResult>,
    waiters: HashMap<u64, oneshot::Sender<Result<(), ErrorKind>>>,
    next_token: u64,
    offline_reason: String,
    /// Addresses and the checksum of the line.
    address: u8,
    host_address: u8,
    checksum: Checksum,
    echo: bool,
    /// The command just sent, until its echo is read back: frames before
    /// it are stale (a late reply to an earlier command).
    echo_pending: Option<FrameRepr>,
    /// Frames dropped as echoes or stale replies.
    echoes: u64,
}

impl PortProtocol for CctalkPort {
    fn opened(&mut self, now_ms: u64) {
        self.decoder.clear();
        self.host.port_opened(now_ms);
    }

    fn closed(&mut self, now_ms: u64, why: &str) {
        self.offline_reason = why.to_string();
        self.host.port_closed(now_ms);
    }

    fn received(&mut self, now_ms: u64, bytes: &[u8]) {
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.next_frame() {
            match frame {
                Ok(frame) => self.on_frame(now_ms, frame),
                Err(e) => self.host.handle_wire_error(now_ms, e),
            }
        }
    }

    fn transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        if self.host.next_deadline_ms().is_some_and(|d| now_ms >= d) {
            // A whole reply timeout of quiet: a frame still incomplete is
            // noise (with no sync byte, any byte can open a long frame).
            while self.decoder.abandon_incomplete() {
                self.received(now_ms, &[]);
            }
        }
        let cmd = self.host.poll_transmit(now_ms)?;
        // The validator speaks only when asked: whatever is left is stale.
        self.decoder.clear();
        let frame = cmd.to_frame(self.address, self.host_address);
        self.echo_pending = self.echo.then(|| frame.clone());
        // At most 2 data bytes: emitting cannot fail.
        frame.to_bytes(self.checksum).ok()
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
                        "no answer to repeated polls".to_string()
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

impl CctalkPort {
    fn new(
        host: CctalkHost,
        config: &CctalkConfig,
        events: mpsc::UnboundedSender<EventResult>,
    ) -> CctalkPort {
        CctalkPort {
            host,
            decoder: Decoder::new(config.checksum),
            events,
            waiters: HashMap::new(),
            next_token: 1,
            offline_reason: String::new(),
            address: config.address,
            host_address: config.host_address,
            checksum: config.checksum,
            echo: config.echo,
            echo_pending: None,
            echoes: 0,
        }
    }

    /// Keeps replies addressed to the host that come after the echo of the
    /// command they answer.
    fn on_frame(&mut self, now_ms: u64, frame: FrameRepr) {
        if let Some(sent) = &self.echo_pending {
            let echo =
                frame.dest == sent.dest && frame.header == sent.header && frame.data == sent.data;
            if echo {
                self.echo_pending = None;
            }
            self.echoes += 1;
            return;
        }
        let from_device = self.checksum == Checksum::Crc16 || frame.source == self.address;
        if frame.dest == self.host_address && from_device {
            self.host.handle_frame(now_ms, &frame);
        } else {
            self.echoes += 1;
        }
    }
}

/// A ccTalk bill validator on a serial port.
///
/// Opening never fails because the device is absent: the I/O thread keeps
/// trying, and the absence shows as an `Offline` event and `Offline` errors
/// until the device answers. After every outage the driver initialises the
/// device again and reports [`AcceptorEvent::PowerUp`].
pub struct CctalkAcceptor {
    shared: Shared<CctalkPort>,
    events: mpsc::UnboundedReceiver<EventResult>,
    worker: Arc<Worker>,
}

/// The acceptor's stacker as a [`CashBox`]: present unless the acceptor
/// reports it open, full while it reports it full; contents unknown.
pub struct CctalkCashBox {
    shared: Shared<CctalkPort>,
    _worker: Arc<Worker>,
}

impl CctalkAcceptor {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &CctalkConfig) -> Result<CctalkAcceptor, DeviceError> {
        let (shared, events, worker) = start(CctalkHost::new(config), config, DEVICE)?;
        Ok(CctalkAcceptor {
            shared,
            events,
            worker: Arc::new(worker),
        })
    }

    /// The stacker as a cash box (shares this driver's port).
    pub fn cash_box(&self) -> CctalkCashBox {
        CctalkCashBox {
            shared: self.shared.clone(),
            _worker: Arc::clone(&self.worker),
        }
    }

    /// The host's counters (answers, timeouts, resends, …).
    pub fn host_stats(&self) -> HostStats {
        self.shared.lock().host.stats()
    }

    /// The frame decoder's counters (CRC errors, skipped garbage).
    pub fn decoder_stats(&self) -> DecoderStats {
        self.shared.lock().decoder.stats()
    }

    /// The device's identity (manufacturer, product, serial number), once read.
    pub fn identity(&self) -> Identity {
        self.shared.lock().host.identity().clone()
    }

    /// Frames dropped as the host's own echo or as stale replies.
    pub fn echoes_dropped(&self) -> u64 {
        self.shared.lock().echoes
    }

    /// Whether the device finished initialising and is being polled.
    pub fn is_running(&self) -> bool {
        self.shared.lock().host.is_running()
    }

    async fn request(&mut self, request: Request) -> Result<(), DeviceError> {
        send_request(&self.shared, request, DEVICE).await
    }
}

/// Starts the I/O thread for `host` on the port `config` names.
pub(super) fn start(
    host: CctalkHost,
    config: &CctalkConfig,
    device: &str,
) -> Result<
    (
        Shared<CctalkPort>,
        mpsc::UnboundedReceiver<EventResult>,
        Worker,
    ),
    DeviceError,
> {
    let line = config.line();
    line.validate()
        .map_err(|e| DeviceError::new(ErrorKind::Other, format!("{device}: {e}")))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Shared::new(CctalkPort::new(host, config, tx));
    let worker = spawn(
        WorkerConfig {
            line,
            reconnect: config.reconnect(),
            tick_ms: config.io_tick_ms,
            name: format!("cctalk {}", config.port.display()),
        },
        shared.clone(),
        Epoch::new(),
    )
    .map_err(DeviceError::from)?;
    Ok((shared, rx, worker))
}

/// Queues a kiosk request and waits for its completion.
pub(super) async fn send_request(
    shared: &Shared<CctalkPort>,
    request: Request,
    device: &str,
) -> Result<(), DeviceError> {
    let rx = {
        let mut port = shared.lock();
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
        Ok(Err(kind)) => Err(request_error(device, kind)),
        Err(_) => Err(worker_gone(device)),
    }
}

/// The host side of a port, for the coin acceptor's shell.
impl CctalkPort {
    pub(super) fn host(&self) -> &CctalkHost {
        &self.host
    }

    pub(super) fn echoes(&self) -> u64 {
        self.echoes
    }
}

#[async_trait]
impl BillAcceptor for CctalkAcceptor {
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
        Ok(self.shared.lock().host.identity().device_identity())
    }
}

#[async_trait]
impl CashBox for CctalkCashBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let status = self.shared.lock().host.cash_box();
        status.map_err(|kind| request_error(DEVICE, kind))
    }

    /// The cash box is part of the acceptor: the acceptor's identity.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host.identity().device_identity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cctalk::{BufferedBillEvents, FrameRepr};

    fn port(echo: bool) -> CctalkPort {
        let config = CctalkConfig {
            echo,
            ..CctalkConfig::for_port("/dev/null")
        };
        let (tx, _rx) = mpsc::unbounded_channel();
        let mut port = CctalkPort::new(CctalkHost::new(&config), &config, tx);
        port.opened(0);
        port
    }

    fn reply(data: &[u8]) -> Vec<u8> {
        FrameRepr::new(1, 40, 0, data.to_vec())
            .to_bytes(Checksum::Simple)
            .unwrap()
    }

    #[test]
    fn the_echo_is_dropped_and_only_a_reply_after_it_counts() {
        let mut port = port(true);
        let sent = port.transmit(0).expect("the probe goes out");
        let counter = BufferedBillEvents {
            counter: 0,
            pairs: [(0, 0); 5],
        };
        // A stale reply before the echo is dropped, the echo too.
        port.received(5, &reply(&counter.to_data()));
        port.received(6, &sent);
        assert_eq!(port.host.stats().answers, 0);
        assert_eq!(port.echoes, 2);
        port.received(10, &reply(&counter.to_data()));
        assert_eq!(port.host.stats().answers, 1);
    }

    #[test]
    fn without_echo_the_reply_counts_at_once() {
        let mut port = port(false);
        port.transmit(0).expect("the probe goes out");
        port.received(10, &reply(&[0; 11]));
        assert_eq!(port.host.stats().answers, 1);
    }
}
