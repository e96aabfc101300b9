//! The SSP host as a plain state machine: packets and time in, packets,
//! acceptor events and request completions out.
//!
//! ```text
//! port opened ─► SYNC ─► [eSSP: SET GENERATOR ─► SET MODULUS ─► REQUEST KEY EXCHANGE]
//!   ─► HOST PROTOCOL VERSION ─► SETUP REQUEST ─► GET SERIAL NUMBER ─► SET INHIBITS ─► ENABLE/DISABLE
//!   ─► running: POLL (WITH ACK) every interval, EVENT ACK after credit-type events,
//!      HOLD instead of POLL while a note waits in escrow for the kiosk's decision
//! ```
//!
//! In SSP the escrow decision is implicit: after "read note n" the *next
//! POLL accepts the note*. So the host holds the note with HOLD (the unit
//! rejects it if neither comes for 10 s) until the kiosk calls `stack`
//! (then the accepting POLL goes out) or `return_note` (REJECT).
//!
//! Link layer: one command outstanding; the sequence flag toggles on every
//! new command and a resend (reply timeout or corrupted reply) repeats the
//! same bytes, so the unit repeats its reply instead of acting twice. With
//! eSSP the resent bytes carry the same eCOUNT for the same reason.
//!
//! The host never blocks and never reads a clock: every call takes `now_ms`.

use std::collections::VecDeque;

use super::config::SspConfig;
use super::tracker::NoteTracker;
use crate::wire::ssp::essp::{prime_at_or_above, EsspKey, HostCipher, KeyExchange, STEX};
use crate::wire::ssp::{Command, Event, Packet, RejectCode, Reply, ReplyCode, SetupData};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, DeviceIdentity, DeviceProtocol, ErrorKind, Money,
    NoteAtPowerUp,
};

/// What the kiosk asks of the acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Accept notes of these values (SET INHIBITS for their channels, ENABLE).
    Enable(Vec<Money>),
    /// Refuse every note (DISABLE).
    Inhibit,
    /// Stack the escrowed note (the accepting POLL).
    Stack,
    /// Return the escrowed note (REJECT).
    Return,
    /// Restart the unit (RESET), then set it up again.
    Reset,
}

/// Something the shell must deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostOutput {
    /// An acceptor event, in order.
    Event(AcceptorEvent),
    /// The unit stopped answering (or its port vanished): one per outage.
    WentOffline,
    /// A request finished.
    Done {
        /// The token the request was made with.
        token: u64,
        /// Its result: `Timeout` means the unit may or may not have acted.
        result: Result<(), ErrorKind>,
    },
}

/// A packet to write, and the command it carries (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The command (before encryption).
    pub command: Command,
    /// The wire bytes (stuffed, encrypted when the link is).
    pub bytes: Vec<u8>,
}

/// Counters for health reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Replies to the outstanding command.
    pub answers: u64,
    /// Commands whose every attempt went unanswered.
    pub timeouts: u64,
    /// Broken packets (CRC, framing, decryption, counts).
    pub wire_errors: u64,
    /// Commands sent again with the same sequence flag.
    pub resends: u64,
    /// Packets that answered nothing outstanding.
    pub unexpected_answers: u64,
    /// Times the unit went offline.
    pub offline_episodes: u64,
    /// Completed eSSP key exchanges.
    pub key_exchanges: u64,
    /// Poll answers with an event this driver does not know.
    pub unknown_events: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Sync,
    Generator,
    Modulus,
    KeyExchange,
    ProtocolVersion,
    Setup,
    SerialNumber,
    Inhibits,
    Enable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Init(Step),
    Poll,
    EventAck,
    Hold,
    RejectCode,
    /// The host's own REJECT of a note the kiosk does not take.
    HostReject,
    /// A kiosk request's command; `last` completes it.
    Request {
        token: Option<u64>,
        last: bool,
    },
}

#[derive(Debug, Clone)]
struct Outstanding {
    command: Command,
    bytes: Vec<u8>,
    seq: bool,
    purpose: Purpose,
    deadline_ms: u64,
    attempt: u32,
    resend: bool,
}

