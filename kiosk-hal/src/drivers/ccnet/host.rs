//! The CCNET host as a plain state machine: answers and time in, commands,
//! acceptor events and request completions out.
//!
//! ```text
//! port opened ─► probe (POLL) ─► RESET ─► IDENTIFICATION ─► GET BILL TABLE ─► ENABLE BILL TYPES ─► running
//!                  └ power-up state: PowerUp { note }          running: POLL every interval, ACK every answer
//! ```
//!
//! The host never blocks and never reads a clock: every call takes `now_ms`.
//! A shell writes what [`poll_transmit`](CcnetHost::poll_transmit) returns,
//! feeds decoded frames to [`handle_frame`](CcnetHost::handle_frame) and
//! delivers what [`poll_output`](CcnetHost::poll_output) returns.
//!
//! Every POLL answer is acknowledged (ACK, no reply): the validator repeats
//! an unacknowledged answer, so a "bill stacked" lost on the line comes
//! again and is credited once (the tracker guards the credit per note).

use std::collections::VecDeque;

use super::config::CcnetConfig;
use super::tracker::NoteTracker;
use crate::wire::ccnet::{
    BillMask, BillTable, FrameRepr, HostCommand, Identification, PollState, Reply,
    ADDR_BILL_VALIDATOR,
};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, DeviceIdentity, DeviceProtocol, ErrorKind, Money,
    NoteAtPowerUp,
};

/// What the kiosk asks of the acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Accept notes of these values (their bill types enabled, with escrow).
    Enable(Vec<Money>),
    /// Refuse every note (no bill type enabled).
    Inhibit,
    /// Stack the escrowed note.
    Stack,
    /// Return the escrowed note.
    Return,
    /// Reset the device, then read its tables again.
    Reset,
}

/// Something the shell must deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostOutput {
    /// An acceptor event, in order.
    Event(AcceptorEvent),
    /// The device stopped answering (or its port vanished): one per outage.
    WentOffline,
    /// A request finished.
    Done {
        /// The token the request was made with.
        token: u64,
        /// Its result: `Timeout` means the device may or may not have acted.
        result: Result<(), ErrorKind>,
    },
}

/// Counters for health reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Answers that matched the outstanding command.
    pub answers: u64,
    /// Commands that got no answer in time.
    pub timeouts: u64,
    /// Broken frames reported by the decoder (CRC, length).
    pub wire_errors: u64,
    /// Commands sent again after a corrupted answer or a NAK.
    pub resends: u64,
    /// Frames that answered nothing outstanding, or did not fit it.
    pub unexpected_answers: u64,
    /// Times the device went offline.
    pub offline_episodes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InitStep {
    Probe,
    Reset,
    Identify,
    BillTable,
    Enable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Poll,
    Init(InitStep),
    Request(Option<u64>),
}

#[derive(Debug, Clone)]
struct Outstanding {
    cmd: HostCommand,
    purpose: Purpose,
    deadline_ms: u64,
    attempt: u32,
    resend: bool,
}

/// Most attempts at one initialisation step before moving on.
const INIT_TRIES: u32 = 5;

/// The CCNET host state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct CcnetHost {
    config: CcnetConfig,
    connected: bool,
    offline: bool,
    announce_power_up: bool,
    init: Option<InitStep>,
    init_tries: u32,
    outstanding: Option<Outstanding>,
    requests: VecDeque<(Option<u64>, Request)>,
    ack_due: bool,
    next_poll_ms: u64,
    missed: u32,
    table: Option<BillTable>,
    identification: Option<Identification>,
    accepted: Vec<Money>,
    enabled: bool,
    device_enabled: bool,
    tracker: NoteTracker,
    outputs: VecDeque<HostOutput>,
    stats: HostStats,
}

