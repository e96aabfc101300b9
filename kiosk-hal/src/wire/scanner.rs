//! Serial barcode / QR scanners: line framing and payment code classification.
//!
//! A scanner sends each code as one line ended by CR or CR LF
//! (vendor-configurable). [`LineDecoder`] cuts the byte stream into lines;
//! [`classify`] turns a line into a [`PaymentCode`] by its prefix and length
//! or says why it is not one ([`CodeRejection`]).
//!
//! Payment codes are single-use bearer tokens. Nothing here prints one in
//! full: [`PaymentCode`] masks itself, [`CodeRejection`] carries only
//! lengths, and [`LineDecoder`]'s `Debug` shows no buffered bytes.

use std::collections::VecDeque;
use std::sync::OnceLock;

use core::fmt;
use serde::{Deserialize, Serialize};

use super::DecoderStats;
use crate::{DeviceError, ErrorKind, PaymentCode, PaymentScheme};

/// Honeywell-style serial trigger: start scanning (SYN `T` CR).
pub const TRIGGER_START: [u8; 3] = [0x16, 0x54, 0x0D];
/// Honeywell-style serial trigger: stop scanning (SYN `U` CR).
pub const TRIGGER_STOP: [u8; 3] = [0x16, 0x55, 0x0D];

/// Default longest line kept; payment codes are at most 24 digits.
pub const DEFAULT_MAX_LINE_LEN: usize = 256;
/// Complete lines a [`LineDecoder`] holds at most; the oldest are dropped beyond this.
pub const MAX_QUEUED_LINES: usize = 16;

const CR: u8 = 0x0D;
const LF: u8 = 0x0A;

/// What ends a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Terminator {
    /// CR (0x0D).
    #[default]
    Cr,
    /// CR LF (0x0D 0x0A); a CR not followed by LF is part of the line.
    CrLf,
    /// LF (0x0A).
    Lf,
}

/// Cuts a scanner's byte stream into lines.
///
/// - Empty lines are skipped.
/// - A line longer than the maximum is dropped whole (up to its
///   terminator) and counted as a framing error; its bytes count as skipped.
/// - Bytes that are not UTF-8 decode as U+FFFD (and then fail [`classify`]).
/// - At most [`MAX_QUEUED_LINES`] complete lines wait to be taken.
#[derive(Clone)]
pub struct LineDecoder {
    terminator: Terminator,
    max_line_len: usize,
    line: Vec<u8>,
    pending_cr: bool,
    discarding: bool,
    ready: VecDeque<String>,
    stats: DecoderStats,
}

impl fmt::Debug for LineDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the buffered bytes: they may be a payment code.
        f.debug_struct("LineDecoder")
            .field("terminator", &self.terminator)
            .field("max_line_len", &self.max_line_len)
            .field("buffered", &self.line.len())
            .field("ready", &self.ready.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Default for LineDecoder {
    fn default() -> LineDecoder {
        LineDecoder::new(Terminator::Cr, DEFAULT_MAX_LINE_LEN)
    }
}

impl LineDecoder {
    /// A decoder for lines ended by `terminator` and at most
    /// `max_line_len` bytes long (at least 1).
    pub fn new(terminator: Terminator, max_line_len: usize) -> LineDecoder {
        LineDecoder {
            terminator,
            max_line_len: max_line_len.max(1),
            line: Vec::new(),
            pending_cr: false,
            discarding: false,
            ready: VecDeque::new(),
            stats: DecoderStats::default(),
        }
    }

    /// Feeds bytes read from the port.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match self.terminator {
                Terminator::Cr if b == CR => self.end_line(),
                Terminator::Lf if b == LF => self.end_line(),
                Terminator::Cr | Terminator::Lf => self.push_byte(b),
                Terminator::CrLf => {
                    if self.pending_cr {
                        self.pending_cr = false;
                        if b == LF {
                            self.end_line();
                            continue;
                        }
                        self.push_byte(CR);
                    }
                    if b == CR {
                        self.pending_cr = true;
                    } else {
                        self.push_byte(b);
                    }
                }
            }
        }
    }

    /// The next complete line, oldest first.
    pub fn next_line(&mut self) -> Option<String> {
        self.ready.pop_front()
    }

    /// The decoder's counters: `frames_ok` counts lines, `framing_errors`
    /// overlong or dropped lines.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Forgets the partial line and every waiting line (counted as skipped).
    pub fn clear(&mut self) {
        let waiting: usize = self.ready.iter().map(String::len).sum();
        self.stats.skipped(self.line.len() + waiting);
        self.line.clear();
        self.ready.clear();
        self.pending_cr = false;
        self.discarding = false;
    }

    fn push_byte(&mut self, b: u8) {
        if self.discarding {
            self.stats.skipped(1);
        } else if self.line.len() >= self.max_line_len {
            self.discarding = true;
            self.stats.skipped(self.line.len() + 1);
            self.line.clear();
        } else {
            self.line.push(b);
        }
    }

    fn end_line(&mut self) {
        if self.discarding {
            self.discarding = false;
            self.stats.framing_error();
            return;
        }
        if self.line.is_empty() {
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if self.ready.len() >= MAX_QUEUED_LINES {
            if let Some(old) = self.ready.pop_front() {
                self.stats.skipped(old.len());
                self.stats.framing_error();
            }
        }
        self.ready.push_back(line);
        self.stats.ok();
    }
}