/// Attempts at one initialisation step before moving on without it.
const INIT_TRIES: u32 = 3;

/// The SSP host state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct SspHost {
    config: SspConfig,
    fixed_key: u64,
    connected: bool,
    offline: bool,
    init: Option<Step>,
    init_tries: u32,
    outstanding: Option<Outstanding>,
    /// Commands of kiosk requests (and the host's own REJECT), in order.
    queue: VecDeque<(Command, Purpose)>,
    seq: bool,
    encrypt: bool,
    exchange: Option<KeyExchange>,
    cipher: Option<HostCipher>,
    rng: u64,
    poll_with_ack: bool,
    /// Events of a POLL WITH ACK were taken: EVENT ACK goes out next (kept
    /// across a new set-up, so the unit stops repeating what was taken).
    ack_due: bool,
    /// A poll was answered since the last set-up: a SLAVE RESET from now
    /// on is a restart that undid it (the first one is the report of the
    /// start before it).
    polled_since_init: bool,
    reject_code_due: bool,
    next_poll_ms: u64,
    reboot_until_ms: u64,
    power_up: Option<NoteAtPowerUp>,
    setup: Option<SetupData>,
    serial_number: Option<u32>,
    enabled: bool,
    accepted: Vec<Money>,
    device_enabled: bool,
    tracker: NoteTracker,
    outputs: VecDeque<HostOutput>,
    stats: HostStats,
}

impl SspHost {
    /// A host for a unit on a port not yet open. `config.fixed_key` must be
    /// valid ([`SspConfig::validate`]); an invalid one counts as the default.
    pub fn new(config: &SspConfig) -> SspHost {
        SspHost {
            config: config.clone(),
            fixed_key: config
                .fixed_key()
                .unwrap_or(crate::wire::ssp::essp::DEFAULT_FIXED_KEY),
            connected: false,
            offline: false,
            init: None,
            init_tries: 0,
            outstanding: None,
            queue: VecDeque::new(),
            seq: true,
            encrypt: config.encryption,
            exchange: None,
            cipher: None,
            rng: 0,
            poll_with_ack: config.poll_with_ack,
            ack_due: false,
            polled_since_init: false,
            reject_code_due: false,
            next_poll_ms: 0,
            reboot_until_ms: 0,
            power_up: None,
            setup: None,
            serial_number: None,
            enabled: false,
            accepted: Vec::new(),
            device_enabled: false,
            tracker: NoteTracker::default(),
            outputs: VecDeque::new(),
            stats: HostStats::default(),
        }
    }

    // ----- the port -----

