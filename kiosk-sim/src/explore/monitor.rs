//! The step monitor: reads the books and the physical truth after every
//! kiosk event and records what does not hold.
//!
//! The books come from a second, read-only use of the journal file (SQLite
//! in WAL mode lets it read a consistent snapshot while the kiosk writes;
//! the kiosk never holds a transaction open across an event). The physical
//! truth is the virtual cash box, what staff took out of it, the backend's
//! postings and the devices' fault log.

use kiosk_core::journal::{CashTotals, Journal, PaymentState};
use kiosk_core::{KioskEvent, Millis, Screen, StaffCommand};
use kiosk_hal::{IdempotencyKey, Money, PaymentMethod};

use super::checks::{Check, Violations, HEALTHY_MS};
use crate::backend::VirtualBackend;
use crate::drill::run::{StepView, POWER_LOSS_BEFORE_ACK};
use crate::drill::scenario::StaffDoes;
use crate::drill::Scenario;
use crate::faults::InjectedFault;

/// How the kiosk's security alarm for a cash box removed outside a
/// clearing starts (the removal that takes it out of service until staff
/// enable it).
const REMOVAL_ALARM: &str = "cash box removed outside an authorised clearing";

/// A fault planted in the kiosk's behaviour to prove the explorer catches
/// and shrinks a real loss (the explorer's own test; never on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlantedBug {
    /// When the first cash payment is credited, the same money is posted
    /// again under a fresh key, as a kiosk that re-keys a retry would:
    /// the customer is credited twice.
    RekeyFirstCredit,
}

/// What the monitor needs from the scenario, copied so it can live in the
/// kiosk's observer.
struct Plan {
    currency: kiosk_hal::Currency,
    initial_box: i64,
    largest_note: i64,
    power_losses: Vec<(u64, u64)>,
    restarts: Vec<u64>,
    box_removals: Vec<u64>,
    box_actions: Vec<u64>,
    commands: Vec<u64>,
    account_changes: Vec<u64>,
    /// Every box removal is followed by an `enable` command: a removal
    /// outside a clearing takes the kiosk out of service until staff
    /// enable it (by design), so without one `cash-offered` does not apply.
    staff_enable_after_removals: bool,
}

impl Plan {
    fn new(scenario: &Scenario) -> Plan {
        let currency = scenario.backend.currency;
        let largest_note = scenario
            .customers
            .iter()
            .flat_map(|c| c.notes.iter().map(|n| n.parts().0))
            .max()
            .unwrap_or(0);
        Plan {
            currency,
            initial_box: scenario
                .cash_box
                .initial_notes
                .iter()
                .map(|m| m.minor)
                .sum(),
            largest_note: Money::major(largest_note.max(0), currency).minor,
            power_losses: scenario
                .power_losses
                .iter()
                .map(|p| (p.at_ms, p.at_ms + p.down_ms))
                .collect(),
            restarts: scenario
                .commands
                .iter()
                .filter(|c| c.command == StaffCommand::Restart)
                .map(|c| c.at_ms)
                .collect(),
            box_removals: scenario
                .staff
                .iter()
                .filter(|s| s.action == StaffDoes::RemoveCashBox)
                .map(|s| s.at_ms)
                .collect(),
            box_actions: scenario
                .staff
                .iter()
                .filter(|s| s.action != StaffDoes::ServicePrinter)
                .map(|s| s.at_ms)
                .collect(),
            commands: scenario.commands.iter().map(|c| c.at_ms).collect(),
            staff_enable_after_removals: scenario
                .staff
                .iter()
                .filter(|s| s.action == StaffDoes::RemoveCashBox)
                .all(|removal| {
                    scenario
                        .commands
                        .iter()
                        .any(|c| c.command == StaffCommand::Enable && c.at_ms > removal.at_ms)
                }),
            account_changes: scenario.account_changes.iter().map(|c| c.at_ms).collect(),
        }
    }
}

/// Checks the invariants after every step; see [`super::checks`].
pub struct Monitor {
    plan: Plan,
    planted: Option<PlantedBug>,
    planted_done: bool,
    journal: Option<Journal>,
    steps: usize,
    notes_put_in_doubt: u32,
    last_idle_screen: Option<Screen>,
    /// Whether a session is running (started, not yet ended or recovered).
    session_open: bool,
    /// The last time money could have become pending: a session ended, a
    /// note in doubt was settled, the kiosk recovered its journal.
    last_money_event: Millis,
    violations: Violations,
}

/// One reading of the books and the box.
struct Reading {
    totals: CashTotals,
    /// What the cash box took in: now + removed by staff − initial.
    physical: i64,
}

