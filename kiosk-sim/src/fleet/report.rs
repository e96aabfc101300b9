//! [`SiteReport`]: what one run of the site model measured.

use std::fmt::Write as _;

use serde::Serialize;

use super::config::{Guidance, DAY_MS};
use super::faults::Ticket;
use super::stats::Summary;

/// What happened to the customers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CustomerCounts {
    /// Walked in.
    pub arrived: u64,
    /// Finished a session (whatever its outcome).
    pub served: u64,
    /// Of those, paid (credited or pending).
    pub paid: u64,
    /// No kiosk could take them on arrival (all down or queues full).
    pub turned_away: u64,
    /// Left unserved after being sent from kiosk to kiosk.
    pub gave_up: u64,
    /// Still queuing or at a kiosk when the run ended.
    pub in_site_at_end: u64,
    /// Times a customer had to walk to another kiosk (method unavailable,
    /// kiosk failed, dead screen).
    pub rerouted: u64,
}

/// How the payment sessions ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SessionCounts {
    /// Credited by the backend.
    pub credited: u64,
    /// Pending (the backend could not be reached after the notes were taken).
    pub pending: u64,
    /// Refused by the backend.
    pub refused: u64,
    /// Nothing paid (cancelled, account refused, method unavailable).
    pub no_payment: u64,
    /// Cut short by a device fault (a jam with nothing stacked).
    pub aborted: u64,
    /// Cut off by a kiosk crash or damage.
    pub interrupted: u64,
}

/// What the sessions recorded about money and devices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeviceCounts {
    /// Notes stacked into cash boxes.
    pub notes_stacked: u64,
    /// Notes rejected (counterfeit or badly inserted).
    pub notes_rejected: u64,
    /// Notes whose fate became unknown (jams).
    pub notes_in_doubt: u64,
    /// Receipts kept for reprint (printer faults).
    pub receipts_kept: u64,
    /// Session alerts raised.
    pub alerts: u64,
    /// Tickets the kiosks' machines opened for something other than a
    /// modelled fault (frequent payment failures, a slow link, …).
    pub other_tickets: u64,
}

/// A spare brought in for a kiosk out of service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Switchover {
    /// The spare.
    pub spare: String,
    /// The kiosk it stands in for.
    pub covering: String,
    /// The ticket that dispatched it.
    pub ticket: u32,
    /// When it was requested (the on-site dispatch).
    pub requested_ms: u64,
    /// When it took customers (`None`: the kiosk came back first, or the run ended).
    pub in_service_ms: Option<u64>,
    /// When it went back to standby.
    pub released_ms: Option<u64>,
}

/// What one run of the site model measured.
///
/// Times are milliseconds since the start of the run (day 0, midnight);
/// durations in seconds where the name ends in `_s`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SiteReport {
    /// Site name.
    pub site: String,
    /// The seed (reproduce with it).
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// The guidance policy.
    pub guidance: Guidance,
    /// Kiosks in service.
    pub kiosks: u32,
    /// Spares available.
    pub spares: u32,
    /// Kiosks × opening hours × days: the work simulated.
    pub kiosk_hours: f64,
    /// The run's end (the midnight after the last day).
    pub end_ms: u64,
    /// Customers.
    pub customers: CustomerCounts,
    /// Session outcomes.
    pub sessions: SessionCounts,
    /// Arrival → start of the session that served them, served customers.
    pub wait_s: Summary,
    /// The same for customers who arrived in the rush hour.
    pub rush_wait_s: Summary,
    /// People waiting in the queue a customer joined, when they joined.
    pub queue_len: Summary,
    /// The same for the rush hour.
    pub rush_queue_len: Summary,
    /// Mean number of people waiting at the site while it is open.
    pub waiting_mean: f64,
    /// Customer steps up → leaves, from the real session flow.
    pub service_s: Summary,
    /// |estimated − actual| wait told by guidance (no samples unguided).
    pub estimate_error_s: Summary,
    /// Money and device records.
    pub devices: DeviceCounts,
    /// Every fault ticket.
    pub tickets: Vec<Ticket>,
    /// Fault draws skipped because that kind was already open on the kiosk.
    pub faults_suppressed: u64,
    /// Spares brought in.
    pub switchovers: Vec<Switchover>,
    /// Events processed.
    pub events: u64,
    /// The run hit `events-max` and stopped early.
    pub truncated: bool,
    /// Hash of the event sequence: equal for equal config and seed.
    pub digest: u64,
}

