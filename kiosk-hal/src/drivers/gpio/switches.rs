//! Switches: the cash box's presence and fill switches, a service door.

use std::time::Duration;

use async_trait::async_trait;
use embedded_hal::digital::InputPin;

use super::pin_error;
use crate::{CashBox, CashBoxStatus, DeviceError, FillLevel};

fn read<P: InputPin>(pin: &mut P, active_high: bool, what: &str) -> Result<bool, DeviceError> {
    let high = pin.is_high().map_err(|e| pin_error(what, e))?;
    Ok(high == active_high)
}

/// A cash box sensed by a presence switch and, optionally, a near-full switch.
///
/// A box that is not in place reads `present: false` (not an error); an
/// error means a pin could not be read. Contents are unknown to switches.
pub struct CashBoxSwitch<P, Q = P> {
    present: P,
    present_active_high: bool,
    near_full: Option<(Q, bool)>,
}

impl<P: InputPin> CashBoxSwitch<P> {
    /// A box whose presence switch reads `active_high` when the box is in place.
    pub fn new(present: P, active_high: bool) -> CashBoxSwitch<P> {
        CashBoxSwitch {
            present,
            present_active_high: active_high,
            near_full: None,
        }
    }
}

impl<P: InputPin, Q: InputPin> CashBoxSwitch<P, Q> {
    /// Adds a near-full switch that reads `active_high` when the box is nearly full.
    pub fn with_near_full<R: InputPin>(self, pin: R, active_high: bool) -> CashBoxSwitch<P, R> {
        CashBoxSwitch {
            present: self.present,
            present_active_high: self.present_active_high,
            near_full: Some((pin, active_high)),
        }
    }
}

#[async_trait]
impl<P: InputPin + Send, Q: InputPin + Send> CashBox for CashBoxSwitch<P, Q> {
    async fn status(&mut self) -> Result<CashBoxStatus, DeviceError> {
        let present = read(
            &mut self.present,
            self.present_active_high,
            "cash box presence switch",
        )?;
        let near_full = match self.near_full.as_mut() {
            Some((pin, active_high)) => read(pin, *active_high, "cash box near-full switch")?,
            None => false,
        };
        Ok(CashBoxStatus {
            present,
            level: if near_full {
                FillLevel::NearFull
            } else {
                FillLevel::Normal
            },
            contents: None,
        })
    }
}

/// A service door's switch.
pub struct DoorSwitch<P> {
    pin: P,
    open_when_high: bool,
}

impl<P: InputPin> DoorSwitch<P> {
    /// A door whose switch reads high when open if `open_when_high`.
    pub fn new(pin: P, open_when_high: bool) -> DoorSwitch<P> {
        DoorSwitch {
            pin,
            open_when_high,
        }
    }

    /// Whether the door is open now.
    pub fn is_open(&mut self) -> Result<bool, DeviceError> {
        read(&mut self.pin, self.open_when_high, "door switch")
    }

    /// Waits until the door is `open` (or closed), reading every `poll`
    /// and requiring `debounce` of steady reads. Cancel safe.
    pub async fn wait_until(
        &mut self,
        open: bool,
        poll: Duration,
        debounce: Duration,
    ) -> Result<(), DeviceError> {
        let mut since = None;
        loop {
            let now = tokio::time::Instant::now();
            if self.is_open()? == open {
                let start = *since.get_or_insert(now);
                if now.duration_since(start) >= debounce {
                    return Ok(());
                }
            } else {
                since = None;
            }
            tokio::time::sleep(poll).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::gpio::SimPin;

    #[tokio::test]
    async fn switches_read_their_levels() {
        let present = SimPin::new(false);
        let near_full = SimPin::new(false);
        let mut cash_box =
            CashBoxSwitch::new(present.clone(), false).with_near_full(near_full.clone(), true);
        let s = cash_box.status().await.unwrap();
        assert!(s.present && s.level == FillLevel::Normal && s.contents.is_none());
        near_full.set(true);
        assert_eq!(cash_box.status().await.unwrap().level, FillLevel::NearFull);
        present.set(true);
        assert!(!cash_box.status().await.unwrap().present);

        let pin = SimPin::new(false);
        let mut door = DoorSwitch::new(pin.clone(), true);
        assert!(!door.is_open().unwrap());
        let opener = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            pin.set(true);
        };
        let ms = Duration::from_millis(2);
        let (waited, ()) = tokio::join!(door.wait_until(true, ms, ms * 5), opener);
        waited.unwrap();
        assert!(door.is_open().unwrap());
    }
}