    /// The port is open: set the unit up. `entropy` (from the OS) seeds
    /// this session's key-exchange numbers and packing bytes. The host
    /// reports `PowerUp` once the unit is set up and polled.
    pub fn port_opened(&mut self, now_ms: u64, entropy: u64) {
        self.connected = true;
        self.outstanding = None;
        self.rng = entropy;
        self.power_up = Some(NoteAtPowerUp::None);
        self.start_init(now_ms);
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
    /// `Return` without a note waiting in escrow fail at once with `InvalidState`.
    pub fn request(&mut self, token: u64, request: Request) {
        if self.offline || !self.connected {
            self.done(Some(token), Err(ErrorKind::Offline));
            return;
        }
        let token = Some(token);
        let last = Purpose::Request { token, last: true };
        match request {
            Request::Stack | Request::Return if !self.tracker.awaiting_decision() => {
                self.done(token, Err(ErrorKind::InvalidState));
            }
            Request::Enable(values) => {
                self.enabled = true;
                self.accepted = values.clone();
                self.tracker.set_accepted(values);
                let not_last = Purpose::Request { token, last: false };
                self.queue
                    .push_back((Command::SetInhibits(self.inhibit_mask()), not_last));
                self.queue.push_back((Command::Enable, last));
            }
            Request::Inhibit => {
                self.enabled = false;
                self.queue.push_back((Command::Disable, last));
            }
            Request::Stack => self.queue.push_back((self.poll_command(), last)),
            Request::Return => self.queue.push_back((Command::Reject, last)),
            Request::Reset => self.queue.push_back((Command::Reset, last)),
        }
    }

    /// The condition for [`BillAcceptor::status`](crate::BillAcceptor::status).
    pub fn status(&self) -> Result<AcceptorStatus, ErrorKind> {
        if self.offline || !self.connected {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.status(self.device_enabled))
    }

    /// The cash box: present unless the unit says it was removed, full
    /// while it says so; contents unknown.
    pub fn cash_box(&self) -> Result<CashBoxStatus, ErrorKind> {
        if self.offline || !self.connected {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.cash_box())
    }

    /// What the unit said about itself (firmware, country, channels), once read.
    pub fn setup(&self) -> Option<&SetupData> {
        self.setup.as_ref()
    }

    /// The unit's serial number, once read.
    pub fn serial_number(&self) -> Option<u32> {
        self.serial_number
    }

    /// What the unit said about itself at set-up (SETUP REQUEST and GET
    /// SERIAL NUMBER, read at every initialisation); protocol only until then.
    pub fn identity(&self) -> DeviceIdentity {
        match &self.setup {
            Some(setup) => setup.identity(self.serial_number),
            None => DeviceIdentity {
                serial: self.serial_number.map(|n| n.to_string()),
                ..DeviceIdentity::of(DeviceProtocol::Ssp)
            },
        }
    }

    /// Whether the link is encrypted (keys exchanged).
    pub fn is_encrypted(&self) -> bool {
        self.cipher.is_some()
    }

    /// Whether set-up is finished and the unit is being polled.
    pub fn is_running(&self) -> bool {
        self.connected && !self.offline && self.init.is_none()
    }

    /// The counters.
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    // ----- the wire -----

    /// The next packet to write, if one is due at `now_ms`. Call until `None`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Transmit> {
        self.check_timeout(now_ms);
        if !self.connected {
            return None;
        }
        if let Some(o) = self.outstanding.as_mut() {
            if !o.resend {
                return None;
            }
            o.resend = false;
            o.attempt += 1;
            o.deadline_ms = now_ms + self.config.answer_timeout_ms;
            self.stats.resends += 1;
            return Some(Transmit {
                command: o.command,
                bytes: o.bytes.clone(),
            });
        }
        let (command, purpose) = self.next_command(now_ms)?;
        self.send(command, purpose, now_ms)
    }

    /// When the host next wants to act (a poll or a reply deadline).
    pub fn next_deadline_ms(&self) -> Option<u64> {
        if !self.connected {
            return None;
        }
        Some(match &self.outstanding {
            Some(o) => o.deadline_ms,
            None => self.next_poll_ms,
        })
    }