/// How a payment scheme's codes look: prefixes and a length range.
///
/// Rules are data so a deployment can correct them from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemeRule {
    /// The scheme a matching code belongs to.
    pub scheme: PaymentScheme,
    /// Digit prefixes, any of which marks the scheme (`"10"`, `"62"`).
    pub prefixes: Vec<String>,
    /// Shortest valid length in digits.
    pub min_len: usize,
    /// Longest valid length in digits.
    pub max_len: usize,
}

impl SchemeRule {
    /// A rule for `scheme`.
    pub fn new(
        scheme: PaymentScheme,
        prefixes: &[&str],
        min_len: usize,
        max_len: usize,
    ) -> SchemeRule {
        SchemeRule {
            scheme,
            prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            min_len,
            max_len,
        }
    }

    /// Whether `digits` starts with one of the prefixes.
    pub fn matches_prefix(&self, digits: &str) -> bool {
        self.prefixes
            .iter()
            .any(|p| !p.is_empty() && digits.starts_with(p.as_str()))
    }

    /// Whether a code of `len` digits has a valid length.
    pub fn accepts_len(&self, len: usize) -> bool {
        (self.min_len..=self.max_len).contains(&len)
    }
}

/// The rules of `protocols.md`: WeChat Pay 18 digits, prefix 10–15; Alipay
/// 16–24 digits, prefix 25–30; UnionPay 19 digits, prefix 62 (⚠ one
/// secondary source: check before relying on it).
pub fn default_rules() -> Vec<SchemeRule> {
    vec![
        SchemeRule::new(
            PaymentScheme::WeChatPay,
            &["10", "11", "12", "13", "14", "15"],
            18,
            18,
        ),
        SchemeRule::new(
            PaymentScheme::Alipay,
            &["25", "26", "27", "28", "29", "30"],
            16,
            24,
        ),
        SchemeRule::new(PaymentScheme::UnionPay, &["62"], 19, 19),
    ]
}

/// Why a scanned line is not a payment code. Carries no digits.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeRejection {
    /// Nothing but whitespace.
    Empty,
    /// Something other than ASCII digits (a URL, a product barcode with letters).
    NotDigits {
        /// Length of the line in characters.
        len: usize,
    },
    /// Digits, but no scheme has this prefix.
    UnknownPrefix {
        /// Number of digits.
        len: usize,
    },
    /// A scheme's prefix, but not its length.
    WrongLength {
        /// The scheme whose prefix matched.
        scheme: PaymentScheme,
        /// Number of digits.
        len: usize,
    },
}

impl fmt::Display for CodeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeRejection::Empty => f.write_str("empty scan"),
            CodeRejection::NotDigits { len } => {
                write!(f, "scan of {len} characters is not all digits")
            }
            CodeRejection::UnknownPrefix { len } => {
                write!(f, "{len}-digit code with an unknown prefix")
            }
            CodeRejection::WrongLength { scheme, len } => {
                write!(
                    f,
                    "{len}-digit code has a {scheme:?} prefix but not its length"
                )
            }
        }
    }
}

impl std::error::Error for CodeRejection {}