impl CcnetHost {
    /// A host for a device on a port not yet open.
    pub fn new(config: &CcnetConfig) -> CcnetHost {
        CcnetHost {
            config: config.clone(),
            connected: false,
            offline: false,
            announce_power_up: false,
            init: None,
            init_tries: 0,
            outstanding: None,
            requests: VecDeque::new(),
            ack_due: false,
            next_poll_ms: 0,
            missed: 0,
            table: None,
            identification: None,
            accepted: Vec::new(),
            enabled: false,
            device_enabled: false,
            tracker: NoteTracker::default(),
            outputs: VecDeque::new(),
            stats: HostStats::default(),
        }
    }

    // ----- the port -----

    /// The port is open: initialise the device.
    pub fn port_opened(&mut self, now_ms: u64) {
        self.connected = true;
        self.outstanding = None;
        self.ack_due = false;
        self.start_init(InitStep::Probe, now_ms);
    }

    /// The port vanished or could not be opened: offline at once.
    pub fn port_closed(&mut self, _now_ms: u64) {
        self.connected = false;
        self.go_offline();
    }

    // ----- the kiosk -----

    /// Queues a request; its completion comes as [`HostOutput::Done`] with `token`.
    ///
    /// Offline, every request fails at once with `Offline`; `Stack` and
    /// `Return` without a note in escrow fail at once with `InvalidState`.
    pub fn request(&mut self, token: u64, request: Request) {
        if self.offline || !self.connected {
            self.done(Some(token), Err(ErrorKind::Offline));
            return;
        }
        match &request {
            Request::Stack | Request::Return if !self.tracker.in_escrow() => {
                self.done(Some(token), Err(ErrorKind::InvalidState));
                return;
            }
            Request::Enable(values) => {
                self.enabled = true;
                self.accepted = values.clone();
                self.tracker.set_accepted(values.clone());
            }
            Request::Inhibit => self.enabled = false,
            _ => {}
        }
        self.requests.push_back((Some(token), request));
    }

    /// The condition for [`BillAcceptor::status`](crate::BillAcceptor::status).
    pub fn status(&self) -> Result<AcceptorStatus, ErrorKind> {
        if self.is_offline() {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.status(self.device_enabled))
    }

    /// The stacker as a cash box.
    pub fn cash_box(&self) -> Result<CashBoxStatus, ErrorKind> {
        if self.is_offline() {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.cash_box())
    }

    /// The bill table read from the device, once read.
    pub fn bill_table(&self) -> Option<&BillTable> {
        self.table.as_ref()
    }

    /// The device's identification (model, serial number), once read.
    pub fn identification(&self) -> Option<&Identification> {
        self.identification.as_ref()
    }

    /// What the device said in IDENTIFICATION (read at every
    /// initialisation); protocol only until then.
    pub fn identity(&self) -> DeviceIdentity {
        self.identification.as_ref().map_or_else(
            || DeviceIdentity::of(DeviceProtocol::Ccnet),
            Identification::identity,
        )
    }

    /// Whether the device is currently counted as offline.
    pub fn is_offline(&self) -> bool {
        self.offline || !self.connected
    }

    /// Whether initialisation is finished and the device is being polled.
    pub fn is_running(&self) -> bool {
        self.connected && !self.offline && self.init.is_none()
    }

    /// The counters.
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    // ----- the wire -----

