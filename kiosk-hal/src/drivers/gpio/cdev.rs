//! Real GPIO pins on Linux (feature `gpio-cdev`): the GPIO character device
//! (`/dev/gpiochipN`).
//!
//! [`open_input_line`] requests one line as an input and gives a
//! [`CdevInputPin`], an `embedded-hal` 1.0 [`InputPin`] that every GPIO
//! driver here takes. [`open_pulse_acceptor`] and [`open_cash_box_switch`]
//! build the drivers from their configuration; `config::build_devices`
//! (feature `serial`) uses them for a `pulse` acceptor and a `gpio` cash box.
//!
//! # Levels
//!
//! [`CdevInputPin::is_high`](InputPin::is_high) is the line's electrical
//! level, unless the line was opened `active_low`: then the kernel inverts
//! it (its `ACTIVE_LOW` flag) and `is_high` means "active". The drivers take
//! their polarity from their own settings (`active-low` in the pulse and
//! cash-box configurations), so the `open_*` functions here open their lines
//! with `active_low = false`: invert once, not twice.
//!
//! # Why `gpio-cdev` and a small pin type, not `linux-embedded-hal`
//!
//! `linux-embedded-hal`'s `CdevPin` is the same wrapper over the same crate
//! (both from the rust-embedded project), but it does not fit:
//!
//! - 0.5 needs Rust 1.84+ (the workspace's `rust-version` is 1.80);
//! - 0.4.1 fits (Rust 1.65, embedded-hal 1.0), but even with
//!   `default-features = false, features = ["gpio_cdev"]` it always depends
//!   on `serialport` (bringing a second `nix` and `bitflags`),
//!   `embedded-hal-nb`, `nb` and `cast`: `cargo tree -p kiosk-hal --features
//!   gpio-cdev -e normal` would be 58 lines against 29 for `gpio` alone,
//!   where `gpio-cdev` 0.6 directly makes it 36 (two crates new to the lock:
//!   `gpio-cdev`, edition 2018 with no declared `rust-version`, and `nix`
//!   0.27, which declares Rust 1.65).
//!
//! The pin below is the few lines of `CdevPin` an input needs.
//!
//! `gpio-cdev` 0.6 speaks the kernel's v1 GPIO ABI (Linux 4.8+; deprecated
//! since 5.10 in favour of v2, but built by default as
//! `CONFIG_GPIO_CDEV_V1`). Pins are sampled; edge events are not used.

use std::path::Path;

use embedded_hal::digital::{ErrorType, InputPin};
use gpio_cdev::{Chip, LineHandle, LineRequestFlags};

use super::{CashBoxSwitch, PulseAcceptor};
use crate::drivers::config::CashBoxSwitchConfig;
use crate::drivers::pulse::PulseConfig;
use crate::{DeviceError, ErrorKind};

/// A GPIO line requested as an input through the Linux GPIO character
/// device. Made by [`open_input_line`]; the line is released when dropped.
#[derive(Debug)]
pub struct CdevInputPin {
    handle: LineHandle,
}

impl CdevInputPin {
    /// The kernel line handle (its line, chip and request flags).
    pub fn handle(&self) -> &LineHandle {
        &self.handle
    }
}

/// A line read failed (the chip went away, say). Its
/// [`kind`](embedded_hal::digital::Error::kind) is always
/// [`Other`](embedded_hal::digital::ErrorKind::Other): embedded-hal has no
/// finer kind for it.
#[derive(Debug)]
pub struct CdevPinError(gpio_cdev::Error);

impl CdevPinError {
    /// The `gpio-cdev` error.
    pub fn inner(&self) -> &gpio_cdev::Error {
        &self.0
    }
}

impl core::fmt::Display for CdevPinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GPIO line read failed: {}", self.0)
    }
}

impl std::error::Error for CdevPinError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl embedded_hal::digital::Error for CdevPinError {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl ErrorType for CdevInputPin {
    type Error = CdevPinError;
}

impl InputPin for CdevInputPin {
    fn is_high(&mut self) -> Result<bool, CdevPinError> {
        self.handle
            .get_value()
            .map(|v| v != 0)
            .map_err(CdevPinError)
    }

