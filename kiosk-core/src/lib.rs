//! Payment and fault logic.
#![warn(missing_docs)]
