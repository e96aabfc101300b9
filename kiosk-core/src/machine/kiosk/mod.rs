//! The kiosk machine: every decision a kiosk makes, in one sans-IO value.
//!
//! Shaped like quinn-proto's `Connection`: [`KioskMachine::handle`] takes
//! what happened (with `now`), [`KioskMachine::poll_output`] gives what to
//! do next, [`KioskMachine::poll_timeout`] says when to wake it, and
//! [`KioskMachine::handle_timeout`] wakes it. It never awaits, reads a
//! clock or touches SQLite, so everything it decides can be driven by a
//! test, a property test or a simulated hall at full speed.
//!
//! It holds the customer's [`Session`], start-up recovery, pending
//! payments and their backoff, the in-doubt note in the acceptor's path,
//! fault detection and the [`TicketBook`], the [`HealthMonitor`], staff and
//! remote commands with the clearing's dual control, and the idle screen.
//! The [`Kiosk`](crate::runner::Kiosk) runner only performs its outputs.
//!
//! # The executor's contract
//!
//! - Perform outputs in order. An output that answers (see [`Output`]) is
//!   answered with its [`Input`] before the next output is polled.
//! - Stop at the first journal write that fails: the events queued after a
//!   write announce it as durable.
//! - Take new inputs only when [`KioskMachine::poll_output`] gives `None`,
//!   and only those [`KioskMachine::wants`] lists.

mod commands;
mod config;
mod faults;
mod idle;
mod io;
mod recover;
mod session_io;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use kiosk_hal::{AccountNumber, ErrorKind, PaymentMethod};

pub use config::KioskConfig;
pub use io::{
    DeviceCall, DeviceReply, InDoubtCause, Input, JournalOp, JournalReply, LinkAnswer, LinkCall,
    LinkReply, LinkSwitches, Output, Purpose, RecoveryRows, Wants,
};

use crate::events::{DeviceKind, KioskEvent};
use crate::health::HealthMonitor;
use crate::ids::{Millis, SessionId};
use crate::journal::NoteId;
use crate::machine::retry::Waits;
use crate::machine::{Availability, NotePath, RetryPolicy, RetrySchedule};
use crate::screen::Screen;
use crate::session::{Action, CustomerAction, Session, SessionConfig};
use crate::tickets::TicketBook;

/// One step of the machine's queue of work.
#[derive(Debug)]
enum Step {
    /// Ready to hand out.
    Out(Output),
    /// A session action, translated when its turn comes (it may depend on
    /// answers to the steps before it, e.g. the escrowed note's row id).
    Session(Action),
    /// An acceptor report about a note that is not the session's own,
    /// given to the note path once the session has acted on it.
    PathReport(kiosk_hal::AcceptorEvent),
}

/// The session in progress and what the machine keeps beside it.
#[derive(Debug)]
struct Active {
    session: Session,
    /// The journal row of the note now in escrow.
    escrow_note: Option<NoteId>,
    /// The session's payment while the journal holds it pending: it joins
    /// the retry schedule when the session ends unanswered.
    pending: Option<(kiosk_hal::IdempotencyKey, kiosk_hal::Money)>,
}

/// Every decision of one kiosk. See the [module docs](self).
#[derive(Debug)]
pub struct KioskMachine {
    config: KioskConfig,
    /// `config.session`, shared by every session (and its receipt)
    /// rather than copied per customer.
    session_config: Arc<SessionConfig>,
    /// The latest `now` given; never goes back.
    now: Millis,
    started: bool,
    /// Work to hand out, in order.
    queue: VecDeque<Step>,
    /// Work produced while handling one input, to go before the queue.
    front: Vec<Step>,
    /// The session's actions for one input, on their way to `queue`
    /// (kept empty between inputs; see [`KioskMachine::session_input`]).
    session_actions: Vec<Action>,
    session: Option<Active>,
    customers_open: bool,
    session_seq: u64,
    /// Pending payments and when to post each next.
    retries: RetrySchedule,
    /// Faults, link reachability and staff's orders: what can be offered.
    availability: Availability,
    /// The in-doubt note the acceptor's next report describes, if any.
    note_path: NotePath,
    /// The last session the journal holds (a note that reaches the box
    /// outside any session is journaled in doubt against it).
    last_session: Option<SessionId>,
    next_health_at: Millis,
    /// The screen shown last if it was an idle one (welcome or out of
    /// service), so an unchanged idle screen is not re-sent; `None` after
    /// any other screen (only an idle screen can equal the next idle one,
    /// so a session's screens need not be kept).
    last_screen: Option<Screen>,
    /// The open clearing's two operators.
    clearing: Option<[String; 2]>,
    tickets: TicketBook,
    health: HealthMonitor,
    reader_fitted: bool,
    has_failover: bool,
    has_supervisors: bool,
    /// When the backend last answered (or failed to), for the heartbeat.
    last_link_call: Millis,
    /// When to try resetting a faulty acceptor next, and the waits.
    reset_backoff: Option<(Millis, Waits)>,
    /// The staff command being performed, and who gave it.
    command: Option<commands::CommandState>,
    command_by: Vec<String>,
    /// Recovery under way.
    recovery: Option<recover::Tally>,
    /// A restart left a note possibly in the acceptor's path: cash waits
    /// for the acceptor's word on it until this time at the latest (see
    /// [`KioskConfig::path_report_wait_ms`]).
    path_hold_until: Option<Millis>,
}

