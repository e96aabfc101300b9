//! Turning a finished engine into its [`SiteReport`].

use kiosk_core::journal::SessionOutcome;

use super::report::{CustomerCounts, DeviceCounts, SessionCounts, SiteReport};
use super::sim::{fold, Engine, RunResult};
use super::stats::{wait_and_queue, Fate, Summary};

impl Engine<'_> {
    /// Builds the report; the engine has stopped at its horizon.
    pub(crate) fn finish(mut self) -> RunResult {
        let mut customers = CustomerCounts {
            arrived: self.records.len() as u64,
            rerouted: self.rerouted,
            ..CustomerCounts::default()
        };
        for r in &self.records {
            match r.fate {
                Fate::InSite => customers.in_site_at_end += 1,
                Fate::TurnedAway => customers.turned_away += 1,
                Fate::GaveUp => customers.gave_up += 1,
                Fate::Served(o) => {
                    customers.served += 1;
                    if matches!(o, SessionOutcome::Credited | SessionOutcome::Pending) {
                        customers.paid += 1;
                    }
                }
            }
        }
        let (wait_s, queue_len) = wait_and_queue(&self.records, |_| true);
        let (rush_wait_s, rush_queue_len) = wait_and_queue(&self.records, |r| r.rush);
        let mut errors: Vec<u64> = self
            .records
            .iter()
            .filter_map(|r| Some(r.estimate_ms?.abs_diff(r.first_start_ms? - r.arrival_ms)))
            .collect();
        let open_ms = self.cal.open_hours_per_day() * 3_600_000.0 * f64::from(self.opts.days);
        let s = self.sessions;
        let t = self.tally;
        let kiosk_hours =
            self.primaries as f64 * self.cal.open_hours_per_day() * f64::from(self.opts.days);
        let digest = [
            customers.served,
            customers.paid,
            self.tickets.len() as u64,
            t.notes_stacked,
        ]
        .iter()
        .fold(self.digest, |d, v| fold(d, *v));
        let report = SiteReport {
            site: self.config.name.clone(),
            seed: self.seed,
            days: self.opts.days,
            guidance: self.opts.guidance,
            kiosks: self.config.kiosks,
            spares: self.opts.spares,
            kiosk_hours,
            end_ms: self.horizon_ms,
            customers,
            sessions: SessionCounts {
                credited: s[0],
                pending: s[1],
                refused: s[2],
                no_payment: s[3],
                aborted: s[4],
                interrupted: s[5],
            },
            wait_s,
            rush_wait_s,
            queue_len,
            rush_queue_len,
            waiting_mean: if open_ms > 0.0 {
                self.waiting_area / open_ms
            } else {
                0.0
            },
            service_s: Summary::of(&mut self.service_ms, 0.001),
            estimate_error_s: Summary::of(&mut errors, 0.001),
            devices: DeviceCounts {
                notes_stacked: t.notes_stacked,
                notes_rejected: t.notes_rejected,
                notes_in_doubt: t.notes_in_doubt,
                receipts_kept: t.receipts_kept,
                alerts: t.alerts,
            },
            tickets: std::mem::take(&mut self.tickets),
            faults_suppressed: self.suppressed,
            switchovers: std::mem::take(&mut self.switchovers),
            events: self.events,
            truncated: self.truncated,
            digest,
        };
        RunResult {
            report,
            records: std::mem::take(&mut self.records),
        }
    }
}
