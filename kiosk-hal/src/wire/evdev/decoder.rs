//! Key events to scanned lines.

use std::collections::VecDeque;

use core::fmt;

use super::keymap::{key_char, KeyClass};
use super::{
    InputEvent, EV_KEY, EV_SYN, KEY_LEFTSHIFT, KEY_PRESSED, KEY_RELEASED, KEY_REPEAT, SYN_DROPPED,
    SYN_REPORT,
};
use crate::wire::scanner::{DEFAULT_MAX_LINE_LEN, MAX_QUEUED_LINES};

/// Counters of a [`KeyDecoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KeyStats {
    /// Lines completed.
    pub lines: u64,
    /// Key presses that typed a character.
    pub chars: u64,
    /// Auto-repeat events (value 2), ignored: a scanner never holds a key,
    /// and counting a repeat would double a digit.
    pub repeats_ignored: u64,
    /// Presses of keys with no meaning in a code (they spoil their line).
    pub unknown_keys: u64,
    /// Lines thrown away: overlong, cut by `SYN_DROPPED`, or pushed out of
    /// a full queue.
    pub lines_dropped: u64,
    /// Times the kernel reported lost events (`SYN_DROPPED`).
    pub syn_dropped: u64,
}

/// Turns `EV_KEY` events into lines of text, US layout.
///
/// - A press types its character, shifted while either Shift is down
///   (scanners send Shift around each upper-case letter) or, for letters,
///   while Caps Lock is on. A release of Shift ends shifting; other
///   releases and auto-repeats (value 2) change nothing.
/// - Enter (or keypad Enter) ends a line; with `tab_ends_line`, Tab too.
///   Empty lines are skipped.
/// - A key with no meaning in a code (an F-key, an arrow, Tab when Tab is
///   not the terminator) spoils its line: the line comes out with U+FFFD
///   in its place, so classification rejects it instead of reading a
///   shortened code as valid.
/// - `SYN_DROPPED` (the kernel lost events) throws away the line being
///   typed and every event up to the next `SYN_REPORT`, and forgets the
///   Shift state: a line missing a digit must never come out.
/// - Lines longer than the maximum are dropped whole; at most
///   [`MAX_QUEUED_LINES`] complete lines wait, the oldest dropped beyond.
#[derive(Clone)]
pub struct KeyDecoder {
    tab_ends_line: bool,
    max_line_len: usize,
    line: String,
    line_len: usize,
    spoiled: bool,
    overlong: bool,
    left_shift: bool,
    right_shift: bool,
    caps: bool,
    resyncing: bool,
    ready: VecDeque<String>,
    stats: KeyStats,
}

impl fmt::Debug for KeyDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the typed characters: they may be a payment code.
        f.debug_struct("KeyDecoder")
            .field("tab_ends_line", &self.tab_ends_line)
            .field("buffered", &self.line_len)
            .field("ready", &self.ready.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Default for KeyDecoder {
    fn default() -> KeyDecoder {
        KeyDecoder::new(false, DEFAULT_MAX_LINE_LEN)
    }
}

impl KeyDecoder {
    /// A decoder whose lines end with Enter (and Tab if `tab_ends_line`),
    /// at most `max_line_len` characters long (at least 1).
    pub fn new(tab_ends_line: bool, max_line_len: usize) -> KeyDecoder {
        KeyDecoder {
            tab_ends_line,
            max_line_len: max_line_len.max(1),
            line: String::new(),
            line_len: 0,
            spoiled: false,
            overlong: false,
            left_shift: false,
            right_shift: false,
            caps: false,
            resyncing: false,
            ready: VecDeque::new(),
            stats: KeyStats::default(),
        }
    }

    /// Feeds one event.
    pub fn push(&mut self, event: InputEvent) {
        match (event.kind, event.code) {
            (EV_SYN, SYN_DROPPED) => {
                self.stats.syn_dropped += 1;
                if self.line_len > 0 || self.spoiled || self.overlong {
                    self.stats.lines_dropped += 1;
                }
                self.reset_line();
                self.left_shift = false;
                self.right_shift = false;
                self.resyncing = true;
            }
            (EV_SYN, SYN_REPORT) => self.resyncing = false,
            (EV_KEY, code) if !self.resyncing => self.key(code, event.value),
            // Other types (EV_MSC scan codes, LEDs) say nothing new.
            _ => {}
        }
    }

    /// Feeds events in order.
    pub fn push_all(&mut self, events: impl IntoIterator<Item = InputEvent>) {
        for e in events {
            self.push(e);
        }
    }

    /// The next complete line, oldest first.
    pub fn next_line(&mut self) -> Option<String> {
        self.ready.pop_front()
    }

    /// The counters.
    pub fn stats(&self) -> KeyStats {
        self.stats
    }

    /// Forgets the line being typed, the waiting lines and the Shift state
    /// (the device was reopened: its keys are all up again).
    pub fn clear(&mut self) {
        self.reset_line();
        self.ready.clear();
        self.left_shift = false;
        self.right_shift = false;
    }

    fn key(&mut self, code: u16, value: i32) {
        let class = key_char(code, self.left_shift || self.right_shift, self.caps);
        match value {
            KEY_REPEAT => {
                self.stats.repeats_ignored += 1;
                return;
            }
            KEY_RELEASED => {
                if class == KeyClass::Shift {
                    self.set_shift(code, false);
                }
                return;
            }
            KEY_PRESSED => {}
            // No other value exists for a key; a garbage value changes nothing.
            _ => return,
        }
        match class {
            KeyClass::Shift => self.set_shift(code, true),
            KeyClass::CapsLock => self.caps = !self.caps,
            KeyClass::Enter => self.end_line(),
            KeyClass::Tab if self.tab_ends_line => self.end_line(),
            KeyClass::Char(c) => {
                self.stats.chars += 1;
                self.type_char(c);
            }
            KeyClass::Ignored => {}
            KeyClass::Tab | KeyClass::Unknown => {
                self.stats.unknown_keys += 1;
                self.spoiled = true;
                self.type_char(char::REPLACEMENT_CHARACTER);
            }
        }
    }

    fn set_shift(&mut self, code: u16, down: bool) {
        if code == KEY_LEFTSHIFT {
            self.left_shift = down;
        } else {
            self.right_shift = down;
        }
    }

    fn type_char(&mut self, c: char) {
        if self.overlong {
            return;
        }
        if self.line_len >= self.max_line_len {
            self.overlong = true;
            self.line.clear();
            return;
        }
        self.line.push(c);
        self.line_len += 1;
    }

    fn end_line(&mut self) {
        if self.overlong {
            self.stats.lines_dropped += 1;
            self.reset_line();
            return;
        }
        if self.line_len == 0 {
            return;
        }
        let line = std::mem::take(&mut self.line);
        debug_assert!(!self.spoiled || line.contains(char::REPLACEMENT_CHARACTER));
        self.reset_line();
        if self.ready.len() >= MAX_QUEUED_LINES {
            self.ready.pop_front();
            self.stats.lines_dropped += 1;
        }
        self.ready.push_back(line);
        self.stats.lines += 1;
    }

    fn reset_line(&mut self) {
        self.line.clear();
        self.line_len = 0;
        self.spoiled = false;
        self.overlong = false;
    }
}

#[cfg(test)]
mod tests;
