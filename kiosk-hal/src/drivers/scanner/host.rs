//! The scanner host as a plain state machine: bytes in, classified codes out.

use std::collections::VecDeque;

use super::config::ScannerConfig;
use crate::wire::scanner::{
    classify_with, default_rules, CodeRejection, LineDecoder, SchemeRule, TRIGGER_START,
};
use crate::wire::DecoderStats;
use crate::PaymentCode;

/// A scanned line, classified, with the time it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// When the line ended (host milliseconds).
    pub at_ms: u64,
    /// The code, or why the line is not one.
    pub result: Result<PaymentCode, CodeRejection>,
}

/// The serial scanner host. See the module docs.
#[derive(Debug, Clone)]
pub struct ScannerHost {
    decoder: LineDecoder,
    rules: Vec<SchemeRule>,
    trigger: bool,
    armed: bool,
    trigger_due: bool,
    connected: bool,
    scans: VecDeque<Scan>,
}

/// Scans kept waiting at most; the oldest are dropped beyond this.
const MAX_WAITING_SCANS: usize = 16;

impl ScannerHost {
    /// A host for a scanner on a port not yet open.
    pub fn new(config: &ScannerConfig) -> ScannerHost {
        ScannerHost {
            decoder: LineDecoder::new(config.terminator, config.max_line_len),
            rules: config.rules.clone().unwrap_or_else(default_rules),
            trigger: config.trigger,
            armed: false,
            trigger_due: false,
            connected: false,
            scans: VecDeque::new(),
        }
    }

    /// The port is open.
    pub fn port_opened(&mut self) {
        self.connected = true;
        self.decoder.clear();
        // A trigger sent before the outage is lost with the scanner's state.
        self.trigger_due = self.trigger && self.armed;
    }

    /// The port vanished.
    pub fn port_closed(&mut self) {
        self.connected = false;
    }

    /// Whether the port is open.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The kiosk waits for a code: with a serial trigger configured, the
    /// next transmit starts the scanner (once per scan).
    pub fn arm(&mut self) {
        if self.trigger && !self.armed {
            self.armed = true;
            self.trigger_due = true;
        }
    }

    /// Bytes to write now (the trigger), if any.
    pub fn poll_transmit(&mut self) -> Option<[u8; 3]> {
        if self.connected && std::mem::take(&mut self.trigger_due) {
            Some(TRIGGER_START)
        } else {
            None
        }
    }

    /// Bytes read from the port.
    pub fn handle_bytes(&mut self, now_ms: u64, bytes: &[u8]) {
        self.decoder.push(bytes);
        while let Some(line) = self.decoder.next_line() {
            // The scanner stops by itself after a read.
            self.armed = false;
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

    /// The line decoder's counters.
    pub fn stats(&self) -> DecoderStats {
        self.decoder.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PaymentScheme;

    #[test]
    fn lines_become_codes_or_rejections_and_the_trigger_is_sent_once() {
        let config = ScannerConfig {
            trigger: true,
            ..ScannerConfig::for_port("/dev/null")
        };
        let mut h = ScannerHost::new(&config);
        h.arm();
        assert_eq!(h.poll_transmit(), None, "not before the port is open");
        h.port_opened();
        assert_eq!(h.poll_transmit(), Some(TRIGGER_START));
        h.arm();
        assert_eq!(h.poll_transmit(), None, "armed already");
        h.handle_bytes(5, b"hello\r134567890123456789\r");
        assert!(matches!(
            h.poll_scan().unwrap().result,
            Err(CodeRejection::NotDigits { len: 5 })
        ));
        let scan = h.poll_scan().unwrap();
        assert_eq!(scan.at_ms, 5);
        assert_eq!(scan.result.unwrap().scheme, PaymentScheme::WeChatPay);
        h.arm();
        assert_eq!(
            h.poll_transmit(),
            Some(TRIGGER_START),
            "re-armed after a read"
        );
    }
}
