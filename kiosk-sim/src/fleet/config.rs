//! [`SiteConfig`]: everything the site model needs, every default documented.
//!
//! It deserialises from TOML (kebab-case, unknown fields rejected), so a
//! drill scenario can embed it under `[site]`; every field may be left out.

use core::fmt;

use kiosk_core::SessionConfig;
use serde::{Deserialize, Serialize};

use super::dist::{Dist, SHAPE_MAX};
use super::faults::FaultConfig;

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// A time of day, written `"HH:MM"` (or `"HH:MM:SS"`) in TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay {
    /// Milliseconds since midnight, `< 86 400 000`.
    pub ms: u64,
}

impl TimeOfDay {
    /// `hours:minutes`.
    pub const fn hm(hours: u64, minutes: u64) -> TimeOfDay {
        TimeOfDay {
            ms: (hours * 60 + minutes) * 60_000,
        }
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || format!("time of day {s:?} is not HH:MM or HH:MM:SS");
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut fields = [0u64; 3];
        for (field, part) in fields.iter_mut().zip(&parts) {
            if part.len() != 2 {
                return Err(bad());
            }
            *field = part.parse().map_err(|_| bad())?;
        }
        let [h, m, sec] = fields;
        if h > 23 || m > 59 || sec > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay {
            ms: ((h * 60 + m) * 60 + sec) * 1000,
        })
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.ms / 1000;
        write!(f, "{:02}:{:02}", s / 3600, (s / 60) % 60)?;
        if !s.is_multiple_of(60) {
            write!(f, ":{:02}", s % 60)?;
        }
        Ok(())
    }
}

/// How arriving customers find a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guidance {
    /// No guidance: each customer picks a kiosk at random, weighted by its
    /// proximity to the entrance (weight `proximity-decay ^ position`). They
    /// do not know which kiosk has a method out of order until they reach it.
    None,
    /// No guidance, but customers look: each joins the queue with the fewest
    /// people (counting the one at the kiosk), nearest first on ties. They
    /// cannot see how far along the current customer is, nor which methods
    /// work.
    ShortestQueue,
    /// A floor guide / queue screen sends each customer to the kiosk with the
    /// least expected wait (queue length × the kiosk's recent mean service
    /// time + the current customer's expected remaining time) among those
    /// offering the customer's method, and tells them that estimate.
    ShortestExpectedWait,
}

/// The rush hour: a window of the opening hours with a higher arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RushHour {
    /// Start (default 11:30).
    pub start: TimeOfDay,
    /// End (default 13:30).
    pub end: TimeOfDay,
    /// Arrival rate in the window as a multiple of the base rate (default 3.0).
    pub factor: f64,
}

impl Default for RushHour {
    fn default() -> Self {
        RushHour {
            start: TimeOfDay::hm(11, 30),
            end: TimeOfDay::hm(13, 30),
            factor: 3.0,
        }
    }
}

/// How customers behave; shares are probabilities in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomerConfig {
    /// Share who come to pay cash; the rest present a payment code (default 0.6).
    pub cash_share: f64,
    /// Share who would use the other method when theirs is unavailable (default 0.5).
    pub flexible_share: f64,
    /// Share whose account the backend refuses (default 0.02).
    pub account_refused_share: f64,
    /// Share who cancel at the confirmation screen (default 0.01).
    pub confirm_cancel_share: f64,
    /// Share of cash customers who never press Confirm and let the session's
    /// insertion idle timeout end it (default 0.1).
    pub idle_confirm_share: f64,
    /// Chance that one note insertion is rejected (default 0.04).
    pub note_reject_share: f64,
    /// Of rejected notes, the share rejected as counterfeit rather than
    /// badly inserted (default 0.25).
    pub counterfeit_share: f64,
    /// Attempts per note before the customer gives that note up (default 3).
    pub note_attempts_max: u32,
    /// Note insertions per session, a hard limit (default 20).
    pub notes_max: u32,
    /// Smallest amount due, in major units (default 20).
    pub amount_due_min_major: i64,
    /// Largest amount due, in major units (default 300).
    pub amount_due_max_major: i64,
    /// Chance that one code presentation is unreadable (default 0.05).
    pub code_unreadable_share: f64,
    /// Code presentations before the customer gives up (default 3).
    pub code_attempts_max: u32,
}

