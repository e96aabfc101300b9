//! The ticket book's rules, one test each.

use super::*;
use crate::events::DeviceKind::{Acceptor, CashBox, Link, Printer};
use crate::ids::{KioskId, Millis};

/// A ticket kind from its text (the tests read better with the text).
fn kind(text: &str) -> crate::tickets::TicketKind {
    text.parse().expect("a ticket kind")
}

const MIN: u64 = 60_000;

fn book() -> TicketBook {
    TicketBook::new(KioskId("K01".into()), "HALL7", TicketPolicy::default())
}

fn opened(changes: Vec<TicketChange>) -> Ticket {
    match changes.as_slice() {
        [TicketChange::Opened(t)] => t.clone(),
        other => panic!("expected one Opened, got {other:?}"),
    }
}

#[test]
fn a_detected_fault_opens_a_ticket_with_what_operations_need() {
    let mut b = book();
    let t = opened(b.fault_detected(Printer, kind("paper-out"), "no paper", Millis(5)));
    assert_eq!(t.id, TicketId(1));
    assert_eq!(t.kiosk, KioskId("K01".into()));
    assert_eq!(t.site, "HALL7");
    assert_eq!(
        (t.device, t.kind.to_string().as_str()),
        (Printer, "paper-out")
    );
    assert_eq!(t.severity, Severity::Medium);
    assert_eq!(t.symptom, "no paper");
    assert_eq!(t.opened_at, Millis(5));
    assert_eq!(t.state(), TicketState::Open);
    assert_eq!(t.actions.len(), 1);
    assert_eq!(t.actions[0].actor, KIOSK_ACTOR);
}

#[test]
fn one_ticket_per_device_and_kind_while_open() {
    let mut b = book();
    opened(b.fault_detected(Acceptor, kind("offline"), "no answer", Millis(1)));
    assert!(b
        .fault_detected(Acceptor, kind("offline"), "still none", Millis(2))
        .is_empty());
    let jam = opened(b.fault_detected(Acceptor, kind("jam"), "note stuck", Millis(3)));
    assert_eq!(jam.id, TicketId(2));
    assert_eq!(b.open_tickets().len(), 2);
    // After resolution the same fault opens a new ticket (merging is off).
    assert_eq!(b.fault_cleared(Acceptor, Millis(4)).len(), 2);
    let again = opened(b.fault_detected(Acceptor, kind("offline"), "gone again", Millis(5)));
    assert_eq!(again.id, TicketId(3));
}

#[test]
fn fault_cleared_resolves_only_that_devices_tickets_with_the_time() {
    let mut b = book();
    b.fault_detected(Printer, kind("paper-out"), "", Millis(1));
    b.fault_detected(Link, kind("offline"), "", Millis(2));
    let changes = b.fault_cleared(Printer, Millis(90));
    let [TicketChange::Resolved(t)] = changes.as_slice() else {
        panic!("{changes:?}")
    };
    assert_eq!(t.resolved_at, Some(Millis(90)));
    assert_eq!(t.state(), TicketState::Resolved);
    let last = t.actions.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        ("kiosk", "resolved")
    );
    assert_eq!(b.open_tickets().len(), 1);
    assert!(b.fault_cleared(Printer, Millis(91)).is_empty());
}

#[test]
fn fault_kind_cleared_leaves_other_kinds_open() {
    let mut b = book();
    b.fault_detected(Link, kind("offline"), "", Millis(1));
    b.fault_detected(Link, kind("link-slow"), "", Millis(2));
    assert_eq!(
        b.fault_kind_cleared(Link, kind("link-slow"), Millis(3))
            .len(),
        1
    );
    let open = b.open_tickets();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, kind("offline"));
}

