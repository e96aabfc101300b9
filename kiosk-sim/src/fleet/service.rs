//! One customer at one kiosk, driven through the real payment [`Session`].
//!
//! The service time of a customer is not drawn from a table: it is the sum
//! of the virtual times the real `kiosk_core` session actually takes, with
//! synthetic answers from the customer and the devices. The session asks
//! (`LookupAccount`, `StackNote`, `PrintReceipt`, a screen that waits for the
//! customer, …); [`Service::react`] turns that into the one [`Step`] the
//! session now waits for and how long it takes; the engine schedules it;
//! when it fires, [`Service::input`] turns it into the session's [`Input`],
//! answered from the kiosk's *actual* device health at that moment, so a
//! fault that starts mid-session shows up in the session as it would on a
//! real kiosk. No I/O, no journal: `Record`s are only counted.
//!
//! A fault that starts while the session is at the device it breaks reaches
//! it at once ([`Service::interrupt`]): a jam with notes going in leaves the
//! note in doubt, an acceptor going offline ends insertion. Later customers
//! find the device failed when the session first uses it.
//!
//! The customer's typing of the account number happens before the session
//! exists; its time is added to the first step (the session takes no time to
//! start).

use kiosk_core::{Action, CustomerAction, Input, KioskId, Millis, Record, Screen, Session};
use kiosk_core::{SessionConfig, SessionId};
use kiosk_hal::{
    AcceptorEvent, AccountAnswer, AccountInfo, AccountNumber, AccountRefusal, ErrorKind,
    JamLocation, Money, PaymentCode, PaymentMethod, PaymentScheme, PostingAnswer, PrintOutcome,
    RejectReason,
};

use super::config::{CustomerConfig, SiteConfig, Timings};
use super::faults::FaultKind;
use crate::rng::SimRng;

/// What the session waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The backend's account answer.
    Account,
    /// The customer picks a method.
    Choose(PaymentMethod),
    /// The customer cancels.
    Cancel,
    /// The customer presses Confirm after the last note.
    Confirm,
    /// A note reaches the validator; `reject` if it will not validate.
    Insert {
        value: Money,
        reject: Option<RejectReason>,
    },
    /// The escrowed note reaches the box.
    Stack(Money),
    /// The escrowed note is given back.
    Return(Money),
    /// The backend's answer to the posting.
    Post,
    /// The printer's result.
    Print,
    /// The customer presents a code (`unreadable` if it will not scan).
    Code { unreadable: bool },
}

/// Counts of what sessions recorded and raised, summed over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) notes_stacked: u64,
    pub(crate) notes_rejected: u64,
    pub(crate) notes_in_doubt: u64,
    pub(crate) receipts_kept: u64,
    pub(crate) alerts: u64,
}

/// What every service of a run shares.
#[derive(Debug, Clone)]
pub(crate) struct ServiceContext {
    timings: Timings,
    customers: CustomerConfig,
    session: SessionConfig,
    /// Accepted notes, ascending.
    notes: Vec<Money>,
    account: AccountNumber,
}

impl ServiceContext {
    pub(crate) fn new(config: &SiteConfig) -> ServiceContext {
        let mut session = config.session.clone();
        session.site = config.name.clone();
        let mut notes = session.accepted_notes.clone();
        notes.sort();
        ServiceContext {
            timings: config.timings.clone(),
            customers: config.customers.clone(),
            session,
            notes,
            account: AccountNumber("13800000000".into()),
        }
    }

    pub(crate) fn changeover_ms(&self, rng: &mut SimRng) -> u64 {
        self.timings.changeover.sample_ms(rng)
    }
}

/// A customer's session in progress at a kiosk.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) session: Session,
    rng: SimRng,
    /// The step the session waits for, if any (it may wait for its deadline).
    pub(crate) pending: Option<Step>,
    /// The deadline already scheduled as an event.
    pub(crate) deadline_scheduled: Option<Millis>,
    wants: PaymentMethod,
    flexible: bool,
    /// The customer ended the visit on purpose (cancelled, gave up, refused).
    pub(crate) voluntary_end: bool,
    due_minor: i64,
    paid_minor: i64,
    note: Money,
    note_attempts: u32,
    insertions: u32,
    idle_confirm: bool,
    code_attempts: u32,
    refused: bool,
}

