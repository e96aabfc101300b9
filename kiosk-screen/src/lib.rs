//! # kiosk-screen
//!
//! The customer's screen of a payment kiosk: one self-contained web page
//! that a touchscreen's browser in kiosk mode shows from a local address,
//! fed by server-sent events, sending the customer's actions back, in
//! Chinese (简体, the default) or English from message catalogs.
//!
//! - [`catalog`]: the message catalogs (one TOML file per language), checked
//!   complete when loaded (kiosk-text's, re-exported).
//! - [`state`]: what is on screen, from the kiosk's events.
//! - [`view`]: a screen in words, in one language.
//! - [`service`]: the kiosk's observer and the page's HTTP routes.
//! - [`receipt_text`]: the receipt's lines from the catalog (kiosk-text's).
//!
//! # Wiring
//!
//! ```no_run
//! # async fn wire() -> std::io::Result<()> {
//! use kiosk_screen::{router, Catalog, ScreenConfig, ScreenService};
//! let (actions, kiosk_actions) = tokio::sync::mpsc::channel(16);
//! let screen = ScreenService::new(ScreenConfig::default(), Catalog::builtin(), actions);
//! let observer = screen.observer(); // Box it into Kiosk::new, or call it from yours
//! // kiosk.run(&mut kiosk_actions) reads what the page sends.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, router(screen)).await
//! # }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub use kiosk_text::{catalog, receipt_text};
pub mod service;
pub mod state;
pub mod view;

pub use catalog::{Catalog, CatalogError, Lang, Msg};
pub use receipt_text::{receipt_lines, render_receipt, ReceiptFields};
pub use service::{router, ScreenObserver, ScreenService};
pub use state::{ScreenConfig, ScreenState};
pub use view::{present, View};
