//! The service's configuration file: its shape, every default, and loading
//! it with errors that name the file, the line, the column and the field.
//!
//! ```toml
//! currency = "CNY"                    # default CNY
//! state-dir = "/var/lib/kioskd"       # default $STATE_DIRECTORY, else /var/lib/kioskd
//!
//! [kiosk]                             # kiosk_core::KioskConfig
//! kiosk-id = "K07"
//!
//! [devices.acceptor]                  # kiosk_hal::drivers::config::DevicesConfig
//! kind = "id003"
//! port = "/dev/ttyUSB0"
//! currency = "CNY"
//!
//! [devices.printer]
//! kind = "escpos"
//! port = "/dev/ttyUSB1"
//!
//! [link]                              # kiosk_http::HttpLinkConfig
//! base_url = "https://billing.example.cn/kiosk/v1/"
//!
//! [api]
//! listen = "127.0.0.1:8470"
//! [[api.operators]]
//! name = "zhang"
//! role = "supervisor"
//! password-hash = "$argon2id$v=19$m=19456,t=2,p=1$…"   # `kioskd hash-password`
//! ```
//!
//! Parsing and typing errors come from the `toml` crate, whose message
//! already carries the line, the column and the offending text; the file
//! name is put in front. What can only be checked after parsing (a zero
//! interval, a note the currency does not have) is the job of
//! [`crate::validate`], which finds the field's place in the text again.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kiosk_core::supervise::SupervisorPolicy;
use kiosk_core::KioskConfig;
use kiosk_hal::drivers::config::DevicesConfig;
use kiosk_hal::Currency;
use kiosk_http::HttpLinkConfig;
use serde::Deserialize;

use crate::auth::Role;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServiceConfig {
    /// The kiosk's currency: every note value, the acceptor's currency and
    /// the books are in it. Default `CNY`.
    #[serde(default = "cny")]
    pub currency: Currency,
    /// Where the journal (and, with `--simulate`, the virtual devices'
    /// state) lives. Default: `$STATE_DIRECTORY` (set by systemd's
    /// `StateDirectory=`), else `/var/lib/kioskd`. `--state-dir` overrides it.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// The journal file. Default `<state-dir>/journal.db`.
    #[serde(default)]
    pub journal: Option<PathBuf>,
    /// How long a SIGTERM may wait for the session in progress to end
    /// before kioskd gives up waiting (default 60 000 ms; keep it below the
    /// unit's `TimeoutStopSec=`). Giving up is a crash the next start's
    /// recovery handles, never a silent loss, but it exits non-zero.
    #[serde(default = "shutdown_timeout_ms")]
    pub shutdown_timeout_ms: u64,
    /// The kiosk's settings (ids, timeouts, notes taken, tickets, health).
    #[serde(default)]
    pub kiosk: KioskConfig,
    /// The devices; required to run for real, ignored with `--simulate`.
    #[serde(default)]
    pub devices: Option<DevicesConfig>,
    /// How the serial drivers are supervised (restarted after a panic or a hang).
    #[serde(default)]
    pub supervisor: SupervisorPolicy,
    /// The backend over HTTPS; required to run for real, ignored with `--simulate`.
    #[serde(default)]
    pub link: Option<HttpLinkConfig>,
    /// The operator API.
    #[serde(default)]
    pub api: ApiConfig,
    /// The virtual devices of `--simulate`.
    #[serde(default)]
    pub simulate: SimulateConfig,
    /// The hall's fleet over MQTT (telemetry, signed remote commands); off
    /// without the section.
    #[serde(default)]
    pub fleet: Option<crate::fleet::FleetConfig>,
}

fn cny() -> Currency {
    Currency::CNY
}

fn shutdown_timeout_ms() -> u64 {
    60_000
}

