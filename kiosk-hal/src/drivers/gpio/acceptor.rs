//! The pulse bill acceptor's shells.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use embedded_hal::digital::InputPin;
use tokio::time::Instant;

use super::pin_error;
use crate::drivers::pulse::{PulseConfig, PulseCounter, PulseTrain};
use crate::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, DeviceError, ErrorKind, JamLocation, Money,
    NoteFate,
};

const DEVICE: &str = "pulse acceptor";

/// Drives the acceptor's inhibit input: called with `true` to inhibit.
/// Wrap an `OutputPin`: `Box::new(move |inhibit| pin.set_state(inhibit.into()).map_err(..))`.
pub type InhibitLine = Box<dyn FnMut(bool) -> Result<(), DeviceError> + Send>;

/// A pulse-output bill acceptor on one input pin.
///
/// There is no escrow: the device pulses after the note is in its box, so
/// every finished train is reported as [`AcceptorEvent::Stacked`] (the
/// credit point), whether or not its value was enabled: the note cannot be
/// given back. A train whose count is not in the table is reported as
/// `Jammed { stacker, value: None }` then `JamCleared { in-cash-box }`:
/// in the box, value unknown, for staff to settle. `stack` and
/// `return_note` fail with `InvalidState`.
///
/// Cancel safe: the counter and the queue of events live in `self`.
pub struct PulseAcceptor<P> {
    pin: P,
    counter: PulseCounter,
    start: Instant,
    enabled: bool,
    inhibit_line: Option<InhibitLine>,
    queue: VecDeque<AcceptorEvent>,
}

impl<P: InputPin> PulseAcceptor<P> {
    /// An acceptor on `pin`. Fails if the pulse table is empty.
    pub fn new(pin: P, config: PulseConfig) -> Result<PulseAcceptor<P>, DeviceError> {
        if config.pulses.is_empty() {
            return Err(DeviceError::new(
                ErrorKind::Other,
                format!("{DEVICE}: the pulse table is empty"),
            ));
        }
        Ok(PulseAcceptor {
            pin,
            counter: PulseCounter::new(config),
            start: Instant::now(),
            enabled: false,
            inhibit_line: None,
            queue: VecDeque::new(),
        })
    }

    /// Drives the device's inhibit input from `enable` / `inhibit`.
    pub fn with_inhibit_line(mut self, line: InhibitLine) -> PulseAcceptor<P> {
        self.inhibit_line = Some(line);
        self
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Reads the pin once, feeds the counter, queues finished trains.
    /// Returns the level read (`true` = high).
    fn sample(&mut self) -> Result<bool, DeviceError> {
        let high = self.pin.is_high().map_err(|e| pin_error(DEVICE, e))?;
        let active = high != self.counter.config().active_low;
        let now = self.now_ms();
        self.counter.sample(now, active);
        while let Some(train) = self.counter.poll(now) {
            self.queue.extend(train_events(train));
        }
        Ok(high)
    }

    fn set_inhibit(&mut self, inhibit: bool) -> Result<(), DeviceError> {
        match self.inhibit_line.as_mut() {
            Some(line) => line(inhibit),
            None => Ok(()),
        }
    }

    /// Waits for the next event by sleeping until the pin changes (or a
    /// debounce / train-end deadline), instead of sampling on a timer.
    /// Cancel safe. Usable with any `Wait` pin on any executor.
    pub async fn next_event_on_edges(&mut self) -> Result<AcceptorEvent, DeviceError>
    where
        P: embedded_hal_async::digital::Wait,
    {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event);
            }
            let high = self.sample()?;
            if !self.queue.is_empty() {
                continue;
            }
            // Wait for the other level (no race: returns at once if the pin
            // already changed since the sample), bounded by the deadline.
            let deadline = self.counter.next_deadline_ms();
            let now = self.now_ms();
            let change = async {
                if high {
                    self.pin.wait_for_low().await
                } else {
                    self.pin.wait_for_high().await
                }
            };
            match deadline {
                Some(at) => {
                    let wait = Duration::from_millis(at.saturating_sub(now));
                    if let Ok(result) = tokio::time::timeout(wait, change).await {
                        result.map_err(|e| pin_error(DEVICE, e))?;
                    }
                }
                None => change.await.map_err(|e| pin_error(DEVICE, e))?,
            }
        }
    }
}