impl Default for CustomerConfig {
    fn default() -> Self {
        CustomerConfig {
            cash_share: 0.6,
            flexible_share: 0.5,
            account_refused_share: 0.02,
            confirm_cancel_share: 0.01,
            idle_confirm_share: 0.1,
            note_reject_share: 0.04,
            counterfeit_share: 0.25,
            note_attempts_max: 3,
            notes_max: 20,
            amount_due_min_major: 20,
            amount_due_max_major: 300,
            code_unreadable_share: 0.05,
            code_attempts_max: 3,
        }
    }
}

/// How long each step of a payment takes, customer and devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Timings {
    /// Stepping up and typing the account number (default mean 15 s, shape 4).
    pub account_entry: Dist,
    /// The backend's account check (default mean 800 ms, shape 2).
    pub account_check: Dist,
    /// Reading the account details and choosing a method (default 6 s, shape 3).
    pub confirm: Dist,
    /// Taking a note out and feeding it in (default 4 s, shape 3).
    pub note_insert: Dist,
    /// The acceptor validating a note into escrow or rejecting it (default 1.5 s, shape 8).
    pub note_validate: Dist,
    /// Stacking an escrowed note (default 1 s, shape 8).
    pub note_stack: Dist,
    /// Returning an escrowed note (default 1 s, shape 8).
    pub note_return: Dist,
    /// Pressing Confirm after the last note (default 3 s, shape 3).
    pub confirm_press: Dist,
    /// Opening the wallet app and presenting a code (default 12 s, shape 3).
    pub code_present: Dist,
    /// The backend's answer to a posting (default 1.2 s, shape 2).
    pub posting: Dist,
    /// Printing and cutting the receipt (default 4 s, shape 6).
    pub printing: Dist,
    /// Taking the receipt and leaving; the next customer steps up after it
    /// (default 5 s, shape 3). Also how long a customer needs to notice a
    /// dead kiosk.
    pub changeover: Dist,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            account_entry: Dist::erlang(15_000, 4),
            account_check: Dist::erlang(800, 2),
            confirm: Dist::erlang(6_000, 3),
            note_insert: Dist::erlang(4_000, 3),
            note_validate: Dist::erlang(1_500, 8),
            note_stack: Dist::erlang(1_000, 8),
            note_return: Dist::erlang(1_000, 8),
            confirm_press: Dist::erlang(3_000, 3),
            code_present: Dist::erlang(12_000, 3),
            posting: Dist::erlang(1_200, 2),
            printing: Dist::erlang(4_000, 6),
            changeover: Dist::erlang(5_000, 3),
        }
    }
}

