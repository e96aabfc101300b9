//! Every integration test of `kiosk-hal`, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of one per file, each of
//! which compiled its own copy of the generic code it used from its
//! dependencies. Run one file's tests with a filter: `cargo test -p kiosk-hal
//! --test all conformance_doc::`.
#![forbid(unsafe_code)]

#[path = "conformance_doc.rs"]
mod conformance_doc;

#[path = "escpos_vectors.rs"]
mod escpos_vectors;

#[path = "escpos_vectors_paper.rs"]
mod escpos_vectors_paper;
