//! Fault rates and workload shape: the first thing a seed decides.
//!
//! As in TigerBeetle's VOPR, the seed does not pick faults directly: it first
//! picks how often each kind of fault happens in this run (often zero, so
//! that a failing run says which rates it needed), and only then the
//! customers and faults themselves. Each rate is drawn from a short menu so
//! that runs can be grouped by it ("which checks fire at which rates").

use std::fmt;

use serde::Serialize;

use crate::rng::SimRng;

/// How often each fault happens, and how busy the kiosk is, in one run.
///
/// Probabilities are per operation (per stack, per posting, per note);
/// counts are how many times the thing happens in the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// Customers before the final probe customer.
    pub customers: u32,
    /// Share of customers paying cash (the rest present a QR code).
    pub cash_share: f64,
    /// Most notes one customer inserts.
    pub notes_max: u32,
    /// Share of notes that are counterfeit.
    pub counterfeit: f64,
    /// Share of notes of a value the kiosk does not take (1, 5 yuan).
    pub odd_notes: f64,
    /// Share of customers who cancel or walk away instead of confirming.
    pub not_confirming: f64,
    /// Per stack: the note jams (acceptor head or stacker, any fate).
    pub jam: f64,
    /// Of jams: share that never clear by themselves (the kiosk must reset).
    pub jam_stuck: f64,
    /// Per stack: power is lost while the note moves.
    pub stack_power_cycle: f64,
    /// Acceptor power cycles at random instants (idle, validating, escrow, stacking).
    pub power_cycles: u32,
    /// Per inserted note: a fraud attempt.
    pub fraud: f64,
    /// Acceptor offline windows.
    pub acceptor_offline: u32,
    /// Times staff pull the cash box out without a clearing (and put it back).
    pub box_removals: u32,
    /// Dual-control clearings (box out, counted, back in).
    pub clearings: u32,
    /// Printer faults (conditions and mid-receipt failures).
    pub printer_faults: u32,
    /// Per posting: the answer is lost (the backend applied it).
    pub lost_answers: f64,
    /// Per posting: the answer is garbage (the backend applied it).
    pub nonsense: f64,
    /// Per account check: the answer is lost.
    pub lost_lookups: f64,
    /// Link down windows.
    pub link_drops: u32,
    /// Accounts closed while their customer pays (the posting is refused).
    pub refusals: u32,
    /// Share of QR customers who show a code already used.
    pub reused_codes: f64,
    /// Kiosk power losses (the process stops dead, restarts after the outage).
    pub power_losses: u32,
    /// Remote restarts and self-tests.
    pub commands: u32,
    /// Per acceptor report handed to the kiosk (repeats included): the
    /// kiosk loses power after taking it and before acknowledging it, so
    /// the device hands the same report to the next life.
    pub report_power_losses: f64,
}

fn pick<T: Copy>(rng: &mut SimRng, menu: &[T]) -> T {
    menu[rng.below(menu.len() as u64) as usize]
}

impl Rates {
    /// Draws the rates from `rng` (the run's seed, forked for rates).
    pub fn draw(rng: &mut SimRng) -> Rates {
        const P: &[f64] = &[0.0, 0.0, 0.05, 0.15, 0.4];
        const N: &[u32] = &[0, 0, 1, 2, 3];
        Rates {
            customers: pick(rng, &[1, 2, 3, 4, 6]),
            cash_share: pick(rng, &[1.0, 0.75, 0.5]),
            notes_max: pick(rng, &[1, 2, 3, 5]),
            counterfeit: pick(rng, &[0.0, 0.1, 0.3]),
            odd_notes: pick(rng, &[0.0, 0.1]),
            not_confirming: pick(rng, &[0.0, 0.2, 0.5]),
            jam: pick(rng, P),
            jam_stuck: pick(rng, &[0.0, 0.5]),
            stack_power_cycle: pick(rng, P),
            power_cycles: pick(rng, N),
            fraud: pick(rng, &[0.0, 0.0, 0.05, 0.2]),
            acceptor_offline: pick(rng, N),
            box_removals: pick(rng, &[0, 0, 1, 2]),
            clearings: pick(rng, &[0, 0, 1]),
            printer_faults: pick(rng, N),
            lost_answers: pick(rng, P),
            nonsense: pick(rng, &[0.0, 0.0, 0.1, 0.3]),
            lost_lookups: pick(rng, &[0.0, 0.0, 0.1, 0.3]),
            link_drops: pick(rng, N),
            refusals: pick(rng, &[0, 0, 1, 2]),
            reused_codes: pick(rng, &[0.0, 0.3]),
            power_losses: pick(rng, N),
            commands: pick(rng, &[0, 0, 1, 2]),
            // Drawn last: every earlier rate of a seed is what it was
            // before this fault existed.
            report_power_losses: pick(rng, P),
        }
    }

    /// Each rate as (name, value) for reports and grouping.
    pub fn dims(&self) -> Vec<(&'static str, String)> {
        let p = |v: f64| format!("{v}");
        vec![
            ("customers", self.customers.to_string()),
            ("cash-share", p(self.cash_share)),
            ("notes-max", self.notes_max.to_string()),
            ("counterfeit", p(self.counterfeit)),
            ("odd-notes", p(self.odd_notes)),
            ("not-confirming", p(self.not_confirming)),
            ("jam", p(self.jam)),
            ("jam-stuck", p(self.jam_stuck)),
            ("stack-power-cycle", p(self.stack_power_cycle)),
            ("power-cycles", self.power_cycles.to_string()),
            ("fraud", p(self.fraud)),
            ("acceptor-offline", self.acceptor_offline.to_string()),
            ("box-removals", self.box_removals.to_string()),
            ("clearings", self.clearings.to_string()),
            ("printer-faults", self.printer_faults.to_string()),
            ("lost-answers", p(self.lost_answers)),
            ("nonsense", p(self.nonsense)),
            ("lost-lookups", p(self.lost_lookups)),
            ("link-drops", self.link_drops.to_string()),
            ("refusals", self.refusals.to_string()),
            ("reused-codes", p(self.reused_codes)),
            ("power-losses", self.power_losses.to_string()),
            ("commands", self.commands.to_string()),
            ("report-power-losses", p(self.report_power_losses)),
        ]
    }
}

impl fmt::Display for Rates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .dims()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        f.write_str(&parts.join(" "))
    }
}