impl Timings {
    fn all(&self) -> [(&'static str, &Dist); 12] {
        [
            ("account-entry", &self.account_entry),
            ("account-check", &self.account_check),
            ("confirm", &self.confirm),
            ("note-insert", &self.note_insert),
            ("note-validate", &self.note_validate),
            ("note-stack", &self.note_stack),
            ("note-return", &self.note_return),
            ("confirm-press", &self.confirm_press),
            ("code-present", &self.code_present),
            ("posting", &self.posting),
            ("printing", &self.printing),
            ("changeover", &self.changeover),
        ]
    }
}

/// One site (business hall): its kiosks, opening hours, customers and faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SiteConfig {
    /// Site name, used in kiosk ids and receipts (default `"site"`).
    pub name: String,
    /// Kiosks in service, `1..=1024` (default 4). Kiosk 1 is nearest the entrance.
    pub kiosks: u32,
    /// Spare kiosks on standby, `0..=8` (default 2, the operators' minimum).
    pub spares: u32,
    /// From the on-site dispatch for a kiosk that is out of service to its
    /// spare taking customers (default 1 200 000 ms = 20 min).
    pub spare_switchover_ms: u64,
    /// Opening time (default 08:30).
    pub open: TimeOfDay,
    /// Closing time: arrivals stop, those inside are still served (default 17:30).
    pub close: TimeOfDay,
    /// Base arrival rate of customers at the site (default 60 per hour).
    pub arrivals_per_hour: f64,
    /// The rush hour (default 11:30–13:30 at 3× the base rate).
    pub rush: RushHour,
    /// Days [`simulate`](super::simulate) runs, `1..=366` (default 1).
    pub days: u32,
    /// Guidance policy for [`simulate`](super::simulate) (default shortest-expected-wait).
    pub guidance: Guidance,
    /// Proximity weight factor per kiosk position for unguided customers, in
    /// `(0, 1]`: kiosk `i` (0 = nearest) gets weight `decay^i` (default 0.8).
    pub proximity_decay: f64,
    /// Customers a kiosk's queue holds, `1..=500`; when every queue a
    /// customer could join is full they are turned away (default 40).
    pub queue_max: u32,
    /// Times a customer walks to another kiosk (method unavailable, kiosk
    /// failed) before leaving unserved, `0..=10` (default 2).
    pub reroute_max: u32,
    /// Guidance's service-time estimate before a kiosk has served anyone
    /// (default 60 000 ms).
    pub service_estimate_initial_ms: u64,
    /// Customer behaviour.
    pub customers: CustomerConfig,
    /// Step durations.
    pub timings: Timings,
    /// The payment session's own settings (timeouts, accepted notes); its
    /// `site` is replaced by `name`.
    pub session: SessionConfig,
    /// Each kiosk machine's settings (backend and printer timeouts, health
    /// check and heartbeat intervals, retries, the ticket and health
    /// policies; default: as a kiosk ships); its `kiosk-id` and `session`
    /// are set per kiosk from the site.
    pub machine: kiosk_core::machine::KioskConfig,
    /// Faults, their handling and the response target.
    pub faults: FaultConfig,
    /// Events one run may process before it stops and reports itself
    /// truncated (default 200 000 000).
    pub events_max: u64,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            name: "site".into(),
            kiosks: 4,
            spares: 2,
            spare_switchover_ms: 1_200_000,
            open: TimeOfDay::hm(8, 30),
            close: TimeOfDay::hm(17, 30),
            arrivals_per_hour: 60.0,
            rush: RushHour::default(),
            days: 1,
            guidance: Guidance::ShortestExpectedWait,
            proximity_decay: 0.8,
            queue_max: 40,
            reroute_max: 2,
            service_estimate_initial_ms: 60_000,
            customers: CustomerConfig::default(),
            timings: Timings::default(),
            session: SessionConfig::default(),
            machine: kiosk_core::machine::KioskConfig::default(),
            faults: FaultConfig::default(),
            events_max: 200_000_000,
        }
    }
}

