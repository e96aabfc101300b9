//! The drill's trace: every kiosk event with its virtual time, and its hash.
//!
//! Two runs of one drill with one seed must produce the same trace, event
//! for event and millisecond for millisecond; the hash makes that cheap to
//! compare and to print.

use kiosk_core::{KioskEvent, Millis};
use serde_json::Value;

/// One traced event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Virtual time.
    pub at: Millis,
    /// What happened.
    pub event: KioskEvent,
}

/// FNV-1a, 64 bit (the `fnv` crate): a stable hash of the trace text, the
/// same on every platform and release, so a printed hash compares across
/// machines.
#[derive(Default)]
pub struct TraceHasher(fnv::FnvHasher);

impl std::fmt::Debug for TraceHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TraceHasher({:#018x})", self.finish())
    }
}

impl TraceHasher {
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        std::hash::Hasher::write(&mut self.0, bytes);
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        std::hash::Hasher::finish(&self.0)
    }
}

/// The hash of a whole trace: each entry as `"{ms} {json}\n"`.
pub fn trace_hash(trace: &[TraceEntry]) -> u64 {
    let mut h = TraceHasher::default();
    for e in trace {
        h.write(e.at.0.to_string().as_bytes());
        h.write(b" ");
        h.write(event_json(&e.event).to_string().as_bytes());
        h.write(b"\n");
    }
    h.finish()
}

/// The event as JSON (its serde form).
pub fn event_json(event: &KioskEvent) -> Value {
    serde_json::to_value(event).unwrap_or(Value::Null)
}

/// A pattern over events, as written in scenario files:
/// `"fault-detected"`, `"fault-detected:printer"`, `"screen:receipt-unavailable"`,
/// `"acceptor:jammed"`, `"in-doubt-settled:credit"`.
///
/// The part before `:` is the event's tag; the part after it must equal one
/// of the event's string fields, or the tag of a nested object (the screen,
/// the acceptor event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPattern {
    tag: String,
    detail: Option<String>,
}

/// Event tags a pattern may name.
pub const EVENT_TAGS: &[&str] = &[
    "recovered",
    "screen",
    "acceptor",
    "fault-detected",
    "fault-cleared",
    "warning-raised",
    "warning-cleared",
    "alert",
    "session-started",
    "session-ended",
    "posting-attempt",
    "payment-credited",
    "payment-refused",
    "payment-retry-scheduled",
    "note-in-doubt",
    "in-doubt-settled",
    "receipt-kept",
    "receipt-reprinted",
    "command-done",
    "self-test",
    "damage-reported",
    "security-alarm",
    "clearing-report",
    "ticket-opened",
    "ticket-escalated",
    "ticket-resolved",
    "frequent-failures",
    "link-slow",
    "link-switched",
    "driver-restarted",
];

impl EventPattern {
    /// Parses `tag[:detail]`; an unknown tag is an error listing the known ones.
    pub fn parse(s: &str) -> Result<EventPattern, String> {
        let (tag, detail) = match s.split_once(':') {
            Some((t, d)) => (t, Some(d.to_string())),
            None => (s, None),
        };
        if !EVENT_TAGS.contains(&tag) {
            return Err(format!(
                "unknown event {tag:?} in pattern {s:?}; known events: {}",
                EVENT_TAGS.join(", ")
            ));
        }
        Ok(EventPattern {
            tag: tag.to_string(),
            detail,
        })
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &KioskEvent) -> bool {
        let v = event_json(event);
        let Some(obj) = v.as_object() else {
            return false;
        };
        if obj.get("event").and_then(Value::as_str) != Some(self.tag.as_str()) {
            return false;
        }
        let Some(detail) = &self.detail else {
            return true;
        };
        obj.iter()
            .filter(|(k, _)| *k != "event")
            .any(|(_, field)| match field {
                Value::String(s) => s == detail,
                // A nested enum: its tag field (`screen`, `event`) or, for an
                // externally tagged variant, its single key.
                Value::Object(inner) => {
                    inner.keys().any(|k| k == detail)
                        || inner.values().any(|x| x.as_str() == Some(detail.as_str()))
                }
                _ => false,
            })
    }
}

impl std::fmt::Display for EventPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(d) => write!(f, "{}:{d}", self.tag),
            None => f.write_str(&self.tag),
        }
    }
}

/// The first entry at or after `from` matching `pattern`.
pub fn first_match<'a>(
    trace: &'a [TraceEntry],
    pattern: &EventPattern,
    from: Millis,
) -> Option<&'a TraceEntry> {
    trace
        .iter()
        .find(|e| e.at >= from && pattern.matches(&e.event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::{DeviceKind, Screen, SessionId};
    use kiosk_hal::ErrorKind;

    #[test]
    fn patterns_match_tag_and_detail() {
        let ev = KioskEvent::FaultDetected {
            device: DeviceKind::Printer,
            kind: ErrorKind::PaperOut,
        };
        assert!(EventPattern::parse("fault-detected").unwrap().matches(&ev));
        assert!(EventPattern::parse("fault-detected:printer")
            .unwrap()
            .matches(&ev));
        assert!(EventPattern::parse("fault-detected:paper-out")
            .unwrap()
            .matches(&ev));
        assert!(!EventPattern::parse("fault-detected:acceptor")
            .unwrap()
            .matches(&ev));
        let screen = KioskEvent::Screen {
            screen: Screen::ReceiptUnavailable {
                reference: SessionId("K01-000001".into()),
            },
        };
        assert!(EventPattern::parse("screen:receipt-unavailable")
            .unwrap()
            .matches(&screen));
        assert!(!EventPattern::parse("screen:welcome")
            .unwrap()
            .matches(&screen));
        assert!(EventPattern::parse("no-such-event")
            .unwrap_err()
            .contains("known events"));
    }

    /// Published FNV-1a 64-bit vectors (the FNV authors' test suite), so a
    /// printed trace hash means the same thing as in earlier releases.
    #[test]
    fn trace_hasher_is_fnv1a_64() {
        let hash = |s: &str| {
            let mut h = TraceHasher::default();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn hash_changes_with_time_and_content() {
        let a = vec![TraceEntry {
            at: Millis(1),
            event: KioskEvent::FaultCleared {
                device: DeviceKind::Link,
            },
        }];
        let mut b = a.clone();
        b[0].at = Millis(2);
        assert_ne!(trace_hash(&a), trace_hash(&b));
        assert_eq!(trace_hash(&a), trace_hash(&a.clone()));
    }
}
