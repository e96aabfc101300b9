//! Drill scenario files: devices, faults, a customer script and expectations, in TOML.
//!
//! A scenario is everything a drill needs except the seed. Its shape:
//!
//! ```toml
//! id = "printer-paper-out"                  # the catalog id
//! title = "Printer runs out of paper"
//! duration-ms = 300000                      # virtual time the drill covers
//!
//! [kiosk]                                   # kiosk_core::KioskConfig, all optional
//! health-check-interval-ms = 2000
//!
//! [acceptor]                                # kiosk_sim::devices::AcceptorConfig
//! [cash-box]                                # kiosk_sim::devices::CashBoxConfig
//! [printer]                                 # kiosk_sim::devices::PrinterConfig
//! [[printer.faults]]
//! trigger = { when = "at", at-ms = 10000 }
//! fault = { type = "paper-out" }
//! [reader]                                  # present: a QR reader is fitted
//! [link]                                    # kiosk_sim::backend::LinkConfig
//! [backend.accounts."1001"]                 # kiosk_sim::backend::BackendConfig
//! holder-name = "张三"
//! amount-due = { minor = 12000, currency = "CNY" }
//!
//! [[customers]]
//! arrive-ms = 20000
//! account = "1001"
//! method = "cash"                           # or "code"
//! notes = [50, 20, { value = 100, genuine = false }]   # major units
//! finish = "confirm"                        # or "idle-timeout", "cancel"
//!
//! [expect]
//! detected = "fault-detected:printer"       # event patterns, see trace::EventPattern
//! fallback = "screen:receipt-unavailable"
//! resolved = "payment-credited"
//! max-detect-ms = 5000
//! events = ["receipt-kept"]                 # must happen
//! never = ["payment-refused"]               # must not happen
//! [expect.money]                            # major units, all optional
//! credited = 70
//! pending = 0
//! ```

use kiosk_core::KioskConfig;
use kiosk_hal::PaymentMethod;
use serde::{Deserialize, Serialize};

use crate::backend::{BackendConfig, LinkConfig};
use crate::devices::{AcceptorConfig, CashBoxConfig, PrinterConfig, ReaderConfig};

/// A whole drill scenario (see the module docs for the TOML shape).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// The drill id: the contingency catalog id.
    pub id: String,
    /// One line saying what is rehearsed.
    pub title: String,
    /// Longer notes for operators.
    #[serde(default)]
    pub description: String,
    /// Virtual time the drill covers (default 600 000 ms).
    #[serde(default = "default_duration_ms")]
    pub duration_ms: u64,
    /// Kiosk settings.
    #[serde(default)]
    pub kiosk: KioskConfig,
    /// The bill acceptor.
    #[serde(default)]
    pub acceptor: AcceptorConfig,
    /// The cash box.
    #[serde(default)]
    pub cash_box: CashBoxConfig,
    /// The printer.
    #[serde(default)]
    pub printer: PrinterConfig,
    /// The QR reader; absent means none is fitted.
    #[serde(default)]
    pub reader: Option<ReaderConfig>,
    /// The link to the backend.
    #[serde(default)]
    pub link: LinkConfig,
    /// A backup link (another network path to the same backend); absent: none.
    #[serde(default)]
    pub backup_link: Option<LinkConfig>,
    /// When to fail over, and back.
    #[serde(default)]
    pub failover: kiosk_core::failover::FailoverPolicy,
    /// Driver failures (panic or hang) for the supervisor to catch.
    #[serde(default)]
    pub driver_failures: Vec<DriverFailure>,
    /// How supervised drivers are watched and restarted.
    #[serde(default)]
    pub supervisor: kiosk_core::supervise::SupervisorPolicy,
    /// The backend's accounts.
    #[serde(default)]
    pub backend: BackendConfig,
    /// Customers, in arrival order.
    #[serde(default)]
    pub customers: Vec<CustomerScript>,
    /// Times the whole kiosk loses power (the kiosk process stops dead and
    /// restarts after the outage; devices keep their physical state).
    #[serde(default)]
    pub power_losses: Vec<PowerLoss>,
    /// Staff or remote commands sent to the kiosk.
    #[serde(default)]
    pub commands: Vec<ScheduledCommand>,
    /// Things staff do to the hardware.
    #[serde(default)]
    pub staff: Vec<StaffAction>,
    /// Backend accounts whose status changes mid-drill (an account closed
    /// while its customer pays: the posting is refused, the cash held).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_changes: Vec<AccountChange>,
    /// What must happen.
    #[serde(default)]
    pub expect: Expectations,
    /// For site drills: the business hall.
    #[serde(default)]
    pub site: crate::fleet::SiteConfig,
    /// Makes this a site drill (peak diversion, spare switchover, fault
    /// statistics) run on the site model instead of one kiosk.
    #[serde(default)]
    pub site_drill: Option<super::site::SiteDrill>,
}

