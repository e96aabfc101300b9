//! What `kioskd check-config` checks beyond the file's syntax and types,
//! each finding named by file, line, column and field.
//!
//! The checks are plain functions of the parsed [`ServiceConfig`]; each
//! names the field it is about as a path (`kiosk.session.accepted-notes[2]`),
//! and [`locate`] finds that path's place in the file's text again (with
//! `toml_edit`, which keeps spans) for the message.
//!
//! A serial port that does not exist is an error for `check-config` but
//! only a warning when the service starts: a device unplugged at boot is a
//! fault the running kiosk reports and keeps retrying, not a reason to stay
//! down.

use std::ops::Range;

use kiosk_hal::drivers::config::{CashBoxSource, DeviceConfig, DevicesConfig};
use kiosk_hal::Currency;

use crate::auth::{check_hash, Role};
use crate::config::{LoadedConfig, ServiceConfig};
use crate::currency;

/// How kioskd is going to run the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On the configured devices and backend.
    Real,
    /// On virtual devices (`--simulate`): `[devices]` unused; `[link]`, if
    /// given, is the backend they pay over HTTPS.
    Simulate,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth knowing; the kiosk runs.
    Warning,
    /// The kiosk must not start with it.
    Error,
}

/// One step of a field's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A key of a table.
    Key(String),
    /// An element of an array.
    Index(usize),
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad.
    pub level: Level,
    /// What it is about.
    pub kind: FindingKind,
    /// The field, as a path from the top of the file.
    pub field: Vec<Seg>,
    /// What is wrong, in words.
    pub message: String,
}

/// The kinds of findings, so callers (and tests) match on the kind, not on words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// A currency kioskd does not know the notes of.
    UnknownCurrency,
    /// A note value the kiosk's currency does not have, or another currency's.
    BadNoteValue,
    /// An empty (or blank) id or name.
    Empty,
    /// A time or interval of zero.
    ZeroInterval,
    /// Two settings that contradict each other.
    Inconsistent,
    /// A serial port (or GPIO chip) that does not exist.
    MissingPort,
    /// A section needed to run for real is absent.
    MissingSection,
    /// A password hash kioskd cannot use.
    BadPasswordHash,
    /// Something that works but is likely a mistake.
    Doubtful,
}

impl Finding {
    fn new(level: Level, kind: FindingKind, field: Vec<Seg>, message: impl Into<String>) -> Self {
        Finding {
            level,
            kind,
            field,
            message: message.into(),
        }
    }

    /// The field's path as written in messages (`api.operators[1].name`).
    pub fn field_name(&self) -> String {
        let mut out = String::new();
        for seg in &self.field {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// The finding as one line: `file:line:column: error: field `x`: message`.
    pub fn render(&self, loaded: &LoadedConfig) -> String {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let place = match locate(&loaded.text, &self.field) {
            Some((line, column)) => format!("{}:{line}:{column}", loaded.path.display()),
            None => format!("{} (not in the file: the default)", loaded.path.display()),
        };
        format!(
            "{place}: {level}: field `{}`: {}",
            self.field_name(),
            self.message
        )
    }
}

fn path(parts: &[&str]) -> Vec<Seg> {
    parts.iter().map(|p| Seg::Key((*p).to_string())).collect()
}

fn with(mut base: Vec<Seg>, more: Seg) -> Vec<Seg> {
    base.push(more);
    base
}

/// Every finding about `config` when run in `mode`, errors first.
pub fn check(config: &ServiceConfig, mode: Mode) -> Vec<Finding> {
    let mut out = Vec::new();
    check_currency(config, &mut out);
    check_kiosk(config, &mut out);
    check_intervals(config, mode, &mut out);
    check_api(config, &mut out);
    if mode == Mode::Real {
        check_real(config, &mut out);
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.level));
    out
}

fn check_currency(config: &ServiceConfig, out: &mut Vec<Finding>) {
    let currency = config.currency;
    if currency::notes_of(currency).is_none() {
        out.push(Finding::new(
            Level::Error,
            FindingKind::UnknownCurrency,
            path(&["currency"]),
            format!(
                "unknown currency {currency}: kioskd knows the notes of {}",
                currency::known_codes().join(", ")
            ),
        ));
        return;
    }
    let notes = &config.kiosk.session.accepted_notes;
    let notes_path = path(&["kiosk", "session", "accepted-notes"]);
    if notes.is_empty() {
        out.push(Finding::new(
            Level::Error,
            FindingKind::BadNoteValue,
            notes_path.clone(),
            "no note values: the kiosk could take no cash",
        ));
    }
    for (i, note) in notes.iter().enumerate() {
        let field = with(notes_path.clone(), Seg::Index(i));
        if note.currency != currency {
            out.push(Finding::new(
                Level::Error,
                FindingKind::BadNoteValue,
                field,
                format!("a {} note on a {currency} kiosk", note.currency),
            ));
        } else if !currency::is_banknote(*note) {
            out.push(Finding::new(
                Level::Error,
                FindingKind::BadNoteValue,
                field,
                format!(
                    "{currency} has no {note} note (its notes: {:?})",
                    currency::notes_of(currency).unwrap_or(&[])
                ),
            ));
        }
    }
}

fn check_kiosk(config: &ServiceConfig, out: &mut Vec<Finding>) {
    let id = &config.kiosk.kiosk_id.0;
    if id.trim().is_empty() {
        out.push(Finding::new(
            Level::Error,
            FindingKind::Empty,
            path(&["kiosk", "kiosk-id"]),
            "the kiosk id is empty: tickets, sessions and payments are named by it",
        ));
    } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        out.push(Finding::new(
            Level::Error,
            FindingKind::Empty,
            path(&["kiosk", "kiosk-id"]),
            format!("the kiosk id {id:?} has spaces or control characters"),
        ));
    }
    if !config.kiosk.authorised_operators.is_empty() {
        out.push(Finding::new(
            Level::Error,
            FindingKind::Inconsistent,
            path(&["kiosk", "authorised-operators"]),
            "kioskd sets who may clear from [api] operators (role operator or \
             supervisor): remove this list",
        ));
    }
}

