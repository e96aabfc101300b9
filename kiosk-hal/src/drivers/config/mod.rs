//! A kiosk's devices as configuration, and (feature `serial`) the function
//! that builds them. With the `gpio-cdev` feature too, a `pulse` acceptor
//! and a `gpio` cash box are built on Linux GPIO lines:
//!
//! ```toml
//! [acceptor]
//! kind = "pulse"
//! chip = "/dev/gpiochip0"
//! line = 17
//! active-low = true
//! pulses = [{ pulses = 1, value = { minor = 1000, currency = "CNY" } }]
//!
//! [cash-box.gpio]
//! chip = "/dev/gpiochip0"
//! line = 22
//! ```
//!
//! A serial kiosk:
//!
//! ```toml
//! [acceptor]
//! kind = "id003"
//! port = "/dev/serial/by-id/usb-JCM-if00"
//! currency = "CNY"
//!
//! [printer]
//! kind = "escpos"
//! port = "/dev/ttyUSB1"
//! baud = 19200
//!
//! [reader]
//! kind = "scanner"
//! port = "/dev/ttyACM0"
//! terminator = "cr-lf"
//! ```
//!
//! A scanner that types as a USB keyboard instead (feature `evdev`),
//! grabbed so its keystrokes reach nothing else:
//!
//! ```toml
//! [reader]
//! kind = "hid-scanner"
//! device = "/dev/input/by-id/usb-SM_SM-2D_PRODUCT_HID_KBW_APP-000000000-event-kbd"
//! ```
//!
//! A CashCode-compatible validator instead (CCNET, 9600 8N1), or a ccTalk
//! bill validator on its single-wire bus:
//!
//! ```toml
//! [acceptor]
//! kind = "ccnet"
//! port = "/dev/serial/by-id/usb-FTDI-if00"
//! currency = "CNY"
//! ```
//!
//! ```toml
//! [acceptor]
//! kind = "cctalk"
//! port = "/dev/ttyUSB0"
//! checksum = "simple"   # or "crc16", as set on the validator
//! address = 40
//! echo = true           # false for a two-wire adapter without echo
//! currency = "CNY"
//! ```
//!
//! A ccTalk coin acceptor (address 2) instead: coins are credited as they
//! drop (no escrow); it senses no cash box, so the box is read from GPIO
//! switches (feature `gpio-cdev`):
//!
//! ```toml
//! [acceptor]
//! kind = "cctalk-coin"
//! port = "/dev/ttyUSB0"
//! currency = "CNY"      # coin ids `CN100A` = 100 fen
//!
//! [cash-box.gpio]
//! chip = "/dev/gpiochip0"
//! line = 22
//! ```
//!
//! An ITL NV200 instead of the JCM validator (eSSP):
//!
//! ```toml
//! [acceptor]
//! kind = "ssp"
//! port = "/dev/serial/by-id/usb-ITL-NV200-if00"
//! encryption = true
//! ```
//!
//! Changing hardware is editing this file: every driver behind it
//! implements the same HAL trait. Unknown fields are errors, so a typo
//! never silently falls back to a default.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ccnet::CcnetConfig;
use super::cctalk::{CctalkCoinConfig, CctalkConfig};
use super::escpos::EscPosConfig;
use super::id003::Id003Config;
use super::pulse::PulseConfig;
use super::scanner::{HidScannerConfig, ScannerConfig};
use super::ssp::SspConfig;

/// One device: its kind and the kind's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DeviceConfig {
    /// A JCM ID-003 bill acceptor on a serial port.
    Id003(Id003Config),
    /// A CCNET (CashCode and compatible) bill acceptor on a serial port.
    Ccnet(CcnetConfig),
    /// A ccTalk bill validator on a serial port.
    Cctalk(CctalkConfig),
    /// A ccTalk coin acceptor on a serial port: coins are credited as
    /// note-like items (no escrow). It senses no cash box: give it a
    /// `gpio` one.
    CctalkCoin(CctalkCoinConfig),
    /// An ITL SSP / eSSP note validator (NV9, NV10, NV200…) on a serial port.
    Ssp(SspConfig),
    /// An ESC/POS receipt printer on a serial port.
    Escpos(EscPosConfig),
    /// A barcode / QR scanner on a serial port.
    Scanner(ScannerConfig),
    /// A barcode / QR scanner that types as a USB keyboard, read from its
    /// Linux input device and grabbed exclusively (built with the `evdev`
    /// feature).
    HidScanner(HidScannerConfig),
    /// A pulse-output bill acceptor on a GPIO pin. With `chip` and `line`
    /// and the `gpio-cdev` feature it is built from this file on Linux;
    /// otherwise build it in code (`drivers::gpio::PulseAcceptor`, feature
    /// `gpio`) on your board's pin with this configuration.
    Pulse(PulseConfig),
    /// A simulated device (`kiosk-sim` builds it).
    Virtual {},
}

