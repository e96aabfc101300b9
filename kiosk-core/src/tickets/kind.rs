//! What a ticket is about, as an enum the compiler checks.
//!
//! Its text form (`"paper-out"`, `"link-slow"`, `"security:fraud"`) is what
//! the journal stores, operators read, drill patterns match
//! (`ticket-opened:offline`) and severity rules name; the enum is what the
//! code compares, so adding a kind shows every place that must decide
//! about it.

use std::fmt;
use std::str::FromStr;

use kiosk_hal::ErrorKind;

use crate::events::DeviceWarning;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a ticket is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketKind {
    /// A device fault, by the device's error kind (`offline`, `jam`,
    /// `paper-out`, …).
    Device(ErrorKind),
    /// A device needs attention soon (`paper-low`, `near-full`); it still works.
    Warning(DeviceWarning),
    /// Payments keep failing: the failure rate over the window is too high.
    FrequentFailures,
    /// The backend answers slowly.
    LinkSlow,
    /// Traffic runs on the backup link: the primary is still broken.
    PrimaryLinkDown,
    /// A supervised driver panicked or hung.
    DriverFailure,
    /// Staff reported physical damage: out of service until enabled.
    DeviceDamaged,
    /// A security alarm. Staff close these; a device recovering does not.
    Security(SecurityKind),
}

/// The security alarms that open a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityKind {
    /// The acceptor reported a cheat attempt.
    Fraud,
    /// The cash box was removed outside an authorised clearing.
    CashBoxRemoved,
    /// A note reached the box before any session existed to record it.
    UnexpectedNote,
}

impl SecurityKind {
    fn as_str(self) -> &'static str {
        match self {
            SecurityKind::Fraud => "fraud",
            SecurityKind::CashBoxRemoved => "cash-box-removed",
            SecurityKind::UnexpectedNote => "unexpected-note",
        }
    }

    fn from_name(name: &str) -> Option<SecurityKind> {
        [
            SecurityKind::Fraud,
            SecurityKind::CashBoxRemoved,
            SecurityKind::UnexpectedNote,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

impl TicketKind {
    /// Whether this is a security alarm (kept open for staff).
    pub fn is_security(self) -> bool {
        matches!(
            self,
            TicketKind::Security(_) | TicketKind::Device(ErrorKind::Tampered)
        )
    }

    /// Whether the ticket is resolved when its device answers again. Not
    /// security alarms (staff close those), and not kinds with a clearing
    /// rule of their own: warnings (cleared when the condition goes), the
    /// primary link (cleared when traffic is back on it), slowness (cleared by fast answers), the failure rate (cleared
    /// when it falls), damage (cleared when staff enable the kiosk).
    pub fn cleared_when_device_recovers(self) -> bool {
        match self {
            TicketKind::Device(kind) => kind != ErrorKind::Tampered,
            TicketKind::DriverFailure => true,
            TicketKind::Warning(_)
            | TicketKind::FrequentFailures
            | TicketKind::LinkSlow
            | TicketKind::PrimaryLinkDown
            | TicketKind::DeviceDamaged
            | TicketKind::Security(_) => false,
        }
    }
}

impl fmt::Display for TicketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketKind::Device(kind) => f.write_str(kind.as_str()),
            TicketKind::Warning(warning) => f.write_str(warning.as_str()),
            TicketKind::FrequentFailures => f.write_str("frequent-failures"),
            TicketKind::LinkSlow => f.write_str("link-slow"),
            TicketKind::PrimaryLinkDown => f.write_str("primary-link-down"),
            TicketKind::DriverFailure => f.write_str("driver-failure"),
            TicketKind::DeviceDamaged => f.write_str("device-damaged"),
            TicketKind::Security(kind) => write!(f, "security:{}", kind.as_str()),
        }
    }
}

/// A text that names no ticket kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTicketKind(pub String);

impl fmt::Display for UnknownTicketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown ticket kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownTicketKind {}

impl FromStr for TicketKind {
    type Err = UnknownTicketKind;

    fn from_str(s: &str) -> Result<TicketKind, UnknownTicketKind> {
        let unknown = || UnknownTicketKind(s.to_string());
        Ok(match s {
            "frequent-failures" => TicketKind::FrequentFailures,
            "link-slow" => TicketKind::LinkSlow,
            "primary-link-down" => TicketKind::PrimaryLinkDown,
            "driver-failure" => TicketKind::DriverFailure,
            "device-damaged" => TicketKind::DeviceDamaged,
            _ => match s.strip_prefix("security:") {
                Some(name) => {
                    TicketKind::Security(SecurityKind::from_name(name).ok_or_else(unknown)?)
                }
                None => match DeviceWarning::from_name(s) {
                    Some(warning) => TicketKind::Warning(warning),
                    None => TicketKind::Device(ErrorKind::from_name(s).ok_or_else(unknown)?),
                },
            },
        })
    }
}

impl Serialize for TicketKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TicketKind, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_text() {
        let kinds = [
            TicketKind::Device(ErrorKind::PaperOut),
            TicketKind::Device(ErrorKind::Offline),
            TicketKind::FrequentFailures,
            TicketKind::LinkSlow,
            TicketKind::PrimaryLinkDown,
            TicketKind::DriverFailure,
            TicketKind::DeviceDamaged,
            TicketKind::Security(SecurityKind::Fraud),
            TicketKind::Security(SecurityKind::CashBoxRemoved),
            TicketKind::Security(SecurityKind::UnexpectedNote),
        ];
        for kind in kinds {
            let text = kind.to_string();
            assert_eq!(text.parse::<TicketKind>(), Ok(kind), "{text}");
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<TicketKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            TicketKind::Security(SecurityKind::CashBoxRemoved).to_string(),
            "security:cash-box-removed"
        );
        assert!("security:nothing".parse::<TicketKind>().is_err());
        assert!("paper".parse::<TicketKind>().is_err());
    }

    #[test]
    fn security_alarms_stay_open_for_staff() {
        assert!(!TicketKind::Security(SecurityKind::Fraud).cleared_when_device_recovers());
        assert!(!TicketKind::Device(ErrorKind::Tampered).cleared_when_device_recovers());
        assert!(TicketKind::Device(ErrorKind::Jam).cleared_when_device_recovers());
        assert!(!TicketKind::LinkSlow.cleared_when_device_recovers());
    }
}