    fn is_low(&mut self) -> Result<bool, CdevPinError> {
        self.is_high().map(|high| !high)
    }
}

/// Requests line `line` of the GPIO chip at `chip` (`/dev/gpiochip0`) as an
/// input, labelled `consumer` (shown by `gpioinfo`). With `active_low` the
/// kernel inverts the level (see the module's "Levels").
///
/// Errors name the chip and the line: [`ErrorKind::Offline`] when the chip
/// does not exist (or its device is gone), [`ErrorKind::Other`] otherwise
/// (not a GPIO chip, no permission, no such line, line busy).
pub fn open_input_line(
    chip: impl AsRef<Path>,
    line: u32,
    consumer: &str,
    active_low: bool,
) -> Result<CdevInputPin, DeviceError> {
    let path = chip.as_ref();
    let what = format!("GPIO chip {} line {line}", path.display());
    let mut chip = Chip::new(path).map_err(|e| open_error(&what, OPEN_CHIP, e))?;
    if line >= chip.num_lines() {
        return Err(DeviceError::new(
            ErrorKind::Other,
            format!("{what}: the chip has only {} lines", chip.num_lines()),
        ));
    }
    let mut flags = LineRequestFlags::INPUT;
    if active_low {
        flags |= LineRequestFlags::ACTIVE_LOW;
    }
    let handle = chip
        .get_line(line)
        .and_then(|l| l.request(flags, 0, consumer))
        .map_err(|e| open_error(&what, "cannot request the line (in use?)", e))?;
    Ok(CdevInputPin { handle })
}

const OPEN_CHIP: &str = "cannot open the chip";

/// Opening failed: `Offline` if the device is not there, `Other` otherwise.
fn open_error(what: &str, doing: &str, e: gpio_cdev::Error) -> DeviceError {
    // Linux errno values: the node exists but its device is gone.
    const ENXIO: i32 = 6;
    const ENODEV: i32 = 19;
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    let (kind, hint) = match io {
        Some(io) if io.kind() == std::io::ErrorKind::NotFound => (ErrorKind::Offline, ""),
        Some(io) if matches!(io.raw_os_error(), Some(ENXIO | ENODEV)) => (ErrorKind::Offline, ""),
        Some(io) if io.kind() == std::io::ErrorKind::PermissionDenied => (
            ErrorKind::Other,
            " (give the kiosk's user access to the chip, e.g. a udev rule or the `gpio` group)",
        ),
        Some(_) => (ErrorKind::Other, ""),
        None if doing == OPEN_CHIP => (ErrorKind::Other, " (is it a GPIO chip?)"),
        None => (ErrorKind::Other, ""),
    };
    DeviceError::new(kind, format!("{what}: {doing}: {e}{hint}")).with_source(e)
}

fn missing(field: &str) -> DeviceError {
    DeviceError::new(
        ErrorKind::Other,
        format!("pulse acceptor: no `{field}` in its configuration"),
    )
}

/// A [`PulseAcceptor`] on the line named by the configuration's `chip` and
/// `line` (both required here). The line is read at its electrical level;
/// `active-low` in the configuration sets the polarity.
pub fn open_pulse_acceptor(
    config: &PulseConfig,
) -> Result<PulseAcceptor<CdevInputPin>, DeviceError> {
    let chip = config.chip.as_deref().ok_or_else(|| missing("chip"))?;
    let line = config.line.ok_or_else(|| missing("line"))?;
    let pin = open_input_line(chip, line, "kiosk pulse acceptor", false)?;
    PulseAcceptor::new(pin, config.clone())
}

/// A [`CashBoxSwitch`] on the presence line (and near-full line, if any)
/// that the configuration names.
pub fn open_cash_box_switch(
    config: &CashBoxSwitchConfig,
) -> Result<CashBoxSwitch<CdevInputPin>, DeviceError> {
    let present = open_input_line(&config.chip, config.line, "kiosk cash box", false)?;
    let switch = CashBoxSwitch::new(present, !config.active_low);
    Ok(match config.near_full_line {
        Some(line) => {
            let near_full = open_input_line(&config.chip, line, "kiosk cash box near-full", false)?;
            switch.with_near_full(near_full, !config.near_full_active_low)
        }
        None => switch,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::drivers::pulse::PulseValue;
    use crate::{BillAcceptor, CashBox, Currency, Money};

    const MISSING: &str = "/dev/gpiochip-kiosk-test-missing";

    fn assert_send<T: Send + 'static>() {}

    #[test]
    fn a_missing_chip_is_offline_and_named() {
        let e = open_input_line(MISSING, 17, "test", true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
        assert!(e.message().contains(MISSING), "{e}");
        assert!(e.message().contains("line 17"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn a_file_that_is_no_gpio_chip_is_other_and_named() {
        let e = open_input_line("/dev/null", 3, "test", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other, "{e}");
        assert!(e.message().contains("/dev/null line 3"), "{e}");
    }

    #[test]
    fn drivers_from_configuration_need_their_lines() {
        let mut config = PulseConfig {
            pulses: vec![PulseValue {
                pulses: 1,
                value: Money::major(10, Currency::CNY),
            }],
            ..PulseConfig::default()
        };
        let e = open_pulse_acceptor(&config).err().unwrap();
        assert!(e.message().contains("`chip`"), "{e}");
        config.chip = Some(PathBuf::from(MISSING));
        let e = open_pulse_acceptor(&config).err().unwrap();
        assert!(e.message().contains("`line`"), "{e}");
        config.line = Some(17);
        let e = open_pulse_acceptor(&config).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
        assert!(e.message().contains(MISSING), "{e}");

        let switch = CashBoxSwitchConfig {
            chip: PathBuf::from(MISSING),
            line: 22,
            active_low: true,
            near_full_line: Some(23),
            near_full_active_low: true,
        };
        let e = open_cash_box_switch(&switch).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
        assert!(e.message().contains("line 22"), "{e}");

        // What `build_devices` boxes must be `Send + 'static`.
        assert_send::<PulseAcceptor<CdevInputPin>>();
        assert_send::<CashBoxSwitch<CdevInputPin>>();
        fn _boxes(a: PulseAcceptor<CdevInputPin>, c: CashBoxSwitch<CdevInputPin>) {
            let _: Box<dyn BillAcceptor> = Box::new(a);
            let _: Box<dyn CashBox> = Box::new(c);
        }
    }
}
