//! Pulse-output bill acceptors: the sans-IO pulse counter and its settings.
//!
//! A pulse acceptor has no escrow and no serial link: once a note is in its
//! cash box it pulses an output N times, N standing for the denomination.
//! [`PulseCounter`] takes pin levels with their time, debounces them,
//! counts complete pulses and ends a train after a quiet gap. The shells
//! that sample a real pin are in `drivers::gpio` (feature `gpio`).

use std::collections::VecDeque;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Money;

/// How many pulses stand for which note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PulseValue {
    /// Pulses in the train.
    pub pulses: u32,
    /// The note they mean.
    pub value: Money,
}

/// A pulse acceptor's settings.
///
/// `chip` and `line` name the GPIO line the pulse output is wired to; with
/// them and the `gpio-cdev` feature, `config::build_acceptor` opens it on
/// Linux. Without them, build the acceptor in code on any `embedded-hal`
/// pin (`drivers::gpio::PulseAcceptor`).
///
/// ```toml
/// kind = "pulse"
/// chip = "/dev/gpiochip0"
/// line = 17
/// debounce-ms = 10
/// train-gap-ms = 300
/// pulses = [
///   { pulses = 1, value = { minor = 1000, currency = "CNY" } },
///   { pulses = 2, value = { minor = 2000, currency = "CNY" } },
///   { pulses = 5, value = { minor = 5000, currency = "CNY" } },
/// ]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PulseConfig {
    /// The pulse table (required: empty means every train is unknown).
    pub pulses: Vec<PulseValue>,
    /// The output is active low (an open-collector opto pulling the line
    /// down). Default true.
    pub active_low: bool,
    /// A level counts only once it held this long. Default 10.
    pub debounce_ms: u64,
    /// A train ends after this long without a pulse. Default 300.
    pub train_gap_ms: u64,
    /// The sampling shell reads the pin this often. Default 2.
    pub sample_interval_ms: u64,
    /// The GPIO chip the pulse output is wired to (`/dev/gpiochip0`), for
    /// building the acceptor from this file (feature `gpio-cdev`). Default
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<PathBuf>,
    /// The line (offset) on `chip`. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Default for PulseConfig {
    fn default() -> Self {
        PulseConfig {
            pulses: Vec::new(),
            active_low: true,
            debounce_ms: 10,
            train_gap_ms: 300,
            sample_interval_ms: 2,
            chip: None,
            line: None,
        }
    }
}

impl PulseConfig {
    /// The note a train of `pulses` means.
    pub fn value_of(&self, pulses: u32) -> Option<Money> {
        self.pulses
            .iter()
            .find(|p| p.pulses == pulses)
            .map(|p| p.value)
    }
}

/// A finished pulse train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulseTrain {
    /// A note of this value went into the box.
    Note(Money),
    /// A note went into the box, but its pulse count is not in the table.
    Unknown {
        /// The pulses counted.
        pulses: u32,
    },
}

/// Counts debounced pulses and ends trains after a gap. Time is passed in.
#[derive(Debug, Clone)]
pub struct PulseCounter {
    config: PulseConfig,
    active: bool,
    /// A level seen that differs from `active`, and since when.
    candidate: Option<(bool, u64)>,
    pulses: u32,
    last_pulse_end_ms: u64,
    trains: VecDeque<PulseTrain>,
}