fn default_duration_ms() -> u64 {
    600_000
}

/// One simulated customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CustomerScript {
    /// When the customer walks up (virtual ms since the start). A customer
    /// also waits for the one before to finish.
    pub arrive_ms: u64,
    /// The account number typed.
    pub account: String,
    /// The method chosen (default cash).
    #[serde(default = "default_method")]
    pub method: PaymentMethod,
    /// Notes inserted one at a time, in major units.
    #[serde(default)]
    pub notes: Vec<NoteSpec>,
    /// For the code method: the digits of the presented code.
    #[serde(default)]
    pub code: Option<String>,
    /// How the customer ends insertion (default confirm).
    #[serde(default)]
    pub finish: Finish,
    /// Pause before each step, as a person takes (default 1000 ms).
    #[serde(default = "default_think_ms")]
    pub think_ms: u64,
}

fn default_method() -> PaymentMethod {
    PaymentMethod::Cash
}

fn default_think_ms() -> u64 {
    1_000
}

/// A staff or remote command sent at a time.
///
/// ```toml
/// [[commands]]
/// at-ms = 15000
/// command = { type = "self-test" }   # restart, disable, enable, print-test, report-damage
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ScheduledCommand {
    /// When it is sent (virtual ms). The kiosk performs it once no session runs.
    pub at_ms: u64,
    /// What.
    pub command: kiosk_core::StaffCommand,
}

/// A driver that panics or hangs once.
///
/// ```toml
/// [[driver-failures]]
/// device = "printer"   # or "acceptor"
/// at-ms = 30000
/// mode = "hang"        # or "panic"
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DriverFailure {
    /// Which driver.
    pub device: SupervisedDevice,
    /// When (virtual ms): the first call at or after it fails.
    pub at_ms: u64,
    /// How.
    pub mode: crate::faults::SabotageMode,
}

/// A device whose driver can run supervised in a drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupervisedDevice {
    /// The receipt printer.
    Printer,
    /// The bill acceptor.
    Acceptor,
}

/// Something staff physically do, at a time.
///
/// ```toml
/// [[staff]]
/// at-ms = 100000
/// action = "remove-cash-box"   # or "insert-cash-box", "service-printer"
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StaffAction {
    /// When (virtual ms).
    pub at_ms: u64,
    /// What.
    pub action: StaffDoes,
}

/// A physical action by staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaffDoes {
    /// Take the cash box out and empty it (its notes are kept for the money check).
    RemoveCashBox,
    /// Put the (empty) cash box back.
    InsertCashBox,
    /// A technician services the printer: every fault fixed, a full roll loaded.
    ServicePrinter,
}

/// A backend account changes status at a time.
///
/// ```toml
/// [[account-changes]]
/// at-ms = 12000
/// account = "1001"
/// status = "closed"   # or "open", "not-payable"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AccountChange {
    /// When (virtual ms).
    pub at_ms: u64,
    /// Which account.
    pub account: String,
    /// Its new status.
    pub status: crate::backend::AccountStatus,
}

/// The kiosk loses power.
///
/// ```toml
/// [[power-losses]]
/// at-ms = 15000
/// down-ms = 5000
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PowerLoss {
    /// When power goes (virtual ms).
    pub at_ms: u64,
    /// How long it stays off (default 5000 ms).
    #[serde(default = "default_down_ms")]
    pub down_ms: u64,
}

fn default_down_ms() -> u64 {
    5_000
}

/// A note the customer inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NoteSpec {
    /// A genuine note of this many major units (`50`).
    Genuine(i64),
    /// A note with details (`{ value = 50, genuine = false }`).
    Detailed {
        /// Major units.
        value: i64,
        /// False for a counterfeit (default true).
        #[serde(default = "default_true")]
        genuine: bool,
    },
}

fn default_true() -> bool {
    true
}

impl NoteSpec {
    /// Value in major units and whether it is genuine.
    pub fn parts(&self) -> (i64, bool) {
        match *self {
            NoteSpec::Genuine(v) => (v, true),
            NoteSpec::Detailed { value, genuine } => (value, genuine),
        }
    }
}

/// How a customer ends note insertion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finish {
    /// Presses Confirm.
    #[default]
    Confirm,
    /// Walks away silently: the idle timeout confirms.
    IdleTimeout,
    /// Presses Cancel (stacked notes are still paid).
    Cancel,
}