impl Monitor {
    /// A monitor for a run of `scenario`.
    pub fn new(scenario: &Scenario, planted: Option<PlantedBug>) -> Monitor {
        Monitor {
            plan: Plan::new(scenario),
            planted,
            planted_done: false,
            journal: None,
            steps: 0,
            notes_put_in_doubt: 0,
            last_idle_screen: None,
            session_open: false,
            last_money_event: Millis(0),
            violations: Violations::default(),
        }
    }

    /// Steps seen so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Records a failure of `check` at a step (`None`: the end).
    pub fn fail(&mut self, check: Check, at: Millis, step: Option<usize>, message: String) {
        self.violations.fail(check, at.0, step, message);
    }

    /// The violations recorded.
    pub fn into_violations(self) -> Violations {
        self.violations
    }

    /// Called after every kiosk event.
    pub fn on_step(&mut self, view: &StepView, at: Millis, event: &KioskEvent) {
        let step = self.steps;
        self.steps += 1;
        match event {
            KioskEvent::NoteInDoubt { .. } => self.notes_put_in_doubt += 1,
            KioskEvent::Screen { screen } => {
                if matches!(screen, Screen::Welcome { .. } | Screen::OutOfService { .. }) {
                    self.last_idle_screen = Some(screen.clone());
                }
            }
            KioskEvent::PaymentCredited { key, .. } => self.plant(&view.backend, key),
            KioskEvent::SessionStarted { .. } => self.session_open = true,
            KioskEvent::SessionEnded { .. } => {
                self.session_open = false;
                self.last_money_event = at;
            }
            KioskEvent::Recovered { .. } => {
                self.session_open = false;
                self.last_money_event = at;
            }
            KioskEvent::InDoubtSettled { .. } => self.last_money_event = at,
            _ => {}
        }
        if self.journal.is_none() {
            match Journal::open(&view.journal_path) {
                Ok(j) => self.journal = Some(j),
                Err(e) => {
                    self.fail(
                        Check::KioskRuns,
                        at,
                        Some(step),
                        format!("cannot read the journal: {e}"),
                    );
                    return;
                }
            }
        }
        let Some(reading) = self.read(view, at, step) else {
            return;
        };
        let journal = self.journal.take();
        if let Some(journal) = &journal {
            let faults = view.fault_log.entries();
            self.check_money(&reading, journal, &view.backend, at, Some(step));
            self.check_in_doubt(&faults, reading.totals.in_doubt_notes, at, step);
        }
        self.journal = journal;
    }

    fn plant(&mut self, backend: &VirtualBackend, key: &IdempotencyKey) {
        if self.planted != Some(PlantedBug::RekeyFirstCredit) || self.planted_done {
            return;
        }
        if let Some(record) = backend.posting(key) {
            if record.posting.method == PaymentMethod::Cash {
                let mut again = record.posting.clone();
                again.key = IdempotencyKey(format!("{}-again", key.0).into());
                backend.post(&again);
                self.planted_done = true;
            }
        }
    }

    fn read(&mut self, view: &StepView, at: Millis, step: usize) -> Option<Reading> {
        let journal = self.journal.as_ref()?;
        match journal.cash_totals(self.plan.currency) {
            Ok(totals) => {
                let removed: i64 = view
                    .removed_by_staff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .map(|m| m.minor)
                    .sum();
                let physical =
                    view.staff.physical_contents().value.minor + removed - self.plan.initial_box;
                Some(Reading { totals, physical })
            }
            Err(e) => {
                self.fail(
                    Check::KioskRuns,
                    at,
                    Some(step),
                    format!("journal unreadable: {e}"),
                );
                None
            }
        }
    }