    /// A packet decoded from the port.
    pub fn handle_packet(&mut self, now_ms: u64, packet: &Packet) {
        let Some(o) = self.outstanding.as_ref() else {
            self.stats.unexpected_answers += 1;
            return;
        };
        if packet.address != self.config.address || packet.seq != o.seq {
            // Not ours, or a late reply to an earlier command.
            self.stats.unexpected_answers += 1;
            return;
        }
        let data = match (packet.data.first(), self.cipher.as_ref()) {
            (Some(&STEX), Some(cipher)) => match cipher.open(&packet.data) {
                Ok(data) => data,
                Err(e) => return self.handle_wire_error(now_ms, e),
            },
            _ => packet.data.clone(),
        };
        let reply = match Reply::parse(&data) {
            Ok(reply) => reply,
            Err(e) => return self.handle_wire_error(now_ms, e),
        };
        let Some(o) = self.outstanding.take() else {
            return;
        };
        self.stats.answers += 1;
        // The next new command carries the other flag.
        self.seq = !o.seq;
        let mut purpose = o.purpose;
        if self.offline {
            // The unit answers again: it is back. Set it up from the start.
            self.offline = false;
            self.power_up = Some(NoteAtPowerUp::None);
            self.init = Some(Step::Sync);
            purpose = Purpose::Init(Step::Sync);
        }
        if reply.code == ReplyCode::KeyNotSet && !matches!(purpose, Purpose::Init(_)) {
            // The unit insists on eSSP, or lost its keys in a restart.
            if self.cipher.is_some() {
                self.power_up.get_or_insert(NoteAtPowerUp::None);
            }
            self.encrypt = true;
            if let Purpose::Request { token, .. } = purpose {
                self.done(token, Err(ErrorKind::Indeterminate));
            }
            self.fail_queue(ErrorKind::Indeterminate);
            self.start_init(now_ms);
            return;
        }
        match purpose {
            Purpose::Init(step) => self.on_init_reply(step, &reply, now_ms),
            Purpose::Poll => {
                self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                self.on_poll_reply(o.command, &reply, now_ms);
            }
            Purpose::EventAck | Purpose::Hold | Purpose::HostReject => {}
            Purpose::RejectCode => {
                let code = match (reply.code, reply.data.first()) {
                    (ReplyCode::Ok, Some(&c)) => Some(RejectCode(c)),
                    _ => None,
                };
                let events = self.tracker.reject_code(code);
                self.emit_all(events);
            }
            Purpose::Request { token, last } => {
                self.on_request_reply(token, last, &o, &reply, now_ms)
            }
        }
    }

    /// The decoder (or the decryption) reported a broken packet: send the
    /// outstanding command again, same bytes, within the retry budget.
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

    // ----- internals: sending -----

    fn poll_command(&self) -> Command {
        if self.poll_with_ack {
            Command::PollWithAck
        } else {
            Command::Poll
        }
    }

    fn next_command(&mut self, now_ms: u64) -> Option<(Command, Purpose)> {
        if self.offline {
            // Probe with SYNC every poll interval.
            return (now_ms >= self.next_poll_ms)
                .then_some((Command::Sync, Purpose::Init(Step::Sync)));
        }
        if let Some(step) = self.init {
            if now_ms < self.next_poll_ms {
                return None;
            }
            return Some((self.init_command(step), Purpose::Init(step)));
        }
        if self.ack_due {
            self.ack_due = false;
            return Some((Command::EventAck, Purpose::EventAck));
        }
        if let Some((command, purpose)) = self.queue.pop_front() {
            // The mask from the channel table as it is now: an `enable`
            // queued before SETUP REQUEST was answered must not send 0.
            let command = match command {
                Command::SetInhibits(_) => Command::SetInhibits(self.inhibit_mask()),
                other => other,
            };
            return Some((command, purpose));
        }
        if self.reject_code_due {
            self.reject_code_due = false;
            return Some((Command::LastRejectCode, Purpose::RejectCode));
        }
        if now_ms < self.next_poll_ms {
            return None;
        }
        self.next_poll_ms = now_ms + self.config.poll_interval_ms;
        if self.tracker.awaiting_decision() {
            // A POLL would accept the note: keep it until the kiosk decides.
            return Some((Command::Hold, Purpose::Hold));
        }
        Some((self.poll_command(), Purpose::Poll))
    }

    fn send(&mut self, command: Command, purpose: Purpose, now_ms: u64) -> Option<Transmit> {
        if command == Command::Sync {
            self.seq = true;
        }
        let plain = command.to_data();
        let data = match (self.cipher.as_mut(), command) {
            (Some(cipher), c) if !matches!(c, Command::Sync) => {
                let rng = &mut self.rng;
                match cipher.seal(&plain, &mut || (next_random(rng) >> 56) as u8) {
                    Ok(sealed) => sealed,
                    Err(_) => plain,
                }
            }
            _ => plain,
        };
        let packet = Packet::new(self.config.address, self.seq, data);
        let bytes = packet.to_bytes().ok()?;
        self.outstanding = Some(Outstanding {
            command,
            bytes: bytes.clone(),
            seq: self.seq,
            purpose,
            deadline_ms: now_ms + self.config.answer_timeout_ms,
            attempt: 1,
            resend: false,
        });
        Some(Transmit { command, bytes })
    }