impl SiteConfig {
    /// Checks every limit; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
        let share = |p: f64| (0.0..=1.0).contains(&p);
        check((1..=1024).contains(&self.kiosks), "kiosks must be 1..=1024")?;
        check(
            self.machine.health_check_interval_ms > 0,
            "machine.health-check-interval-ms must be positive",
        )?;
        check(self.spares <= 8, "spares must be 0..=8")?;
        check(self.open < self.close, "open must be before close")?;
        check(
            self.arrivals_per_hour.is_finite()
                && (0.0..=100_000.0).contains(&self.arrivals_per_hour),
            "arrivals-per-hour must be 0..=100000",
        )?;
        check(
            self.rush.start <= self.rush.end,
            "rush.start must not be after rush.end",
        )?;
        check(
            self.rush.factor.is_finite() && (0.0..=100.0).contains(&self.rush.factor),
            "rush.factor must be 0..=100",
        )?;
        check((1..=366).contains(&self.days), "days must be 1..=366")?;
        check(
            self.proximity_decay > 0.0 && self.proximity_decay <= 1.0,
            "proximity-decay must be in (0, 1]",
        )?;
        check(
            (1..=500).contains(&self.queue_max),
            "queue-max must be 1..=500",
        )?;
        check(self.reroute_max <= 10, "reroute-max must be 0..=10")?;
        check(
            self.spare_switchover_ms <= DAY_MS,
            "spare-switchover-ms must be at most a day",
        )?;
        check(self.events_max >= 1, "events-max must be at least 1")?;
        let c = &self.customers;
        for (name, p) in [
            ("cash-share", c.cash_share),
            ("flexible-share", c.flexible_share),
            ("account-refused-share", c.account_refused_share),
            ("confirm-cancel-share", c.confirm_cancel_share),
            ("idle-confirm-share", c.idle_confirm_share),
            ("note-reject-share", c.note_reject_share),
            ("counterfeit-share", c.counterfeit_share),
            ("code-unreadable-share", c.code_unreadable_share),
        ] {
            check(share(p), &format!("customers.{name} must be 0..=1"))?;
        }
        check(
            (1..=10).contains(&c.note_attempts_max),
            "customers.note-attempts-max must be 1..=10",
        )?;
        check(
            (1..=100).contains(&c.notes_max),
            "customers.notes-max must be 1..=100",
        )?;
        check(
            (1..=10).contains(&c.code_attempts_max),
            "customers.code-attempts-max must be 1..=10",
        )?;
        check(
            0 < c.amount_due_min_major && c.amount_due_min_major <= c.amount_due_max_major,
            "customers.amount-due-min-major must be positive and at most the max",
        )?;
        check(
            !self.session.accepted_notes.is_empty(),
            "session.accepted-notes must not be empty",
        )?;
        for (name, d) in self.timings.all() {
            check_dist(d, &format!("timings.{name}"))?;
        }
        self.faults.validate()
    }
}

/// Checks a distribution's limits: shape `0..=16`, mean at most a week.
pub(crate) fn check_dist(d: &Dist, name: &str) -> Result<(), String> {
    if d.shape() > SHAPE_MAX || d.mean_ms() > 7 * DAY_MS {
        return Err(format!(
            "{name}: shape must be 0..=16 and mean-ms at most a week"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_round_trip_and_reject_nonsense() {
        let t = TimeOfDay::try_from("08:30".to_string()).unwrap();
        assert_eq!(t, TimeOfDay::hm(8, 30));
        assert_eq!(t.to_string(), "08:30");
        assert_eq!(
            TimeOfDay::try_from("17:30:15".to_string())
                .unwrap()
                .to_string(),
            "17:30:15"
        );
        for bad in ["8:30", "24:00", "12:60", "noon", "12:00:00:00"] {
            assert!(TimeOfDay::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_toml_is_the_default_and_unknown_fields_are_refused() {
        let c: SiteConfig = toml::from_str("").unwrap();
        assert_eq!(c, SiteConfig::default());
        c.validate().unwrap();
        assert!(toml::from_str::<SiteConfig>("kiosk = 3").is_err());
        let c: SiteConfig = toml::from_str(
            "kiosks = 6\nopen = \"09:00\"\nrush = { factor = 2.5 }\n[timings]\nposting = { mean-ms = 3000 }",
        )
        .unwrap();
        assert_eq!(
            (c.kiosks, c.open, c.rush.factor),
            (6, TimeOfDay::hm(9, 0), 2.5)
        );
        assert_eq!(c.timings.posting, Dist::erlang(3_000, 1));
        let bad = SiteConfig {
            kiosks: 0,
            ..SiteConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("kiosks"));
    }
}
