//! Every built-in drill passes with a fixed seed, and bad drill input is a clear error.
#![forbid(unsafe_code)]

use kiosk_sim::drill::catalog::BUILTIN_DRILLS;
use kiosk_sim::drill::{builtin, run_drill, Scenario};

#[test]
fn every_builtin_drill_passes() {
    let mut failures = Vec::new();
    for d in BUILTIN_DRILLS {
        let scenario = builtin(d.id).expect("built-in drill parses");
        let report = run_drill(&scenario, 1).expect("drill runs");
        if !report.passed {
            failures.push(report.render_text());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_three_foundation_drills_report_their_timings() {
    for (id, resolves) in [
        ("printer-paper-out", false),
        ("counterfeit-note", false),
        ("link-drop-mid-payment", true),
    ] {
        let report = run_drill(&builtin(id).unwrap(), 7).unwrap();
        assert!(report.passed, "{}", report.render_text());
        assert!(report.invariant.as_ref().is_some_and(|i| i.holds));
        assert!(report.timings.fault_at_ms.is_some(), "{id}: fault time");
        assert!(report.timings.detect_ms.is_some(), "{id}: detection time");
        assert!(report.timings.fallback_ms.is_some(), "{id}: fallback time");
        assert_eq!(
            report.timings.resolve_ms.is_some(),
            resolves,
            "{id}: resolution"
        );
    }
}

#[test]
fn link_drop_credits_exactly_once_after_retries() {
    let scenario = builtin("link-drop-mid-payment").unwrap();
    let run = kiosk_sim::drill::run_once(&scenario, 3).unwrap();
    let postings = run.backend.postings();
    assert_eq!(postings.len(), 1, "one key for the one payment");
    assert_eq!(postings[0].times_applied, 1);
    assert!(
        postings[0].times_received >= 1,
        "the retry reached the backend"
    );
    let attempts = run
        .trace
        .iter()
        .filter(|e| matches!(e.event, kiosk_core::KioskEvent::PostingAttempt { .. }))
        .count();
    assert!(
        attempts >= 3,
        "retried while the link was down ({attempts} attempts)"
    );
}

#[test]
fn unknown_drill_ids_and_malformed_files_are_clear_errors() {
    let err = builtin("paper-jam").unwrap_err();
    assert!(err.message.contains("unknown drill id"));
    assert!(
        err.message.contains("printer-jam"),
        "lists the known ids: {err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "id = \"x\"\ntitle = \"y\"\n[printer]\n[[printer.faults]]\ntrigger = { when = \"at\", at-ms = 5 }\nfault = { type = \"paper-gone\" }\n",
    )
    .unwrap();
    let err = Scenario::from_file(&path).unwrap_err();
    assert!(err.source_name.ends_with("bad.toml"));
    assert!(err.message.contains("line 6"), "{err}");
    assert!(err.message.contains("paper-gone"), "{err}");
}

#[test]
fn an_offline_acceptor_is_reset_with_backoff_and_its_ticket_records_each_try() {
    let scenario = builtin("acceptor-offline").unwrap();
    let run = kiosk_sim::drill::run_once(&scenario, 1).unwrap();
    let tickets = run.kiosk.journal().tickets().unwrap();
    let offline = tickets
        .iter()
        .find(|t| {
            t.device == kiosk_core::DeviceKind::Acceptor
                && t.kind == kiosk_core::tickets::TicketKind::Device(kiosk_hal::ErrorKind::Offline)
        })
        .expect("a ticket for the offline acceptor");
    assert!(offline.remote_fix_at.is_some(), "a remote fix was tried");
    assert!(
        offline.dispatched_at.is_some(),
        "escalated after the window"
    );
    assert!(
        offline.resolved_at.is_some(),
        "resolved when the device came back"
    );
    let resets = offline
        .actions
        .iter()
        .filter(|a| a.action.contains("reset"))
        .count();
    // A 60 s outage with resets at 2, 4, 8, 16, 32 s intervals: a handful
    // of tries, not one per 2 s health check.
    assert!((3..=8).contains(&resets), "{resets} reset tries");
}

#[test]
fn a_kept_receipt_is_reprinted_once_the_printer_is_serviced() {
    let scenario = builtin("printer-paper-out").unwrap();
    let run = kiosk_sim::drill::run_once(&scenario, 1).unwrap();
    assert!(
        run.kiosk.journal().unprinted_receipts().unwrap().is_empty(),
        "nothing is owed after the reprint"
    );
    let printed = run.printer.receipts();
    assert_eq!(printed.len(), 1, "the paper ran out before the first print");
    assert_eq!(printed[0].receipt.reference, "K01-000001");
}