impl DeviceConfig {
    /// The kind's name as written in the file.
    pub fn kind_name(&self) -> &'static str {
        match self {
            DeviceConfig::Id003(_) => "id003",
            DeviceConfig::Ccnet(_) => "ccnet",
            DeviceConfig::Cctalk(_) => "cctalk",
            DeviceConfig::CctalkCoin(_) => "cctalk-coin",
            DeviceConfig::Ssp(_) => "ssp",
            DeviceConfig::Escpos(_) => "escpos",
            DeviceConfig::Scanner(_) => "scanner",
            DeviceConfig::HidScanner(_) => "hid-scanner",
            DeviceConfig::Pulse(_) => "pulse",
            DeviceConfig::Virtual {} => "virtual",
        }
    }

    /// The serial port it uses, if it uses one.
    pub fn port(&self) -> Option<&std::path::Path> {
        match self {
            DeviceConfig::Id003(c) => Some(&c.port),
            DeviceConfig::Ccnet(c) => Some(&c.port),
            DeviceConfig::Cctalk(c) => Some(&c.port),
            DeviceConfig::CctalkCoin(c) => Some(&c.port),
            DeviceConfig::Ssp(c) => Some(&c.port),
            DeviceConfig::Escpos(c) => Some(&c.port),
            DeviceConfig::Scanner(c) => Some(&c.port),
            // An input device is not a serial port (its path is `device`).
            DeviceConfig::HidScanner(_) | DeviceConfig::Pulse(_) | DeviceConfig::Virtual {} => None,
        }
    }
}

/// Where the kiosk reads its cash box from: `cash-box = "acceptor"`,
/// `cash-box = "virtual"`, or a `[cash-box.gpio]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CashBoxSource {
    /// From the bill acceptor's stacker sensing (ID-003 stacker open / full).
    #[default]
    Acceptor,
    /// A simulated box (`kiosk-sim` builds it).
    Virtual,
    /// Switches on Linux GPIO lines (built with the `gpio-cdev` feature;
    /// in code, `drivers::gpio::CashBoxSwitch` takes any `embedded-hal` pin).
    Gpio(CashBoxSwitchConfig),
}

/// A cash box sensed by a presence switch and, optionally, a near-full
/// switch on one GPIO chip.
///
/// ```toml
/// [cash-box.gpio]
/// chip = "/dev/gpiochip0"
/// line = 22
/// active-low = true
/// near-full-line = 23
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CashBoxSwitchConfig {
    /// The GPIO chip, e.g. `/dev/gpiochip0`.
    pub chip: PathBuf,
    /// The presence switch's line (offset) on `chip`.
    pub line: u32,
    /// The presence switch pulls the line low when the box is in place.
    /// Default true (a switch closing to ground, with a pull-up).
    #[serde(default = "yes")]
    pub active_low: bool,
    /// The near-full switch's line on `chip`, if fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_full_line: Option<u32>,
    /// The near-full switch pulls its line low when the box is nearly full.
    /// Default true.
    #[serde(default = "yes")]
    pub near_full_active_low: bool,
}

fn yes() -> bool {
    true
}

/// The devices of one kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DevicesConfig {
    /// The bill acceptor.
    pub acceptor: DeviceConfig,
    /// The receipt printer.
    pub printer: DeviceConfig,
    /// The card / QR reader, if fitted.
    #[serde(default)]
    pub reader: Option<DeviceConfig>,
    /// Where the cash box is read from. Default `acceptor`. A `pulse`
    /// acceptor or a ccTalk coin acceptor senses no box: give it a `gpio`
    /// one.
    #[serde(default)]
    pub cash_box: CashBoxSource,
}

/// The role a device plays in the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The bill acceptor.
    Acceptor,
    /// The receipt printer.
    Printer,
    /// The card / QR reader.
    Reader,
}