/// The operator API's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Where it listens. Default `127.0.0.1:8470` (loopback only: put a
    /// TLS-terminating proxy in front to reach it from elsewhere).
    pub listen: SocketAddr,
    /// A login's token is valid this long. Default 900 s.
    pub token_ttl_s: u64,
    /// A command's answer waits this long for the kiosk to perform it
    /// (commands run between sessions only); after that the answer is
    /// "queued" (202) and the command still runs. Default 10 000 ms.
    pub command_wait_ms: u64,
    /// A clearing step waits this long for its second person. Default 300 s.
    pub dual_control_window_s: u64,
    /// Whether `POST /v1/customer` takes customer actions (for the kiosk's
    /// own screen program on loopback). Default false; `--simulate` turns it on.
    pub customer_actions: bool,
    /// The staff who may use the API.
    pub operators: Vec<OperatorConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            token_ttl_s: 900,
            command_wait_ms: 10_000,
            dual_control_window_s: 300,
            customer_actions: false,
            operators: Vec::new(),
        }
    }
}

/// One member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OperatorConfig {
    /// Their name, as journaled with what they do.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Their password's argon2id hash in the PHC string format
    /// (`kioskd hash-password` makes one). Never the password itself.
    pub password_hash: String,
}

/// The virtual devices of `--simulate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SimulateConfig {
    /// How long the virtual stacker takes to carry a note into the box
    /// (default 200 ms).
    pub transport_ms: u64,
}

impl Default for SimulateConfig {
    fn default() -> Self {
        SimulateConfig { transport_ms: 200 }
    }
}

/// A configuration file as read: its path, its text and what it says.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file.
    pub path: PathBuf,
    /// Its text (for finding fields again in error messages).
    pub text: String,
    /// What it says.
    pub config: ServiceConfig,
}

/// Why a configuration file could not be read at all.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML, or a field has the wrong type, an
    /// unknown name, or a bad value (the toml crate's message: line,
    /// column, the line itself and a caret).
    Parse {
        /// The file.
        path: PathBuf,
        /// The toml crate's error.
        error: Box<toml::de::Error>,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Read { path, error } => {
                write!(
                    f,
                    "{}: cannot read the configuration: {error}",
                    path.display()
                )
            }
            LoadError::Parse { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads and parses the file at `path`.
pub fn load(path: &Path) -> Result<LoadedConfig, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse(path, text)
}

/// Parses `text` as the file at `path` (named in errors).
pub fn parse(path: &Path, text: String) -> Result<LoadedConfig, LoadError> {
    let config: ServiceConfig = toml::from_str(&text).map_err(|error| LoadError::Parse {
        path: path.to_path_buf(),
        error: Box::new(error),
    })?;
    Ok(LoadedConfig {
        path: path.to_path_buf(),
        text,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_every_default() {
        let c = parse(Path::new("k.toml"), String::new()).unwrap().config;
        assert_eq!(c.currency, Currency::CNY);
        assert_eq!(c.api.listen.to_string(), "127.0.0.1:8470");
        assert!(c.devices.is_none() && c.link.is_none());
        assert_eq!(c.shutdown_timeout_ms, 60_000);
    }

    #[test]
    fn a_typo_names_the_file_line_column_and_field() {
        let text = "currency = \"CNY\"\n\n[kiosk]\nkiosk-id = \"K01\"\nlookup-timout-ms = 5\n";
        let e = parse(Path::new("/etc/kioskd/kiosk.toml"), text.into()).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("/etc/kioskd/kiosk.toml: "), "{shown}");
        assert!(shown.contains("line 5, column 1"), "{shown}");
        assert!(shown.contains("lookup-timout-ms"), "{shown}");
    }

    #[test]
    fn a_wrong_type_names_its_place() {
        let text = "[api]\nlisten = \"not an address\"\n";
        let shown = parse(Path::new("k.toml"), text.into())
            .unwrap_err()
            .to_string();
        assert!(shown.contains("line 2, column 10"), "{shown}");
    }
}
