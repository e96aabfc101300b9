//! The byte-level fault injector every emulator writes through, in the
//! manner of smoltcp's fault-injecting device: a seeded generator, planned
//! faults per outgoing frame, and verbs a test calls to stage one fault now.

use serde::{Deserialize, Serialize};

use crate::clock::SimClock;
use crate::faults::{ConfigError, FaultPlan, FaultRule};
use crate::rng::SimRng;

/// A fault on one outgoing frame (an ID-003 answer, an ESC/POS status byte,
/// a scanner line).
///
/// ```toml
/// [[line.faults]]
/// trigger = { when = "probability", p = 0.1 }
/// fault = { type = "corrupt", bits = 1 }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum LineFault {
    /// Random bytes go out before the frame (line noise).
    Garbage {
        /// How many.
        bytes: usize,
    },
    /// The frame is not sent.
    Drop {},
    /// Bits are flipped past the frame's first two bytes (for ID-003: a
    /// certain CRC error; the sync and length stay intact).
    Corrupt {
        /// How many bit flips (at least one).
        bits: u32,
    },
    /// The frame goes out late.
    Slow {
        /// The delay.
        delay_ms: u64,
    },
    /// Nothing is sent (with `between`: a silent window).
    Silence {},
}

/// The planned line faults of an emulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LineFaultConfig {
    /// Tried in order for each outgoing frame; `nth-call` counts frames,
    /// times are milliseconds since the emulator started.
    pub faults: Vec<FaultRule<LineFault>>,
}

/// What happens to one outgoing frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Write these bytes now.
    Send(Vec<u8>),
    /// Write these bytes after a delay.
    Delay(u64, Vec<u8>),
    /// Write nothing.
    Drop,
}

/// What the injector did, for tests and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineStats {
    /// Frames offered.
    pub frames: u64,
    /// Frames sent unchanged.
    pub clean: u64,
    /// Garbage bytes sent.
    pub garbage_bytes: u64,
    /// Frames dropped (dropped or silenced).
    pub dropped: u64,
    /// Frames sent corrupted.
    pub corrupted: u64,
    /// Frames sent late.
    pub delayed: u64,
}

/// The injector: planned faults, staged faults, silence. Sans-IO.
#[derive(Debug)]
pub struct LineFaults {
    plan: FaultPlan<LineFault>,
    rng: SimRng,
    clock: SimClock,
    silent: bool,
    staged: Vec<LineFault>,
    stats: LineStats,
}

impl LineFaults {
    /// An injector over `config`, drawing from `rng`, timing on `clock`.
    pub fn new(
        config: &LineFaultConfig,
        rng: SimRng,
        clock: SimClock,
    ) -> Result<LineFaults, ConfigError> {
        Ok(LineFaults {
            plan: FaultPlan::new(config.faults.clone(), rng.fork("line-plan"))?,
            rng,
            clock,
            silent: false,
            staged: Vec::new(),
            stats: LineStats::default(),
        })
    }

    /// Stops (or resumes) sending anything: the device went quiet.
    pub fn set_silent(&mut self, silent: bool) {
        self.silent = silent;
    }

    /// Whether the line is silenced.
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Applies `fault` to the next outgoing frame (staged faults go first,
    /// in the order staged).
    pub fn stage(&mut self, fault: LineFault) {
        self.staged.push(fault);
    }

    /// The counters.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Decides the fate of one outgoing frame.
    pub fn outgoing(&mut self, frame: Vec<u8>) -> Verdict {
        self.stats.frames += 1;
        if self.silent {
            self.stats.dropped += 1;
            return Verdict::Drop;
        }
        let fault = if self.staged.is_empty() {
            let n = self.stats.frames;
            self.plan.active(self.clock.now(), n).copied()
        } else {
            Some(self.staged.remove(0))
        };
        match fault {
            None => {
                self.stats.clean += 1;
                Verdict::Send(frame)
            }
            Some(LineFault::Garbage { bytes }) => {
                self.stats.garbage_bytes += bytes as u64;
                let mut out: Vec<u8> = (0..bytes).map(|_| self.rng.below(256) as u8).collect();
                out.extend_from_slice(&frame);
                Verdict::Send(out)
            }
            Some(LineFault::Drop {}) | Some(LineFault::Silence {}) => {
                self.stats.dropped += 1;
                Verdict::Drop
            }
            Some(LineFault::Corrupt { bits }) => {
                self.stats.corrupted += 1;
                Verdict::Send(self.corrupt(frame, bits.max(1)))
            }
            Some(LineFault::Slow { delay_ms }) => {
                self.stats.delayed += 1;
                Verdict::Delay(delay_ms, frame)
            }
        }
    }

    fn corrupt(&mut self, mut frame: Vec<u8>, bits: u32) -> Vec<u8> {
        // Past sync and length when the frame has more; any byte otherwise.
        let skip = if frame.len() > 2 { 2 } else { 0 };
        let span = (frame.len() - skip) as u64;
        if span == 0 {
            return frame;
        }
        for _ in 0..bits {
            let i = skip + self.rng.below(span) as usize;
            frame[i] ^= 1 << self.rng.below(8);
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Trigger;

    #[test]
    fn staged_and_planned_faults_and_silence() {
        let config = LineFaultConfig {
            faults: vec![FaultRule::new(
                Trigger::NthCall { n: 2 },
                LineFault::Drop {},
            )],
        };
        let mut line = LineFaults::new(&config, SimRng::new(1), SimClock::new()).unwrap();
        let frame = vec![0xFC, 0x05, 0x11, 0x27, 0x56];
        assert_eq!(line.outgoing(frame.clone()), Verdict::Send(frame.clone()));
        assert_eq!(line.outgoing(frame.clone()), Verdict::Drop, "2nd frame");
        line.stage(LineFault::Corrupt { bits: 1 });
        let Verdict::Send(bad) = line.outgoing(frame.clone()) else {
            panic!()
        };
        assert_eq!(&bad[..2], &frame[..2]);
        assert_ne!(bad, frame);
        line.stage(LineFault::Garbage { bytes: 3 });
        let Verdict::Send(noisy) = line.outgoing(frame.clone()) else {
            panic!()
        };
        assert_eq!((noisy.len(), &noisy[3..]), (8, &frame[..]));
        line.set_silent(true);
        assert_eq!(line.outgoing(frame), Verdict::Drop);
        let s = line.stats();
        assert_eq!(
            (s.frames, s.dropped, s.corrupted, s.garbage_bytes),
            (5, 2, 1, 3)
        );
    }
}
