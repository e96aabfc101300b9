//! The serial shells (feature `serial`): an I/O thread per port around a
//! sans-IO host state machine.
//!
//! # How a shell works
//!
//! - One `std::thread` owns the port. It sleeps in one `epoll` wait until
//!   bytes arrive, the async side queues a request, or the protocol's next
//!   deadline (a poll, an overdue answer) comes; it pushes what it read into
//!   the driver's protocol state and writes whatever that state wants
//!   written. No read tick: a queued command goes out at once, an idle port
//!   costs only its protocol's polls.
//! - The async trait methods lock the same state to queue requests and wait
//!   on tokio `oneshot`s for their completion; events travel through a tokio
//!   `mpsc` channel, so waiting for one is a cancel-safe `recv`.
//! - When the port cannot be opened, a read or write fails, or its path
//!   disappears, the driver reports `Offline` and retries opening it with
//!   bounded exponential backoff ([`ReconnectConfig`](crate::drivers::ReconnectConfig));
//!   it recovers without a process restart.
//!
//! Dropping a driver wakes its thread, which then stops.

mod worker;

pub use worker::{spawn, Epoch, Locked, PortProtocol, Shared, Worker, WorkerConfig};

use crate::{DeviceError, ErrorKind};

/// A [`DeviceError`] for a failed request, with a message naming the device.
pub(crate) fn request_error(device: &str, kind: ErrorKind) -> DeviceError {
    let message = match kind {
        ErrorKind::Offline => format!("{device} does not answer"),
        ErrorKind::Timeout => {
            format!("{device} did not answer in time; the command may have been carried out")
        }
        ErrorKind::InvalidState => format!("{device} refused the command in its current state"),
        ErrorKind::Protocol => format!("{device} could not read the command"),
        other => format!("{device}: {other}"),
    };
    DeviceError::new(kind, message)
}

/// The error when a driver's I/O thread is gone.
pub(crate) fn worker_gone(device: &str) -> DeviceError {
    DeviceError::new(
        ErrorKind::Offline,
        format!("{device} driver thread stopped"),
    )
}
