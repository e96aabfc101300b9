//! A drill's result: expectations, the money invariant, timings, seed and trace hash.

use serde::Serialize;

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationResult {
    /// What was expected, in words.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen.
    pub observed: String,
}

/// The money invariant, both sides of it, after the drill.
///
/// Books: the journal's `in_box` = credited + pending + refused. Physical:
/// the notes really in the (virtual) cash box lie between the journal's
/// `in_box` and `in_box + in_doubt` (an in-doubt note may be in the box or
/// not). Backend: no key applied twice, and the cash the backend credited
/// equals what the journal records as credited, plus what it applied for
/// keys the journal still holds pending (a lost answer not yet retried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvariantReport {
    /// Minor units physically in the virtual cash box.
    pub physical_box: i64,
    /// Minor units the journal believes are in the box.
    pub journal_in_box: i64,
    /// Journal: credited cash.
    pub credited: i64,
    /// Journal: pending cash.
    pub pending: i64,
    /// Journal: refused cash (in the box, held for staff).
    pub refused: i64,
    /// Journal: in-doubt notes with a known value.
    pub in_doubt: i64,
    /// Journal: in-doubt notes.
    pub in_doubt_notes: u32,
    /// Backend: cash credited.
    pub backend_credited: i64,
    /// Backend: the most times any one key was applied (must be ≤ 1).
    pub max_applies_per_key: u32,
    /// Whether every part held.
    pub holds: bool,
    /// What broke, if anything.
    pub violations: Vec<String>,
}

impl InvariantReport {
    /// The invariant as one report line, plus one per violation.
    pub fn render_text(&self) -> String {
        let mark = if self.holds { "ok  " } else { "FAIL" };
        let mut s = format!(
            "  [{mark}] money: box {} = credited {} + pending {} + refused {} (journal in box {}, in doubt {} in {} notes); backend credited {}, max applies per key {}\n",
            money(self.physical_box),
            money(self.credited),
            money(self.pending),
            money(self.refused),
            money(self.journal_in_box),
            money(self.in_doubt),
            self.in_doubt_notes,
            money(self.backend_credited),
            self.max_applies_per_key,
        );
        for v in &self.violations {
            s.push_str(&format!("         violation: {v}\n"));
        }
        s
    }
}

/// Timings in simulated milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// When the fault happened (virtual ms since start).
    pub fault_at_ms: Option<u64>,
    /// Fault → detected.
    pub detect_ms: Option<u64>,
    /// Detected → customer told / fallback in place.
    pub fallback_ms: Option<u64>,
    /// Detected → resolved (or escalated).
    pub resolve_ms: Option<u64>,
}

/// The whole result of one drill run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillReport {
    /// Drill id (catalog id).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The seed: rerun with `--seed` to reproduce.
    pub seed: u64,
    /// Whether every expectation and the invariant held.
    pub passed: bool,
    /// Expectations, one by one.
    pub expectations: Vec<ExpectationResult>,
    /// The money invariant; `None` for site drills, whose model journals no cash.
    pub invariant: Option<InvariantReport>,
    /// Fault → detected → fallback → resolved.
    pub timings: Timings,
    /// Virtual time the drill covered.
    pub simulated_ms: u64,
    /// Events in the trace.
    pub events: usize,
    /// Hash of the trace (hex): equal for equal runs.
    pub trace_hash: String,
    /// A longer report for drills that have one (site drills).
    pub detail: Option<String>,
}

fn ms(v: Option<u64>) -> String {
    match v {
        Some(v) => duration(v),
        None => "-".into(),
    }
}

/// A duration as people read it: `850ms`, `6s 200ms`, `32m 56s` (whole
/// seconds from a minute up: milliseconds no longer matter there).
pub fn duration(ms: u64) -> String {
    let shown = if ms >= 60_000 { ms / 1000 * 1000 } else { ms };
    humantime::format_duration(std::time::Duration::from_millis(shown)).to_string()
}

fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

impl DrillReport {
    /// The report as text for a terminal.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        s.push_str(&format!("{verdict}  {}  — {}\n", self.id, self.title));
        for e in &self.expectations {
            let mark = if e.passed { "ok  " } else { "FAIL" };
            s.push_str(&format!(
                "  [{mark}] {} (saw: {})\n",
                e.expectation, e.observed
            ));
        }
        match &self.invariant {
            Some(inv) => s.push_str(&inv.render_text()),
            None => s.push_str(
                "  [n/a ] money: not modelled by the site simulation (the kiosk drills check every session's cash)\n",
            ),
        }
        if let Some(detail) = &self.detail {
            for line in detail.lines() {
                s.push_str(&format!("  | {line}\n"));
            }
        }
        let t = &self.timings;
        s.push_str(&format!(
            "  timings (simulated): fault at {} → detected +{} → fallback +{} → resolved +{}\n",
            ms(t.fault_at_ms),
            ms(t.detect_ms),
            ms(t.fallback_ms),
            ms(t.resolve_ms)
        ));
        s.push_str(&format!(
            "  seed {}  trace {}  ({} events, {} simulated)\n",
            self.seed,
            self.trace_hash,
            self.events,
            ms(Some(self.simulated_ms))
        ));
        if !self.passed {
            s.push_str(&format!("  reproduce with: {}\n", self.reproduce_command()));
        }
        s
    }

    /// The command that runs this drill again with this seed, as the CLI
    /// prints it for a failing drill (one source for the text and HTML reports).
    pub fn reproduce_command(&self) -> String {
        format!("kiosk-sim drill {} --seed {}", self.id, self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(6_200), "6s 200ms");
        assert_eq!(duration(1_976_387), "32m 56s");
        assert_eq!(duration(32_782_973), "9h 6m 22s");
    }
}
