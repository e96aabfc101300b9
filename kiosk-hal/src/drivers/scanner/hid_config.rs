//! Settings of the USB HID (keyboard-wedge) scanner reader.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::ReconnectConfig;
use crate::wire::scanner::{SchemeRule, DEFAULT_MAX_LINE_LEN};

/// A barcode / QR scanner that types its codes as a USB keyboard, read
/// from its Linux input device.
///
/// ```toml
/// kind = "hid-scanner"
/// device = "/dev/input/by-id/usb-SM_SM-2D_PRODUCT_HID_KBW_APP-000000000-event-kbd"
/// grab = true
/// ```
///
/// Use the stable `/dev/input/by-id/…-event-kbd` link, not `eventN`
/// (numbers change between boots). The kiosk's user needs read access to
/// the device (the `input` group, or a udev rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct HidScannerConfig {
    /// The input device (required).
    pub device: PathBuf,
    /// Grab the device exclusively (`EVIOCGRAB`): its keystrokes reach
    /// this reader only, never a console or another program (a payment
    /// code typed into a shell would be a leak). Default true; a device
    /// that another program already grabbed stays offline until released.
    pub grab: bool,
    /// Tab also ends a code (scanners set up with a Tab suffix). Enter
    /// always does. Default false.
    pub tab_ends_line: bool,
    /// Longest line kept. Default 256.
    pub max_line_len: usize,
    /// Payment scheme rules (prefixes, lengths); absent: the built-in ones.
    pub rules: Option<Vec<SchemeRule>>,
    /// A code read longer ago than this when the kiosk asks for one is
    /// dropped: it was not meant for this payment. Default 5000.
    pub stale_after_ms: u64,
    /// First wait before reopening a vanished device. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
}

impl Default for HidScannerConfig {
    fn default() -> Self {
        HidScannerConfig {
            device: PathBuf::new(),
            grab: true,
            tab_ends_line: false,
            max_line_len: DEFAULT_MAX_LINE_LEN,
            rules: None,
            stale_after_ms: 5000,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
        }
    }
}

impl HidScannerConfig {
    /// The config for a device path, every other field at its default.
    pub fn for_device(device: impl Into<PathBuf>) -> HidScannerConfig {
        HidScannerConfig {
            device: device.into(),
            ..HidScannerConfig::default()
        }
    }

    /// The reopening backoff.
    pub fn reconnect(&self) -> ReconnectConfig {
        ReconnectConfig {
            initial_ms: self.reconnect_initial_ms,
            max_ms: self.reconnect_max_ms,
        }
    }
}
