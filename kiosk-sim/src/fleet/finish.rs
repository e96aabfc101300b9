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
        let errors = self
            .records
            .iter()
            .filter_map(|r| Some(r.estimate_ms?.abs_diff(r.first_start_ms? - r.arrival_ms)));
        let open_ms = self.cal.open_hours_per_day() * 3_600_000.0 * f64::from(self.opts.days);
        // Sessions and notes as the kiosks' machines journaled them.
        let mut s = [0u64; 6];
        let mut devices = DeviceCounts::default();
        for k in &self.kiosks {
            let j = &k.exec.journal;
            for (total, n) in s.iter_mut().zip(j.outcomes) {
                *total += n;
            }
            devices.notes_stacked += j.notes_stacked;
            devices.notes_rejected += j.notes_rejected;
            devices.notes_in_doubt += j.notes_in_doubt;
            devices.receipts_kept += j.receipts_kept;
            devices.alerts += k.exec.alerts;
        }
        devices.other_tickets = self.other_tickets;
        s[3] += self.unjournaled_no_payment;
        let kiosk_hours =
            self.primaries as f64 * self.cal.open_hours_per_day() * f64::from(self.opts.days);
        let digest = [
            customers.served,
            customers.paid,
            self.tickets.len() as u64,
            devices.notes_stacked,
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
            service_s: Summary::of(self.service_ms.iter().copied(), 0.001),
            estimate_error_s: Summary::of(errors, 0.001),
            devices,
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
            money: self
                .kiosks
                .iter()
                .map(|k| (k.exec.acceptor.physical_minor(), k.exec.journal.money()))
                .collect(),
            machine_tickets: self
                .kiosks
                .iter()
                .map(|k| k.exec.journal.tickets().cloned().collect())
                .collect(),
        }
    }
}
