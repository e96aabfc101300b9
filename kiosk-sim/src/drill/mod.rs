//! Contingency drills: a scenario plus a seed, run in virtual time, checked.
//!
//! Every row of the contingency catalog is a drill. A drill stages its fault
//! with the virtual devices, plays a customer script against a real
//! [`Kiosk`](kiosk_core::Kiosk) with a real journal file, and then checks:
//!
//! - the scenario's expectations (what must be detected, within how long,
//!   what the customer sees, which events must and must not happen, money);
//! - the money invariant (cash box = credited + pending + refused, in-doubt
//!   notes bounded, nothing credited twice) — always;
//! - determinism: a second run with the same seed gives the same trace hash.
//!
//! It reports fault → detected → fallback → resolved timings in simulated
//! time, the seed and the trace hash.

pub mod batch;
pub mod catalog;
pub mod check;
mod customer;
pub mod html;
pub mod report;
pub mod run;
pub mod scenario;
pub mod site;
pub mod trace;

pub use catalog::{builtin, builtin_ids, BuiltinDrill};
pub use report::DrillReport;
pub use run::{build_world, run_drill, run_once, DrillError, DrillRun, World};
pub use scenario::{Scenario, ScenarioError};