/// Every interval that must not be zero, by path.
fn intervals(config: &ServiceConfig, mode: Mode) -> Vec<(Vec<Seg>, u64)> {
    let k = &config.kiosk;
    let mut all = vec![
        (path(&["kiosk", "lookup-timeout-ms"]), k.lookup_timeout_ms),
        (path(&["kiosk", "post-timeout-ms"]), k.post_timeout_ms),
        (path(&["kiosk", "print-timeout-ms"]), k.print_timeout_ms),
        (path(&["kiosk", "retry-initial-ms"]), k.retry_initial_ms),
        (path(&["kiosk", "retry-max-ms"]), k.retry_max_ms),
        (
            path(&["kiosk", "health-check-interval-ms"]),
            k.health_check_interval_ms,
        ),
        (
            path(&["kiosk", "link-probe-timeout-ms"]),
            k.link_probe_timeout_ms,
        ),
        (
            path(&["kiosk", "session", "insert-idle-timeout-ms"]),
            k.session.insert_idle_timeout_ms,
        ),
        (
            path(&["kiosk", "session", "confirm-timeout-ms"]),
            k.session.confirm_timeout_ms,
        ),
        (
            path(&["kiosk", "session", "code-timeout-ms"]),
            k.session.code_timeout_ms,
        ),
        (
            path(&["kiosk", "tickets", "escalation-window-ms"]),
            k.tickets.escalation_window_ms,
        ),
        (
            path(&["kiosk", "health", "failure-window-ms"]),
            k.health.failure_window_ms,
        ),
        (
            path(&["supervisor", "call-timeout-ms"]),
            config.supervisor.call_timeout_ms,
        ),
        (
            path(&["supervisor", "restart-backoff-ms"]),
            config.supervisor.restart_backoff_ms,
        ),
        (
            path(&["supervisor", "restart-backoff-max-ms"]),
            config.supervisor.restart_backoff_max_ms,
        ),
        (path(&["shutdown-timeout-ms"]), config.shutdown_timeout_ms),
        (path(&["api", "token-ttl-s"]), config.api.token_ttl_s),
        (
            path(&["api", "command-wait-ms"]),
            config.api.command_wait_ms,
        ),
        (
            path(&["api", "dual-control-window-s"]),
            config.api.dual_control_window_s,
        ),
    ];
    match mode {
        Mode::Real => {
            if let Some(link) = &config.link {
                all.push((path(&["link", "timeout_ms"]), link.timeout_ms));
            }
            if let Some(devices) = &config.devices {
                all.extend(device_intervals(devices));
            }
        }
        Mode::Simulate => all.push((
            path(&["simulate", "transport-ms"]),
            config.simulate.transport_ms,
        )),
    }
    all
}

