//! The serial shell around [`CcnetHost`]: the [`BillAcceptor`] and the
//! stacker's [`CashBox`] view.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::config::CcnetConfig;
use super::host::{CcnetHost, HostOutput, HostStats, Request};
use crate::drivers::serial::{
    request_error, spawn, worker_gone, Epoch, PortProtocol, Shared, Worker, WorkerConfig,
};
use crate::wire::ccnet::Decoder;
use crate::wire::DecoderStats;
use crate::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, CashBox, CashBoxStatus, DeviceError,
    DeviceIdentity, ErrorKind, Money,
};

const DEVICE: &str = "CCNET acceptor";

type EventResult = Result<AcceptorEvent, DeviceError>;

/// The protocol state the I/O thread drives.
struct CcnetPort {
    host: CcnetHost,
    decoder: Decoder,
    events: mpsc::UnboundedSender<EventResult>,
    waiters: HashMap<u64, oneshot::Sender<Result<(), ErrorKind>>>,
    next_token: u64,
    offline_reason: String,
}

impl PortProtocol for CcnetPort {
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
                Ok(frame) => self.host.handle_frame(now_ms, &frame),
                Err(e) => self.host.handle_wire_error(now_ms, e),
            }
        }
    }

    fn transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        if self.host.next_deadline_ms().is_some_and(|d| now_ms >= d) {
            // A whole answer timeout of quiet: a frame still incomplete is
            // noise (0x02 is a common byte, and the length after a false
            // SYNC can swallow the real answer). Give it up and decode what
            // it held before the host counts the answer as missing.
            while self.decoder.abandon_incomplete() {
                self.received(now_ms, &[]);
            }
        }
        let cmd = self.host.poll_transmit(now_ms)?;
        // The validator speaks only when asked, so a frame still incomplete
        // when the next command goes out (after an answer or a timeout) is
        // noise; the decoder, committed to its length, would hold back the
        // answers behind it. Give it up and decode what it held.
        while self.decoder.abandon_incomplete() {
            self.received(now_ms, &[]);
        }
        Some(cmd.to_bytes())
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

/// A CCNET (CashCode and compatible) bill acceptor on a serial port.
///
/// Opening never fails because the device is absent: the I/O thread keeps
/// trying, and the absence shows as an `Offline` event and `Offline` errors
/// until the device answers. After every outage the driver initialises the
/// device again and reports [`AcceptorEvent::PowerUp`].
pub struct CcnetAcceptor {
    shared: Shared<CcnetPort>,
    events: mpsc::UnboundedReceiver<EventResult>,
    worker: Arc<Worker>,
}

/// The acceptor's stacker as a [`CashBox`]: present unless the acceptor
/// reports it open, full while it reports it full; contents unknown.
pub struct CcnetCashBox {
    shared: Shared<CcnetPort>,
    _worker: Arc<Worker>,
}

impl CcnetAcceptor {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &CcnetConfig) -> Result<CcnetAcceptor, DeviceError> {
        let line = config.line();
        line.validate()
            .map_err(|e| DeviceError::new(ErrorKind::Other, format!("{DEVICE}: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Shared::new(CcnetPort {
            host: CcnetHost::new(config),
            decoder: Decoder::new(),
            events: tx,
            waiters: HashMap::new(),
            next_token: 1,
            offline_reason: String::new(),
        });
        let worker = spawn(
            WorkerConfig {
                line,
                reconnect: config.reconnect(),
                tick_ms: config.io_tick_ms,
                name: format!("ccnet {}", config.port.display()),
            },
            shared.clone(),
            Epoch::new(),
        )
        .map_err(DeviceError::from)?;
        Ok(CcnetAcceptor {
            shared,
            events: rx,
            worker: Arc::new(worker),
        })
    }

    /// The stacker as a cash box (shares this driver's port).
    pub fn cash_box(&self) -> CcnetCashBox {
        CcnetCashBox {
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

    /// The device's identification (part and serial number), once read.
    pub fn identification(&self) -> Option<crate::wire::ccnet::Identification> {
        self.shared.lock().host.identification().cloned()
    }

    /// Whether the device finished initialising and is being polled.
    pub fn is_running(&self) -> bool {
        self.shared.lock().host.is_running()
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
impl BillAcceptor for CcnetAcceptor {
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
impl CashBox for CcnetCashBox {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let status = self.shared.lock().host.cash_box();
        status.map_err(|kind| request_error(DEVICE, kind))
    }

    /// The cash box is part of the acceptor: the acceptor's identity.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host.identity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::ccnet::CcnetConfig;
    use crate::wire::ccnet::{PollState, SYNC};

    #[test]
    fn a_false_sync_does_not_hold_answers_past_the_next_command() {
        let config = CcnetConfig::for_port("/dev/null");
        let (tx, _rx) = mpsc::unbounded_channel();
        let mut port = CcnetPort {
            host: CcnetHost::new(&config),
            decoder: Decoder::new(),
            events: tx,
            waiters: HashMap::new(),
            next_token: 1,
            offline_reason: String::new(),
        };
        port.opened(0);
        assert!(port.transmit(0).is_some(), "the first command goes out");
        // Line noise `02 03 F0` commits the decoder to 240 bytes; the
        // answer behind it is held.
        port.received(10, &[SYNC, 0x03, 0xF0]);
        port.received(20, &PollState::PowerUp.to_bytes());
        assert_eq!(port.decoder.stats().frames_ok, 0);
        // The answer times out and the command is sent again: the noise is
        // given up and the held answer decoded.
        let later = config.answer_timeout_ms + 100;
        assert!((0..=later).step_by(10).any(|t| port.transmit(t).is_some()));
        let stats = port.decoder.stats();
        assert_eq!((stats.frames_ok, stats.framing_errors), (1, 1));
        assert_eq!(port.decoder.buffered(), 0);
    }
}
