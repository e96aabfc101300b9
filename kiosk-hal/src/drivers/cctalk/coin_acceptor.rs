//! The serial shell of the ccTalk coin acceptor: the same port, echo
//! handling and I/O thread as the bill validator, a coin host inside.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::acceptor::{send_request, start, CctalkPort, EventResult};
use super::coin_config::CctalkCoinConfig;
use super::host::{CctalkHost, HostStats, Identity, Request};
use crate::drivers::serial::{request_error, worker_gone, Shared, Worker};
use crate::{AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, DeviceIdentity, Money};

const DEVICE: &str = "ccTalk coin acceptor";

/// A ccTalk coin acceptor on a serial port, as the kiosk's
/// [`BillAcceptor`].
///
/// Coins have no escrow: each credit in the acceptor's log arrives as
/// [`AcceptorEvent::Stacked`] with the coin's value (from its coin id),
/// which the core credits once, as it credits a stacked note reported
/// without escrow. `stack` and `return_note` fail with `InvalidState`.
/// `enable` turns on the coin positions whose value is in the list (and
/// the master inhibit off); a coin of another value is refused by the
/// acceptor itself. A jump of the event counter past the five-entry
/// buffer puts one item of unknown value in doubt with an alarm
/// (`Jammed` + `JamCleared { unknown }`), as on the bill path.
pub struct CctalkCoinAcceptor {
    shared: Shared<CctalkPort>,
    events: mpsc::UnboundedReceiver<EventResult>,
    _worker: Worker,
}

impl CctalkCoinAcceptor {
    /// Starts the driver on `config.port`.
    ///
    /// Fails only for an invalid configuration or if the I/O thread cannot start.
    pub fn open(config: &CctalkCoinConfig) -> Result<CctalkCoinAcceptor, DeviceError> {
        let line = config.line_config();
        let (shared, events, worker) = start(CctalkHost::coins(config), &line, DEVICE)?;
        Ok(CctalkCoinAcceptor {
            shared,
            events,
            _worker: worker,
        })
    }

    /// The host's counters (answers, timeouts, lost events, …).
    pub fn host_stats(&self) -> HostStats {
        self.shared.lock().host().stats()
    }

    /// The device's identity (manufacturer, product, serial number), once read.
    pub fn identity(&self) -> Identity {
        self.shared.lock().host().identity().clone()
    }

    /// The value of coin position `p`, once its coin id was read.
    pub fn coin_value(&self, p: u8) -> Option<Money> {
        self.shared.lock().host().value_of(p)
    }

    /// Frames dropped as the host's own echo or as stale replies.
    pub fn echoes_dropped(&self) -> u64 {
        self.shared.lock().echoes()
    }

    /// Whether the device finished initialising and is being polled.
    pub fn is_running(&self) -> bool {
        self.shared.lock().host().is_running()
    }
}

#[async_trait]
impl BillAcceptor for CctalkCoinAcceptor {
    async fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        send_request(&self.shared, Request::Enable(accepted.to_vec()), DEVICE).await
    }

    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        send_request(&self.shared, Request::Inhibit, DEVICE).await
    }

    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        match self.events.recv().await {
            Some(event) => event,
            None => Err(worker_gone(DEVICE)),
        }
    }

    /// A coin has no escrow: always `InvalidState`.
    async fn stack(&mut self) -> Result<(), DeviceError> {
        send_request(&self.shared, Request::Stack, DEVICE).await
    }

    /// A coin has no escrow: always `InvalidState`.
    async fn return_note(&mut self) -> Result<(), DeviceError> {
        send_request(&self.shared, Request::Return, DEVICE).await
    }

    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        let status = self.shared.lock().host().status();
        status.map_err(|kind| request_error(DEVICE, kind))
    }

    async fn reset(&mut self) -> Result<(), DeviceError> {
        send_request(&self.shared, Request::Reset, DEVICE).await
    }

    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(self.shared.lock().host().identity().device_identity())
    }
}