impl PulseCounter {
    /// A counter with the line at rest.
    pub fn new(config: PulseConfig) -> PulseCounter {
        PulseCounter {
            config,
            active: false,
            candidate: None,
            pulses: 0,
            last_pulse_end_ms: 0,
            trains: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &PulseConfig {
        &self.config
    }

    /// A sample: the line is `active` (pulsing) at `now_ms`.
    pub fn sample(&mut self, now_ms: u64, active: bool) {
        if active == self.active {
            self.candidate = None;
        } else {
            let since = match self.candidate {
                Some((level, since)) if level == active => since,
                _ => {
                    self.candidate = Some((active, now_ms));
                    now_ms
                }
            };
            if now_ms.saturating_sub(since) >= self.config.debounce_ms {
                self.candidate = None;
                self.active = active;
                if !active {
                    // A whole pulse: counted when it ends, so a line stuck
                    // active never counts.
                    self.pulses = self.pulses.saturating_add(1);
                    self.last_pulse_end_ms = since;
                }
            }
        }
        self.end_train(now_ms);
    }

    /// The next finished train, if one ended by `now_ms`.
    pub fn poll(&mut self, now_ms: u64) -> Option<PulseTrain> {
        self.end_train(now_ms);
        self.trains.pop_front()
    }

    /// When something will be decided without a new edge: a pending level
    /// becomes stable, or the current train ends.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        let debounce = self
            .candidate
            .map(|(_, since)| since + self.config.debounce_ms);
        let train_end = (self.pulses > 0 && !self.active)
            .then(|| self.last_pulse_end_ms + self.config.train_gap_ms);
        debounce.into_iter().chain(train_end).min()
    }

    /// Whether pulses are being counted (a note is being reported).
    pub fn in_train(&self) -> bool {
        self.pulses > 0 || self.active
    }

    fn end_train(&mut self, now_ms: u64) {
        if self.pulses == 0 || self.active || self.candidate.is_some() {
            return;
        }
        if now_ms.saturating_sub(self.last_pulse_end_ms) < self.config.train_gap_ms {
            return;
        }
        let pulses = std::mem::take(&mut self.pulses);
        self.trains.push_back(match self.config.value_of(pulses) {
            Some(value) => PulseTrain::Note(value),
            None => PulseTrain::Unknown { pulses },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn config() -> PulseConfig {
        PulseConfig {
            pulses: vec![
                PulseValue {
                    pulses: 1,
                    value: Money::major(10, Currency::CNY),
                },
                PulseValue {
                    pulses: 2,
                    value: Money::major(20, Currency::CNY),
                },
            ],
            ..PulseConfig::default()
        }
    }

    /// Samples every ms: `pattern` is (active, duration ms) pieces.
    fn run(counter: &mut PulseCounter, start: u64, pattern: &[(bool, u64)]) -> u64 {
        let mut now = start;
        for &(active, ms) in pattern {
            for _ in 0..ms {
                counter.sample(now, active);
                now += 1;
            }
        }
        now
    }

    #[test]
    fn counts_debounced_pulses_and_ends_trains_after_the_gap() {
        let mut c = PulseCounter::new(config());
        // Two 50 ms pulses with a bouncy edge, 50 ms apart.
        let bounce = [(true, 3), (false, 2), (true, 50), (false, 50), (true, 50)];
        let now = run(&mut c, 0, &bounce);
        let now = run(&mut c, now, &[(false, 100)]);
        assert!(c.in_train());
        assert_eq!(c.poll(now), None, "gap not over");
        let end = c.next_deadline_ms().unwrap();
        assert_eq!(
            c.poll(end),
            Some(PulseTrain::Note(Money::major(20, Currency::CNY)))
        );
        assert!(!c.in_train());
    }

    #[test]
    fn glitches_do_not_count_and_unknown_counts_are_reported() {
        let mut c = PulseCounter::new(config());
        let now = run(&mut c, 0, &[(true, 5), (false, 400)]);
        assert_eq!(c.poll(now), None, "a 5 ms glitch is no pulse");
        let pulse = [(true, 30), (false, 30)];
        let mut now = now;
        for _ in 0..3 {
            now = run(&mut c, now, &pulse);
        }
        now = run(&mut c, now, &[(false, 400)]);
        assert_eq!(c.poll(now), Some(PulseTrain::Unknown { pulses: 3 }));
        // A line stuck active never counts.
        now = run(&mut c, now, &[(true, 2000)]);
        assert_eq!(c.poll(now), None);
    }
}