/// Why a device could not be built from its configuration.
#[derive(Debug)]
pub enum BuildError {
    /// The kind cannot play this role (a printer configured as acceptor).
    WrongKind {
        /// The role.
        role: Role,
        /// The kind configured.
        kind: &'static str,
    },
    /// The kind exists but is not built from a file here: `virtual` (built
    /// by `kiosk-sim`), and `pulse` or a `gpio` cash box without the
    /// `gpio-cdev` feature (or a `pulse` without `chip` and `line`): their
    /// pins then come from the board, in code.
    NotFromConfig {
        /// The role.
        role: Role,
        /// The kind configured.
        kind: &'static str,
    },
    /// The driver refused to start (bad settings, no thread).
    Device(crate::DeviceError),
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::WrongKind { role, kind } => {
                write!(f, "a device of kind {kind:?} cannot be the {role:?}")
            }
            BuildError::NotFromConfig { role, kind } => write!(
                f,
                "the {role:?} of kind {kind:?} is not built from configuration here{}",
                not_from_config_hint(kind)
            ),
            BuildError::Device(e) => write!(f, "device failed to start: {e}"),
        }
    }
}

/// What to do about a kind that is not built from configuration.
fn not_from_config_hint(kind: &str) -> &'static str {
    match kind {
        "virtual" => " (kiosk-sim builds virtual devices)",
        #[cfg(feature = "gpio-cdev")]
        "pulse" => ": it has no `chip` and `line` (give them, or build it in code on your pin)",
        #[cfg(not(feature = "gpio-cdev"))]
        "pulse" | "gpio" => {
            ": enable kiosk-hal's `gpio-cdev` feature to open its GPIO lines on Linux, \
             or build it in code on your board's pins (feature `gpio`)"
        }
        _ => "",
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Device(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "serial")]
mod build;

