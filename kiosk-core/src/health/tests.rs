//! The health monitor's detections, thresholds exactly.

use kiosk_hal::ErrorKind;

use super::*;
use crate::ids::Millis;

fn monitor() -> HealthMonitor {
    HealthMonitor::new(HealthPolicy::default())
}

fn ok(ms: u64) -> Outcome {
    Outcome::Ok { latency_ms: ms }
}

fn err(kind: ErrorKind) -> Outcome {
    Outcome::Err {
        kind,
        latency_ms: 0,
    }
}

#[test]
fn a_device_is_offline_after_the_missed_polls_and_recovers_on_an_answer() {
    let mut m = monitor();
    let a = DeviceKind::Acceptor;
    assert!(m.record(a, err(ErrorKind::Offline), Millis(0)).is_empty());
    // A good answer in between starts the count again.
    assert!(m.record(a, ok(5), Millis(1)).is_empty());
    assert!(m.record(a, err(ErrorKind::Timeout), Millis(2)).is_empty());
    assert!(m.record(a, err(ErrorKind::Offline), Millis(3)).is_empty());
    let changes = m.record(a, err(ErrorKind::Offline), Millis(4));
    let [HealthChange::Degraded {
        device,
        kind,
        symptom,
    }] = changes.as_slice()
    else {
        panic!("{changes:?}")
    };
    assert_eq!((*device, kind.as_str()), (a, "offline"));
    assert!(symptom.contains("3 polls"), "{symptom}");
    assert_eq!(m.degraded(a), Some("offline"));
    // Reported once, not on every further miss.
    assert!(m.record(a, err(ErrorKind::Offline), Millis(5)).is_empty());
    assert_eq!(
        m.record(a, ok(5), Millis(6)),
        vec![HealthChange::Recovered { device: a }]
    );
    assert_eq!(m.degraded(a), None);
    assert!(m.record(a, ok(5), Millis(7)).is_empty());
}

#[test]
fn a_reported_condition_degrades_at_once_and_a_new_one_is_reported() {
    let mut m = monitor();
    let p = DeviceKind::Printer;
    let first = m.record(p, err(ErrorKind::CoverOpen), Millis(0));
    assert!(
        matches!(first.as_slice(), [HealthChange::Degraded { kind, .. }] if kind == "cover-open")
    );
    assert!(m.record(p, err(ErrorKind::CoverOpen), Millis(1)).is_empty());
    let second = m.record(p, err(ErrorKind::PaperOut), Millis(2));
    assert!(
        matches!(second.as_slice(), [HealthChange::Degraded { kind, .. }] if kind == "paper-out")
    );
    assert_eq!(
        m.record(p, ok(1), Millis(3)),
        vec![HealthChange::Recovered { device: p }]
    );
}

#[test]
fn link_slow_after_n_slow_answers_and_cleared_after_m_fast_ones() {
    let mut m = monitor();
    let l = DeviceKind::Link;
    assert!(m.record(l, ok(3_000), Millis(0)).is_empty());
    assert!(m.record(l, ok(5_000), Millis(1)).is_empty());
    // A fast answer breaks the run.
    assert!(m.record(l, ok(2_999), Millis(2)).is_empty());
    assert!(m.record(l, ok(4_000), Millis(3)).is_empty());
    assert!(m.record(l, ok(3_500), Millis(4)).is_empty());
    assert_eq!(
        m.record(l, ok(9_000), Millis(5)),
        vec![HealthChange::LinkSlow {
            p50_ms: 4_000,
            samples: 3
        }]
    );
    assert!(m.record(l, ok(9_000), Millis(6)).is_empty());
    assert!(m.record(l, ok(100), Millis(7)).is_empty());
    assert!(m.record(l, ok(100), Millis(8)).is_empty());
    assert_eq!(
        m.record(l, ok(100), Millis(9)),
        vec![HealthChange::LinkFast]
    );
    // Missed answers are not slow answers.
    for i in 0..2 {
        assert!(m
            .record(l, err(ErrorKind::Timeout), Millis(10 + i))
            .is_empty());
    }
}