fn device_intervals(devices: &DevicesConfig) -> Vec<(Vec<Seg>, u64)> {
    let mut out = Vec::new();
    if let DeviceConfig::Id003(c) = &devices.acceptor {
        let base = ["devices", "acceptor"];
        for (key, v) in [
            ("poll-interval-ms", c.poll_interval_ms),
            ("answer-timeout-ms", c.answer_timeout_ms),
            ("reconnect-initial-ms", c.reconnect_initial_ms),
            ("reconnect-max-ms", c.reconnect_max_ms),
        ] {
            out.push((path(&[base[0], base[1], key]), v));
        }
    }
    out
}

fn check_intervals(config: &ServiceConfig, mode: Mode, out: &mut Vec<Finding>) {
    for (field, value) in intervals(config, mode) {
        if value == 0 {
            out.push(Finding::new(
                Level::Error,
                FindingKind::ZeroInterval,
                field,
                "must be more than 0",
            ));
        }
    }
    let k = &config.kiosk;
    if k.retry_max_ms < k.retry_initial_ms {
        out.push(Finding::new(
            Level::Error,
            FindingKind::Inconsistent,
            path(&["kiosk", "retry-max-ms"]),
            format!(
                "{} is less than retry-initial-ms ({})",
                k.retry_max_ms, k.retry_initial_ms
            ),
        ));
    }
}

fn check_api(config: &ServiceConfig, out: &mut Vec<Finding>) {
    let ops = &config.api.operators;
    let base = path(&["api", "operators"]);
    for (i, op) in ops.iter().enumerate() {
        let at = |key: &str| with(with(base.clone(), Seg::Index(i)), Seg::Key(key.into()));
        if op.name.trim().is_empty() {
            out.push(Finding::new(
                Level::Error,
                FindingKind::Empty,
                at("name"),
                "an operator without a name: everything they do is journaled by name",
            ));
        }
        if ops[..i].iter().any(|o| o.name == op.name) {
            out.push(Finding::new(
                Level::Error,
                FindingKind::Inconsistent,
                at("name"),
                format!("operator {:?} is listed twice", op.name),
            ));
        }
        if let Err(why) = check_hash(&op.password_hash) {
            out.push(Finding::new(
                Level::Error,
                FindingKind::BadPasswordHash,
                at("password-hash"),
                why,
            ));
        }
    }
    let clearing = ops.iter().filter(|o| o.role >= Role::CashHandler).count();
    let supervisors = ops.iter().filter(|o| o.role == Role::Supervisor).count();
    if clearing < 2 || supervisors == 0 {
        out.push(Finding::new(
            Level::Warning,
            FindingKind::Doubtful,
            base,
            "no clearing is possible: it needs two cash handlers, one of them a supervisor",
        ));
    }
    if !config.api.listen.ip().is_loopback() {
        out.push(Finding::new(
            Level::Warning,
            FindingKind::Doubtful,
            path(&["api", "listen"]),
            format!(
                "{} is reachable from the network over plain HTTP: put a TLS proxy in front",
                config.api.listen
            ),
        ));
    }
}

fn check_real(config: &ServiceConfig, out: &mut Vec<Finding>) {
    match &config.devices {
        None => out.push(Finding::new(
            Level::Error,
            FindingKind::MissingSection,
            path(&["devices"]),
            "no [devices]: needed to run for real (or run with --simulate)",
        )),
        Some(devices) => check_devices(config.currency, devices, out),
    }
    match &config.link {
        None => out.push(Finding::new(
            Level::Error,
            FindingKind::MissingSection,
            path(&["link"]),
            "no [link]: the backend's address is needed to run for real (or run with --simulate)",
        )),
        Some(link) => {
            let url = link.base_url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                out.push(Finding::new(
                    Level::Error,
                    FindingKind::Inconsistent,
                    path(&["link", "base_url"]),
                    format!("{url:?} is not an https:// address"),
                ));
            } else if url.starts_with("http://") {
                out.push(Finding::new(
                    Level::Warning,
                    FindingKind::Doubtful,
                    path(&["link", "base_url"]),
                    "plain http: payments cross the network unencrypted",
                ));
            }
        }
    }
}

