//! # kiosk-hal
//!
//! The hardware abstraction layer of a self-service payment kiosk: the
//! traits every device driver implements, the plain data they speak, and
//! pure wire codecs for real device protocols.
//!
//! - **For kiosk logic** (`kiosk-core`): program against the traits
//!   ([`BillAcceptor`], [`CashBox`], [`ReceiptPrinter`], [`PaymentReader`],
//!   [`NetworkLink`]) and react to [`ErrorKind`]s, never to driver types.
//! - **For driver authors**: implement a trait, keep your rich error as the
//!   [`DeviceError`]'s source and pick the right [`ErrorKind`]. Each trait's
//!   docs state its contract: when money may be credited, what is cancel
//!   safe, what is idempotent, what a power loss leaves behind.
//!
//! The traits are `async` (through `async-trait`) and dyn-compatible, so a
//! kiosk can choose its drivers from a configuration file at run time and
//! hold them as `Box<dyn BillAcceptor>`.
//!
//! Money is always [`Money`]: integer minor units with a currency.
//!
//! - [`wire`]: pure parse/emit codecs for JCM ID-003, CCNET, ccTalk (bills
//!   and coins), SSP, ESC/POS, serial QR scanners and USB HID scanners'
//!   `input_event` records, with streaming decoders that resync after
//!   garbage. No I/O.
//! - [`drivers`]: real drivers built on those codecs — serial ones behind
//!   the `serial` feature, GPIO ones (embedded-hal 1.0) behind `gpio`, with
//!   Linux character-device pins behind `gpio-cdev` — and a TOML-friendly
//!   `DeviceConfig` to choose them at run time.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod acceptor;
mod cashbox;
pub mod drivers;
mod error;
mod identity;
mod link;
mod money;
mod printer;
mod reader;
pub mod wire;

pub use acceptor::{
    AcceptorEvent, AcceptorStatus, BillAcceptor, FraudKind, JamLocation, NoteAtPowerUp, NoteFate,
    RejectReason,
};
pub use cashbox::{CashBox, CashBoxStatus, CashContents, FillLevel};
pub use error::{DeviceError, Error, ErrorKind};
pub use identity::{DeviceIdentity, DeviceProtocol};
pub use link::{
    AccountAnswer, AccountInfo, AccountNumber, AccountNumberError, AccountRefusal, IdempotencyKey,
    NetworkLink, PaymentMethod, PaymentPosting, PostingAnswer,
};
pub use money::{Currency, Money};
pub use printer::{PrintOutcome, PrinterStatus, Receipt, ReceiptLine, ReceiptPrinter};
pub use reader::{mask_middle, PaymentCode, PaymentReader, PaymentScheme};
