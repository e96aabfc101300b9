//! Drill scenario files: devices, faults, a customer script and expectations, in TOML.
//!
//! A scenario is everything a drill needs except the seed. Its shape:
//!
//! ```toml
//! id = "printer-paper-out"                  # the catalog id
//! title = "Printer runs out of paper"
//! title-zh = "打印机缺纸"                     # optional: the Chinese title reports show
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
    /// One line saying what is rehearsed (English).
    pub title: String,
    /// The same line in Chinese (简体), which Chinese reports show; when a
    /// scenario file has none, they show `title`.
    #[serde(default)]
    pub title_zh: Option<String>,
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
    /// The title in `lang` (the English one where no Chinese is given).
    pub fn title_in(&self, lang: crate::cli_text::Lang) -> &str {
        match (lang, &self.title_zh) {
            (crate::cli_text::Lang::Zh, Some(zh)) => zh,
            _ => &self.title,
        }
    }

    /// Parses a scenario; errors name `source_name`, the line, column and field.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            source_name: source_name.to_string(),
            message: describe_toml_error(text, &e),
        })?;
        scenario.validate().map_err(|invalid| ScenarioError {
            source_name: source_name.to_string(),
            message: invalid.describe(text),
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

    /// Checks what serde cannot: event patterns, account numbers, note
    /// values, amounts due, and that nothing is scheduled past the end.
    fn validate(&self) -> Result<(), Invalid> {
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
            EventPattern::parse(p)
                .map_err(|m| Invalid::at(vec![Seg::key("expect")], format!("in [expect]: {m}")))?;
        }
        for name in &e.explorer_allow {
            name.parse::<crate::explore::Check>().map_err(|m| {
                Invalid::at(
                    vec![Seg::key("expect"), Seg::key("explorer-allow")],
                    format!("in [expect] explorer-allow: {m}"),
                )
            })?;
        }
        let currency = self
            .kiosk
            .session
            .accepted_notes
            .first()
            .map_or(kiosk_hal::Currency::CNY, |m| m.currency);
        for (i, c) in self.customers.iter().enumerate() {
            let at = |field: &str| vec![Seg::key("customers"), Seg::Index(i), Seg::key(field)];
            if c.method == PaymentMethod::Code && c.code.is_none() {
                return Err(Invalid::at(
                    at("method"),
                    format!("customers[{i}]: method \"code\" needs a `code`"),
                ));
            }
            account_number(&c.account).map_err(|m| Invalid::at(at("account"), m))?;
            self.before_the_end(c.arrive_ms)
                .map_err(|m| Invalid::at(at("arrive-ms"), m))?;
            for (j, note) in c.notes.iter().enumerate() {
                let (major, _) = note.parts();
                if major <= 0 || kiosk_hal::Money::try_major(major, currency).is_none() {
                    let mut path = at("notes");
                    path.push(Seg::Index(j));
                    return Err(Invalid::at(
                        path,
                        format!(
                            "{major} is not a note value (a positive whole number of yuan that fits the books)"
                        ),
                    ));
                }
            }
        }
        let timed = [
            (
                "commands",
                self.commands.iter().map(|c| c.at_ms).collect::<Vec<_>>(),
            ),
            ("staff", self.staff.iter().map(|s| s.at_ms).collect()),
            (
                "power-losses",
                self.power_losses.iter().map(|p| p.at_ms).collect(),
            ),
            (
                "account-changes",
                self.account_changes.iter().map(|c| c.at_ms).collect(),
            ),
        ];
        for (table, times) in timed {
            for (i, at_ms) in times.into_iter().enumerate() {
                self.before_the_end(at_ms).map_err(|m| {
                    Invalid::at(vec![Seg::key(table), Seg::Index(i), Seg::key("at-ms")], m)
                })?;
            }
        }
        for (i, c) in self.account_changes.iter().enumerate() {
            account_number(&c.account).map_err(|m| {
                Invalid::at(
                    vec![
                        Seg::key("account-changes"),
                        Seg::Index(i),
                        Seg::key("account"),
                    ],
                    m,
                )
            })?;
        }
        for (number, account) in &self.backend.accounts {
            let at = |field: Option<&str>| {
                let mut path = vec![
                    Seg::key("backend"),
                    Seg::key("accounts"),
                    Seg::key(&number.0),
                ];
                path.extend(field.map(Seg::key));
                path
            };
            account_number(&number.0).map_err(|m| Invalid::at(at(None), m))?;
            if account.amount_due.minor < 0 {
                return Err(Invalid::at(
                    at(Some("amount-due")),
                    format!(
                        "amount due {} is negative: an account owes nothing (0) or a positive amount",
                        account.amount_due
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Something scheduled at `at_ms` must happen before the drill's end:
    /// past it, the run would silently go on until then.
    fn before_the_end(&self, at_ms: u64) -> Result<(), String> {
        if at_ms >= self.duration_ms {
            return Err(format!(
                "{at_ms} ms is not before the end of the drill (duration-ms = {}); raise duration-ms or schedule it earlier",
                self.duration_ms
            ));
        }
        Ok(())
    }
}

/// An account number as the kiosk's keypad takes it (the one rule, in
/// [`kiosk_hal::AccountNumber::parse`]), quoted in the error so a control
/// character shows.
fn account_number(typed: &str) -> Result<(), String> {
    kiosk_hal::AccountNumber::parse(typed)
        .map(|_| ())
        .map_err(|e| format!("account {typed:?}: {e}"))
}

/// One step of a path to a value in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// A key of a table.
    Key(String),
    /// An element of an array (or array of tables).
    Index(usize),
}

impl Seg {
    fn key(k: &str) -> Seg {
        Seg::Key(k.to_string())
    }
}

/// A scenario that parsed but is not valid: where, and why.
#[derive(Debug)]
struct Invalid {
    path: Vec<Seg>,
    message: String,
}

impl Invalid {
    fn at(path: Vec<Seg>, message: String) -> Invalid {
        Invalid { path, message }
    }

    /// The field as written in the file: `customers[0].notes[1]`.
    fn field(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k)
                    if k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
                {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Key(k) => s.push_str(&format!(".{k:?}")),
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// "line L, column C: field: message", as for a TOML syntax error.
    fn describe(&self, text: &str) -> String {
        let field = self.field();
        let what = if self.message.starts_with(&field) || self.message.starts_with("in [") {
            self.message.clone()
        } else {
            format!("{field}: {}", self.message)
        };
        match locate(text, &self.path) {
            Some(offset) => {
                let (line, col) = line_column(text, offset);
                format!("line {line}, column {col}: {what}")
            }
            None => what,
        }
    }
}

/// The byte offset of the value at `path` in `text` (or of the nearest
/// enclosing item that has a position), from a span-keeping parse.
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    use toml_edit::{Item, Table, TableLike, Value};
    enum Node<'a> {
        Item(&'a Item),
        Table(&'a Table),
        Value(&'a Value),
    }
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut found = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => {
                let table: Option<&dyn TableLike> = match node {
                    Node::Item(i) => i.as_table_like(),
                    Node::Table(t) => Some(t),
                    Node::Value(v) => v.as_inline_table().map(|t| t as &dyn TableLike),
                };
                let Some(table) = table else { break };
                if let Some(span) = table.key(k).and_then(|k| k.span()) {
                    found = Some(span.start);
                }
                table.get(k).map(Node::Item)
            }
            Seg::Index(i) => match node {
                Node::Item(item) => match item.as_array_of_tables() {
                    Some(tables) => tables.get(*i).map(Node::Table),
                    None => item.as_array().and_then(|a| a.get(*i)).map(Node::Value),
                },
                Node::Value(v) => v.as_array().and_then(|a| a.get(*i)).map(Node::Value),
                Node::Table(_) => None,
            },
        };
        let Some(next) = next else { break };
        let span = match &next {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        };
        if let Some(span) = span {
            found = Some(span.start);
        }
        node = next;
    }
    found
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// A TOML error as "line L, column C: message".
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = line_column(text, span.start);
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

    /// A scenario with one customer, `extra` appended; for the validation tests.
    fn one_customer(customer: &str, extra: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(
            "drill.toml",
            &format!(
                "id = \"a\"\ntitle = \"b\"\nduration-ms = 60000\n[[customers]]\n{customer}\n{extra}"
            ),
        )
    }

    #[test]
    fn a_note_too_big_for_the_books_is_refused_with_line_and_field() {
        let err = one_customer(
            "arrive-ms = 1000\naccount = \"1001\"\nnotes = [50, 100000000000000000]",
            "",
        )
        .unwrap_err();
        assert_eq!(err.source_name, "drill.toml");
        assert!(
            err.message.starts_with("line 7, column 14:"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("customers[0].notes[1]"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("100000000000000000"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_arrival_after_the_end_is_refused_not_run_longer() {
        let err =
            one_customer("arrive-ms = 60000\naccount = \"1001\"\nnotes = [50]", "").unwrap_err();
        assert!(
            err.message.starts_with("line 5, column 13:"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("customers[0].arrive-ms"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("duration-ms = 60000"),
            "{}",
            err.message
        );
        one_customer("arrive-ms = 59999\naccount = \"1001\"\nnotes = [50]", "").unwrap();
        let err = one_customer(
            "arrive-ms = 1000\naccount = \"1001\"",
            "[[commands]]\nat-ms = 90000\ncommand = { type = \"self-test\" }\n",
        )
        .unwrap_err();
        assert!(err.message.contains("commands[0].at-ms"), "{}", err.message);
        assert!(
            err.message.starts_with("line 8, column 9:"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_negative_amount_due_is_refused() {
        let err = one_customer(
            "arrive-ms = 1000\naccount = \"1001\"",
            "[backend.accounts.\"1001\"]\nholder-name = \"张三\"\namount-due = { minor = -12000, currency = \"CNY\" }\n",
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("line 9, column 14:"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("backend.accounts.1001.amount-due"),
            "{}",
            err.message
        );
        assert!(err.message.contains("negative"), "{}", err.message);
    }

    #[test]
    fn account_numbers_are_1_to_32_digits_everywhere_in_a_scenario() {
        let err = one_customer("arrive-ms = 1000\naccount = \"10\\u00070\"", "").unwrap_err();
        assert!(
            err.message.starts_with("line 6, column 11:"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("customers[0].account"),
            "{}",
            err.message
        );
        assert!(err.message.contains("1 to 32 digits"), "{}", err.message);
        let long = "1".repeat(33);
        let err = one_customer(&format!("arrive-ms = 1000\naccount = \"{long}\""), "").unwrap_err();
        assert!(err.message.contains("this one has 33"), "{}", err.message);
        let err = one_customer(
            "arrive-ms = 1000\naccount = \"1001\"",
            "[backend.accounts.\"10 01\"]\nholder-name = \"张三\"\n",
        )
        .unwrap_err();
        assert!(err.message.starts_with("line 7,"), "{}", err.message);
        assert!(err.message.contains("backend.accounts"), "{}", err.message);
        let err = one_customer(
            "arrive-ms = 1000\naccount = \"1001\"",
            "[[account-changes]]\nat-ms = 2000\naccount = \"x\"\nstatus = \"closed\"\n",
        )
        .unwrap_err();
        assert!(
            err.message.contains("account-changes[0].account"),
            "{}",
            err.message
        );
    }
}