    fn init_command(&mut self, step: Step) -> Command {
        match step {
            Step::Sync => Command::Sync,
            Step::Generator => {
                let exchange = self.new_exchange();
                self.exchange = Some(exchange);
                Command::SetGenerator(exchange.generator)
            }
            Step::Modulus => Command::SetModulus(self.exchange.map_or(0, |e| e.modulus)),
            Step::KeyExchange => {
                Command::RequestKeyExchange(self.exchange.map_or(0, |e| e.intermediate()))
            }
            Step::ProtocolVersion => Command::HostProtocolVersion(self.config.protocol_version),
            Step::Setup => Command::SetupRequest,
            Step::SerialNumber => Command::GetSerialNumber,
            Step::Inhibits => Command::SetInhibits(self.inhibit_mask()),
            Step::Enable if self.enabled => Command::Enable,
            Step::Enable => Command::Disable,
        }
    }

    /// Two primes in [2^30, 2^31) and a secret, as the ITL SDK picks them
    /// (it keeps every number below 2^31); the generator is the larger.
    fn new_exchange(&mut self) -> KeyExchange {
        let prime = |rng: &mut u64| {
            let start = (1 << 30) | (next_random(rng) & 0x3FFF_FFFF);
            prime_at_or_above(start).unwrap_or(1_500_450_271)
        };
        let a = prime(&mut self.rng);
        let mut b = prime(&mut self.rng);
        if a == b {
            b = prime_at_or_above(b + 1).unwrap_or(982_451_653);
        }
        let (generator, modulus) = (a.max(b), a.min(b));
        let secret = (next_random(&mut self.rng) & 0x7FFF_FFFF).max(2);
        KeyExchange::new(generator, modulus, secret)
    }

    fn inhibit_mask(&self) -> u16 {
        let Some(setup) = self.setup.as_ref() else {
            return 0;
        };
        (1..=setup.channels().min(16) as u8)
            .filter(|&c| setup.value(c).is_some_and(|v| self.accepted.contains(&v)))
            .fold(0u16, |mask, c| mask | 1 << (c - 1))
    }

    // ----- internals: replies -----

    fn on_init_reply(&mut self, step: Step, reply: &Reply, now_ms: u64) {
        let ok = reply.code == ReplyCode::Ok;
        let next = match step {
            Step::Sync if ok => Some(if self.encrypt {
                Step::Generator
            } else {
                Step::ProtocolVersion
            }),
            Step::Generator if ok => Some(Step::Modulus),
            Step::Modulus if ok => Some(Step::KeyExchange),
            Step::KeyExchange if ok => match (reply.key(), self.exchange) {
                (Ok(slave), Some(exchange)) => {
                    let key = EsspKey::new(self.fixed_key, exchange.shared_key(slave));
                    self.cipher = Some(HostCipher::new(key));
                    self.stats.key_exchanges += 1;
                    Some(Step::ProtocolVersion)
                }
                _ => None,
            },
            // F8 (not supported) is no reason to stop: go on with what the unit speaks.
            Step::ProtocolVersion => Some(Step::Setup),
            Step::Setup if ok => match SetupData::parse(&reply.data) {
                Ok(setup) => {
                    self.setup = Some(setup);
                    Some(Step::SerialNumber)
                }
                Err(_) => None,
            },
            Step::SerialNumber => {
                self.serial_number = reply.serial_number().ok();
                Some(Step::Inhibits)
            }
            Step::Inhibits => Some(Step::Enable),
            Step::Enable => {
                self.init = None;
                self.next_poll_ms = now_ms;
                self.device_enabled = ok && self.enabled;
                return;
            }
            _ => None,
        };
        match next {
            Some(step) => {
                self.init = Some(step);
                self.init_tries = 0;
                self.next_poll_ms = now_ms;
            }
            None => {
                // Refused: try again after a poll interval, a bounded
                // number of times, then go on without it and say so.
                self.init_tries += 1;
                let again = match step {
                    Step::Modulus | Step::KeyExchange => Step::Generator,
                    other => other,
                };
                self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                if self.init_tries < INIT_TRIES {
                    self.init = Some(again);
                    return;
                }
                self.init_tries = 0;
                self.emit(AcceptorEvent::Failure);
                self.init = Some(match step {
                    Step::Generator | Step::Modulus | Step::KeyExchange => Step::ProtocolVersion,
                    Step::Setup => Step::SerialNumber,
                    _ => Step::Inhibits,
                });
            }
        }
    }