/// Ports that do not exist and acceptor currencies other than the kiosk's.
pub fn check_devices(currency: Currency, devices: &DevicesConfig, out: &mut Vec<Finding>) {
    let roles = [
        ("acceptor", Some(&devices.acceptor)),
        ("printer", Some(&devices.printer)),
        ("reader", devices.reader.as_ref()),
    ];
    for (role, device) in roles {
        let Some(device) = device else { continue };
        if let Some(port) = device.port() {
            if !port.exists() {
                out.push(Finding::new(
                    Level::Error,
                    FindingKind::MissingPort,
                    path(&["devices", role, "port"]),
                    format!("{} does not exist", port.display()),
                ));
            }
        }
        if matches!(device, DeviceConfig::Virtual {}) {
            out.push(Finding::new(
                Level::Error,
                FindingKind::Inconsistent,
                path(&["devices", role, "kind"]),
                "a virtual device cannot run for real: use --simulate",
            ));
        }
    }
    // A GPIO line is opened only by a build with kiosk-hal's `gpio-cdev`:
    // without it the start would fail, so the check says so first.
    if !cfg!(feature = "gpio-cdev") {
        let gpio = [
            (
                matches!(devices.acceptor, DeviceConfig::Pulse(_)),
                path(&["devices", "acceptor", "kind"]),
            ),
            (
                matches!(devices.cash_box, CashBoxSource::Gpio(_)),
                path(&["devices", "cash-box", "gpio"]),
            ),
        ];
        for (_, at) in gpio.into_iter().filter(|(uses, _)| *uses) {
            out.push(Finding::new(
                Level::Error,
                FindingKind::Inconsistent,
                at,
                "GPIO lines need a kioskd built with `--features gpio-cdev` (this one is not)",
            ));
        }
    }
    if let DeviceConfig::Id003(c) = &devices.acceptor {
        if c.currency != currency {
            out.push(Finding::new(
                Level::Error,
                FindingKind::Inconsistent,
                path(&["devices", "acceptor", "currency"]),
                format!(
                    "the acceptor reads {} notes on a {currency} kiosk",
                    c.currency
                ),
            ));
        }
    }
}

/// Where `field` is in `text`: 1-based line and column of its value (or,
/// if the field is not written there, of the nearest enclosing table that
/// is). `None` when not even the top-level key is in the text.
pub fn locate(text: &str, field: &[Seg]) -> Option<(usize, usize)> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item = doc.as_item();
    let mut best: Option<Range<usize>> = None;
    for seg in field {
        let next = match seg {
            Seg::Key(k) => item.get(k.as_str()),
            Seg::Index(i) => item.get(*i),
        };
        match next {
            Some(found) => {
                item = found;
                if let Some(span) = found.span().or_else(|| table_span(found)) {
                    best = Some(span);
                }
            }
            None => break,
        }
    }
    let start = best?.start;
    let before = &text[..start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    Some((line, column))
}

