//! The ID-003 host as a plain state machine: answers and time in, commands,
//! acceptor events and request completions out.
//!
//! ```text
//! port opened ─► probe (status) ─► reset ─► version (0x88) ─► currency table (0x8A) ─► enable bits ─► inhibit ─► running
//!                  └ power-up status: PowerUp { note }            running: status request every poll interval
//! ```
//!
//! While the kiosk keeps the acceptor inhibited and the device answers
//! "disabled", the host polls at the slower idle interval
//! ([`Id003Config::idle_poll_interval_ms`]): an idle kiosk's acceptor then
//! costs a poll a second instead of ten. A request, or any other status,
//! brings the normal interval back at once.
//!
//! The host never blocks and never reads a clock: every call takes `now_ms`
//! (any monotonic millisecond count). A shell writes what
//! [`poll_transmit`](Id003Host::poll_transmit) returns, feeds decoded frames
//! to [`handle_frame`](Id003Host::handle_frame) and delivers what
//! [`poll_output`](Id003Host::poll_output) returns.

use std::collections::VecDeque;

use super::config::{Id003Config, StackCommand};
use super::tracker::NoteTracker;
use crate::wire::id003::{
    CurrencyTable, FrameRepr, HostCommand, Setting, StatusResponse, VersionInfo,
};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, DeviceIdentity, DeviceProtocol, ErrorKind, Money,
    NoteAtPowerUp,
};

/// What the kiosk asks of the acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Accept notes of these values (inhibit off).
    Enable(Vec<Money>),
    /// Refuse every note (inhibit on).
    Inhibit,
    /// Stack the escrowed note.
    Stack,
    /// Return the escrowed note.
    Return,
    /// Reset the device, then read its currency table and settings again.
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
    /// Commands sent again after a corrupted answer.
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
    Version,
    Currency,
    Denominations,
    Inhibit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Poll,
    Init(InitStep),
    /// A kiosk request (`Some(token)`) or the host's own (`None`).
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

/// The ID-003 host state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct Id003Host {
    config: Id003Config,
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
    table: Option<CurrencyTable>,
    version: Option<VersionInfo>,
    enabled: bool,
    device_enabled: bool,
    /// The kiosk wants the acceptor inhibited and its last status said
    /// "disabled": nothing can move, poll at the idle interval.
    quiet: bool,
    tracker: NoteTracker,
    outputs: VecDeque<HostOutput>,
    stats: HostStats,
}

impl Id003Host {
    /// A host for a device on a port not yet open. Only the timing,
    /// currency and command fields of `config` are used.
    pub fn new(config: &Id003Config) -> Id003Host {
        Id003Host {
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
            version: None,
            enabled: false,
            device_enabled: false,
            quiet: false,
            tracker: NoteTracker::default(),
            outputs: VecDeque::new(),
            stats: HostStats::default(),
        }
    }

    // ----- the port -----