    fn on_poll_reply(&mut self, command: Command, reply: &Reply, now_ms: u64) {
        match reply.code {
            ReplyCode::Ok => {}
            ReplyCode::UnknownCommand if command == Command::PollWithAck => {
                // An older unit: poll plainly from now on.
                self.poll_with_ack = false;
                self.next_poll_ms = now_ms;
                return;
            }
            _ => return,
        }
        let events = match Event::parse_all(&reply.data) {
            Ok(events) => events,
            Err(_) => {
                self.stats.unknown_events += 1;
                if command == Command::PollWithAck {
                    self.ack_due = true;
                }
                return;
            }
        };
        self.on_events(command, &events, now_ms);
    }

    fn on_events(&mut self, command: Command, events: &[Event], now_ms: u64) {
        let step = self.tracker.on_poll(events, self.setup.as_ref());
        // A restart after our set-up undid it: keys and settings are gone.
        let restarted = step.slave_reset && self.polled_since_init;
        self.polled_since_init = true;
        if step.slave_reset {
            self.tracker.forget_note();
        }
        if restarted {
            self.power_up.get_or_insert(NoteAtPowerUp::None);
        }
        match (self.power_up.as_mut(), step.cleared) {
            (Some(pending), Some(found)) => *pending = found,
            // After the kiosk's own RESET no power-up is announced, unless
            // the restart found a note (one no jam was waiting for).
            (None, Some(found)) => self.power_up = Some(found),
            _ => {}
        }
        // A jam the restart settled is reported before the power-up, so
        // the note in doubt is settled by its own clearing.
        self.emit_all(step.events);
        if !restarted && !step.initialising {
            if let Some(note) = self.power_up.take() {
                self.emit(AcceptorEvent::PowerUp { note });
            }
        }
        if step.reject_note {
            self.queue
                .push_front((Command::Reject, Purpose::HostReject));
        }
        if step.ask_reject_code {
            self.reject_code_due = true;
        }
        if command == Command::PollWithAck && events.iter().any(Event::needs_ack) {
            self.ack_due = true;
        }
        self.device_enabled = !self.tracker.disabled() && self.enabled;
        if restarted {
            self.fail_queue(ErrorKind::Indeterminate);
            self.start_init(now_ms);
            return;
        }
        // Kept disabled and saying nothing but "disabled": no note can
        // enter or be held, poll at the idle interval (GA138 allows up to
        // a second). Any request or other event polls at the normal one.
        let quiet = !self.enabled
            && self.queue.is_empty()
            && !self.ack_due
            && !events.is_empty()
            && events.iter().all(|e| *e == Event::Disabled);
        if quiet {
            let idle = self
                .config
                .idle_poll_interval_ms
                .max(self.config.poll_interval_ms);
            self.next_poll_ms = now_ms + idle;
        }
    }