#[cfg(feature = "serial")]
pub use build::{
    build_acceptor, build_devices, build_printer, build_reader, AcceptorAndBox, BuiltDevices,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_defaults_and_unknown_fields_are_refused() {
        let json = r#"{
            "acceptor": { "kind": "id003", "port": "/dev/ttyUSB0", "poll-interval-ms": 50 },
            "printer": { "kind": "escpos", "port": "/dev/ttyUSB1", "one-way": true },
            "reader": { "kind": "scanner", "port": "/dev/ttyACM0", "terminator": "cr-lf" }
        }"#;
        let c: DevicesConfig = serde_json::from_str(json).unwrap();
        let DeviceConfig::Id003(a) = &c.acceptor else {
            panic!("{c:?}")
        };
        assert_eq!((a.poll_interval_ms, a.baud), (50, 9600));
        assert_eq!(a.parity, crate::drivers::Parity::Even);
        assert_eq!(c.printer.kind_name(), "escpos");
        assert_eq!(c.cash_box, CashBoxSource::Acceptor);
        assert!(c.reader.as_ref().unwrap().port().is_some());

        let typo = r#"{ "kind": "id003", "port": "/dev/x", "pol-interval-ms": 50 }"#;
        let err = serde_json::from_str::<DeviceConfig>(typo).unwrap_err();
        assert!(err.to_string().contains("pol-interval-ms"), "{err}");
        let virt = r#"{ "kind": "virtual" }"#;
        assert_eq!(
            serde_json::from_str::<DeviceConfig>(virt).unwrap(),
            DeviceConfig::Virtual {}
        );
        assert!(serde_json::from_str::<DeviceConfig>(r#"{ "kind": "usb" }"#).is_err());
        let ccnet = r#"{ "kind": "ccnet", "port": "/dev/ttyUSB0" }"#;
        let DeviceConfig::Ccnet(c) = serde_json::from_str(ccnet).unwrap() else {
            panic!("not ccnet")
        };
        assert_eq!((c.baud, c.parity), (9600, crate::drivers::Parity::None));
        let cctalk = r#"{ "kind": "cctalk", "port": "/dev/ttyUSB0", "checksum": "crc16" }"#;
        let DeviceConfig::Cctalk(c) = serde_json::from_str(cctalk).unwrap() else {
            panic!("not cctalk")
        };
        assert_eq!(
            (c.checksum, c.address, c.echo),
            (crate::wire::cctalk::Checksum::Crc16, 40, true)
        );
    }

    #[test]
    fn the_documented_ccnet_and_cctalk_acceptors_parse_from_toml() {
        let ccnet = r#"
            [acceptor]
            kind = "ccnet"
            port = "/dev/serial/by-id/usb-FTDI-if00"
            currency = "CNY"
            [printer]
            kind = "escpos"
            port = "/dev/ttyUSB1"
        "#;
        let c: DevicesConfig = toml::from_str(ccnet).unwrap();
        assert_eq!(c.acceptor.kind_name(), "ccnet");
        let cctalk = ccnet
            .replace(r#"kind = "ccnet""#, r#"kind = "cctalk""#)
            .replace(
                r#"currency = "CNY""#,
                "checksum = \"simple\"\naddress = 40\necho = true\ncurrency = \"CNY\"",
            );
        let c: DevicesConfig = toml::from_str(&cctalk).unwrap();
        let DeviceConfig::Cctalk(a) = &c.acceptor else {
            panic!("{c:?}")
        };
        assert_eq!((a.address, a.echo, a.poll_interval_ms), (40, true, 200));
        assert!(toml::from_str::<DevicesConfig>(&cctalk.replace("echo", "ekho")).is_err());
    }

    #[test]
    fn an_ssp_validator_parses_from_toml() {
        let toml_text = r#"
            [acceptor]
            kind = "ssp"
            port = "/dev/serial/by-id/usb-ITL-NV200-if00"
            encryption = true

            [printer]
            kind = "escpos"
            port = "/dev/ttyUSB1"
        "#;
        let c: DevicesConfig = toml::from_str(toml_text).unwrap();
        let DeviceConfig::Ssp(a) = &c.acceptor else {
            panic!("{c:?}")
        };
        assert!(a.encryption);
        assert_eq!((a.baud, a.stop_bits, a.poll_interval_ms), (9600, 2, 200));
        assert_eq!(c.acceptor.kind_name(), "ssp");
        assert!(c.acceptor.port().is_some());
    }

    /// The pulse acceptor and cash box on GPIO lines, as an integrator writes them.
    const GPIO_KIOSK: &str = r#"
        cash-box.gpio = { chip = "/dev/gpiochip0", line = 22, near-full-line = 23 }

        [acceptor]
        kind = "pulse"
        chip = "/dev/gpiochip0"
        line = 17
        active-low = true
        pulses = [
          { pulses = 1, value = { minor = 1000, currency = "CNY" } },
          { pulses = 2, value = { minor = 2000, currency = "CNY" } },
          { pulses = 5, value = { minor = 5000, currency = "CNY" } },
        ]

        [printer]
        kind = "escpos"
        port = "/dev/ttyUSB1"
    "#;

    #[test]
    fn pulse_acceptor_and_gpio_cash_box_parse_from_toml() {
        let c: DevicesConfig = toml::from_str(GPIO_KIOSK).unwrap();
        let DeviceConfig::Pulse(p) = &c.acceptor else {
            panic!("{c:?}")
        };
        assert_eq!(
            p.chip.as_deref(),
            Some(std::path::Path::new("/dev/gpiochip0"))
        );
        assert_eq!((p.line, p.active_low, p.debounce_ms), (Some(17), true, 10));
        let cny = |major| crate::Money::major(major, crate::Currency::CNY);
        assert_eq!(p.value_of(5), Some(cny(50)));
        assert_eq!(p.value_of(3), None);
        let CashBoxSource::Gpio(b) = &c.cash_box else {
            panic!("{c:?}")
        };
        assert_eq!((b.line, b.near_full_line), (22, Some(23)));
        assert!(
            b.active_low && b.near_full_active_low,
            "defaults: active low"
        );
        // It writes back to the same configuration.
        let again: DevicesConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(again, c);
        // Typos are refused here too.
        let typo = GPIO_KIOSK.replace("near-full-line", "nearfull-line");
        let err = toml::from_str::<DevicesConfig>(&typo).unwrap_err();
        assert!(err.to_string().contains("nearfull-line"), "{err}");
        // A pulse acceptor without lines still parses (built in code).
        let bare = r#"{ "kind": "pulse", "pulses": [] }"#;
        let DeviceConfig::Pulse(p) = serde_json::from_str(bare).unwrap() else {
            panic!()
        };
        assert_eq!((p.chip, p.line), (None, None));
    }

    #[cfg(not(feature = "gpio-cdev"))]
    #[test]
    fn without_gpio_cdev_the_error_names_the_feature() {
        for kind in ["pulse", "gpio"] {
            let e = BuildError::NotFromConfig {
                role: Role::Acceptor,
                kind,
            };
            assert!(e.to_string().contains("`gpio-cdev` feature"), "{e}");
        }
    }

    #[cfg(feature = "serial")]
    mod build {
        use super::super::*;
        use super::GPIO_KIOSK;

        fn gpio_kiosk() -> DevicesConfig {
            toml::from_str(GPIO_KIOSK).unwrap()
        }

        #[test]
        fn a_pulse_acceptor_needs_a_gpio_cash_box() {
            let mut c = gpio_kiosk();
            c.cash_box = CashBoxSource::Acceptor;
            let Err(BuildError::Device(e)) = build_devices(&c) else {
                panic!("a pulse acceptor senses no box")
            };
            assert!(e.message().contains("[cash-box.gpio]"), "{e}");
            // A pulse printer is the wrong kind, whatever the features.
            assert!(matches!(
                build_printer(&c.acceptor),
                Err(BuildError::WrongKind { kind: "pulse", .. })
            ));
        }

        #[cfg(not(feature = "gpio-cdev"))]
        #[test]
        fn without_gpio_cdev_gpio_devices_are_not_built_and_the_feature_is_named() {
            let c = gpio_kiosk();
            let Err(e) = build_acceptor(&c.acceptor) else {
                panic!("built without the feature")
            };
            assert!(
                matches!(e, BuildError::NotFromConfig { kind: "pulse", .. }),
                "{e}"
            );
            assert!(e.to_string().contains("`gpio-cdev` feature"), "{e}");
            let Err(e) = build_devices(&c) else { panic!() };
            assert!(e.to_string().contains("`gpio-cdev` feature"), "{e}");
        }

        #[cfg(feature = "gpio-cdev")]
        #[test]
        fn with_gpio_cdev_a_missing_chip_fails_the_build_naming_it() {
            let missing = "/dev/gpiochip-kiosk-test-missing";
            let mut c = gpio_kiosk();
            let DeviceConfig::Pulse(mut p) = c.acceptor.clone() else {
                panic!()
            };
            p.chip = Some(missing.into());
            c.acceptor = DeviceConfig::Pulse(p.clone());
            let Err(BuildError::Device(e)) = build_devices(&c) else {
                panic!("no such chip")
            };
            assert_eq!(e.kind(), crate::ErrorKind::Offline);
            assert!(e.message().contains(missing), "{e}");

            // Without its lines a pulse acceptor is still built in code.
            p.line = None;
            let Err(e) = build_acceptor(&DeviceConfig::Pulse(p)) else {
                panic!()
            };
            assert!(
                matches!(e, BuildError::NotFromConfig { kind: "pulse", .. }),
                "{e}"
            );
            assert!(e.to_string().contains("`line`"), "{e}");
        }
    }

    #[test]
    fn a_hid_scanner_reads_from_toml_with_the_grab_on_by_default() {
        let toml = r#"
            kind = "hid-scanner"
            device = "/dev/input/by-id/usb-scanner-event-kbd"
            tab-ends-line = true
        "#;
        let DeviceConfig::HidScanner(c) = toml::from_str::<DeviceConfig>(toml).unwrap() else {
            panic!("not a hid-scanner")
        };
        assert!(c.grab, "keystrokes must not leak unless the file says so");
        assert!(c.tab_ends_line);
        assert_eq!(c.stale_after_ms, 5000);
        assert_eq!(DeviceConfig::HidScanner(c).kind_name(), "hid-scanner");
    }

    #[test]
    fn a_cctalk_coin_acceptor_reads_from_toml_at_address_2() {
        let toml = r#"
            kind = "cctalk-coin"
            port = "/dev/ttyUSB0"
            currency = "CNY"
        "#;
        let DeviceConfig::CctalkCoin(c) = toml::from_str::<DeviceConfig>(toml).unwrap() else {
            panic!("not a cctalk-coin")
        };
        assert_eq!((c.address, c.coin_positions, c.echo), (2, 16, true));
        assert_eq!(DeviceConfig::CctalkCoin(c).kind_name(), "cctalk-coin");
    }

    #[cfg(feature = "serial")]
    #[test]
    fn a_coin_acceptor_without_a_gpio_cash_box_is_refused_naming_the_fix() {
        let c: DevicesConfig = toml::from_str(
            r#"
            [acceptor]
            kind = "cctalk-coin"
            port = "/dev/kiosk-test-no-such-port"
            [printer]
            kind = "escpos"
            port = "/dev/kiosk-test-no-such-printer"
        "#,
        )
        .unwrap();
        let Err(BuildError::Device(e)) = build_devices(&c) else {
            panic!("built without a cash box")
        };
        assert!(e.message().contains("[cash-box.gpio]"), "{e}");
    }
}
