//! Device errors in the embedded-hal manner: rich errors, generic kinds.
//!
//! A driver keeps whatever detail it has (a failure code, the bytes it could
//! not parse, an `io::Error`); core logic only ever matches on
//! [`DeviceError::kind`], so a kiosk reacts the same way to a jam whether it
//! came from an ID-003 validator or a virtual device.

use core::fmt;
use serde::{Deserialize, Serialize};

/// What went wrong, in terms the core can act on.
///
/// New kinds may be added; match with a wildcard arm and treat unknown kinds
/// like [`ErrorKind::Other`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The device does not answer (power, cable, USB-serial adapter gone).
    Offline,
    /// The device answered too late; the request may or may not have taken effect.
    Timeout,
    /// Something is physically stuck (a note, the paper).
    Jam,
    /// The device is full (stacker, cash box).
    Full,
    /// A removable part is missing (cash box, print head).
    Removed,
    /// Tampering or a cheat attempt was detected.
    Tampered,
    /// The printer has no paper.
    PaperOut,
    /// A cover or door is open.
    CoverOpen,
    /// The outcome of the last operation is unknown: money may have moved.
    /// Never treat this as success or as failure; journal it as in-doubt.
    Indeterminate,
    /// The device or backend sent bytes or an answer that make no sense.
    Protocol,
    /// The request is not valid in the device's current state.
    InvalidState,
    /// The device reported a hardware failure it cannot recover from by itself.
    Hardware,
    /// The device is disabled by configuration or by the operator.
    Disabled,
    /// Anything else; see the error's message.
    Other,
}

impl ErrorKind {
    /// Every kind, in declaration order: for tables that must cover them
    /// all (the conformance map in `docs/conformance.md` is tested
    /// against it). The match in [`ErrorKind::as_str`] has no wildcard, so
    /// a new kind that is missing here fails `every_kind_is_listed_once`.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Offline,
        ErrorKind::Timeout,
        ErrorKind::Jam,
        ErrorKind::Full,
        ErrorKind::Removed,
        ErrorKind::Tampered,
        ErrorKind::PaperOut,
        ErrorKind::CoverOpen,
        ErrorKind::Indeterminate,
        ErrorKind::Protocol,
        ErrorKind::InvalidState,
        ErrorKind::Hardware,
        ErrorKind::Disabled,
        ErrorKind::Other,
    ];

    /// A short, stable, lower-case name (`"paper-out"`), used in logs and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::Offline => "offline",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Jam => "jam",
            ErrorKind::Full => "full",
            ErrorKind::Removed => "removed",
            ErrorKind::Tampered => "tampered",
            ErrorKind::PaperOut => "paper-out",
            ErrorKind::CoverOpen => "cover-open",
            ErrorKind::Indeterminate => "indeterminate",
            ErrorKind::Protocol => "protocol",
            ErrorKind::InvalidState => "invalid-state",
            ErrorKind::Hardware => "hardware",
            ErrorKind::Disabled => "disabled",
            ErrorKind::Other => "other",
        }
    }
}

impl ErrorKind {
    /// The kind named `name` (the inverse of [`ErrorKind::as_str`]).
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        Some(match name {
            "offline" => ErrorKind::Offline,
            "timeout" => ErrorKind::Timeout,
            "jam" => ErrorKind::Jam,
            "full" => ErrorKind::Full,
            "removed" => ErrorKind::Removed,
            "tampered" => ErrorKind::Tampered,
            "paper-out" => ErrorKind::PaperOut,
            "cover-open" => ErrorKind::CoverOpen,
            "indeterminate" => ErrorKind::Indeterminate,
            "protocol" => ErrorKind::Protocol,
            "invalid-state" => ErrorKind::InvalidState,
            "hardware" => ErrorKind::Hardware,
            "disabled" => ErrorKind::Disabled,
            "other" => ErrorKind::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every error a device or link can return.
pub trait Error: fmt::Debug {
    /// The generic kind of this error.
    fn kind(&self) -> ErrorKind;
}

/// The error type every HAL trait returns.
///
/// It is one concrete type (not an associated type) so that the traits stay
/// dyn-compatible: a kiosk picks drivers from its configuration at run time
/// and holds them as `Box<dyn BillAcceptor>`. The driver's own error travels
/// as the `std::error::Error::source` of the `DeviceError`.
#[derive(Debug)]
pub struct DeviceError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DeviceError {
    /// An error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DeviceError {
        DeviceError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the driver's own error as the cause.
    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> DeviceError {
        self.source = Some(Box::new(source));
        self
    }

    /// The generic kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message given when the error was made.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Error for DeviceError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for DeviceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for DeviceError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match e.kind() {
            Io::TimedOut | Io::WouldBlock => ErrorKind::Timeout,
            Io::NotFound | Io::BrokenPipe | Io::NotConnected | Io::UnexpectedEof => {
                ErrorKind::Offline
            }
            Io::InvalidData => ErrorKind::Protocol,
            _ => ErrorKind::Other,
        };
        DeviceError::new(kind, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once() {
        // A variant's position in `ALL` by an exhaustive match: adding a
        // variant without listing it does not compile, listing one twice fails.
        fn index(kind: ErrorKind) -> usize {
            match kind {
                ErrorKind::Offline => 0,
                ErrorKind::Timeout => 1,
                ErrorKind::Jam => 2,
                ErrorKind::Full => 3,
                ErrorKind::Removed => 4,
                ErrorKind::Tampered => 5,
                ErrorKind::PaperOut => 6,
                ErrorKind::CoverOpen => 7,
                ErrorKind::Indeterminate => 8,
                ErrorKind::Protocol => 9,
                ErrorKind::InvalidState => 10,
                ErrorKind::Hardware => 11,
                ErrorKind::Disabled => 12,
                ErrorKind::Other => 13,
            }
        }
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(index(*kind), i, "{kind}");
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(*kind));
        }
    }

    #[test]
    fn io_errors_map_to_kinds_and_keep_their_source() {
        let e: DeviceError = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone").into();
        assert_eq!(e.kind(), ErrorKind::Offline);
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.to_string(), "offline: gone");
    }
}