fn train_events(train: PulseTrain) -> Vec<AcceptorEvent> {
    match train {
        PulseTrain::Note(value) => vec![AcceptorEvent::Stacked { value }],
        PulseTrain::Unknown { .. } => vec![
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None,
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox,
            },
        ],
    }
}

fn no_escrow() -> DeviceError {
    DeviceError::new(
        ErrorKind::InvalidState,
        format!("{DEVICE}: no escrow; notes are stacked on insertion"),
    )
}

#[async_trait]
impl<P: InputPin + Send> BillAcceptor for PulseAcceptor<P> {
    async fn enable(&mut self, _accepted: &[Money]) -> Result<(), DeviceError> {
        // The device's own DIP switches choose the denominations; the line
        // only switches it on and off.
        self.set_inhibit(false)?;
        self.enabled = true;
        Ok(())
    }

    async fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.set_inhibit(true)?;
        self.enabled = false;
        Ok(())
    }

    /// Samples the pin every `sample-interval-ms`. Cancel safe.
    async fn next_event(&mut self) -> Result<AcceptorEvent, DeviceError> {
        let interval = Duration::from_millis(self.counter.config().sample_interval_ms.max(1));
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event);
            }
            self.sample()?;
            if self.queue.is_empty() {
                tokio::time::sleep(interval).await;
            }
        }
    }

    async fn stack(&mut self) -> Result<(), DeviceError> {
        Err(no_escrow())
    }

    async fn return_note(&mut self) -> Result<(), DeviceError> {
        Err(no_escrow())
    }

    async fn status(&mut self) -> Result<AcceptorStatus, DeviceError> {
        Ok(if self.enabled {
            AcceptorStatus::Accepting
        } else {
            AcceptorStatus::Inhibited
        })
    }

    async fn reset(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::gpio::SimPin;
    use crate::drivers::pulse::PulseValue;
    use crate::Currency;

    fn config() -> PulseConfig {
        PulseConfig {
            pulses: [(1, 10), (2, 20), (5, 50)]
                .iter()
                .map(|&(pulses, major)| PulseValue {
                    pulses,
                    value: Money::major(major, Currency::CNY),
                })
                .collect(),
            debounce_ms: 5,
            train_gap_ms: 120,
            ..PulseConfig::default()
        }
    }

    /// Pulses an active-low line `n` times (30 ms low, 30 ms high).
    async fn pulse(pin: SimPin, n: u32) {
        for _ in 0..n {
            pin.set(false);
            tokio::time::sleep(Duration::from_millis(30)).await;
            pin.set(true);
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    #[tokio::test]
    async fn sampling_shell_reports_a_train_as_stacked() {
        let pin = SimPin::new(true);
        let mut acceptor = PulseAcceptor::new(pin.clone(), config()).unwrap();
        acceptor.enable(&[]).await.unwrap();
        let (event, ()) = tokio::join!(acceptor.next_event(), pulse(pin, 2));
        let value = Money::major(20, Currency::CNY);
        assert_eq!(event.unwrap(), AcceptorEvent::Stacked { value });
        assert_eq!(
            acceptor.stack().await.unwrap_err().kind(),
            ErrorKind::InvalidState
        );
    }

    #[tokio::test]
    async fn edge_shell_reports_unknown_counts_as_in_the_box_value_unknown() {
        let pin = SimPin::new(true);
        let inhibited = SimPin::new(false);
        let mut line_pin = inhibited.clone();
        let mut acceptor = PulseAcceptor::new(pin.clone(), config())
            .unwrap()
            .with_inhibit_line(Box::new(move |inhibit| {
                use embedded_hal::digital::OutputPin;
                let _ = line_pin.set_state(inhibit.into());
                Ok(())
            }));
        acceptor.inhibit().await.unwrap();
        assert!(inhibited.level());
        let (event, ()) = tokio::join!(acceptor.next_event_on_edges(), pulse(pin, 3));
        assert!(matches!(
            event.unwrap(),
            AcceptorEvent::Jammed { value: None, .. }
        ));
        let cleared = acceptor.next_event_on_edges().await.unwrap();
        assert_eq!(
            cleared,
            AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox
            }
        );
    }
}
