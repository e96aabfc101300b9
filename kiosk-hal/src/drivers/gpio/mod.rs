//! GPIO drivers (feature `gpio`), over `embedded-hal` 1.0 pins.
//!
//! - [`PulseAcceptor`]: a pulse-output bill acceptor. The pulse counting is
//!   the sans-IO [`PulseCounter`](super::pulse::PulseCounter); the shell
//!   either samples an [`InputPin`](embedded_hal::digital::InputPin) every
//!   `sample-interval-ms` (the [`BillAcceptor`](crate::BillAcceptor) impl)
//!   or sleeps until an edge with `embedded_hal_async::digital::Wait`
//!   ([`PulseAcceptor::next_event_on_edges`]).
//! - [`CashBoxSwitch`]: a presence switch and an optional near-full switch
//!   as a [`CashBox`](crate::CashBox).
//! - [`DoorSwitch`]: a service door's switch.
//! - [`SimPin`]: an in-crate simulated pin (input, output and `Wait`) for
//!   tests and demos. It is a dozen lines over an atomic and a tokio
//!   `Notify`; `embedded-hal-mock` would add a dependency whose
//!   expectation-list style fits scripted transactions, not a pin toggled
//!   by another task in real time.
//!
//! Why the edge-driven loop is an inherent method and not the trait impl:
//! [`BillAcceptor`](crate::BillAcceptor) futures must be `Send`, and a
//! generic `Wait` implementation's futures cannot be required to be `Send`
//! on stable Rust. Wrap it in your own `BillAcceptor` for a concrete pin
//! type whose futures are `Send` (as [`SimPin`]'s are).
//!
//! - Feature `gpio-cdev` (Linux): `CdevInputPin`, a real input line on
//!   the GPIO character device (`/dev/gpiochipN`), opened with
//!   `open_input_line`; `open_pulse_acceptor` and `open_cash_box_switch`
//!   build the drivers on such lines from their configuration. On other
//!   boards, any `embedded-hal` 1.0 pin works.

mod acceptor;
#[cfg(feature = "gpio-cdev")]
mod cdev;
mod sim_pin;
mod switches;

pub use acceptor::{InhibitLine, PulseAcceptor};
#[cfg(feature = "gpio-cdev")]
pub use cdev::{
    open_cash_box_switch, open_input_line, open_pulse_acceptor, CdevInputPin, CdevPinError,
};
pub use sim_pin::SimPin;
pub use switches::{CashBoxSwitch, DoorSwitch};

use crate::{DeviceError, ErrorKind};

/// A pin read failed.
pub(crate) fn pin_error<E: embedded_hal::digital::Error>(what: &str, e: E) -> DeviceError {
    DeviceError::new(
        ErrorKind::Hardware,
        format!("{what}: pin error {:?}", e.kind()),
    )
}
