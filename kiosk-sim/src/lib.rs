//! Simulation.
#![warn(missing_docs)]
