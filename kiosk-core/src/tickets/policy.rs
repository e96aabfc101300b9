//! The ticket book's settings: escalation, reopening, limits, and the
//! severity of each fault.

use serde::{Deserialize, Serialize};

use super::{Severity, TicketKind};
use crate::events::DeviceKind;

/// How the ticket book behaves. Every field has a documented default; a
/// configuration file may give any subset (kebab-case keys, unknown keys
/// refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct TicketPolicy {
    /// A ticket that remote recovery has not resolved this long after it was
    /// opened (or reopened) is dispatched on site. Default 600 000 (10 min).
    pub escalation_window_ms: u64,
    /// A fault of the same device and kind that comes back within this time
    /// after its ticket was resolved reopens that ticket instead of opening a
    /// new one. Default 0: never, every occurrence gets its own ticket.
    pub reopen_merge_ms: u64,
    /// The most actions one ticket keeps; past it the oldest after the first
    /// are dropped and counted in `Ticket::actions_dropped`. Default 256.
    pub actions_max: usize,
    /// The most resolved tickets the book keeps in memory (the journal keeps
    /// them all); the oldest go first. Default 1 000.
    pub resolved_kept_max: usize,
    /// The severity of a fault no rule matches. Default `medium`.
    pub default_severity: Severity,
    /// Severity by device and kind: tried in order, the first match wins.
    /// A configured table replaces the default one (see
    /// [`SeverityRule::defaults`]).
    pub severity_rules: Vec<SeverityRule>,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        TicketPolicy {
            escalation_window_ms: 600_000,
            reopen_merge_ms: 0,
            actions_max: 256,
            resolved_kept_max: 1_000,
            default_severity: Severity::Medium,
            severity_rules: SeverityRule::defaults(),
        }
    }
}

impl TicketPolicy {
    /// The severity of a fault of `kind` on `device`: the first matching
    /// rule's, else `default_severity`.
    pub fn severity(&self, device: DeviceKind, kind: TicketKind) -> Severity {
        let kind = kind.to_string();
        let kind = kind.as_str();
        self.severity_rules
            .iter()
            .find(|r| r.matches(device, kind))
            .map_or(self.default_severity, |r| r.severity)
    }
}

/// One row of the severity table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SeverityRule {
    /// The device it applies to; absent: any device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceKind>,
    /// The fault kind: exact (`"paper-out"`), or a prefix ending in `*`
    /// (`"security:*"`).
    pub kind: String,
    /// The severity.
    pub severity: Severity,
}

impl SeverityRule {
    /// A rule for `kind` on `device` (`None`: any device).
    pub fn new(device: Option<DeviceKind>, kind: &str, severity: Severity) -> SeverityRule {
        SeverityRule {
            device,
            kind: kind.to_string(),
            severity,
        }
    }

    /// Whether the rule applies to `kind` on `device`.
    pub fn matches(&self, device: DeviceKind, kind: &str) -> bool {
        let kind_matches = match self.kind.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => kind == self.kind,
        };
        kind_matches && (self.device.is_none() || self.device == Some(device))
    }

    /// The default table. Kinds are [`kiosk_hal::ErrorKind`] names where a
    /// device error is the cause; a cash box is only reported `removed`
    /// outside an authorised clearing.
    ///
    /// | device | kind | severity |
    /// |---|---|---|
    /// | any | `security:*`, `tampered`, `fraud` | critical |
    /// | cash box | `removed` | critical |
    /// | acceptor | `offline`, `jam`, `hardware` | high |
    /// | cash box | `full` | high |
    /// | cash box | `near-full` | medium |
    /// | printer | `paper-out` | medium |
    /// | printer | `paper-low` | low |
    /// | link | `offline`, `link-down` | high |
    /// | any | `link-slow` | medium |
    /// | any | `frequent-failures` | high |
    pub fn defaults() -> Vec<SeverityRule> {
        use DeviceKind::{Acceptor, CashBox, Link, Printer};
        use Severity::{Critical, High, Low, Medium};
        vec![
            SeverityRule::new(None, "security:*", Critical),
            SeverityRule::new(None, "tampered", Critical),
            SeverityRule::new(None, "fraud", Critical),
            SeverityRule::new(Some(CashBox), "removed", Critical),
            SeverityRule::new(Some(Acceptor), "offline", High),
            SeverityRule::new(Some(Acceptor), "jam", High),
            SeverityRule::new(Some(Acceptor), "hardware", High),
            SeverityRule::new(Some(CashBox), "full", High),
            SeverityRule::new(Some(CashBox), "near-full", Medium),
            SeverityRule::new(Some(Printer), "paper-out", Medium),
            SeverityRule::new(Some(Printer), "paper-low", Low),
            SeverityRule::new(Some(Link), "offline", High),
            SeverityRule::new(Some(Link), "link-down", High),
            SeverityRule::new(None, "link-slow", Medium),
            SeverityRule::new(None, "frequent-failures", High),
        ]
    }
}