    /// The port is open: initialise the device. After an outage the host
    /// reports `PowerUp` once the device answers again.
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
        // Something is asked: poll at the normal interval from now on.
        self.quiet = false;
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
                self.tracker.set_accepted(values.clone());
            }
            Request::Inhibit => self.enabled = false,
            _ => {}
        }
        self.requests.push_back((Some(token), request));
    }

    /// The condition for [`BillAcceptor::status`](crate::BillAcceptor::status).
    pub fn status(&self) -> Result<AcceptorStatus, ErrorKind> {
        if self.offline || !self.connected {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.status(self.device_enabled))
    }

    /// The stacker as a cash box: present unless the device says it is
    /// open, full while it says so; contents unknown.
    pub fn cash_box(&self) -> Result<CashBoxStatus, ErrorKind> {
        if self.offline || !self.connected {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.cash_box())
    }

    /// The currency table read from the device, once read.
    pub fn currency_table(&self) -> Option<&CurrencyTable> {
        self.table.as_ref()
    }

    /// What the device said in its version answer (0x88), read at every
    /// initialisation; protocol only until then, or if it gave none.
    pub fn identity(&self) -> DeviceIdentity {
        self.version.as_ref().map_or_else(
            || DeviceIdentity::of(DeviceProtocol::Id003),
            VersionInfo::identity,
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
            // The answer to VEND VALID; the device does not reply to it.
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
            (HostCommand::StatusRequest, Purpose::Poll)
        } else if let Some(step) = self.init {
            if now_ms < self.next_poll_ms {
                return None;
            }
            (self.init_command(step), Purpose::Init(step))
        } else if let Some((token, request)) = self.requests.pop_front() {
            (self.request_command(&request), Purpose::Request(token))
        } else if now_ms >= self.next_poll_ms {
            (HostCommand::StatusRequest, Purpose::Poll)
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
            Some(o) => o.deadline_ms,
            None => self.next_poll_ms,
        })
    }

    /// A frame decoded from the port.
    pub fn handle_frame(&mut self, now_ms: u64, frame: &FrameRepr) {
        let Ok(answer) = StatusResponse::from_frame(frame) else {
            // A valid CRC around nonsense: as good as corrupted.
            self.handle_wire_error(now_ms, WireError::UnknownCommand(frame.cmd));
            return;
        };
        let Some(o) = self.outstanding.take() else {
            self.stats.unexpected_answers += 1;
            return;
        };
        if !answers(&o.cmd, &answer) {
            // A late answer to an earlier command: keep waiting for ours.
            self.stats.unexpected_answers += 1;
            self.outstanding = Some(o);
            return;
        }
        self.stats.answers += 1;
        self.missed = 0;
        let mut purpose = o.purpose;
        if self.offline {
            // The device answers again: it is back. Its status is the probe.
            self.offline = false;
            purpose = Purpose::Init(InitStep::Probe);
        }
        match purpose {
            Purpose::Poll => {
                self.quiet = !self.enabled
                    && self.requests.is_empty()
                    && matches!(answer, StatusResponse::Disabled);
                self.next_poll_ms = now_ms + self.poll_interval_ms();
                self.on_status(&answer, now_ms);
            }
            Purpose::Init(step) => self.on_init_answer(step, &answer, now_ms),
            Purpose::Request(token) => self.on_request_answer(token, &o, &answer, now_ms),
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

    /// The interval to the next status poll: the idle one while quiet.
    fn poll_interval_ms(&self) -> u64 {
        if self.quiet {
            self.config
                .idle_poll_interval_ms
                .max(self.config.poll_interval_ms)
        } else {
            self.config.poll_interval_ms
        }
    }

    fn emit(&mut self, event: AcceptorEvent) {
        self.outputs.push_back(HostOutput::Event(event));
    }

    fn done(&mut self, token: Option<u64>, result: Result<(), ErrorKind>) {
        if let Some(token) = token {
            self.outputs.push_back(HostOutput::Done { token, result });
        }
    }

    fn start_init(&mut self, step: InitStep, now_ms: u64) {
        self.quiet = false;
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
        self.quiet = false;
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
        self.outstanding = None;
        self.stats.timeouts += 1;
        self.missed = self.missed.saturating_add(1);
        self.next_poll_ms = now_ms;
        if let Purpose::Request(token) = purpose {
            self.done(token, Err(ErrorKind::Timeout));
        }
        if !self.offline && self.missed >= self.config.offline_after_missed.max(1) {
            self.go_offline();
        }
        if self.offline {
            // Keep asking, at the poll interval, until it answers again.
            self.next_poll_ms = now_ms + self.config.poll_interval_ms;
        }
    }

    fn init_command(&self, step: InitStep) -> HostCommand {
        match step {
            InitStep::Probe => HostCommand::StatusRequest,
            InitStep::Reset => HostCommand::Reset,
            InitStep::Version => HostCommand::VersionRequest,
            InitStep::Currency => HostCommand::CurrencyAssignRequest,
            InitStep::Denominations => HostCommand::SetEnable(self.config.denomination_bits),
            InitStep::Inhibit => HostCommand::SetInhibit(!self.enabled),
        }
    }

    fn request_command(&self, request: &Request) -> HostCommand {
        match request {
            Request::Enable(_) => HostCommand::SetInhibit(false),
            Request::Inhibit => HostCommand::SetInhibit(true),
            Request::Stack => match self.config.stack_command {
                StackCommand::Stack1 => HostCommand::Stack1,
                StackCommand::Stack2 => HostCommand::Stack2,
            },
            Request::Return => HostCommand::Return,
            Request::Reset => HostCommand::Reset,
        }
    }

    fn on_init_answer(&mut self, step: InitStep, answer: &StatusResponse, now_ms: u64) {
        let next = match (step, answer) {
            (InitStep::Probe, status) => {
                self.on_probe(status);
                Some(InitStep::Reset)
            }
            (InitStep::Reset, StatusResponse::Ack) => {
                self.tracker.forget_note();
                Some(InitStep::Version)
            }
            (InitStep::Version, StatusResponse::Version(data)) => {
                // A line that does not parse is no reason to stop: the
                // device still works, its identity stays unknown.
                self.version = VersionInfo::parse(data).ok();
                Some(InitStep::Currency)
            }
            (InitStep::Version, StatusResponse::InvalidCommand) => {
                // A device without the request: no identity, and no retries.
                self.version = None;
                Some(InitStep::Currency)
            }
            (InitStep::Currency, StatusResponse::CurrencyAssign(entries)) => {
                self.table = Some(CurrencyTable::from_entries(entries, self.config.currency));
                Some(InitStep::Denominations)
            }
            (InitStep::Denominations, StatusResponse::SettingEcho(Setting::Enable(_))) => {
                Some(InitStep::Inhibit)
            }
            (InitStep::Inhibit, StatusResponse::SettingEcho(Setting::Inhibit(_))) => None,
            _ => {
                // Refused or not ready yet: try again after a poll interval,
                // a bounded number of times, then move on.
                self.init_tries += 1;
                if self.init_tries < INIT_TRIES {
                    self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                    return;
                }
                if step == InitStep::Currency && self.table.is_none() {
                    // Without the table no escrow code has a value: every
                    // note would be returned. Say so.
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

    /// The first status after the port opened or the device came back.
    fn on_probe(&mut self, status: &StatusResponse) {
        if matches!(status, StatusResponse::VendValid | StatusResponse::Stacked) {
            // A note reached the box while we were away: credit it now.
            if matches!(status, StatusResponse::VendValid) {
                self.ack_due = true;
            }
            let events = self.tracker.credit();
            self.outputs
                .extend(events.into_iter().map(HostOutput::Event));
        }
        let found = power_up_note(status);
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
        answer: &StatusResponse,
        now_ms: u64,
    ) {
        let result = match answer {
            StatusResponse::CommunicationError if o.attempt <= self.config.command_retries => {
                // The device could not read our frame: send it again.
                let mut again = o.clone();
                again.resend = true;
                self.outstanding = Some(again);
                return;
            }
            StatusResponse::CommunicationError => Err(ErrorKind::Protocol),
            StatusResponse::InvalidCommand => {
                let moving = matches!(
                    o.cmd,
                    HostCommand::Stack1 | HostCommand::Stack2 | HostCommand::Return
                );
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
                    self.start_init(InitStep::Currency, now_ms);
                    return;
                }
                HostCommand::Stack1 | HostCommand::Stack2 => self.tracker.stack_requested(),
                HostCommand::Return => self.tracker.return_requested(),
                _ => {}
            }
        }
        self.next_poll_ms = now_ms;
        self.done(token, result);
    }

    fn on_status(&mut self, status: &StatusResponse, now_ms: u64) {
        if let Some(note) = power_up_note(status) {
            // The device restarted under us: report it and initialise again.
            self.tracker.forget_note();
            self.emit(AcceptorEvent::PowerUp { note });
            self.device_enabled = false;
            self.start_init(InitStep::Reset, now_ms);
            return;
        }
        match status {
            StatusResponse::Idling => self.device_enabled = true,
            StatusResponse::Disabled | StatusResponse::Initialize => self.device_enabled = false,
            StatusResponse::VendValid => self.ack_due = true,
            _ => {}
        }
        let table = self.table.as_ref();
        let step = self.tracker.on_status(status, table);
        if step.return_note {
            // Not an accepted value (or an unknown code): give it back.
            self.requests.push_front((None, Request::Return));
        }
        self.outputs
            .extend(step.events.into_iter().map(HostOutput::Event));
    }
}

/// Whether `answer` can be the answer to `cmd` (anything else is a late
/// answer to an earlier command).
fn answers(cmd: &HostCommand, answer: &StatusResponse) -> bool {
    use StatusResponse as S;
    if matches!(answer, S::InvalidCommand | S::CommunicationError) {
        return true;
    }
    match cmd {
        HostCommand::StatusRequest => {
            (0x11..=0x1B).contains(&answer.code()) || (0x40..=0x49).contains(&answer.code())
        }
        HostCommand::Reset
        | HostCommand::Stack1
        | HostCommand::Stack2
        | HostCommand::Return
        | HostCommand::Hold
        | HostCommand::Wait => matches!(answer, S::Ack),
        HostCommand::CurrencyAssignRequest => matches!(answer, S::CurrencyAssign(_)),
        HostCommand::VersionRequest => matches!(answer, S::Version(_)),
        other => match (other.setting(), answer) {
            (Some(sent), S::SettingEcho(echo)) => sent.index() == echo.index(),
            _ => false,
        },
    }
}

fn power_up_note(status: &StatusResponse) -> Option<NoteAtPowerUp> {
    match status {
        StatusResponse::PowerUp => Some(NoteAtPowerUp::None),
        StatusResponse::PowerUpBillInAcceptor => Some(NoteAtPowerUp::InAcceptor),
        StatusResponse::PowerUpBillInStacker => Some(NoteAtPowerUp::InStacker),
        _ => None,
    }
}

fn next_step(step: InitStep) -> Option<InitStep> {
    match step {
        InitStep::Probe => Some(InitStep::Reset),
        InitStep::Reset => Some(InitStep::Version),
        InitStep::Version => Some(InitStep::Currency),
        InitStep::Currency => Some(InitStep::Denominations),
        InitStep::Denominations => Some(InitStep::Inhibit),
        InitStep::Inhibit => None,
    }
}
