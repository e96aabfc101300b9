//! A kiosk drill's timeline, from its report's timings and its trace.
//!
//! Milestones: fault → detected → customer told → fallback → resolved. The
//! report carries fault, detect, fallback and resolve times; "customer
//! told" is the first screen the kiosk showed at or after detection (what
//! the customer actually saw change). Every traced event is a tick on the
//! row of its kind, so the timeline shows each event.

use kiosk_core::KioskEvent;

use super::chart::{Mark, Row, Timeline};
use crate::drill::report::{duration, Timings};
use crate::drill::trace::{event_json, TraceEntry};

/// The milestones' absolute times (simulated ms), in order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Milestones {
    /// The fault struck.
    pub fault: Option<u64>,
    /// The kiosk detected it.
    pub detected: Option<u64>,
    /// The first screen shown at or after detection.
    pub told: Option<u64>,
    /// The fallback was in place.
    pub fallback: Option<u64>,
    /// Resolved (or escalated).
    pub resolved: Option<u64>,
}

impl Milestones {
    /// From the report's timings (relative) and the trace (for "customer told").
    pub(super) fn of(t: &Timings, trace: &[TraceEntry]) -> Milestones {
        let fault = t.fault_at_ms;
        let detected = fault.zip(t.detect_ms).map(|(f, d)| f + d);
        let told = detected.and_then(|d| {
            trace
                .iter()
                .find(|e| e.at.0 >= d && matches!(e.event, KioskEvent::Screen { .. }))
                .map(|e| e.at.0)
        });
        Milestones {
            fault,
            detected,
            told,
            fallback: detected.zip(t.fallback_ms).map(|(d, f)| d + f),
            resolved: detected.zip(t.resolve_ms).map(|(d, r)| d + r),
        }
    }

    /// Labelled, in order; `None` where the drill has no such moment.
    pub(super) fn labelled(&self) -> [(&'static str, Option<u64>); 5] {
        [
            ("故障 fault", self.fault),
            ("检测 detected", self.detected),
            ("告知顾客 customer told", self.told),
            ("降级 fallback", self.fallback),
            ("解决 resolved", self.resolved),
        ]
    }
}

/// The rows an event goes on, by its tag.
const EVENT_ROWS: [(&str, &[&str]); 5] = [
    ("屏幕 screens", &["screen"]),
    (
        "故障与告警 faults, alerts",
        &[
            "fault-detected",
            "fault-cleared",
            "warning-raised",
            "warning-cleared",
            "alert",
            "frequent-failures",
            "security-alarm",
            "damage-reported",
            "link-slow",
            "link-switched",
            "driver-restarted",
        ],
    ),
    (
        "付款 payments",
        &[
            "session-started",
            "session-ended",
            "posting-attempt",
            "payment-credited",
            "payment-refused",
            "payment-retry-scheduled",
            "note-in-doubt",
            "in-doubt-settled",
            "acceptor",
        ],
    ),
    (
        "运维 operations",
        &[
            "ticket-opened",
            "ticket-escalated",
            "ticket-resolved",
            "command-done",
            "self-test",
            "clearing-report",
            "recovered",
            "receipt-kept",
            "receipt-reprinted",
        ],
    ),
    ("其他 other", &[]),
];

/// An event's tag (`"screen"`, `"fault-detected"`, …).
pub(super) fn tag(event: &KioskEvent) -> String {
    event_json(event)
        .get("event")
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string()
}

/// The timeline chart's data for a kiosk drill.
pub(super) fn kiosk_timeline(
    title: &str,
    m: &Milestones,
    trace: &[TraceEntry],
    simulated_ms: u64,
) -> Timeline {
    let mut rows = Vec::new();
    let detected = m.detected;
    for (label, at) in m.labelled() {
        let Some(at) = at else { continue };
        let note = match (label, detected, m.fault) {
            ("故障 fault", _, _) => duration(at),
            (_, Some(d), _) if label != "检测 detected" => format!("+{}", duration(at - d)),
            (_, _, Some(f)) => format!("+{}", duration(at.saturating_sub(f))),
            _ => duration(at),
        };
        rows.push(Row {
            label: label.to_string(),
            marks: vec![Mark { at_ms: at, note }],
            spans: Vec::new(),
            milestone: true,
        });
    }
    for (label, tags) in EVENT_ROWS {
        let marks: Vec<Mark> = trace
            .iter()
            .filter(|e| {
                let t = tag(&e.event);
                tags.contains(&t.as_str())
                    || (tags.is_empty()
                        && !EVENT_ROWS.iter().any(|(_, ts)| ts.contains(&t.as_str())))
            })
            .map(|e| Mark {
                at_ms: e.at.0,
                note: String::new(),
            })
            .collect();
        if !marks.is_empty() {
            rows.push(Row {
                label: format!("{label} ({})", marks.len()),
                marks,
                spans: Vec::new(),
                milestone: false,
            });
        }
    }
    let last = trace.last().map_or(0, |e| e.at.0);
    let end = [Some(last), m.resolved, m.fallback, m.told]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1);
    // A drill that idles long after its last event would squash it to the left.
    let end = if simulated_ms > 0 && simulated_ms <= end * 2 {
        simulated_ms.max(end)
    } else {
        end
    };
    Timeline {
        title: title.to_string(),
        rows,
        start_ms: 0,
        end_ms: end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::{DeviceKind, Millis, Screen};
    use kiosk_hal::ErrorKind;

    #[test]
    fn customer_told_is_the_first_screen_at_or_after_detection() {
        let trace = vec![
            TraceEntry {
                at: Millis(100),
                event: KioskEvent::Screen {
                    screen: Screen::Welcome { methods: vec![] },
                },
            },
            TraceEntry {
                at: Millis(2_000),
                event: KioskEvent::FaultDetected {
                    device: DeviceKind::Printer,
                    kind: ErrorKind::PaperOut,
                },
            },
            TraceEntry {
                at: Millis(2_300),
                event: KioskEvent::Screen {
                    screen: Screen::Welcome { methods: vec![] },
                },
            },
        ];
        let t = Timings {
            fault_at_ms: Some(1_000),
            detect_ms: Some(1_000),
            fallback_ms: Some(500),
            resolve_ms: None,
        };
        let m = Milestones::of(&t, &trace);
        assert_eq!(
            (m.fault, m.detected, m.told, m.fallback, m.resolved),
            (Some(1_000), Some(2_000), Some(2_300), Some(2_500), None)
        );
        let tl = kiosk_timeline("t", &m, &trace, 3_000);
        let labels: Vec<&str> = tl.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "故障 fault",
                "检测 detected",
                "告知顾客 customer told",
                "降级 fallback",
                "屏幕 screens (2)",
                "故障与告警 faults, alerts (1)"
            ]
        );
        assert_eq!(tl.rows[3].marks[0].note, "+500ms");
        assert_eq!(tl.end_ms, 3_000);
    }
}
