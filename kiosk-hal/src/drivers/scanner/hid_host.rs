//! The HID scanner host as a plain state machine: `input_event` bytes in,
//! classified codes out.

use std::collections::VecDeque;

use super::config_rules;
use super::hid_config::HidScannerConfig;
use super::host::Scan;
use crate::wire::evdev::{KeyDecoder, KeyStats, RecordDecoder};
use crate::wire::scanner::{classify_with, SchemeRule};

/// Scans kept waiting at most; the oldest are dropped beyond this.
const MAX_WAITING_SCANS: usize = 16;

/// The HID scanner host: records, keys, lines, classification. The same
/// [`classify_with`] and masking as the serial scanner's.
#[derive(Debug, Clone)]
pub struct HidScannerHost {
    records: RecordDecoder,
    keys: KeyDecoder,
    rules: Vec<SchemeRule>,
    connected: bool,
    scans: VecDeque<Scan>,
}

impl HidScannerHost {
    /// A host for a device not yet open.
    pub fn new(config: &HidScannerConfig) -> HidScannerHost {
        HidScannerHost {
            records: RecordDecoder::new(),
            keys: KeyDecoder::new(config.tab_ends_line, config.max_line_len),
            rules: config_rules(config.rules.as_ref()),
            connected: false,
            scans: VecDeque::new(),
        }
    }

    /// The device is open: every key is up, nothing half typed.
    pub fn opened(&mut self) {
        self.connected = true;
        self.records.clear();
        self.keys.clear();
    }

    /// The device vanished (unplugged) or could not be opened.
    pub fn closed(&mut self) {
        self.connected = false;
    }

    /// Whether the device is open.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Bytes read from the device: whole `input_event` records from the
    /// kernel, any chunking from a pipe.
    pub fn handle_bytes(&mut self, now_ms: u64, bytes: &[u8]) {
        let keys = &mut self.keys;
        self.records.push(bytes, |event| keys.push(event));
        while let Some(line) = self.keys.next_line() {
            if self.scans.len() == MAX_WAITING_SCANS {
                self.scans.pop_front();
            }
            self.scans.push_back(Scan {
                at_ms: now_ms,
                result: classify_with(&line, &self.rules),
            });
        }
    }

    /// The next scan, oldest first.
    pub fn poll_scan(&mut self) -> Option<Scan> {
        self.scans.pop_front()
    }

    /// The key decoder's counters.
    pub fn key_stats(&self) -> KeyStats {
        self.keys.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::evdev::{InputEvent, EV_KEY};
    use crate::wire::scanner::CodeRejection;
    use crate::PaymentScheme;

    fn press(code: u16) -> [u8; 24] {
        InputEvent::new(EV_KEY, code, 1).to_bytes()
    }

    #[test]
    fn records_become_classified_codes_and_reopening_forgets_half_a_code() {
        let mut h = HidScannerHost::new(&HidScannerConfig::for_device("/dev/null"));
        h.opened();
        // "28" + 14 × "1" (KEY_2 = 3, KEY_8 = 9, KEY_1 = 2), Enter (28).
        let mut bytes: Vec<u8> = [3u16, 9].iter().flat_map(|&c| press(c)).collect();
        bytes.extend((0..14).flat_map(|_| press(2)));
        bytes.extend(press(28));
        h.handle_bytes(7, &bytes[..30]);
        assert!(h.poll_scan().is_none());
        h.handle_bytes(9, &bytes[30..]);
        let scan = h.poll_scan().unwrap();
        assert_eq!(scan.at_ms, 9);
        let code = scan.result.unwrap();
        assert_eq!(code.scheme, PaymentScheme::Alipay);
        assert_eq!(code.expose_digits(), "2811111111111111");
        // Half a code, then the device is reopened: it is gone.
        h.handle_bytes(10, &[press(3), press(9)].concat());
        h.closed();
        h.opened();
        h.handle_bytes(11, &[press(30), press(28)].concat());
        assert_eq!(
            h.poll_scan().unwrap().result,
            Err(CodeRejection::NotDigits { len: 1 })
        );
    }
}