    /// The money line and the backend, at a step (`step` is `Some`: one note
    /// may be in flight) or at the end (`None`: exact).
    fn check_money(
        &mut self,
        r: &Reading,
        journal: &Journal,
        backend: &VirtualBackend,
        at: Millis,
        step: Option<usize>,
    ) {
        let t = &r.totals;
        let books = t.credited.minor + t.pending.minor + t.refused.minor;
        if t.in_box.minor != books {
            self.fail(
                Check::Books,
                at,
                step,
                format!(
                    "journal in box {} != credited {} + pending {} + refused {}",
                    t.in_box.minor, t.credited.minor, t.pending.minor, t.refused.minor
                ),
            );
        }
        if r.physical < t.in_box.minor {
            self.fail(
                Check::BoxCovered,
                at,
                step,
                format!(
                    "cash box took in {} but the journal counts {} in it",
                    r.physical, t.in_box.minor
                ),
            );
        }
        // In-doubt notes of unknown value may be any note the customers had.
        let unknown_notes = if t.in_doubt_notes == 0 {
            0
        } else {
            journal
                .in_doubt_notes()
                .map(|notes| notes.iter().filter(|n| n.value.is_none()).count() as i64)
                .unwrap_or(i64::from(t.in_doubt_notes))
        };
        let unknown_value = unknown_notes * self.plan.largest_note;
        let in_flight = if step.is_some() {
            self.plan.largest_note
        } else {
            0
        };
        let most = t.in_box.minor + t.in_doubt.minor + unknown_value + in_flight;
        if r.physical > most {
            self.fail(
                Check::BoxExplained,
                at,
                step,
                format!(
                    "cash box took in {} > journal in box {} + in doubt {} ({} notes){}: a note went unrecorded",
                    r.physical,
                    t.in_box.minor,
                    t.in_doubt.minor,
                    t.in_doubt_notes,
                    if in_flight > 0 {
                        format!(" + one note in flight {in_flight}")
                    } else {
                        String::new()
                    }
                ),
            );
        }
        let postings = backend.postings();
        if let Some(p) = postings.iter().find(|p| p.times_applied > 1) {
            self.fail(
                Check::NoDoubleCredit,
                at,
                step,
                format!("key {} applied {} times", p.posting.key, p.times_applied),
            );
        }
        let backend_cash: i64 = postings
            .iter()
            .filter(|p| p.times_applied > 0 && p.posting.method == PaymentMethod::Cash)
            .map(|p| p.posting.amount.minor)
            .sum();
        if backend_cash > r.physical {
            self.fail(
                Check::NoDoubleCredit,
                at,
                step,
                format!(
                    "backend credited {backend_cash} in cash but the cash box took in only {}",
                    r.physical
                ),
            );
        }
        let mut unanswered = 0;
        for p in postings.iter().filter(|p| p.times_applied > 0) {
            match journal.payment_state(&p.posting.key) {
                Ok(Some(PaymentState::Credited)) => {}
                Ok(Some(PaymentState::Pending)) => {
                    if p.posting.method == PaymentMethod::Cash {
                        unanswered += p.posting.amount.minor;
                    }
                }
                other => {
                    self.fail(
                        Check::BackendAgrees,
                        at,
                        step,
                        format!(
                            "backend applied key {} ({:?}) but the journal has it as {other:?}",
                            p.posting.key, p.posting.method
                        ),
                    );
                }
            }
        }
        if backend_cash != t.credited.minor + unanswered {
            self.fail(
                Check::BackendAgrees,
                at,
                step,
                format!(
                    "backend credited {backend_cash} in cash != journal credited {} + applied-but-unanswered {unanswered}",
                    t.credited.minor
                ),
            );
        }
        if let Some(p) = postings.iter().find(|p| p.conflicting_retries > 0) {
            self.fail(
                Check::KeyConflict,
                at,
                step,
                format!(
                    "a retry changed the posting under key {} ({:?}, {})",
                    p.posting.key, p.posting.method, p.posting.amount
                ),
            );
        }
    }

    /// Notes put in doubt so far (the events, or the journal's current
    /// count if higher: recovery puts escrowed notes in doubt without an
    /// event) against the faults that could cause one.
    fn check_in_doubt(
        &mut self,
        faults: &[InjectedFault],
        in_doubt_now: u32,
        at: Millis,
        step: usize,
    ) {
        let put_in_doubt = self.notes_put_in_doubt.max(in_doubt_now);
        let now = at.0;
        let upto = |times: &[u64]| times.iter().filter(|t| **t <= now).count() as u32;
        let device_faults = faults
            .iter()
            .filter(|f| {
                f.device == "acceptor"
                    && !f.fault.starts_with("end of")
                    && !f.fault.contains("Fraud")
            })
            .count() as u32;
        let power_losses = self
            .plan
            .power_losses
            .iter()
            .filter(|(start, _)| *start <= now)
            .count() as u32;
        // Among the device faults: each report the acceptor handed again
        // to a kiosk that started after one died before acknowledging it
        // (an unaccounted repeat is rightly put in doubt), and each such
        // death (a power loss like the scheduled ones).
        let repeats = faults
            .iter()
            .filter(|f| f.device == "acceptor" && f.fault.starts_with("ReportRepeated"))
            .count();
        let causes = device_faults
            + power_losses
            + upto(&self.plan.restarts)
            + upto(&self.plan.box_removals);
        if put_in_doubt > causes {
            self.fail(
                Check::InDoubtBounded,
                at,
                Some(step),
                format!(
                    "{put_in_doubt} notes put in doubt, but only {causes} faults so far could cause one ({device_faults} acceptor faults of which {repeats} reports repeated after a restart, {power_losses} power losses, restarts, box removals)"
                ),
            );
        }
    }