impl Service {
    /// Starts the session of a customer (`seed` is theirs) and returns it
    /// with its first step and that step's delay.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        ctx: &ServiceContext,
        kiosk: &KioskId,
        session_seq: u64,
        seed: u64,
        wants: PaymentMethod,
        flexible: bool,
        offered: Vec<PaymentMethod>,
        tally: &mut Tally,
    ) -> (Service, Option<(u64, Step)>) {
        let mut rng = SimRng::new(seed);
        let c = &ctx.customers;
        let due_major = c.amount_due_min_major
            + rng.below((c.amount_due_max_major - c.amount_due_min_major) as u64 + 1) as i64;
        let currency = ctx.notes[0].currency;
        let refused = rng.chance(c.account_refused_share);
        let idle_confirm = rng.chance(c.idle_confirm_share);
        let (session, actions) = Session::start(
            SessionId::new(kiosk, session_seq),
            kiosk.clone(),
            ctx.account.clone(),
            offered,
            ctx.session.clone(),
        );
        let mut service = Service {
            session,
            rng,
            pending: None,
            deadline_scheduled: None,
            wants,
            flexible,
            voluntary_end: false,
            due_minor: Money::major(due_major, currency).minor,
            paid_minor: 0,
            note: ctx.notes[0],
            note_attempts: 0,
            insertions: 0,
            idle_confirm,
            code_attempts: 0,
            refused,
        };
        let entry_ms = ctx.timings.account_entry.sample_ms(&mut service.rng);
        let first = service
            .react(&actions, ctx, tally)
            .map(|(delay, step)| (delay + entry_ms, step));
        (service, first)
    }

    /// The session's input for `step`, answered from the devices' actual
    /// state: `faulty(kind)` says whether a fault of `kind` is active now.
    pub(crate) fn input(&mut self, step: Step, faulty: impl Fn(FaultKind) -> bool) -> Input {
        let currency = self.note.currency;
        match step {
            Step::Account if faulty(FaultKind::LinkDown) => {
                Input::AccountAnswer(Err(ErrorKind::Offline))
            }
            Step::Account if self.refused => {
                // Another kiosk would refuse it too: the visit ends here.
                self.voluntary_end = true;
                Input::AccountAnswer(Ok(AccountAnswer::Refused {
                    reason: AccountRefusal::Unknown,
                }))
            }
            Step::Account => Input::AccountAnswer(Ok(AccountAnswer::Payable(AccountInfo {
                holder_name: "张三".into(),
                amount_due: Money::new(self.due_minor, currency),
                balance: Money::new(-self.due_minor, currency),
            }))),
            Step::Choose(method) => Input::Customer(CustomerAction::ChooseMethod { method }),
            Step::Cancel => Input::Customer(CustomerAction::Cancel),
            Step::Confirm => Input::Customer(CustomerAction::Confirm),
            Step::Insert { .. } if faulty(FaultKind::AcceptorOffline) => {
                Input::AcceptorFailed(ErrorKind::Offline)
            }
            // Still jammed from before: the acceptor refuses to take the note.
            Step::Insert { .. } if faulty(FaultKind::BillJam) => {
                Input::AcceptorFailed(ErrorKind::Jam)
            }
            Step::Insert {
                reject: Some(reason),
                ..
            } => Input::Acceptor(AcceptorEvent::Rejected { reason }),
            Step::Insert { value, .. } => Input::Acceptor(AcceptorEvent::Escrowed { value }),
            Step::Stack(_) if faulty(FaultKind::AcceptorOffline) => {
                Input::AcceptorFailed(ErrorKind::Offline)
            }
            Step::Stack(_) if faulty(FaultKind::CashBoxFull) => {
                Input::Acceptor(AcceptorEvent::StackerFull)
            }
            Step::Stack(value) => Input::Acceptor(AcceptorEvent::Stacked { value }),
            Step::Return(value) => Input::Acceptor(AcceptorEvent::Returned { value }),
            Step::Post if faulty(FaultKind::LinkDown) => {
                Input::PostingAnswer(Err(ErrorKind::Offline))
            }
            Step::Post => {
                let amount = self.session.posting().map_or(0, |p| p.amount.minor);
                Input::PostingAnswer(Ok(PostingAnswer::Credited {
                    backend_ref: "BOSS-1".into(),
                    new_balance: Money::new(amount - self.due_minor, currency),
                }))
            }
            Step::Print if faulty(FaultKind::PrinterPaperOut) => {
                Input::PrintResult(Err(ErrorKind::PaperOut))
            }
            Step::Print if faulty(FaultKind::PrinterJam) => Input::PrintResult(Err(ErrorKind::Jam)),
            Step::Print => Input::PrintResult(Ok(PrintOutcome::Printed)),
            Step::Code { .. } if faulty(FaultKind::ReaderFailure) => {
                Input::CodeRead(Err(ErrorKind::Offline))
            }
            Step::Code { unreadable: true } => Input::CodeRead(Err(ErrorKind::Protocol)),
            Step::Code { unreadable: false } => Input::CodeRead(Ok(PaymentCode::new(
                PaymentScheme::WeChatPay,
                "134567890123456789",
            ))),
        }
    }

    /// The input a fault of `kind` that starts now feeds into the session
    /// at once, if it hits the session's current phase.
    pub(crate) fn interrupt(&self, kind: FaultKind) -> Option<Input> {
        use kiosk_core::session::Phase;
        match (self.session.phase(), kind) {
            (Phase::Inserting, FaultKind::AcceptorOffline) => {
                Some(Input::AcceptorFailed(ErrorKind::Offline))
            }
            (Phase::Inserting, FaultKind::BillJam) => {
                Some(Input::Acceptor(AcceptorEvent::Jammed {
                    location: JamLocation::Acceptor,
                    value: None,
                }))
            }
            (Phase::Inserting, FaultKind::CashBoxFull) => {
                Some(Input::Acceptor(AcceptorEvent::StackerFull))
            }
            (Phase::ReadingCode, FaultKind::ReaderFailure) => {
                Some(Input::CodeRead(Err(ErrorKind::Offline)))
            }
            _ => None,
        }
    }

    /// Reads the session's actions in order: counts the records and alerts
    /// and returns the step the session now waits for, with its delay.
    pub(crate) fn react(
        &mut self,
        actions: &[Action],
        ctx: &ServiceContext,
        tally: &mut Tally,
    ) -> Option<(u64, Step)> {
        use kiosk_core::session::Phase;
        let t = &ctx.timings;
        let c = &ctx.customers;
        let mut next = None;
        for action in actions {
            match action {
                Action::Record(Record::NoteStacked { .. }) => tally.notes_stacked += 1,
                Action::Record(Record::NoteRejected { .. }) => tally.notes_rejected += 1,
                Action::Record(Record::NoteInDoubt { .. }) => tally.notes_in_doubt += 1,
                Action::Record(Record::ReceiptKept { .. }) => tally.receipts_kept += 1,
                Action::Alert(_) => tally.alerts += 1,
                Action::LookupAccount(_) => {
                    next = Some((t.account_check.sample_ms(&mut self.rng), Step::Account))
                }
                Action::Show(Screen::ConfirmAccount { .. }) => {
                    let step = if self.rng.chance(c.confirm_cancel_share) {
                        self.voluntary_end = true;
                        Step::Cancel
                    } else {
                        Step::Choose(self.wants)
                    };
                    next = Some((t.confirm.sample_ms(&mut self.rng), step));
                }
                Action::Show(Screen::MethodUnavailable { offered, .. })
                    if *self.session.phase() == Phase::Confirming =>
                {
                    let other = match self.wants {
                        PaymentMethod::Cash => PaymentMethod::Code,
                        PaymentMethod::Code => PaymentMethod::Cash,
                    };
                    let step = if self.flexible && offered.contains(&other) {
                        self.wants = other;
                        Step::Choose(other)
                    } else {
                        Step::Cancel
                    };
                    next = Some((t.confirm.sample_ms(&mut self.rng), step));
                }
                Action::EnableAcceptor(_) => {
                    self.note = self.draw_note(ctx);
                    next = Some(self.insert_step(ctx));
                }
                Action::StackNote => {
                    next = Some((
                        t.note_stack.sample_ms(&mut self.rng),
                        Step::Stack(self.note),
                    ))
                }
                Action::ReturnNote => {
                    next = Some((
                        t.note_return.sample_ms(&mut self.rng),
                        Step::Return(self.note),
                    ))
                }
                Action::Show(Screen::NoteAccepted { value, .. }) => {
                    self.paid_minor += value.minor;
                    next = self.next_note_or_confirm(ctx);
                }
                Action::Show(Screen::NoteRejected { .. })
                    if *self.session.phase() == Phase::Inserting =>
                {
                    if self.note_attempts >= c.note_attempts_max {
                        // Gives that note up and takes another one.
                        self.note = self.draw_note(ctx);
                    }
                    next = self.next_insert_or_confirm(ctx);
                }
                Action::PostPayment(_) => {
                    next = Some((t.posting.sample_ms(&mut self.rng), Step::Post))
                }
                Action::PrintReceipt(_) => {
                    next = Some((t.printing.sample_ms(&mut self.rng), Step::Print))
                }
                Action::Show(Screen::PresentCode { .. }) => {
                    let present_ms = t.code_present.sample_ms(&mut self.rng);
                    next = Some(self.code_step(ctx, present_ms));
                }
                Action::Show(Screen::CodeUnreadable) => {
                    next = if self.code_attempts < c.code_attempts_max {
                        let again_ms = t.confirm_press.sample_ms(&mut self.rng);
                        Some(self.code_step(ctx, again_ms))
                    } else {
                        self.voluntary_end = true;
                        Some((t.confirm_press.sample_ms(&mut self.rng), Step::Cancel))
                    };
                }
                _ => {}
            }
        }
        if self.session.outcome().is_some() {
            return None;
        }
        next
    }

    /// How long the customer takes to leave once the session is over.
    pub(crate) fn changeover_ms(&mut self, ctx: &ServiceContext) -> u64 {
        ctx.changeover_ms(&mut self.rng)
    }

    fn code_step(&mut self, ctx: &ServiceContext, delay_ms: u64) -> (u64, Step) {
        self.code_attempts += 1;
        let unreadable = self.rng.chance(ctx.customers.code_unreadable_share);
        (delay_ms, Step::Code { unreadable })
    }

    /// After a stacked note: another note, Confirm, or wait for the idle timeout.
    fn next_note_or_confirm(&mut self, ctx: &ServiceContext) -> Option<(u64, Step)> {
        if self.paid_minor < self.due_minor && self.insertions < ctx.customers.notes_max {
            self.note = self.draw_note(ctx);
            return Some(self.insert_step(ctx));
        }
        self.confirm_step(ctx)
    }

    /// After a rejected note: try again (same or another note) or finish.
    fn next_insert_or_confirm(&mut self, ctx: &ServiceContext) -> Option<(u64, Step)> {
        if self.insertions < ctx.customers.notes_max {
            return Some(self.insert_step(ctx));
        }
        self.confirm_step(ctx)
    }

    fn confirm_step(&mut self, ctx: &ServiceContext) -> Option<(u64, Step)> {
        if self.idle_confirm {
            None // the session's insertion idle timeout ends it
        } else {
            Some((
                ctx.timings.confirm_press.sample_ms(&mut self.rng),
                Step::Confirm,
            ))
        }
    }

    fn insert_step(&mut self, ctx: &ServiceContext) -> (u64, Step) {
        let (t, c) = (&ctx.timings, &ctx.customers);
        self.insertions += 1;
        self.note_attempts += 1;
        let reject = if self.rng.chance(c.note_reject_share) {
            Some(if self.rng.chance(c.counterfeit_share) {
                RejectReason::Counterfeit
            } else {
                RejectReason::Insertion
            })
        } else {
            None
        };
        let delay =
            t.note_insert.sample_ms(&mut self.rng) + t.note_validate.sample_ms(&mut self.rng);
        (
            delay,
            Step::Insert {
                value: self.note,
                reject,
            },
        )
    }

    /// The customer's next note: mostly the largest that does not overpay,
    /// sometimes a smaller one; the smallest covering note at the end.
    fn draw_note(&mut self, ctx: &ServiceContext) -> Money {
        self.note_attempts = 0;
        let remaining = self.due_minor - self.paid_minor;
        let fitting = ctx
            .notes
            .iter()
            .take_while(|n| n.minor <= remaining)
            .count();
        if fitting == 0 {
            return *ctx
                .notes
                .iter()
                .find(|n| n.minor >= remaining)
                .unwrap_or(&ctx.notes[0]);
        }
        if self.rng.chance(0.6) {
            ctx.notes[fitting - 1]
        } else {
            ctx.notes[self.rng.below(fitting as u64) as usize]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::journal::SessionOutcome;

    /// Runs one customer with no faults; returns the outcome and the service
    /// time (session steps plus the changeover).
    pub(crate) fn serve(
        ctx: &ServiceContext,
        seed: u64,
        wants: PaymentMethod,
    ) -> (SessionOutcome, u64) {
        let mut tally = Tally::default();
        let offered = vec![PaymentMethod::Cash, PaymentMethod::Code];
        let kiosk = KioskId("K01".into());
        let (mut s, first) =
            Service::start(ctx, &kiosk, 1, seed, wants, false, offered, &mut tally);
        // The awaited step at its absolute time, as the engine keeps it.
        let mut pending = first;
        let mut now = 0u64;
        for _ in 0..1_000 {
            if let Some(o) = s.session.outcome() {
                let mut rng = SimRng::new(seed ^ 1);
                return (o, now + ctx.changeover_ms(&mut rng));
            }
            let deadline = s.session.deadline().map(|d| d.0);
            let actions = match (pending, deadline) {
                (Some((at, step)), d) if d.is_none_or(|d| at < d) => {
                    now = at;
                    pending = None;
                    let input = s.input(step, |_| false);
                    s.session.handle(input, Millis(now))
                }
                (_, Some(d)) => {
                    now = d;
                    s.session.on_timeout(Millis(now))
                }
                (Some(_), None) => unreachable!(),
                (None, None) => panic!("session {seed} is stuck in {:?}", s.session.phase()),
            };
            if let Some((delay, step)) = s.react(&actions, ctx, &mut tally) {
                pending = Some((now + delay, step));
            }
        }
        panic!("session {seed} did not end");
    }

    #[test]
    fn service_times_from_the_session_are_plausible() {
        let ctx = ServiceContext::new(&SiteConfig::default());
        for wants in [PaymentMethod::Cash, PaymentMethod::Code] {
            let times: Vec<u64> = (0..2_000).map(|seed| serve(&ctx, seed, wants).1).collect();
            let mean_s = times.iter().sum::<u64>() as f64 / times.len() as f64 / 1000.0;
            let max_s = *times.iter().max().unwrap() as f64 / 1000.0;
            let min_s = *times.iter().min().unwrap() as f64 / 1000.0;
            eprintln!("{wants:?}: mean {mean_s:.1} s, min {min_s:.1} s, max {max_s:.1} s");
            assert!((20.0..180.0).contains(&mean_s), "{wants:?} mean {mean_s}");
            assert!(min_s >= 5.0 && max_s <= 600.0, "{wants:?} {min_s}..{max_s}");
        }
        let credited = (0..500)
            .filter(|s| serve(&ctx, *s, PaymentMethod::Cash).0 == SessionOutcome::Credited)
            .count();
        assert!(credited > 450, "{credited}");
    }
}