    /// The next command to write, if one is due at `now_ms`. Call until `None`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<HostCommand> {
        self.check_timeout(now_ms);
        if !self.connected {
            return None;
        }
        if self.ack_due {
            // The receipt of a POLL answer; the device does not reply to it.
            self.ack_due = false;
            return Some(HostCommand::Ack);
        }
        if let Some(o) = self.outstanding.as_mut() {
            if !o.resend {
                return None;
            }
            o.resend = false;
            o.attempt += 1;
            o.deadline_ms = now_ms + self.config.answer_timeout_ms;
            self.stats.resends += 1;
            return Some(o.cmd);
        }
        let (cmd, purpose) = if self.offline {
            if now_ms < self.next_poll_ms {
                return None;
            }
            (HostCommand::Poll, Purpose::Poll)
        } else if let Some(step) = self.init {
            if now_ms < self.next_poll_ms {
                return None;
            }
            (self.init_command(step), Purpose::Init(step))
        } else if let Some((token, request)) = self.requests.pop_front() {
            (self.request_command(&request), Purpose::Request(token))
        } else if now_ms >= self.next_poll_ms {
            (HostCommand::Poll, Purpose::Poll)
        } else {
            return None;
        };
        self.outstanding = Some(Outstanding {
            cmd,
            purpose,
            deadline_ms: now_ms + self.config.answer_timeout_ms,
            attempt: 1,
            resend: false,
        });
        Some(cmd)
    }

    /// When the host next wants to act (a poll or an answer deadline).
    pub fn next_deadline_ms(&self) -> Option<u64> {
        if !self.connected {
            return None;
        }
        Some(match &self.outstanding {
            Some(o) if o.resend => 0,
            Some(o) => o.deadline_ms,
            None => self.next_poll_ms,
        })
    }

    /// A frame decoded from the port.
    pub fn handle_frame(&mut self, now_ms: u64, frame: &FrameRepr) {
        if frame.address != ADDR_BILL_VALIDATOR {
            self.stats.unexpected_answers += 1;
            return;
        }
        let Some(o) = self.outstanding.take() else {
            self.stats.unexpected_answers += 1;
            return;
        };
        let answer = match Answer::for_command(&o.cmd, &frame.payload) {
            Some(Answer::Reply(Reply::Nak)) => {
                // The device could not read our frame: send it again.
                self.outstanding = Some(o);
                self.handle_wire_error(now_ms, WireError::Truncated);
                return;
            }
            Some(answer) => answer,
            None => {
                // Not an answer to this command: a late one, or nonsense.
                self.stats.unexpected_answers += 1;
                self.outstanding = Some(o);
                return;
            }
        };
        self.stats.answers += 1;
        self.missed = 0;
        let mut purpose = o.purpose;
        if self.offline {
            // The device answers again: it is back. Its state is the probe.
            self.offline = false;
            purpose = Purpose::Init(InitStep::Probe);
        }
        if let Answer::State(_) = answer {
            self.ack_due = true;
        }
        match purpose {
            Purpose::Poll => {
                self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                if let Answer::State(state) = answer {
                    self.on_state(&state, now_ms);
                }
            }
            Purpose::Init(step) => self.on_init_answer(step, answer, now_ms),
            Purpose::Request(token) => self.on_request_answer(token, &o, answer, now_ms),
        }
    }

    /// The decoder reported a broken frame: resend the outstanding command
    /// (within the retry budget) instead of waiting for its timeout.
    pub fn handle_wire_error(&mut self, _now_ms: u64, _error: WireError) {
        self.stats.wire_errors += 1;
        if let Some(o) = self.outstanding.as_mut() {
            if o.attempt <= self.config.command_retries {
                o.resend = true;
            }
        }
    }

    /// The next output to deliver.
    pub fn poll_output(&mut self) -> Option<HostOutput> {
        self.outputs.pop_front()
    }

    // ----- internals -----

    fn emit(&mut self, event: AcceptorEvent) {
        self.outputs.push_back(HostOutput::Event(event));
    }

    fn done(&mut self, token: Option<u64>, result: Result<(), ErrorKind>) {
        if let Some(token) = token {
            self.outputs.push_back(HostOutput::Done { token, result });
        }
    }

    fn start_init(&mut self, step: InitStep, now_ms: u64) {
        self.init = Some(step);
        self.init_tries = 0;
        self.next_poll_ms = now_ms;
    }

    fn go_offline(&mut self) {
        if let Some(o) = self.outstanding.take() {
            if let Purpose::Request(token) = o.purpose {
                self.done(token, Err(ErrorKind::Offline));
            }
        }
        while let Some((token, _)) = self.requests.pop_front() {
            self.done(token, Err(ErrorKind::Offline));
        }
        self.ack_due = false;
        self.init = None;
        if !self.offline {
            self.offline = true;
            self.announce_power_up = true;
            self.stats.offline_episodes += 1;
            self.outputs.push_back(HostOutput::WentOffline);
        }
    }

    fn check_timeout(&mut self, now_ms: u64) {
        let Some(o) = self.outstanding.as_ref() else {
            return;
        };
        if now_ms < o.deadline_ms {
            return;
        }
        let purpose = o.purpose;
        let retry = o.attempt <= self.config.command_retries;
        self.stats.timeouts += 1;
        self.missed = self.missed.saturating_add(1);
        let threshold = self.config.offline_after_missed.max(1);
        if retry && !self.offline && self.missed < threshold {
            // The answer may have been lost on the line (a corrupted length
            // hides it): ask again. A resent STACK or RETURN the device
            // already took is answered ILLEGAL COMMAND and counts as done.
            if let Some(o) = self.outstanding.as_mut() {
                o.resend = true;
                o.deadline_ms = u64::MAX;
            }
            return;
        }
        self.outstanding = None;
        self.next_poll_ms = now_ms;
        if let Purpose::Request(token) = purpose {
            self.done(token, Err(ErrorKind::Timeout));
        }
        if !self.offline && self.missed >= self.config.offline_after_missed.max(1) {
            self.go_offline();
        }
        if self.offline {
            self.next_poll_ms = now_ms + self.config.poll_interval_ms;
        }
    }

    fn enable_command(&self) -> HostCommand {
        let mask = match (&self.table, self.enabled) {
            (Some(table), true) => table.mask_for(&self.accepted),
            _ => BillMask::NONE,
        };
        HostCommand::EnableBillTypes {
            enabled: mask,
            escrow: mask,
        }
    }

    fn init_command(&self, step: InitStep) -> HostCommand {
        match step {
            InitStep::Probe => HostCommand::Poll,
            InitStep::Reset => HostCommand::Reset,
            InitStep::Identify => HostCommand::Identification,
            InitStep::BillTable => HostCommand::GetBillTable,
            InitStep::Enable => self.enable_command(),
        }
    }

    fn request_command(&self, request: &Request) -> HostCommand {
        match request {
            Request::Enable(_) | Request::Inhibit => self.enable_command(),
            Request::Stack => HostCommand::Stack,
            Request::Return => HostCommand::Return,
            Request::Reset => HostCommand::Reset,
        }
    }

    fn on_init_answer(&mut self, step: InitStep, answer: Answer, now_ms: u64) {
        let next = match (step, answer) {
            (InitStep::Probe, Answer::State(state)) => {
                self.on_probe(&state);
                Some(InitStep::Reset)
            }
            (InitStep::Reset, Answer::Reply(Reply::Ack)) => {
                self.tracker.forget_note();
                Some(InitStep::Identify)
            }
            (InitStep::Identify, Answer::Identification(id)) => {
                self.identification = Some(id);
                Some(InitStep::BillTable)
            }
            (InitStep::BillTable, Answer::BillTable(table)) => {
                self.table = Some(table);
                Some(InitStep::Enable)
            }
            (InitStep::Enable, Answer::Reply(Reply::Ack)) => None,
            _ => {
                // Refused or not ready yet (busy, initialising): try again
                // after a poll interval, a bounded number of times.
                self.init_tries += 1;
                if self.init_tries < INIT_TRIES {
                    self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                    return;
                }
                if step == InitStep::BillTable && self.table.is_none() {
                    // Without the table no bill has a value: say so.
                    self.emit(AcceptorEvent::Failure);
                }
                next_step(step)
            }
        };
        match next {
            Some(step) => self.start_init(step, now_ms),
            None => {
                self.init = None;
                self.next_poll_ms = now_ms;
            }
        }
    }

    /// The first state after the port opened or the device came back.
    fn on_probe(&mut self, state: &PollState) {
        if let PollState::BillStacked(t) = *state {
            // A note reached the box while we were away: credit it now.
            let value = self
                .table
                .as_ref()
                .and_then(|tb| tb.value(t, self.config.currency));
            let events = self.tracker.credit(value);
            self.outputs
                .extend(events.into_iter().map(HostOutput::Event));
        }
        let found = power_up_note(state);
        if let Some(note) = found.or(self.announce_power_up.then_some(NoteAtPowerUp::None)) {
            self.emit(AcceptorEvent::PowerUp { note });
        }
        self.announce_power_up = false;
        self.device_enabled = false;
    }

    fn on_request_answer(
        &mut self,
        token: Option<u64>,
        o: &Outstanding,
        answer: Answer,
        now_ms: u64,
    ) {
        let result = match answer {
            Answer::Reply(Reply::IllegalCommand) => {
                let moving = matches!(o.cmd, HostCommand::Stack | HostCommand::Return);
                if moving && o.attempt > 1 {
                    // A resent stack / return: the first copy was taken.
                    Ok(())
                } else {
                    Err(ErrorKind::InvalidState)
                }
            }
            _ => Ok(()),
        };
        if result.is_ok() {
            match o.cmd {
                HostCommand::Reset => {
                    self.tracker.forget_note();
                    self.done(token, result);
                    self.start_init(InitStep::Identify, now_ms);
                    return;
                }
                HostCommand::Stack => self.tracker.stack_requested(),
                HostCommand::Return => self.tracker.return_requested(),
                _ => {}
            }
        }
        self.next_poll_ms = now_ms;
        self.done(token, result);
    }

    fn on_state(&mut self, state: &PollState, now_ms: u64) {
        if let Some(note) = power_up_note(state) {
            // The device restarted under us: report it and initialise again.
            self.tracker.forget_note();
            self.emit(AcceptorEvent::PowerUp { note });
            self.device_enabled = false;
            self.start_init(InitStep::Reset, now_ms);
            return;
        }
        match state {
            PollState::Idling => self.device_enabled = true,
            PollState::UnitDisabled | PollState::Initialize => self.device_enabled = false,
            _ => {}
        }
        let step = self
            .tracker
            .on_state(state, self.table.as_ref(), self.config.currency);
        if step.return_note {
            // Not an accepted value (or an unknown type): give it back.
            self.requests.push_front((None, Request::Return));
        }
        self.outputs
            .extend(step.events.into_iter().map(HostOutput::Event));
    }
}