/// `d<day> HH:MM:SS` of a run time.
pub(crate) fn clock(ms: u64) -> String {
    let s = (ms % DAY_MS) / 1000;
    format!(
        "d{} {:02}:{:02}:{:02}",
        ms / DAY_MS,
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// One line: `mean / p50 / p95 / max`.
/// Seconds get one decimal, counts (empty `unit`) two for the mean.
pub(crate) fn line(s: &Summary, unit: &str) -> String {
    let mean = if unit.is_empty() { 2 } else { 1 };
    format!(
        "mean {:.mean$}{unit}  p50 {:.1}{unit}  p95 {:.1}{unit}  max {:.1}{unit}  (n={})",
        s.mean, s.p50, s.p95, s.max, s.count
    )
}

impl SiteReport {
    /// The digest (hash of the event sequence).
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// A terminal summary.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let c = &self.customers;
        let s = &self.sessions;
        let _ = writeln!(
            o,
            "site {}: {} kiosks + {} spares, {} day(s), guidance {:?}, {:.0} kiosk-hours",
            self.site, self.kiosks, self.spares, self.days, self.guidance, self.kiosk_hours
        );
        let _ = writeln!(
            o,
            "  customers: {} arrived, {} served ({} paid), {} turned away, {} gave up, {} rerouted, {} in site at end",
            c.arrived, c.served, c.paid, c.turned_away, c.gave_up, c.rerouted, c.in_site_at_end
        );
        let _ = writeln!(
            o,
            "  sessions: {} credited, {} pending, {} refused, {} no payment, {} aborted, {} interrupted",
            s.credited, s.pending, s.refused, s.no_payment, s.aborted, s.interrupted
        );
        let _ = writeln!(o, "  wait:            {}", line(&self.wait_s, "s"));
        let _ = writeln!(o, "  wait (rush):     {}", line(&self.rush_wait_s, "s"));
        let _ = writeln!(o, "  queue len:       {}", line(&self.queue_len, ""));
        let _ = writeln!(o, "  queue len (rush):{}", line(&self.rush_queue_len, ""));
        let _ = writeln!(o, "  waiting (mean while open): {:.2}", self.waiting_mean);
        let _ = writeln!(o, "  service time:    {}", line(&self.service_s, "s"));
        if self.estimate_error_s.count > 0 {
            let _ = writeln!(
                o,
                "  estimate error:  {}",
                line(&self.estimate_error_s, "s")
            );
        }
        let d = &self.devices;
        let _ = writeln!(
            o,
            "  notes: {} stacked, {} rejected, {} in doubt; {} receipts kept; {} alerts",
            d.notes_stacked, d.notes_rejected, d.notes_in_doubt, d.receipts_kept, d.alerts
        );
        let open = self.tickets.iter().filter(|t| !t.resolved).count();
        let _ = writeln!(
            o,
            "  faults: {} tickets ({} open at end)",
            self.tickets.len(),
            open
        );
        for sw in &self.switchovers {
            let at = sw.in_service_ms.map_or("never".to_string(), clock);
            let _ = writeln!(
                o,
                "  spare {} for {} (ticket {}): requested {}, in service {}",
                sw.spare,
                sw.covering,
                sw.ticket,
                clock(sw.requested_ms),
                at
            );
        }
        let _ = writeln!(
            o,
            "  {} events{}, digest {:016x}; reproduce with seed={}",
            self.events,
            if self.truncated {
                " (TRUNCATED at events-max)"
            } else {
                ""
            },
            self.digest,
            self.seed
        );
        o
    }
}