impl KioskMachine {
    /// A kiosk machine. `reader_fitted`: whether a card/QR reader exists.
    /// Nothing happens until [`Input::Start`].
    pub fn new(config: KioskConfig, reader_fitted: bool) -> KioskMachine {
        let tickets = TicketBook::new(
            config.kiosk_id.clone(),
            config.session.site.clone(),
            config.tickets.clone(),
        );
        let health = HealthMonitor::new(config.health.clone());
        let retries = RetrySchedule::new(retry_policy(&config));
        KioskMachine {
            tickets,
            health,
            retries,
            availability: Availability::new(reader_fitted),
            session_config: Arc::new(config.session.clone()),
            config,
            now: Millis(0),
            started: false,
            queue: VecDeque::new(),
            front: Vec::new(),
            session_actions: Vec::new(),
            session: None,
            customers_open: true,
            session_seq: 0,
            note_path: NotePath::new(),
            last_session: None,
            next_health_at: Millis(0),
            last_screen: None,
            clearing: None,
            reader_fitted,
            has_failover: false,
            has_supervisors: false,
            last_link_call: Millis(0),
            reset_backoff: None,
            command: None,
            command_by: Vec::new(),
            recovery: None,
            path_hold_until: None,
        }
    }

    /// The link is a failover pair: the machine may switch it to the
    /// backup and asks it what it did ([`Output::ReadLinkSwitches`]).
    pub fn set_failover(&mut self, on: bool) {
        self.has_failover = on;
    }

    /// Drivers run under supervisors: the health check asks them what
    /// they did ([`Output::ReadSupervisors`]).
    pub fn set_supervised(&mut self, on: bool) {
        self.has_supervisors = on;
    }

    /// The configuration.
    pub fn config(&self) -> &KioskConfig {
        &self.config
    }

    /// Devices currently faulty.
    pub fn faults(&self) -> &BTreeMap<DeviceKind, ErrorKind> {
        self.availability.faults()
    }

    /// Payment methods the kiosk can offer now.
    pub fn offered_methods(&self) -> Vec<PaymentMethod> {
        self.availability.offered()
    }

    /// Whether the kiosk can offer `method` now (without building the
    /// list [`KioskMachine::offered_methods`] gives).
    pub fn offers(&self, method: PaymentMethod) -> bool {
        self.availability.offers(method)
    }

    /// The fault tickets (open and recently resolved).
    pub fn tickets(&self) -> &TicketBook {
        &self.tickets
    }

    /// Number of payments waiting for a retry.
    pub fn pending_retries(&self) -> usize {
        self.retries.len()
    }

    /// The session in progress, if any.
    pub fn session_id(&self) -> Option<&SessionId> {
        self.session.as_ref().map(|a| a.session.id())
    }

    /// Which inputs the machine can take now.
    pub fn wants(&self) -> Wants {
        match &self.session {
            Some(a) => Wants {
                acceptor: a.session.wants_acceptor_events(),
                code: a.session.wants_code() && self.reader_fitted,
                customers: self.customers_open,
                commands: false,
            },
            None => Wants {
                acceptor: true,
                code: false,
                customers: self.customers_open,
                commands: true,
            },
        }
    }