/// A validator frame read as the answer to a given command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Reply(Reply),
    State(PollState),
    BillTable(BillTable),
    Identification(Identification),
}

impl Answer {
    /// What `payload` means as the answer to `cmd`, if it can be one.
    /// CCNET answers carry no command code: the command gives the meaning.
    fn for_command(cmd: &HostCommand, payload: &[u8]) -> Option<Answer> {
        if let Some(reply @ (Reply::Nak | Reply::IllegalCommand)) = Reply::from_payload(payload) {
            return Some(Answer::Reply(reply));
        }
        match cmd {
            HostCommand::Poll => PollState::from_payload(payload).ok().map(Answer::State),
            HostCommand::GetBillTable => {
                BillTable::from_payload(payload).ok().map(Answer::BillTable)
            }
            HostCommand::Identification => Identification::from_payload(payload)
                .ok()
                .map(Answer::Identification),
            _ => Reply::from_payload(payload).map(Answer::Reply),
        }
    }
}

fn power_up_note(state: &PollState) -> Option<NoteAtPowerUp> {
    match state {
        PollState::PowerUp => Some(NoteAtPowerUp::None),
        PollState::PowerUpBillInValidator => Some(NoteAtPowerUp::InAcceptor),
        PollState::PowerUpBillInStacker => Some(NoteAtPowerUp::InStacker),
        _ => None,
    }
}

fn next_step(step: InitStep) -> Option<InitStep> {
    match step {
        InitStep::Probe => Some(InitStep::Reset),
        InitStep::Reset => Some(InitStep::Identify),
        InitStep::Identify => Some(InitStep::BillTable),
        InitStep::BillTable => Some(InitStep::Enable),
        InitStep::Enable => None,
    }
}
