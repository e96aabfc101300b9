//! `kiosk-journal`: read-only reports on a kiosk journal, for staff and
//! auditors. Every report opens the journal with
//! [`kiosk_core::journal::Journal::open_read_only`]: it never writes the
//! file, and a missing path is never created.
//!
//! - [`statement`]: the day's cash statement (对账单);
//! - [`clearing`]: the clearing handover record both people sign, as text
//!   or printable HTML;
//! - [`export`]: every money event as CSV;
//! - [`tickets`]: fault tickets with every handling step;
//! - [`catalog`]: every label in Chinese and English.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod clearing;
pub mod export;
pub mod kind;
pub mod statement;
pub mod text;
pub mod tickets;
pub mod time;