    /// The end-of-run checks, on the kiosk's own journal after the run.
    pub fn finish(&mut self, run: &crate::drill::DrillRun) {
        let at = run.ended_at;
        let end = at.0;
        let journal = run.kiosk.journal();
        let totals = match journal.cash_totals(self.plan.currency) {
            Ok(t) => t,
            Err(e) => {
                self.fail(
                    Check::KioskRuns,
                    at,
                    None,
                    format!("journal unreadable: {e}"),
                );
                return;
            }
        };
        let removed: i64 = run.removed_by_staff.iter().map(|m| m.minor).sum();
        let physical = run.staff.physical_contents().value.minor + removed - self.plan.initial_box;
        let reading = Reading { totals, physical };
        self.check_money(&reading, journal, &run.backend, at, None);

        let last = |times: &mut dyn Iterator<Item = u64>| times.max().unwrap_or(0);
        let power_back = last(
            &mut self.plan.power_losses.iter().map(|(_, end)| *end).chain(
                run.injected.iter().filter_map(|f| {
                    let ended = f.fault.strip_prefix("end of ")?;
                    (f.device == "acceptor" && ended.starts_with(POWER_LOSS_BEFORE_ACK))
                        .then_some(f.at.0)
                }),
            ),
        );
        // Link faults: the last one that struck, plus its longest timeout.
        let link_quiet = last(
            &mut run
                .injected
                .iter()
                .filter(|f| f.device == "link")
                .map(|f| f.at.0 + 20_000),
        )
        .max(power_back)
        .max(last(&mut self.plan.account_changes.iter().copied()))
        // Money that became pending only just now has had no time to drain.
        .max(self.last_money_event.0);
        if end >= link_quiet + HEALTHY_MS && !self.session_open {
            let pending = journal.pending_payments().map(|p| p.len()).unwrap_or(0);
            if pending > 0 || reading.totals.pending.minor != 0 {
                self.fail(
                    Check::PendingDrains,
                    at,
                    None,
                    format!(
                        "{pending} payments pending ({} in cash) although the link has been healthy, and nothing new became pending, since {} ms",
                        reading.totals.pending, link_quiet
                    ),
                );
            }
        }
        let devices_quiet = last(
            &mut run
                .injected
                .iter()
                .filter(|f| f.device == "acceptor")
                .map(|f| f.at.0),
        )
        .max(power_back)
        .max(last(&mut self.plan.box_actions.iter().copied()))
        .max(last(&mut self.plan.commands.iter().copied()));
        // A removal the kiosk learns of after staff's last enable (a
        // `StackerRemoved` report repeated to a kiosk that started after one
        // died before acknowledging it, or first delivered late because the
        // kiosk was dark when the box went out) is, to the kiosk, a removal
        // like any other (it cannot tell them apart): it rightly waits for
        // staff's enable, which did not come after it.
        let last_at = |wanted: &dyn Fn(&KioskEvent) -> bool| {
            run.trace
                .iter()
                .filter(|e| wanted(&e.event))
                .map(|e| e.at.0)
                .max()
        };
        let last_removal_alarm = last_at(
            &|e| matches!(e, KioskEvent::SecurityAlarm { reason } if reason.starts_with(REMOVAL_ALARM)),
        );
        let last_enable = last_at(
            &|e| matches!(e, KioskEvent::CommandDone { command, ok: true, .. } if command == "enable"),
        );
        let enabled_after_last_removal = match (last_removal_alarm, last_enable) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(removal), Some(enable)) => enable >= removal,
        };
        if end >= devices_quiet + HEALTHY_MS
            && run.staff.is_present()
            && self.plan.staff_enable_after_removals
            && enabled_after_last_removal
        {
            let offered = match &self.last_idle_screen {
                Some(Screen::Welcome { methods }) => methods.contains(&PaymentMethod::Cash),
                _ => false,
            };
            if !offered {
                let in_doubt = reading.totals.in_doubt_notes;
                self.fail(
                    Check::CashOffered,
                    at,
                    None,
                    format!(
                        "devices healthy since {devices_quiet} ms but the idle screen is {:?} ({in_doubt} notes in doubt)",
                        self.last_idle_screen
                    ),
                );
            }
        }
    }
}
