//! Tests of the site model as a whole: determinism, the three drills.

use super::*;

fn week() -> SiteConfig {
    SiteConfig {
        days: 7,
        ..SiteConfig::default()
    }
}

#[test]
fn same_seed_same_run_and_different_seeds_differ() {
    let config = week();
    let a = simulate(&config, 42);
    let b = simulate(&config, 42);
    assert_eq!(a, b, "a run must be a pure function of config and seed");
    assert_eq!(a.digest(), b.digest());
    let c = simulate(&config, 43);
    assert_ne!(a.digest(), c.digest());
    assert_ne!(a.customers, c.customers);
    assert!(!a.truncated);
    eprintln!("{}", a.render_text());
}

#[test]
fn every_customer_is_accounted_for() {
    let r = simulate(&week(), 7);
    let c = r.customers;
    assert_eq!(
        c.arrived,
        c.served + c.turned_away + c.gave_up + c.in_site_at_end
    );
    assert!(c.served > 0 && c.paid <= c.served);
    let s = r.sessions;
    assert!(s.credited + s.pending + s.refused + s.no_payment + s.aborted >= c.served);
    // Opening hours of a week: 4 kiosks × 9 h × 7 days.
    assert_eq!(r.kiosk_hours, 252.0);
}

/// A rush hour that loads the site close to its capacity: 245 customers an
/// hour at about 55 s each is 3.7 of the 4 kiosks busy.
fn rush_config() -> SiteConfig {
    SiteConfig {
        days: 5,
        arrivals_per_hour: 70.0,
        rush: RushHour {
            factor: 3.5,
            ..RushHour::default()
        },
        ..SiteConfig::default()
    }
}

/// Measured (seeds 1, 2, 3, 2024): guided against the proximity-weighted
/// random pick, mean queue length 77–88% shorter and mean wait 74–84%
/// shorter; against customers who join the shortest visible queue, mean
/// wait 0–13% shorter (the gain there is knowing which methods work and
/// how far along the current customer is). The assertions keep a margin
/// below those figures, not at the 20% target.
#[test]
fn guidance_beats_no_guidance_in_the_rush() {
    let report = compare_guidance(&rush_config(), 2024);
    eprintln!("{}", report.render_text());
    let i = report.improvement;
    assert!(i.mean_queue_len_pct >= 60.0, "{i:?}");
    assert!(i.mean_wait_pct >= 60.0, "{i:?}");
    assert!(i.rush_mean_wait_pct >= 60.0, "{i:?}");
    assert!(report.meets_target);
    // Against customers who look at the queues guidance is about as good,
    // never materially worse.
    let j = report.improvement_vs_self_organised;
    assert!(j.mean_wait_pct > -5.0, "{j:?}");
    // The same customers arrived in all three runs.
    assert_eq!(
        report.guided.customers.arrived,
        report.unguided.customers.arrived
    );
    assert_eq!(
        report.guided.customers.arrived,
        report.self_organised.customers.arrived
    );
    assert!(report.guided.estimate_error_s.count > 0);
    assert_eq!(report.unguided.estimate_error_s.count, 0);
}

#[test]
fn a_month_of_fault_statistics_adds_up() {
    let config = SiteConfig::default();
    let stats = fault_statistics(&config, 99, 30);
    eprintln!("{}", stats.render_text());
    assert!(
        stats.total > 20,
        "a month at default rates has faults: {}",
        stats.total
    );
    assert_eq!(stats.resolved + stats.open_at_end, stats.total);
    assert_eq!(
        stats.by_kind.iter().map(|k| k.count).sum::<u64>(),
        stats.total
    );
    assert!(
        stats.by_kind.windows(2).all(|w| w[0].count >= w[1].count),
        "ranked"
    );
    assert!(stats.within_target <= stats.response_s.count);
    assert!(stats.response_s.max <= stats.repair_s.max);
    assert!(stats.remote_fixed + stats.dispatched <= stats.total);
    assert_eq!(stats, fault_statistics(&config, 99, 30), "deterministic");
}

#[test]
fn a_spare_shortens_the_wait_after_a_kiosk_fails() {
    let config = SiteConfig::default();
    let report = spare_switchover(&config, 11, &SwitchoverDrill::default());
    eprintln!("{}", report.render_text());
    let ticket = report.ticket.as_ref().expect("the failure opens a ticket");
    assert_eq!(ticket.kind, FaultKind::DeviceDamaged);
    assert_eq!(ticket.kiosk, report.kiosk);
    let spare = report.switchover.as_ref().expect("a spare was brought in");
    assert!(spare.in_service_ms.is_some());
    assert_eq!(
        report.with_spares.before, report.without_spares.before,
        "same day before the failure"
    );
    let (with, without) = (report.with_spares.after, report.without_spares.after);
    assert!(
        with.wait_s.mean < without.wait_s.mean,
        "{with:?} vs {without:?}"
    );
    assert!(report.after_wait_improvement_pct > 0.0);
}

