//! # kiosk-text
//!
//! Everything a kiosk's customer reads, from message catalogs an
//! integrator edits: Chinese (简体) first, English second.
//!
//! - [`catalog`]: one TOML file per language (`catalog/zh.toml`,
//!   `catalog/en.toml`), built in and replaceable, checked whole when
//!   loaded, so a missing key is an error at start, never a raw id shown
//!   to a customer.
//! - [`receipt_text`]: the printed receipt (缴费凭据) from the catalog.
//!
//! A crate of its own, depending only on kiosk-hal, so that the payment
//! session in kiosk-core prints its receipts from the same catalog the
//! screen (kiosk-screen) shows its pages from.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod catalog;
pub mod receipt_text;

pub use catalog::{Catalog, CatalogError, Lang, Msg};
pub use receipt_text::{format_time, receipt_lines, render_receipt, ReceiptFields};