    /// Whether nothing can ever happen again: the customers have gone and
    /// no session can move (a session stuck this way stays open in the
    /// journal, and recovery closes it as interrupted, crediting what it
    /// stacked).
    pub fn finished(&self) -> bool {
        if self.customers_open || !self.queue.is_empty() {
            return false;
        }
        match &self.session {
            None => true,
            Some(a) => {
                a.session.outcome().is_none()
                    && a.session.deadline().is_none()
                    && !a.session.wants_acceptor_events()
                    && !(a.session.wants_code() && self.reader_fitted)
            }
        }
    }

    /// When to call [`KioskMachine::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Millis> {
        if !self.started {
            return None;
        }
        match &self.session {
            Some(a) => a.session.deadline(),
            None => Some(
                self.retries
                    .next_deadline()
                    .into_iter()
                    .chain(self.tickets.next_deadline())
                    .chain(self.health.next_deadline())
                    .chain(self.next_probe_at())
                    .chain(self.path_hold_until)
                    .fold(self.next_health_at, Millis::min),
            ),
        }
    }

    /// The earliest deadline between sessions that is not the periodic
    /// health check or link heartbeat: a pending payment's retry, a
    /// ticket's escalation, a transaction leaving the failure-rate window.
    /// A simulated hall that skips idle ticks which cannot change anything
    /// (devices and link as they were at the last tick) still wakes the
    /// machine at these, so nothing it would decide on its own is missed.
    pub fn next_watch_deadline(&self) -> Option<Millis> {
        self.retries
            .next_deadline()
            .into_iter()
            .chain(self.tickets.next_deadline())
            .chain(self.health.next_deadline())
            .chain(self.path_hold_until)
            .min()
    }

    /// Time has come for something [`KioskMachine::poll_timeout`] named.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.advance(now);
        self.update_path_hold();
        match &mut self.session {
            Some(a) => {
                let actions = a.session.on_timeout(now);
                self.push_session(actions);
            }
            None if self.started => {
                self.retry_due();
                self.poll_watch();
                if now >= self.next_health_at {
                    self.check_health();
                }
                self.probe_link_if_due();
            }
            None => {}
        }
        self.flush_front();
        self.debug_check();
    }

    /// Takes one input. Its consequences come out of
    /// [`KioskMachine::poll_output`].
    pub fn handle(&mut self, input: Input, now: Millis) {
        self.advance(now);
        // The wait for the acceptor ends by its deadline here, before the
        // input (a customer choosing cash then finds it offered); by a
        // report or an empty path when the machine next goes idle
        // (`poll_output`), where the welcome screen is decided.
        self.update_path_hold();
        match input {
            Input::Start => self.start_recovery(false),
            Input::Customer(action) => self.on_customer(action),
            Input::CustomersGone => {
                self.customers_open = false;
                self.session_input(crate::session::Input::Customer(CustomerAction::Cancel), now);
            }
            Input::Acceptor(event) => match self.session.is_some() {
                true => self.session_acceptor(event),
                false => self.idle_acceptor(event),
            },
            Input::CodeRead(code) => {
                self.session_input(crate::session::Input::CodeRead(code), now);
            }
            Input::Command(command) => self.begin_command(command, Vec::new()),
            Input::Remote(crate::commands::Remote::Command(c)) => {
                self.begin_command(c.command, c.by)
            }
            Input::Remote(crate::commands::Remote::Refused { reason, claimed }) => {
                self.refused(reason, claimed)
            }
            Input::Device(reply) => self.on_device(reply),
            Input::Link(reply) => self.on_link(reply),
            Input::Journal(reply) => self.on_journal(reply),
            Input::Supervisors(found) => self.on_supervisors(found),
            Input::LinkSwitches(switches) => self.on_link_switches(switches),
        }
        self.flush_front();
        self.debug_check();
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(step) = self.queue.pop_front() {
                match step {
                    Step::Out(output) => return Some(output),
                    Step::Session(action) => self.translate(action),
                    Step::PathReport(report) => {
                        let decision = self.note_path.on_report(&report);
                        self.apply_path_decision(decision);
                    }
                }
                self.flush_front();
                continue;
            }
            // Everything asked for is done: finish what waited for that.
            if self
                .session
                .as_ref()
                .is_some_and(|a| a.session.outcome().is_some())
            {
                self.finish_session();
            } else if self.command.is_some() {
                self.finish_command();
            } else if self.started && self.session.is_none() && self.recovery.is_none() {
                // A report handed to the note path just now may have
                // ended the wait for it.
                self.update_path_hold();
                self.show_welcome();
            }
            self.flush_front();
            if self.queue.is_empty() {
                return None;
            }
        }
    }

    fn advance(&mut self, now: Millis) {
        self.now = self.now.max(now);
    }

    /// Queues an output to go next (before work queued earlier).
    fn push(&mut self, output: Output) {
        self.front.push(Step::Out(output));
    }

    fn event(&mut self, event: KioskEvent) {
        self.push(Output::Event(event));
    }

    fn journal(&mut self, op: JournalOp) {
        self.push(Output::Journal(op));
    }

    /// Queues session actions after everything queued so far: the
    /// session's follow-ups wait their turn, as it asked for them.
    fn push_session(&mut self, actions: Vec<Action>) {
        self.queue.extend(actions.into_iter().map(Step::Session));
    }

    /// Feeds the session in progress (if any) `input` at `now` and queues
    /// its actions like [`KioskMachine::push_session`], through one list
    /// kept for it (not a new list per input).
    fn session_input(&mut self, input: crate::session::Input, now: Millis) {
        let Some(a) = &mut self.session else {
            return;
        };
        a.session.handle_into(input, now, &mut self.session_actions);
        self.queue
            .extend(self.session_actions.drain(..).map(Step::Session));
    }

    fn flush_front(&mut self) {
        if self.front.is_empty() {
            return;
        }
        for step in self.front.drain(..).rev() {
            self.queue.push_front(step);
        }
    }

    fn show(&mut self, screen: Screen) {
        self.last_screen = match screen {
            Screen::Welcome { .. } | Screen::OutOfService { .. } => Some(screen.clone()),
            _ => None,
        };
        self.event(KioskEvent::Screen { screen });
    }

    /// Shows the idle screen for the kiosk's current health, unless it is
    /// already showing.
    fn show_welcome(&mut self) {
        let showing = self
            .last_screen
            .as_ref()
            .is_some_and(|s| self.availability.is_idle_screen(s));
        if !showing {
            self.show(self.availability.idle_screen());
        }
    }

    fn on_customer(&mut self, action: CustomerAction) {
        if self.session.is_some() {
            self.session_input(crate::session::Input::Customer(action), self.now);
            return;
        }
        match action {
            CustomerAction::EnterAccount { .. }
                if !self.offers(PaymentMethod::Cash) && !self.offers(PaymentMethod::Code) =>
            {
                // Nothing can be paid here now: say so again rather than
                // start a session that cannot end well.
                self.last_screen = None;
            }
            CustomerAction::EnterAccount { account } => self.start_session(account),
            other => tracing::debug!(?other, "customer action outside a session ignored"),
        }
    }

    fn start_session(&mut self, account: AccountNumber) {
        self.session_seq += 1;
        let id = SessionId::new(&self.config.kiosk_id, self.session_seq);
        let (session, actions) = Session::start(
            id,
            self.config.kiosk_id.clone(),
            account,
            self.offered_methods(),
            Arc::clone(&self.session_config),
        );
        self.session = Some(Active {
            session,
            escrow_note: None,
            pending: None,
        });
        self.push_session(actions);
    }

    /// The session has ended and everything it asked for is done: retry
    /// what is due, and move the journal's log into its file between
    /// customers (never inside a money event's commit).
    fn finish_session(&mut self) {
        self.session = None;
        self.retry_due();
        self.journal(JournalOp::Checkpoint);
    }

    /// The machine's invariants, checked after every input in debug builds.
    /// (The journal's SQL constraints are the other half of the pair.)
    fn debug_check(&self) {
        debug_assert!(
            self.session.is_none() || self.command.is_none(),
            "a command runs only between sessions"
        );
        debug_assert!(
            self.clearing.is_none() || self.availability.disabled().is_some(),
            "no customer is served while a clearing is open"
        );
        debug_assert!(
            self.session.is_none() || self.recovery.is_none(),
            "no session starts before recovery has finished"
        );
    }
}

fn retry_policy(config: &KioskConfig) -> RetryPolicy {
    RetryPolicy {
        initial_ms: config.retry_initial_ms,
        max_ms: config.retry_max_ms,
    }
}

/// Whether an answer says the backend cannot be reached at all.
fn unreachable<T>(answer: &Result<T, ErrorKind>) -> bool {
    matches!(answer, Err(ErrorKind::Offline | ErrorKind::Timeout))
}

#[cfg(test)]
mod tests;