/// What the drill checks, besides the money invariant and determinism,
/// which every drill checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Expectations {
    /// When the fault happened, if no timed trigger says it (virtual ms).
    #[serde(default)]
    pub fault_at_ms: Option<u64>,
    /// An event marking the fault when it is not on the clock (`"acceptor:jammed"`).
    #[serde(default)]
    pub fault: Option<String>,
    /// The event that shows the kiosk detected the fault by itself.
    #[serde(default)]
    pub detected: Option<String>,
    /// The event that shows the customer was told / the fallback is in place.
    #[serde(default)]
    pub fallback: Option<String>,
    /// The event that shows the fault was resolved or escalated.
    #[serde(default)]
    pub resolved: Option<String>,
    /// Longest fault → detected, in simulated ms.
    #[serde(default)]
    pub max_detect_ms: Option<u64>,
    /// Longest detected → fallback, in simulated ms.
    #[serde(default)]
    pub max_fallback_ms: Option<u64>,
    /// Events that must happen.
    #[serde(default)]
    pub events: Vec<String>,
    /// Events that must not happen.
    #[serde(default)]
    pub never: Vec<String>,
    /// Pairs `[a, b]`: both happen, and the first `a` comes before the first `b`.
    #[serde(default)]
    pub order: Vec<[String; 2]>,
    /// Money at the end, in major units.
    #[serde(default)]
    pub money: MoneyExpectations,
    /// Run the explorer's checks after every step and at the end (see
    /// [`crate::explore::checks`]); the explorer's shrunk scenarios set it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explorer_checks: bool,
    /// Explorer checks that do not fail the drill (known bugs), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explorer_allow: Vec<String>,
}

/// Money at the end of the drill, in major units of the kiosk currency.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MoneyExpectations {
    /// Cash credited (journal).
    pub credited: Option<i64>,
    /// Cash pending (journal).
    pub pending: Option<i64>,
    /// Cash refused, held for staff (journal).
    pub refused: Option<i64>,
    /// In-doubt notes (journal).
    pub in_doubt_notes: Option<u32>,
    /// Rejected notes (journal).
    pub rejected_notes: Option<u32>,
    /// Value physically in the cash box, less what it started with.
    pub cash_box: Option<i64>,
}

/// A scenario file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or built-in drill) it came from.
    pub source_name: String,
    /// What is wrong, with line, column and field where known.
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source_name, self.message)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Parses a scenario; errors name `source_name`, the line, column and field.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            source_name: source_name.to_string(),
            message: describe_toml_error(text, &e),
        })?;
        scenario.validate().map_err(|message| ScenarioError {
            source_name: source_name.to_string(),
            message,
        })?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            source_name: name.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Scenario::from_toml(&name, &text)
    }

    /// Checks what serde cannot: event patterns, the customers' accounts.
    fn validate(&self) -> Result<(), String> {
        use super::trace::EventPattern;
        let e = &self.expect;
        let patterns = e
            .fault
            .iter()
            .chain(e.detected.iter())
            .chain(e.fallback.iter())
            .chain(e.resolved.iter())
            .chain(e.events.iter())
            .chain(e.never.iter())
            .chain(e.order.iter().flatten());
        for p in patterns {
            EventPattern::parse(p).map_err(|m| format!("in [expect]: {m}"))?;
        }
        for name in &e.explorer_allow {
            name.parse::<crate::explore::Check>()
                .map_err(|m| format!("in [expect] explorer-allow: {m}"))?;
        }
        for (i, c) in self.customers.iter().enumerate() {
            if c.method == PaymentMethod::Code && c.code.is_none() {
                return Err(format!("customers[{i}]: method \"code\" needs a `code`"));
            }
            for (j, note) in c.notes.iter().enumerate() {
                let (major, _) = note.parts();
                let currency = self
                    .kiosk
                    .session
                    .accepted_notes
                    .first()
                    .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
                if major <= 0 || kiosk_hal::Money::try_major(major, currency).is_none() {
                    return Err(format!(
                        "customers[{i}].notes[{j}]: {major} is not a note value (a positive whole number of yuan that fits the books)"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A TOML error as "line L, column C: message".
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_files_name_the_line_and_field() {
        let err =
            Scenario::from_toml("x.toml", "id = \"a\"\ntitle = \"b\"\ncolour = 3\n").unwrap_err();
        assert_eq!(err.source_name, "x.toml");
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert!(err.message.contains("colour"), "{}", err.message);
        let err = Scenario::from_toml(
            "y.toml",
            "id = \"a\"\ntitle = \"b\"\n[expect]\nevents = [\"no-such\"]\n",
        )
        .unwrap_err();
        assert!(err.message.contains("known events"), "{}", err.message);
    }

    #[test]
    fn notes_accept_numbers_and_tables() {
        let s = Scenario::from_toml(
            "z.toml",
            "id = \"a\"\ntitle = \"b\"\n[[customers]]\narrive-ms = 1\naccount = \"1\"\nnotes = [50, { value = 20, genuine = false }]\n",
        )
        .unwrap();
        assert_eq!(s.customers[0].notes[0].parts(), (50, true));
        assert_eq!(s.customers[0].notes[1].parts(), (20, false));
    }
}