    fn on_request_reply(
        &mut self,
        token: Option<u64>,
        last: bool,
        o: &Outstanding,
        reply: &Reply,
        now_ms: u64,
    ) {
        self.next_poll_ms = now_ms;
        if reply.code != ReplyCode::Ok {
            let kind = match reply.code {
                ReplyCode::CannotProcess | ReplyCode::ParameterOutOfRange => {
                    ErrorKind::InvalidState
                }
                _ => ErrorKind::Protocol,
            };
            // The rest of this request's commands are moot.
            self.queue
                .retain(|(_, p)| !matches!(p, Purpose::Request { token: t, .. } if *t == token));
            self.done(token, Err(kind));
            return;
        }
        match o.command {
            Command::Poll | Command::PollWithAck => {
                // The accepting poll: the note goes to the stacker.
                self.tracker.stack_requested();
                self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                match Event::parse_all(&reply.data) {
                    Ok(events) => self.on_events(o.command, &events, now_ms),
                    Err(_) => self.stats.unknown_events += 1,
                }
            }
            Command::Reject => self.tracker.return_requested(),
            Command::Enable => self.device_enabled = true,
            Command::Disable => self.device_enabled = false,
            Command::Reset => {
                self.tracker.forget_note();
                self.power_up = None;
                self.reboot_until_ms = now_ms + self.config.reset_grace_ms;
                self.done(token, Ok(()));
                self.start_init(now_ms);
                return;
            }
            _ => {}
        }
        if last {
            self.done(token, Ok(()));
        }
    }

    // ----- internals: state -----

    fn emit(&mut self, event: AcceptorEvent) {
        self.outputs.push_back(HostOutput::Event(event));
    }

    fn emit_all(&mut self, events: Vec<AcceptorEvent>) {
        self.outputs
            .extend(events.into_iter().map(HostOutput::Event));
    }

    fn done(&mut self, token: Option<u64>, result: Result<(), ErrorKind>) {
        if let Some(token) = token {
            self.outputs.push_back(HostOutput::Done { token, result });
        }
    }

    fn fail_queue(&mut self, kind: ErrorKind) {
        let mut failed = Vec::new();
        for (_, purpose) in self.queue.drain(..) {
            if let Purpose::Request { token, last: true } = purpose {
                failed.push(token);
            }
        }
        for token in failed {
            self.done(token, Err(kind));
        }
    }

    fn start_init(&mut self, now_ms: u64) {
        self.init = Some(Step::Sync);
        self.init_tries = 0;
        self.cipher = None;
        self.exchange = None;
        self.polled_since_init = false;
        self.reject_code_due = false;
        self.device_enabled = false;
        self.next_poll_ms = now_ms;
    }

    fn go_offline(&mut self) {
        if let Some(o) = self.outstanding.take() {
            if let Purpose::Request { token, .. } = o.purpose {
                self.done(token, Err(ErrorKind::Offline));
            }
        }
        self.fail_queue(ErrorKind::Offline);
        self.init = None;
        self.cipher = None;
        self.reject_code_due = false;
        self.device_enabled = false;
        if !self.offline {
            self.offline = true;
            self.stats.offline_episodes += 1;
            self.outputs.push_back(HostOutput::WentOffline);
        }
    }

    fn check_timeout(&mut self, now_ms: u64) {
        let Some(o) = self.outstanding.as_mut() else {
            return;
        };
        if now_ms < o.deadline_ms {
            return;
        }
        if !self.offline && o.attempt <= self.config.command_retries {
            // Same bytes, same flag: the unit repeats its reply if it had one.
            o.resend = true;
            o.deadline_ms = u64::MAX;
            return;
        }
        let purpose = o.purpose;
        self.outstanding = None;
        self.stats.timeouts += 1;
        self.next_poll_ms = now_ms + self.config.poll_interval_ms;
        if self.offline {
            return;
        }
        if purpose == Purpose::Init(Step::Sync) && now_ms < self.reboot_until_ms {
            // Booting after our RESET: keep knocking.
            return;
        }
        if let Purpose::Request { token, .. } = purpose {
            self.done(token, Err(ErrorKind::Timeout));
        }
        self.go_offline();
    }
}

/// The next number of a SplitMix64 sequence: spreads the OS entropy over
/// this session's key-exchange numbers and packing bytes. Not a crypto
/// primitive: the packing needs no secrecy, and the protocol's 64-bit
/// exchange offers none worth protecting; the numbers only need to differ
/// between sessions.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