impl From<CodeRejection> for DeviceError {
    fn from(r: CodeRejection) -> DeviceError {
        DeviceError::new(ErrorKind::Protocol, r.to_string()).with_source(r)
    }
}

/// Classifies a scanned line with [`default_rules`]; see [`classify_with`].
pub fn classify(line: &str) -> Result<PaymentCode, CodeRejection> {
    static RULES: OnceLock<Vec<SchemeRule>> = OnceLock::new();
    classify_with(line, RULES.get_or_init(default_rules))
}

/// Classifies a scanned line: surrounding ASCII whitespace is trimmed, the
/// rest must be ASCII digits matching a rule's prefix and length. The first
/// rule that matches wins.
pub fn classify_with(line: &str, rules: &[SchemeRule]) -> Result<PaymentCode, CodeRejection> {
    let digits = line.trim_matches(|c: char| c.is_ascii_whitespace());
    if digits.is_empty() {
        return Err(CodeRejection::Empty);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeRejection::NotDigits {
            len: digits.chars().count(),
        });
    }
    let len = digits.len();
    let mut wrong_length = None;
    for rule in rules.iter().filter(|r| r.matches_prefix(digits)) {
        if rule.accepts_len(len) {
            return Ok(PaymentCode::new(rule.scheme, digits));
        }
        wrong_length.get_or_insert(CodeRejection::WrongLength {
            scheme: rule.scheme,
            len,
        });
    }
    Err(wrong_length.unwrap_or(CodeRejection::UnknownPrefix { len }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    const WECHAT: &str = "134567890123456789";

    fn lines(d: &mut LineDecoder) -> Vec<String> {
        std::iter::from_fn(|| d.next_line()).collect()
    }

    #[test]
    fn trigger_commands() {
        assert_eq!(TRIGGER_START, [0x16, 0x54, 0x0D]);
        assert_eq!(TRIGGER_STOP, [0x16, 0x55, 0x0D]);
    }

    #[test]
    fn cr_lines_in_pieces() {
        let mut d = LineDecoder::default();
        d.push(b"1345678901");
        assert!(lines(&mut d).is_empty());
        d.push(b"23456789\r\r2812345678901234\r");
        assert_eq!(lines(&mut d), vec![WECHAT, "2812345678901234"]);
        assert_eq!(d.stats().frames_ok, 2);
    }

    #[test]
    fn crlf_lines_split_between_cr_and_lf() {
        let mut d = LineDecoder::new(Terminator::CrLf, 64);
        d.push(b"ab\rc\r");
        assert!(lines(&mut d).is_empty());
        d.push(b"\n62");
        assert_eq!(lines(&mut d), vec!["ab\rc"]);
        d.push(b"\r\n");
        assert_eq!(lines(&mut d), vec!["62"]);
    }

    #[test]
    fn overlong_lines_are_dropped_and_counted() {
        let mut d = LineDecoder::new(Terminator::Cr, 4);
        d.push(b"1234\r12345678\rabcd\r");
        assert_eq!(lines(&mut d), vec!["1234", "abcd"]);
        let s = d.stats();
        assert_eq!((s.frames_ok, s.framing_errors, s.bytes_skipped), (2, 1, 8));
    }

    #[test]
    fn queue_is_bounded() {
        let mut d = LineDecoder::default();
        for i in 0..MAX_QUEUED_LINES + 3 {
            d.push(format!("{i}\r").as_bytes());
        }
        let got = lines(&mut d);
        assert_eq!(got.len(), MAX_QUEUED_LINES);
        assert_eq!(got[0], "3");
        assert_eq!(d.stats().framing_errors, 3);
    }

    #[test]
    fn classifies_by_prefix_and_length() {
        let c = classify(WECHAT).unwrap();
        assert_eq!(c.scheme, PaymentScheme::WeChatPay);
        assert_eq!(c.expose_digits(), WECHAT);
        assert_eq!(
            classify(" 2812345678901234\r\n").map(|c| c.scheme),
            Ok(PaymentScheme::Alipay)
        );
        assert_eq!(
            classify("301234567890123456789012").map(|c| c.scheme),
            Ok(PaymentScheme::Alipay)
        );
        assert_eq!(
            classify("6212345678901234567").map(|c| c.scheme),
            Ok(PaymentScheme::UnionPay)
        );
        assert_eq!(classify("  "), Err(CodeRejection::Empty));
        assert_eq!(
            classify("https://example.com/pay"),
            Err(CodeRejection::NotDigits { len: 23 })
        );
        assert_eq!(classify("１３"), Err(CodeRejection::NotDigits { len: 2 }));
        assert_eq!(
            classify("13456789012345678"),
            Err(CodeRejection::WrongLength {
                scheme: PaymentScheme::WeChatPay,
                len: 17
            })
        );
        assert_eq!(
            classify("6901234567890"),
            Err(CodeRejection::UnknownPrefix { len: 13 })
        );
    }

    #[test]
    fn rules_are_configurable() {
        let rules = vec![SchemeRule::new(
            PaymentScheme::UnionPay,
            &["62", "81"],
            16,
            19,
        )];
        assert_eq!(
            classify_with("8112345678901234", &rules).map(|c| c.scheme),
            Ok(PaymentScheme::UnionPay)
        );
        assert_eq!(
            classify_with(WECHAT, &rules),
            Err(CodeRejection::UnknownPrefix { len: 18 })
        );
        let json = serde_json::to_string(&rules[0]).unwrap();
        assert_eq!(serde_json::from_str::<SchemeRule>(&json).unwrap(), rules[0]);
    }

    #[test]
    fn nothing_prints_a_code_in_full() {
        let mut d = LineDecoder::default();
        d.push(WECHAT.as_bytes());
        assert!(!format!("{d:?}").contains("4567890123"));
        d.push(b"\r");
        let result = classify(&d.next_line().unwrap());
        let shown = format!("{result:?}");
        assert!(shown.contains("WeChatPay"), "{shown}");
        assert!(!shown.contains("4567890123"), "{shown}");
        let rejected = format!("{:?}", classify("13456789012345678"));
        assert!(!rejected.contains("4567890123"), "{rejected}");
        let e: DeviceError = CodeRejection::UnknownPrefix { len: 3 }.into();
        assert_eq!(e.kind(), ErrorKind::Protocol);
    }

    fn chunks<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at(size.clamp(1, rest.len()));
            out.push(head);
            rest = tail;
        }
        out
    }

    fn arb_terminator() -> impl Strategy<Value = Terminator> {
        proptest::sample::select(vec![Terminator::Cr, Terminator::CrLf, Terminator::Lf])
    }

    fn end(t: Terminator) -> &'static [u8] {
        match t {
            Terminator::Cr => b"\r",
            Terminator::CrLf => b"\r\n",
            Terminator::Lf => b"\n",
        }
    }

    proptest! {
        #[test]
        fn lines_round_trip_in_any_chunking(
            codes in vec("[0-9A-Za-z]{1,40}", 0..6),
            sizes in vec(1usize..16, 1..6),
            t in arb_terminator(),
        ) {
            let stream: Vec<u8> = codes
                .iter()
                .flat_map(|c| [c.as_bytes(), end(t)].concat())
                .collect();
            let mut d = LineDecoder::new(t, DEFAULT_MAX_LINE_LEN);
            let mut got = Vec::new();
            for chunk in chunks(&stream, &sizes) {
                d.push(chunk);
                got.extend(lines(&mut d));
            }
            prop_assert_eq!(got, codes);
        }

        #[test]
        fn a_code_after_garbage_is_still_found(
            garbage in vec(any::<u8>(), 0..600),
            sizes in vec(1usize..64, 1..6),
            t in arb_terminator(),
            max in 1usize..300,
        ) {
            let code = "2812345678901234";
            let stream = [&garbage[..], end(t), code.as_bytes(), end(t)].concat();
            let mut d = LineDecoder::new(t, max.max(code.len()));
            let mut got = Vec::new();
            for chunk in chunks(&stream, &sizes) {
                d.push(chunk);
                got.extend(lines(&mut d));
                for line in &got {
                    let _ = classify(line);
                }
            }
            prop_assert_eq!(got.last().map(String::as_str), Some(code));
            prop_assert_eq!(
                classify(code).map(|c| c.scheme),
                Ok(PaymentScheme::Alipay)
            );
        }

        #[test]
        fn classify_never_panics(s in any::<String>()) {
            let _ = classify(&s);
        }
    }
}