#[test]
fn frequent_failures_at_the_threshold_exactly() {
    let mut m = monitor();
    assert!(m.record_transaction(true, "credited", Millis(0)).is_empty());
    assert!(m.record_transaction(false, "refused", Millis(1)).is_empty());
    assert!(m.record_transaction(true, "credited", Millis(2)).is_empty());
    // 2 of 4 = 0.5: at the threshold, with the minimum samples.
    let changes = m.record_transaction(false, "pending", Millis(3));
    assert_eq!(
        changes,
        vec![HealthChange::FrequentFailures {
            rate: 0.5,
            samples: 4,
            pattern: "pending: 1, refused: 1".into()
        }]
    );
    assert!(m.record_transaction(false, "refused", Millis(4)).is_empty());
}

#[test]
fn too_few_samples_never_raise_frequent_failures() {
    let mut m = monitor();
    for i in 0..3 {
        assert!(m.record_transaction(false, "refused", Millis(i)).is_empty());
    }
    let changes = m.record_transaction(false, "refused", Millis(3));
    assert!(
        matches!(changes.as_slice(), [HealthChange::FrequentFailures { pattern, .. }] if pattern == "refused: 4")
    );
}

#[test]
fn the_window_forgets_old_samples() {
    let mut m = monitor();
    let window = m.policy().failure_window_ms;
    for i in 0..4 {
        m.record_transaction(false, "aborted", Millis(i));
    }
    assert_eq!(m.next_deadline(), Some(Millis(window)));
    // Just before the oldest leaves, nothing changes.
    assert!(m.poll(Millis(window - 1)).is_empty());
    // When samples leave, the window holds fewer than the minimum: cleared.
    assert_eq!(
        m.poll(Millis(window)),
        vec![HealthChange::FrequentFailuresCleared]
    );
    assert_eq!(m.next_deadline(), Some(Millis(window + 1)));
    assert!(m.poll(Millis(window + 10)).is_empty());
    assert_eq!(m.next_deadline(), None);
    // Four successes later, the old failures no longer count.
    for i in 0..4 {
        assert!(m
            .record_transaction(true, "credited", Millis(window + 20 + i))
            .is_empty());
    }
}

#[test]
fn clearing_needs_the_rate_to_fall_under_the_clear_level() {
    let mut m = monitor();
    for i in 0..4 {
        m.record_transaction(false, "refused", Millis(i));
    }
    // 4 of 12 = 0.33: under the threshold but not under 0.25: still raised.
    for i in 0..8 {
        assert!(m
            .record_transaction(true, "credited", Millis(10 + i))
            .is_empty());
    }
    // 4 of 17 = 0.235: cleared.
    let mut cleared = Vec::new();
    for i in 0..5 {
        cleared.extend(m.record_transaction(true, "credited", Millis(20 + i)));
    }
    assert_eq!(cleared, vec![HealthChange::FrequentFailuresCleared]);
}

#[test]
fn memory_stays_bounded() {
    let policy = HealthPolicy {
        failure_samples_max: 8,
        ..HealthPolicy::default()
    };
    let mut m = HealthMonitor::new(policy);
    for i in 0..8 {
        m.record_transaction(false, &"x".repeat(500), Millis(i));
    }
    // The window holds 8; eight successes push every failure out.
    let mut changes = Vec::new();
    for i in 0..8 {
        changes.extend(m.record_transaction(true, "credited", Millis(100 + i)));
    }
    assert_eq!(changes, vec![HealthChange::FrequentFailuresCleared]);
    for i in 0..1_000 {
        m.record(DeviceKind::Link, ok(i), Millis(i));
    }
}

#[test]
fn the_policy_reads_kebab_case_with_defaults() {
    let p: HealthPolicy =
        serde_json::from_str(r#"{"missed-polls-offline": 5, "link-slow-ms": 2000}"#).unwrap();
    assert_eq!(p.missed_polls_offline, 5);
    assert_eq!(p.link_slow_ms, 2_000);
    assert_eq!(p.failure_min_samples, 4);
    assert!(serde_json::from_str::<HealthPolicy>(r#"{"missed-polls": 5}"#).is_err());
}