#[test]
fn staff_steps_are_recorded_with_time_and_person() {
    let mut b = book();
    let id = opened(b.fault_detected(CashBox, kind("full"), "stacker full", Millis(0))).id;
    assert!(matches!(
        b.acknowledge(id, "ops-li", Millis(100)).as_slice(),
        [TicketChange::Updated(_)]
    ));
    b.remote_fix_tried(CashBox, "reset", "no change", Millis(200));
    b.record_action(
        id,
        "ops-li",
        "called site",
        "manager on the way",
        Millis(250),
    );
    assert!(matches!(
        b.dispatch(id, "ops-li", Millis(300)).as_slice(),
        [TicketChange::Escalated(_)]
    ));
    assert_eq!(b.get(id).unwrap().state(), TicketState::Dispatched);
    assert!(matches!(
        b.resolve(id, "tech-wang", "box emptied", Millis(400))
            .as_slice(),
        [TicketChange::Resolved(_)]
    ));
    assert!(b.resolve(id, "tech-wang", "again", Millis(401)).is_empty());
    let t = b.get(id).unwrap();
    assert_eq!(t.acknowledged_at, Some(Millis(100)));
    assert_eq!(t.remote_fix_at, Some(Millis(200)));
    assert_eq!(t.dispatched_at, Some(Millis(300)));
    assert_eq!(t.resolved_at, Some(Millis(400)));
    let steps: Vec<_> = t
        .actions
        .iter()
        .map(|a| {
            (
                a.at.0,
                a.actor.as_str(),
                a.action.as_str(),
                a.result.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (0, "kiosk", "detected", "stacker full"),
            (100, "ops-li", "acknowledged", ""),
            (200, "kiosk", "reset", "no change"),
            (250, "ops-li", "called site", "manager on the way"),
            (300, "ops-li", "dispatched on site", ""),
            (400, "tech-wang", "resolved", "box emptied"),
        ]
    );
    // Unknown ids change nothing.
    assert!(b.acknowledge(TicketId(99), "x", Millis(1)).is_empty());
    assert!(b.dispatch(TicketId(99), "x", Millis(1)).is_empty());
}

#[test]
fn remote_fix_keeps_its_first_time() {
    let mut b = book();
    b.fault_detected(Acceptor, kind("offline"), "", Millis(0));
    b.remote_fix_tried(Acceptor, "reset", "failed", Millis(10));
    let changes = b.remote_fix_tried(Acceptor, "reopen port", "failed", Millis(20));
    let t = changes[0].ticket();
    assert_eq!(t.remote_fix_at, Some(Millis(10)));
    assert_eq!(t.state(), TicketState::RemoteFixTried);
    assert_eq!(t.actions.len(), 3);
    assert!(b
        .remote_fix_tried(Printer, "reset", "ok", Millis(30))
        .is_empty());
}

#[test]
fn escalation_happens_exactly_at_the_window_not_before() {
    let mut b = book();
    let id = opened(b.fault_detected(Acceptor, kind("offline"), "", Millis(1_000))).id;
    let due = Millis(1_000 + 10 * MIN);
    assert_eq!(b.next_deadline(), Some(due));
    assert!(b.poll(Millis(due.0 - 1)).is_empty());
    let changes = b.poll(due);
    let [TicketChange::Escalated(t)] = changes.as_slice() else {
        panic!("{changes:?}")
    };
    assert_eq!(t.id, id);
    assert_eq!(t.dispatched_at, Some(due));
    let last = t.actions.last().unwrap();
    assert_eq!(last.actor, "kiosk");
    assert_eq!(last.action, "escalated to on-site after 10 min");
    // Once dispatched it is not escalated again and no deadline remains.
    assert!(b.poll(Millis(due.0 + MIN)).is_empty());
    assert_eq!(b.next_deadline(), None);
}

#[test]
fn resolved_or_dispatched_tickets_are_not_escalated() {
    let mut b = book();
    let a = opened(b.fault_detected(Printer, kind("paper-out"), "", Millis(0))).id;
    let c = opened(b.fault_detected(Link, kind("offline"), "", Millis(MIN))).id;
    b.resolve(a, "ops", "paper loaded", Millis(2 * MIN));
    b.dispatch(c, "ops", Millis(3 * MIN));
    assert_eq!(b.next_deadline(), None);
    assert!(b.poll(Millis(60 * MIN)).is_empty());
}

#[test]
fn next_deadline_is_the_earliest_waiting_ticket() {
    let mut b = book();
    b.fault_detected(Link, kind("offline"), "", Millis(5 * MIN));
    b.fault_detected(Printer, kind("paper-out"), "", Millis(2 * MIN));
    assert_eq!(b.next_deadline(), Some(Millis(12 * MIN)));
    assert_eq!(b.poll(Millis(12 * MIN)).len(), 1);
    assert_eq!(b.next_deadline(), Some(Millis(15 * MIN)));
}

#[test]
fn a_fault_back_within_the_merge_window_reopens_its_ticket() {
    let policy = TicketPolicy {
        reopen_merge_ms: MIN,
        ..TicketPolicy::default()
    };
    let mut b = TicketBook::new(KioskId("K01".into()), "HALL7", policy);
    let id = opened(b.fault_detected(Printer, kind("paper-out"), "", Millis(0))).id;
    b.dispatch(id, "ops", Millis(10));
    b.fault_cleared(Printer, Millis(1_000));
    let t = opened(b.fault_detected(Printer, kind("paper-out"), "again", Millis(1_000 + MIN)));
    assert_eq!(t.id, id);
    assert_eq!(t.reopened_at, Some(Millis(1_000 + MIN)));
    assert_eq!((t.resolved_at, t.dispatched_at), (None, None));
    assert_eq!(t.state(), TicketState::Open);
    assert_eq!(t.actions.last().unwrap().action, "reopened");
    // Escalation counts from the reopening.
    assert_eq!(b.next_deadline(), Some(Millis(1_000 + 11 * MIN)));
    // Past the merge window: a new ticket.
    b.fault_cleared(Printer, Millis(2 * MIN));
    let fresh = opened(b.fault_detected(Printer, kind("paper-out"), "", Millis(3 * MIN + 1)));
    assert_eq!(fresh.id, TicketId(id.0 + 1));
}

#[test]
fn restore_continues_ids_and_keeps_open_tickets_open() {
    let mut b = book();
    b.fault_detected(Printer, kind("paper-out"), "", Millis(0));
    b.fault_detected(Link, kind("offline"), "", Millis(1));
    b.fault_detected(Acceptor, kind("jam"), "", Millis(2));
    b.fault_cleared(Link, Millis(3));
    let saved: Vec<Ticket> = b.all().into_iter().cloned().collect();
    let mut r = TicketBook::restore(
        KioskId("K01".into()),
        "HALL7",
        TicketPolicy::default(),
        saved,
    );
    assert_eq!(r.open_tickets().len(), 2);
    assert!(r
        .fault_detected(Printer, kind("paper-out"), "", Millis(4))
        .is_empty());
    assert_eq!(
        opened(r.fault_detected(Link, kind("offline"), "", Millis(5))).id,
        TicketId(4)
    );
    assert_eq!(r.next_deadline(), Some(Millis(10 * MIN)));
}

#[test]
fn severity_follows_the_rule_table() {
    let p = TicketPolicy::default();
    use crate::events::DeviceKind::Reader;
    use Severity::*;
    let cases = [
        (Acceptor, "offline", High),
        (Acceptor, "jam", High),
        (Printer, "paper-out", Medium),
        (Printer, "paper-low", Low),
        (CashBox, "full", High),
        (CashBox, "removed", Critical),
        (CashBox, "security:cash-box-removed", Critical),
        (Acceptor, "tampered", Critical),
        (Link, "offline", High),
        (Link, "link-slow", Medium),
        (Link, "frequent-failures", High),
        (Reader, "offline", Medium),
    ];
    for (device, k, severity) in cases {
        assert_eq!(p.severity(device, kind(k)), severity, "{device:?} {k}");
    }
}

#[test]
fn the_policy_reads_kebab_case_with_defaults_and_refuses_unknown_keys() {
    let p: TicketPolicy = serde_json::from_str(
        r#"{"escalation-window-ms": 300000,
            "severity-rules": [{"device": "printer", "kind": "paper-*", "severity": "high"}]}"#,
    )
    .unwrap();
    assert_eq!(p.escalation_window_ms, 300_000);
    assert_eq!(p.reopen_merge_ms, 0);
    assert_eq!(p.severity(Printer, kind("paper-low")), Severity::High);
    assert_eq!(p.severity(Acceptor, kind("jam")), Severity::Medium);
    assert!(serde_json::from_str::<TicketPolicy>(r#"{"escalation-window": 1}"#).is_err());
}

#[test]
fn actions_and_resolved_tickets_are_bounded() {
    let policy = TicketPolicy {
        actions_max: 3,
        resolved_kept_max: 2,
        ..TicketPolicy::default()
    };
    let mut b = TicketBook::new(KioskId("K01".into()), "HALL7", policy);
    let id = opened(b.fault_detected(Acceptor, kind("offline"), "first", Millis(0))).id;
    for i in 1..=5 {
        b.remote_fix_tried(Acceptor, format!("reset {i}"), "failed", Millis(i));
    }
    let t = b.get(id).unwrap();
    assert_eq!(t.actions.len(), 3);
    assert_eq!(t.actions[0].result, "first");
    assert_eq!(t.actions[2].action, "reset 5");
    assert_eq!(t.actions_dropped, 3);
    for i in 0..4 {
        b.fault_detected(Printer, kind("paper-out"), "", Millis(10 + i));
        b.fault_cleared(Printer, Millis(20 + i));
    }
    b.fault_cleared(Acceptor, Millis(30));
    let kept: Vec<u64> = b.all().iter().map(|t| t.id.0).collect();
    assert_eq!(kept, vec![4, 5]);
    assert_eq!(
        opened(b.fault_detected(Link, kind("offline"), "", Millis(40))).id,
        TicketId(6)
    );
}

#[test]
fn tickets_round_trip_through_json() {
    let mut b = book();
    let t = opened(b.fault_detected(Printer, kind("paper-out"), "no paper", Millis(5)));
    let json = serde_json::to_string(&t).unwrap();
    assert!(!json.contains("reopened_at"), "{json}");
    let back: Ticket = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}