fn table_span(item: &toml_edit::Item) -> Option<Range<usize>> {
    match item {
        toml_edit::Item::Table(t) => t.span(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse;

    fn findings(text: &str, mode: Mode) -> (LoadedConfig, Vec<Finding>) {
        let loaded = parse(Path::new("/etc/kioskd/kiosk.toml"), text.to_string()).unwrap();
        let found = check(&loaded.config, mode);
        (loaded, found)
    }

    /// The one finding of `kind`, rendered.
    fn only(text: &str, mode: Mode, kind: FindingKind) -> String {
        let (loaded, found) = findings(text, mode);
        let of_kind: Vec<_> = found.iter().filter(|f| f.kind == kind).collect();
        assert_eq!(of_kind.len(), 1, "{found:#?}");
        assert_eq!(of_kind[0].level, Level::Error);
        of_kind[0].render(&loaded)
    }

    #[test]
    fn a_clean_simulate_file_has_no_errors() {
        let (_, found) = findings("[kiosk]\nkiosk-id = \"K01\"\n", Mode::Simulate);
        assert!(
            found.iter().all(|f| f.level == Level::Warning),
            "{found:#?}"
        );
    }

    #[test]
    fn an_unknown_currency_is_named_with_its_place() {
        let shown = only(
            "\n\ncurrency = \"XYZ\"\n",
            Mode::Simulate,
            FindingKind::UnknownCurrency,
        );
        assert_eq!(
            shown,
            "/etc/kioskd/kiosk.toml:3:12: error: field `currency`: unknown currency XYZ: \
             kioskd knows the notes of CNY, HKD, EUR, USD"
        );
    }

    #[test]
    fn an_empty_kiosk_id_is_an_error() {
        let shown = only(
            "[kiosk]\nkiosk-id = \"  \"\n",
            Mode::Simulate,
            FindingKind::Empty,
        );
        assert!(
            shown.starts_with("/etc/kioskd/kiosk.toml:2:12: error: field `kiosk.kiosk-id`"),
            "{shown}"
        );
    }

    #[test]
    fn a_zero_interval_is_an_error() {
        let text = "[kiosk]\nkiosk-id = \"K01\"\n[kiosk.session]\nconfirm-timeout-ms = 0\n";
        let shown = only(text, Mode::Simulate, FindingKind::ZeroInterval);
        assert!(
            shown.starts_with("/etc/kioskd/kiosk.toml:4:22: error: field `kiosk.session.confirm-timeout-ms`: must be more than 0"),
            "{shown}"
        );
        let text = "[api]\ntoken-ttl-s = 0\n";
        let shown = only(text, Mode::Simulate, FindingKind::ZeroInterval);
        assert!(
            shown.contains(":2:15: error: field `api.token-ttl-s`"),
            "{shown}"
        );
    }

    #[test]
    fn a_note_value_the_currency_lacks_is_an_error() {
        let text = r#"
[kiosk.session]
accepted-notes = [
  { minor = 1000, currency = "CNY" },
  { minor = 3000, currency = "CNY" },
]
"#;
        let shown = only(text, Mode::Simulate, FindingKind::BadNoteValue);
        assert!(
            shown.contains(":5:3: error: field `kiosk.session.accepted-notes[1]`"),
            "{shown}"
        );
        assert!(
            shown.contains("CNY has no CNY 30.00 note") || shown.contains("has no"),
            "{shown}"
        );
        let text = "[kiosk.session]\naccepted-notes = [{ minor = 1000, currency = \"USD\" }]\n";
        let shown = only(text, Mode::Simulate, FindingKind::BadNoteValue);
        assert!(shown.contains("a USD note on a CNY kiosk"), "{shown}");
    }

    #[test]
    fn a_serial_port_that_does_not_exist_is_an_error() {
        let text = r#"
[devices.acceptor]
kind = "id003"
port = "/dev/kioskd-test-no-such-port"

[devices.printer]
kind = "escpos"
port = "/dev/null"

[link]
base_url = "https://billing.example.cn/kiosk/v1/"
"#;
        let shown = only(text, Mode::Real, FindingKind::MissingPort);
        assert_eq!(
            shown,
            "/etc/kioskd/kiosk.toml:4:8: error: field `devices.acceptor.port`: \
             /dev/kioskd-test-no-such-port does not exist"
        );
        // Simulate never opens the ports: no finding there.
        let (_, found) = findings(text, Mode::Simulate);
        assert!(found.iter().all(|f| f.kind != FindingKind::MissingPort));
    }

    #[test]
    fn running_for_real_needs_devices_and_a_link() {
        let (_, found) = findings("", Mode::Real);
        let missing: Vec<_> = found
            .iter()
            .filter(|f| f.kind == FindingKind::MissingSection)
            .map(Finding::field_name)
            .collect();
        assert_eq!(missing, ["devices", "link"]);
    }

    #[test]
    fn a_bad_password_hash_and_a_duplicate_name_are_errors() {
        let text = r#"
[[api.operators]]
name = "zhang"
role = "supervisor"
password-hash = "secret"
"#;
        let shown = only(text, Mode::Simulate, FindingKind::BadPasswordHash);
        assert!(
            shown.contains(":5:17: error: field `api.operators[0].password-hash`"),
            "{shown}"
        );
        let hash =
            crate::auth::hash_password_with("pw", argon2::Params::new(1024, 1, 1, None).unwrap())
                .unwrap();
        let twice = format!(
            "[[api.operators]]\nname = \"li\"\nrole = \"operator\"\npassword-hash = \"{hash}\"\n\
             [[api.operators]]\nname = \"li\"\nrole = \"viewer\"\npassword-hash = \"{hash}\"\n"
        );
        let shown = only(&twice, Mode::Simulate, FindingKind::Inconsistent);
        assert!(
            shown.contains(":6:8: error: field `api.operators[1].name`"),
            "{shown}"
        );
    }

    #[test]
    fn a_field_left_at_its_default_says_so() {
        let loaded = parse(Path::new("k.toml"), String::new()).unwrap();
        let f = Finding::new(
            Level::Error,
            FindingKind::Empty,
            path(&["kiosk", "kiosk-id"]),
            "x",
        );
        assert_eq!(
            f.render(&loaded),
            "k.toml (not in the file: the default): error: field `kiosk.kiosk-id`: x"
        );
    }
}