#[test]
fn config_embeds_in_a_drill_scenario_under_site() {
    #[derive(serde::Deserialize)]
    struct Scenario {
        site: SiteConfig,
    }
    let s: Scenario = toml::from_str(
        r#"
[site]
name = "hall-7"
kiosks = 3
guidance = "none"
[site.rush]
factor = 4.0
[site.faults.kinds.printer-paper-out]
rate-per-kiosk-hour = 0.05
"#,
    )
    .unwrap();
    assert_eq!(s.site.kiosks, 3);
    assert_eq!(s.site.guidance, Guidance::None);
    assert_eq!(
        s.site
            .faults
            .profile(FaultKind::PrinterPaperOut)
            .rate_per_kiosk_hour,
        0.05
    );
    s.site.validate().unwrap();
    let r = simulate(&s.site, 1);
    assert!(r.render_text().contains("hall-7"));
    assert!(serde_json::to_string(&r)
        .unwrap()
        .contains("\"kiosk-hours\""));
}

#[test]
fn events_max_truncates_instead_of_running_on() {
    let config = SiteConfig {
        events_max: 1_000,
        ..SiteConfig::default()
    };
    let r = simulate(&config, 5);
    assert!(r.truncated);
    assert_eq!(r.events, 1_000);
}

/// Jams forced on the nearest kiosk through a busy day: one that strikes
/// while a customer feeds notes is reported by the acceptor at once, and
/// the kiosk's own machine opens the ticket (in its ticket book, saved in
/// its journal) at that moment; the fleet's ticket is that one.
#[test]
fn a_jam_during_a_session_is_detected_by_the_machine_and_ticketed_in_its_book() {
    let config = SiteConfig {
        faults: FaultConfig {
            enabled: false,
            ..FaultConfig::default()
        },
        ..SiteConfig::default()
    };
    let opts = sim::RunOptions {
        guidance: config.guidance,
        days: 1,
        spares: 0,
        forced: (0..40)
            .map(|i| sim::ForcedFault {
                kiosk: 0,
                at_ms: 9 * 3_600_000 + i * 600_000,
                kind: FaultKind::BillJam,
            })
            .collect(),
    };
    let run = sim::run(&config, 3, &opts);
    let tickets = &run.report.tickets;
    assert!(!tickets.is_empty(), "the jams were detected");
    let in_session = tickets
        .iter()
        .find(|t| t.detected_ms == t.started_ms)
        .expect("a jam struck while notes went in and was detected at once");
    let id = in_session.machine_ticket.expect("the machine opened it");
    let book = &run.machine_tickets[0];
    let machine = book
        .iter()
        .find(|t| t.id.0 == id)
        .expect("the ticket is in the machine's journaled ticket book");
    assert_eq!(machine.device, kiosk_core::DeviceKind::Acceptor);
    assert_eq!(
        machine.kind,
        kiosk_core::tickets::TicketKind::Device(kiosk_hal::ErrorKind::Jam)
    );
    assert_eq!(machine.opened_at.0, in_session.detected_ms);
    // A jam while notes go in puts the session's note in doubt (an idle
    // jam does not: no note is in the path).
    assert!(
        run.report.devices.notes_in_doubt > 0,
        "{:?}",
        run.report.devices
    );
    // Every fleet ticket but a crash's is one of the machines' tickets.
    for t in tickets {
        let id = t.machine_ticket.expect("jams are detected by the machine");
        assert!(book.iter().any(|m| m.id.0 == id), "{t:?}");
    }
}

/// The money line, per kiosk, after a fortnight with faults five times as
/// frequent as usual (jams with notes in the path, acceptors going offline
/// mid-stack, crashes with notes in escrow, the link down with payments
/// pending): the cash the virtual acceptor put in the box or holds in its
/// path equals what the kiosk's machine journaled as credited + pending +
/// held + in doubt (+ stacked or escrowed in a session not yet posted).
#[test]
fn every_kiosks_cash_box_matches_what_its_machine_journaled() {
    let config = SiteConfig {
        faults: FaultConfig {
            rate_scale: 5.0,
            ..FaultConfig::default()
        },
        ..SiteConfig::default()
    };
    let opts = sim::RunOptions {
        guidance: config.guidance,
        days: 14,
        spares: config.spares,
        forced: Vec::new(),
    };
    // Three seeds: the money line must hold in each, and between them
    // every kind of disturbance the line is meant to survive happens.
    let (mut boxed, mut stacked, mut in_doubt, mut interrupted) = (0, 0, 0, 0);
    for seed in [17, 18, 19] {
        let run = sim::run(&config, seed, &opts);
        for (k, (physical, journal)) in run.money.iter().enumerate() {
            assert_eq!(
                *physical,
                journal.total(),
                "seed {seed}, kiosk {k}: box and path {physical} vs journal {journal:?}"
            );
            boxed += physical;
        }
        stacked += run.report.devices.notes_stacked;
        in_doubt += run.report.devices.notes_in_doubt;
        interrupted += run.report.sessions.interrupted;
    }
    assert!(boxed > 0);
    assert!(stacked > 3_000, "{stacked} notes stacked");
    assert!(in_doubt > 0, "some notes went in doubt");
    assert!(interrupted > 0, "some sessions were cut by a crash");
}
