//! Every integration test of `kiosk-screen`, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of one per file, each of
//! which compiled its own copy of the generic code it used from its
//! dependencies. Run one file's tests with a filter: `cargo test -p kiosk-screen
//! --test all browser::`.
#![forbid(unsafe_code)]

#[path = "browser.rs"]
mod browser;

#[path = "every_screen.rs"]
mod every_screen;

#[path = "http.rs"]
mod http;
