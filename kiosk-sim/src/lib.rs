//! Simulation.
#![warn(missing_docs)]

pub mod backend;
pub mod clock;
pub mod devices;
pub mod drill;
#[cfg(unix)]
pub mod emulators;
pub mod faults;
pub mod fleet;
pub mod rng;

pub use backend::{VirtualBackend, VirtualLink};
pub use clock::SimClock;
pub use faults::{ConfigError, FaultLog, FaultPlan, FaultRule, FaultyLink, FaultyReader, Trigger};
pub use rng::SimRng;
