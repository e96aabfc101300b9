//! The ccTalk bill validator host as a plain state machine: replies and
//! time in, commands, acceptor events and request completions out.
//!
//! ```text
//! port opened ─► probe (READ BUFFERED BILL EVENTS: the counter baseline)
//!   ─► category, manufacturer, product, serial, software revision ─► bill ids 1..n ─► country scaling
//!   ─► operating mode (stacker + escrow) ─► inhibit mask ─► master inhibit ─► running
//! running: READ BUFFERED BILL EVENTS every poll interval
//! ```
//!
//! The event counter drives everything: new events are taken oldest first,
//! a counter back at 0 means the device restarted, and a jump of more than
//! five means events were lost — the note the host was handling, or any
//! note at all, is then reported in doubt (`Jammed` + `JamCleared
//! { unknown }`) and counted in [`HostStats::lost_events`].
//!
//! The host never blocks and never reads a clock. Frames not addressed to
//! the host (its own echo on the shared wire) are dropped by the shell.

use std::collections::VecDeque;

use super::coin_config::CctalkCoinConfig;
use super::coin_tracker::CoinTracker;
use super::config::CctalkConfig;
use super::tracker::NoteTracker;
use crate::wire::cctalk::{
    parse_serial_number, parse_text, BillRoute, BufferedBillEvents, CoinId, FrameRepr, HostCommand,
    HEADER_BUSY, HEADER_NAK, HEADER_REPLY,
};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, Currency, DeviceIdentity, DeviceProtocol,
    ErrorKind, Money, NoteAtPowerUp,
};

/// What the kiosk asks of the acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Accept notes of these values (their bill types enabled, master on).
    Enable(Vec<Money>),
    /// Refuse every note (master inhibit).
    Inhibit,
    /// Stack the escrowed note (ROUTE BILL 1).
    Stack,
    /// Return the escrowed note (ROUTE BILL 0).
    Return,
    /// Reset the device, then set it up again.
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
    /// Replies that matched the outstanding command.
    pub answers: u64,
    /// Commands that got no reply in time.
    pub timeouts: u64,
    /// Broken frames reported by the decoder.
    pub wire_errors: u64,
    /// Commands sent again (lost reply, NAK, BUSY).
    pub resends: u64,
    /// Replies that fit nothing outstanding.
    pub unexpected_answers: u64,
    /// Times the device went offline.
    pub offline_episodes: u64,
    /// Bill events lost because the counter jumped past the buffer.
    pub lost_events: u64,
    /// Times the event counter went back to 0 under the host.
    pub restarts: u64,
}

/// The device's identity, as read at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Header 246.
    pub manufacturer: String,
    /// Header 244.
    pub product: String,
    /// Header 242, the 3 bytes as a number.
    pub serial_number: u32,
    /// Header 245 (`Bill Validator`).
    pub category: String,
    /// Header 241.
    pub software_revision: String,
}

impl Identity {
    /// The HAL's view: product code as the model, software revision as
    /// the firmware, the serial number in decimal; empty texts as unknown.
    pub fn device_identity(&self) -> DeviceIdentity {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let read = !self.manufacturer.is_empty() || !self.product.is_empty();
        DeviceIdentity {
            manufacturer: some(&self.manufacturer),
            model: some(&self.product),
            firmware: some(&self.software_revision),
            // 0 is also "not read": a device numbered 0 is not worth telling.
            serial: (read && self.serial_number != 0).then(|| self.serial_number.to_string()),
            ..DeviceIdentity::of(DeviceProtocol::Cctalk)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InitStep {
    Probe,
    Category,
    Manufacturer,
    Product,
    Serial,
    Revision,
    BillId(u8),
    CoinId(u8),
    Scaling,
    Mode,
    Inhibits,
    Master,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Poll,
    Init(InitStep),
    /// A step of a kiosk request; the token completes with the last step.
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

const INIT_TRIES: u32 = 3;

/// What the device takes in: the headers and events differ, the frame,
/// the event counter, polling, retries and identity do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    /// A bill validator (159 events, bill ids, escrow).
    Bills,
    /// A coin acceptor (229 credits and error codes, coin ids, no escrow)
    /// with this many coin positions.
    Coins(u8),
}

/// The ccTalk host state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct CctalkHost {
    config: CctalkConfig,
    mechanism: Mechanism,
    connected: bool,
    offline: bool,
    announce_power_up: bool,
    init: Option<InitStep>,
    init_tries: u32,
    outstanding: Option<Outstanding>,
    /// Commands queued for kiosk requests, each with the token it completes.
    queued: VecDeque<(Option<u64>, HostCommand)>,
    next_poll_ms: u64,
    missed: u32,
    last_counter: Option<u8>,
    /// Bill id per type (index 0 = type 1), as read.
    bill_ids: Vec<Option<[u8; 7]>>,
    /// Coin id per position (index 0 = position 1), as read.
    coin_ids: Vec<Option<CoinId>>,
    /// Scaling factor and decimal places of the bill ids' country.
    scaling: (u16, u8),
    identity: Identity,
    accepted: Vec<Money>,
    enabled: bool,
    tracker: NoteTracker,
    coins: CoinTracker,
    outputs: VecDeque<HostOutput>,
    stats: HostStats,
}

impl CctalkHost {
    /// A host for a device on a port not yet open.
    pub fn new(config: &CctalkConfig) -> CctalkHost {
        CctalkHost::with_mechanism(config.clone(), Mechanism::Bills)
    }

    /// A host for a coin acceptor on a port not yet open: coins are
    /// credited as [`AcceptorEvent::Stacked`] (no escrow), `Stack` and
    /// `Return` fail with `InvalidState`.
    pub fn coins(config: &CctalkCoinConfig) -> CctalkHost {
        let positions = config.coin_positions.clamp(1, 16);
        CctalkHost::with_mechanism(config.line_config(), Mechanism::Coins(positions))
    }

    fn with_mechanism(config: CctalkConfig, mechanism: Mechanism) -> CctalkHost {
        CctalkHost {
            config,
            mechanism,
            connected: false,
            offline: false,
            announce_power_up: false,
            init: None,
            init_tries: 0,
            outstanding: None,
            queued: VecDeque::new(),
            next_poll_ms: 0,
            missed: 0,
            last_counter: None,
            bill_ids: Vec::new(),
            coin_ids: Vec::new(),
            scaling: (1, 0),
            identity: Identity::default(),
            accepted: Vec::new(),
            enabled: false,
            tracker: NoteTracker::default(),
            coins: CoinTracker::default(),
            outputs: VecDeque::new(),
            stats: HostStats::default(),
        }
    }

    /// The port is open: set the device up.
    pub fn port_opened(&mut self, now_ms: u64) {
        self.connected = true;
        self.outstanding = None;
        self.start_init(InitStep::Probe, now_ms);
    }

    /// The port vanished: offline at once.
    pub fn port_closed(&mut self, _now_ms: u64) {
        self.connected = false;
        self.go_offline();
    }

    /// Queues a request; its completion comes as [`HostOutput::Done`].
    ///
    /// Offline, every request fails at once with `Offline`; `Stack` and
    /// `Return` without a note in escrow fail at once with `InvalidState`.
    pub fn request(&mut self, token: u64, request: Request) {
        if self.is_offline() {
            self.done(Some(token), Err(ErrorKind::Offline));
            return;
        }
        let token = Some(token);
        match request {
            Request::Stack | Request::Return if !self.tracker.in_escrow() => {
                self.done(token, Err(ErrorKind::InvalidState));
            }
            Request::Stack => self
                .queued
                .push_back((token, HostCommand::RouteBill(BillRoute::Stack))),
            Request::Return => self
                .queued
                .push_back((token, HostCommand::RouteBill(BillRoute::Return))),
            Request::Enable(values) => {
                self.enabled = true;
                self.accepted = values.clone();
                self.tracker.set_accepted(values);
                let mask = self.inhibit_mask();
                self.queued
                    .push_back((None, HostCommand::ModifyInhibitStatus(mask)));
                self.queued
                    .push_back((token, HostCommand::ModifyMasterInhibit(true)));
            }
            Request::Inhibit => {
                self.enabled = false;
                self.queued
                    .push_back((token, HostCommand::ModifyMasterInhibit(false)));
            }
            Request::Reset => self.queued.push_back((token, HostCommand::Reset)),
        }
    }

    /// The condition for [`BillAcceptor::status`](crate::BillAcceptor::status).
    pub fn status(&self) -> Result<AcceptorStatus, ErrorKind> {
        if self.is_offline() {
            return Err(ErrorKind::Offline);
        }
        let enabled = self.enabled && self.init.is_none();
        Ok(match self.mechanism {
            Mechanism::Bills => self.tracker.status(enabled),
            Mechanism::Coins(_) => self.coins.status(enabled),
        })
    }

    /// The stacker as a cash box.
    pub fn cash_box(&self) -> Result<CashBoxStatus, ErrorKind> {
        if self.is_offline() {
            return Err(ErrorKind::Offline);
        }
        Ok(self.tracker.cash_box())
    }

    /// The device's identity, as read at start.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The value of bill type `t` (1-based), from its bill id and the
    /// country's scaling factor; on a coin acceptor, of coin position `t`
    /// from its coin id.
    pub fn value_of(&self, t: u8) -> Option<Money> {
        if let Mechanism::Coins(_) = self.mechanism {
            return coin_value(&self.coin_ids, t, self.config.currency);
        }
        let id = self
            .bill_ids
            .get(usize::from(t).checked_sub(1)?)?
            .as_ref()?;
        bill_value(id, self.scaling, self.config.currency)
    }

    /// Whether the device is counted as offline.
    pub fn is_offline(&self) -> bool {
        self.offline || !self.connected
    }

    /// Whether setup is finished and events are being read.
    pub fn is_running(&self) -> bool {
        self.connected && !self.offline && self.init.is_none()
    }

    /// The counters.
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    /// When the host next wants to act.
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

    /// The next command to write, if one is due at `now_ms`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<HostCommand> {
        self.check_timeout(now_ms);
        if !self.connected {
            return None;
        }
        if let Some(o) = self.outstanding.as_mut() {
            if !o.resend || now_ms < o.deadline_ms {
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
            (self.poll_command(), Purpose::Poll)
        } else if let Some(step) = self.init {
            if now_ms < self.next_poll_ms {
                return None;
            }
            (self.init_command(step), Purpose::Init(step))
        } else if let Some((token, cmd)) = self.queued.pop_front() {
            (cmd, Purpose::Request(token))
        } else if now_ms >= self.next_poll_ms {
            (self.poll_command(), Purpose::Poll)
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

    /// A frame addressed to the host.
    pub fn handle_frame(&mut self, now_ms: u64, frame: &FrameRepr) {
        let Some(o) = self.outstanding.take() else {
            self.stats.unexpected_answers += 1;
            return;
        };
        match frame.header {
            HEADER_REPLY => {}
            HEADER_NAK | HEADER_BUSY => {
                // Not read, or not now: ask again (BUSY after a pause).
                let busy = frame.header == HEADER_BUSY;
                let mut again = o;
                if again.attempt <= self.config.command_retries.max(1) {
                    again.resend = true;
                    again.deadline_ms = if busy {
                        now_ms + self.config.poll_interval_ms
                    } else {
                        now_ms
                    };
                    self.outstanding = Some(again);
                } else {
                    self.outstanding = Some(again);
                    self.fail_outstanding(now_ms, ErrorKind::Protocol);
                }
                return;
            }
            _ => {
                self.stats.unexpected_answers += 1;
                self.outstanding = Some(o);
                return;
            }
        }
        self.stats.answers += 1;
        self.missed = 0;
        let mut purpose = o.purpose;
        if self.offline {
            self.offline = false;
            purpose = Purpose::Init(InitStep::Probe);
            if o.cmd != self.poll_command() {
                self.start_init(InitStep::Probe, now_ms);
                return;
            }
        }
        match purpose {
            Purpose::Poll => {
                self.next_poll_ms = now_ms + self.config.poll_interval_ms;
                match BufferedBillEvents::parse(&frame.data) {
                    Ok(events) => self.on_events(&events, now_ms),
                    Err(e) => self.handle_wire_error(now_ms, e),
                }
            }
            Purpose::Init(step) => self.on_init_reply(step, &frame.data, now_ms),
            Purpose::Request(token) => self.on_request_reply(token, &o, &frame.data, now_ms),
        }
    }

    /// The decoder reported a broken frame. Counted only: ccTalk has no
    /// sync byte, so a checksum error is often noise before the real reply;
    /// the host asks again when its reply timeout passes.
    pub fn handle_wire_error(&mut self, _now_ms: u64, _error: WireError) {
        self.stats.wire_errors += 1;
    }

    /// The next output to deliver.
    pub fn poll_output(&mut self) -> Option<HostOutput> {
        self.outputs.pop_front()
    }

    // ----- internals -----

    /// The command that reads the event log.
    fn poll_command(&self) -> HostCommand {
        match self.mechanism {
            Mechanism::Bills => HostCommand::ReadBufferedBillEvents,
            Mechanism::Coins(_) => HostCommand::ReadBufferedCreditOrErrorCodes,
        }
    }

    /// Where set-up starts again after a restart: the device forgot its
    /// settings, not its identity.
    fn resetup_step(&self) -> InitStep {
        match self.mechanism {
            Mechanism::Bills => InitStep::Mode,
            Mechanism::Coins(_) => InitStep::Inhibits,
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
        while let Some((token, _)) = self.queued.pop_front() {
            self.done(token, Err(ErrorKind::Offline));
        }
        self.init = None;
        if !self.offline {
            self.offline = true;
            self.announce_power_up = true;
            self.stats.offline_episodes += 1;
            self.outputs.push_back(HostOutput::WentOffline);
        }
    }

    fn fail_outstanding(&mut self, now_ms: u64, kind: ErrorKind) {
        let Some(o) = self.outstanding.take() else {
            return;
        };
        self.next_poll_ms = now_ms;
        match o.purpose {
            Purpose::Request(token) => {
                // The request's later steps go with it.
                self.done(token, Err(kind));
                if token.is_none() {
                    if let Some((t, _)) = self.queued.pop_front() {
                        self.done(t, Err(kind));
                    }
                }
            }
            Purpose::Init(step) => self.init_failed(step, now_ms),
            Purpose::Poll => {}
        }
    }

    fn check_timeout(&mut self, now_ms: u64) {
        let Some(o) = self.outstanding.as_ref() else {
            return;
        };
        if o.resend || now_ms < o.deadline_ms {
            return;
        }
        let retry = o.attempt <= self.config.command_retries;
        self.stats.timeouts += 1;
        self.missed = self.missed.saturating_add(1);
        let threshold = self.config.offline_after_missed.max(1);
        if retry && !self.offline && self.missed < threshold {
            // ccTalk: a slave stays silent on any error; the host retries.
            if let Some(o) = self.outstanding.as_mut() {
                o.resend = true;
                o.deadline_ms = now_ms;
            }
            return;
        }
        if !self.offline && self.missed >= threshold {
            if let Some(Outstanding {
                purpose: Purpose::Request(token),
                ..
            }) = self.outstanding.take()
            {
                // Sent, never confirmed: its effect is unknown.
                self.done(token, Err(ErrorKind::Timeout));
            }
            self.go_offline();
            self.next_poll_ms = now_ms + self.config.poll_interval_ms;
            return;
        }
        if self.offline {
            self.outstanding = None;
            self.next_poll_ms = now_ms + self.config.poll_interval_ms;
            return;
        }
        self.fail_outstanding(now_ms, ErrorKind::Timeout);
    }

    fn inhibit_mask(&self) -> [u8; 2] {
        let mut mask = 0u16;
        for t in 1..=16u8 {
            if self.value_of(t).is_some_and(|v| self.accepted.contains(&v)) {
                mask |= 1 << (t - 1);
            }
        }
        mask.to_le_bytes()
    }

    fn init_command(&self, step: InitStep) -> HostCommand {
        match step {
            InitStep::Probe => self.poll_command(),
            InitStep::Category => HostCommand::RequestEquipmentCategory,
            InitStep::Manufacturer => HostCommand::RequestManufacturerId,
            InitStep::Product => HostCommand::RequestProductCode,
            InitStep::Serial => HostCommand::RequestSerialNumber,
            InitStep::Revision => HostCommand::RequestSoftwareRevision,
            InitStep::BillId(t) => HostCommand::RequestBillId(t),
            InitStep::CoinId(t) => HostCommand::RequestCoinId(t),
            InitStep::Scaling => {
                let country = self
                    .bill_ids
                    .iter()
                    .flatten()
                    .next()
                    .map_or(*b"..", |id| [id[0], id[1]]);
                HostCommand::RequestCountryScalingFactor(country)
            }
            InitStep::Mode => HostCommand::ModifyBillOperatingMode(0b11),
            InitStep::Inhibits => HostCommand::ModifyInhibitStatus(self.inhibit_mask()),
            InitStep::Master => HostCommand::ModifyMasterInhibit(self.enabled),
        }
    }

    fn next_step(&self, step: InitStep) -> Option<InitStep> {
        Some(match step {
            InitStep::Probe => InitStep::Category,
            InitStep::Category => InitStep::Manufacturer,
            InitStep::Manufacturer => InitStep::Product,
            InitStep::Product => InitStep::Serial,
            InitStep::Serial => InitStep::Revision,
            InitStep::Revision => match self.mechanism {
                Mechanism::Bills => InitStep::BillId(1),
                Mechanism::Coins(_) => InitStep::CoinId(1),
            },
            InitStep::CoinId(t) => match self.mechanism {
                Mechanism::Coins(positions) if t < positions => InitStep::CoinId(t + 1),
                _ => InitStep::Inhibits,
            },
            InitStep::BillId(t) if t < self.config.bill_types.max(1) => InitStep::BillId(t + 1),
            InitStep::BillId(_) => InitStep::Scaling,
            InitStep::Scaling => InitStep::Mode,
            InitStep::Mode => InitStep::Inhibits,
            InitStep::Inhibits => InitStep::Master,
            InitStep::Master => return None,
        })
    }

    fn advance(&mut self, step: InitStep, now_ms: u64) {
        match self.next_step(step) {
            Some(next) => self.start_init(next, now_ms),
            None => {
                self.init = None;
                self.next_poll_ms = now_ms;
            }
        }
    }

    fn init_failed(&mut self, step: InitStep, now_ms: u64) {
        self.init_tries += 1;
        if self.init_tries < INIT_TRIES {
            self.init = Some(step);
            self.next_poll_ms = now_ms + self.config.poll_interval_ms;
            return;
        }
        if step == InitStep::Scaling && self.bill_ids.iter().all(Option::is_none) {
            // Without bill ids no note has a value: say so.
            self.emit(AcceptorEvent::Failure);
        }
        self.advance(step, now_ms);
    }

    fn on_init_reply(&mut self, step: InitStep, data: &[u8], now_ms: u64) {
        // An identity answer that is not text is kept as unknown (empty):
        // it says nothing about whether the validator works.
        let text = |header: u8, d: &[u8]| parse_text(header, d).unwrap_or_default();
        match step {
            InitStep::Probe => match BufferedBillEvents::parse(data) {
                Ok(events) => self.on_probe(&events),
                Err(_) => return self.init_failed(step, now_ms),
            },
            InitStep::Category => self.identity.category = text(245, data),
            InitStep::Manufacturer => self.identity.manufacturer = text(246, data),
            InitStep::Product => self.identity.product = text(244, data),
            InitStep::Serial => {
                self.identity.serial_number = parse_serial_number(data).unwrap_or(0);
            }
            InitStep::Revision => self.identity.software_revision = text(241, data),
            InitStep::BillId(t) => {
                let i = usize::from(t - 1);
                if self.bill_ids.len() <= i {
                    self.bill_ids.resize(i + 1, None);
                }
                self.bill_ids[i] = <[u8; 7]>::try_from(data)
                    .ok()
                    .filter(|id| id[2..6].iter().all(u8::is_ascii_digit));
            }
            InitStep::CoinId(t) => {
                let i = usize::from(t - 1);
                if self.coin_ids.len() <= i {
                    self.coin_ids.resize(i + 1, None);
                }
                // A position whose answer is not a coin id is empty.
                self.coin_ids[i] = CoinId::parse(data).ok().flatten();
            }
            InitStep::Scaling => match *data {
                [lo, hi, decimals] if u16::from_le_bytes([lo, hi]) > 0 => {
                    self.scaling = (u16::from_le_bytes([lo, hi]), decimals)
                }
                _ => return self.init_failed(step, now_ms),
            },
            InitStep::Mode | InitStep::Inhibits | InitStep::Master => {}
        }
        self.advance(step, now_ms);
    }

    /// The first counter after the port opened or the device came back.
    fn on_probe(&mut self, events: &BufferedBillEvents) {
        let delta = events.since(self.last_counter);
        let restarted = events.counter == 0 || delta.restarted;
        if self.last_counter.is_some() {
            // Back after an outage: what happened meanwhile counts.
            self.apply_delta(events, restarted);
        } else {
            self.last_counter = Some(events.counter);
        }
        if restarted || self.announce_power_up {
            self.emit(AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None,
            });
        }
        self.announce_power_up = false;
    }

    fn on_events(&mut self, events: &BufferedBillEvents, now_ms: u64) {
        if events.since(self.last_counter).restarted {
            self.apply_delta(events, true);
            // Its settings are gone with the restart: set it up again.
            self.emit(AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None,
            });
            self.start_init(self.resetup_step(), now_ms);
            return;
        }
        self.apply_delta(events, false);
    }

    fn apply_delta(&mut self, events: &BufferedBillEvents, restarted: bool) {
        let last = self.last_counter;
        self.last_counter = Some(events.counter);
        if let Mechanism::Coins(_) = self.mechanism {
            return self.apply_coin_delta(events, last, restarted);
        }
        let crate::wire::cctalk::EventDelta { new, lost, .. } = events.since(last);
        let mut out = Vec::new();
        if restarted {
            self.stats.restarts += 1;
            // The device forgot the note it had: whatever the host knew of
            // it is all that is known.
            self.tracker.fate_lost(&mut out, false);
        }
        let currency = self.config.currency;
        let (ids, scaling) = (self.bill_ids.clone(), self.scaling);
        let value_of = |t: u8| {
            let id = ids.get(usize::from(t).checked_sub(1)?)?.as_ref()?;
            bill_value(id, scaling, currency)
        };
        if lost > 0 {
            // Lost events are older than the new ones: their fate first.
            self.stats.lost_events += u64::from(lost);
            self.tracker.fate_lost(&mut out, true);
        }
        let mut return_note = false;
        for event in new {
            let step = self.tracker.on_event(event, value_of);
            out.extend(step.events);
            return_note |= step.return_note;
        }
        if return_note {
            self.queued
                .push_front((None, HostCommand::RouteBill(BillRoute::Return)));
        }
        self.outputs.extend(out.into_iter().map(HostOutput::Event));
    }

    /// New coin log entries: credits are `Stacked` at once; lost entries
    /// (the counter jumped past the buffer) may have been coins: one item
    /// in doubt with an alarm, as on the bill path.
    fn apply_coin_delta(&mut self, events: &BufferedBillEvents, last: Option<u8>, restarted: bool) {
        let delta = events.coin_since(last);
        let mut out = Vec::new();
        if restarted {
            self.stats.restarts += 1;
            self.coins.fate_lost(&mut out, false);
        }
        if delta.lost > 0 {
            self.stats.lost_events += u64::from(delta.lost);
            self.coins.fate_lost(&mut out, true);
        }
        let (ids, currency) = (&self.coin_ids, self.config.currency);
        for event in delta.new {
            self.coins
                .on_event(event, |p| coin_value(ids, p, currency), &mut out);
        }
        self.outputs.extend(out.into_iter().map(HostOutput::Event));
    }

    fn on_request_reply(&mut self, token: Option<u64>, o: &Outstanding, data: &[u8], now_ms: u64) {
        let result = match (o.cmd, data) {
            // ROUTE BILL: 254 = escrow empty, 255 = failed to route.
            (HostCommand::RouteBill(_), [254]) if o.attempt > 1 => Ok(()),
            (HostCommand::RouteBill(_), [254]) => Err(ErrorKind::InvalidState),
            (HostCommand::RouteBill(_), [255]) => Err(ErrorKind::Indeterminate),
            _ => Ok(()),
        };
        if result.is_ok() {
            match o.cmd {
                HostCommand::RouteBill(BillRoute::Stack) => self.tracker.stack_accepted(),
                HostCommand::Reset => {
                    self.done(token, result);
                    self.last_counter = Some(0);
                    let step = self.resetup_step();
                    self.start_init(step, now_ms + self.config.poll_interval_ms);
                    return;
                }
                _ => {}
            }
        }
        self.next_poll_ms = now_ms;
        self.done(token, result);
    }
}

/// The value of coin position `p` (1-based) from its coin id: the id's
/// digits in the currency's minor units.
fn coin_value(ids: &[Option<CoinId>], p: u8, currency: Currency) -> Option<Money> {
    let id = ids.get(usize::from(p).checked_sub(1)?)?.as_ref()?;
    Some(Money::new(i64::from(id.minor_units()?), currency))
}

/// The value of a bill id `CCvvvvI` (country, 4 digits, issue) with the
/// country's scaling factor and decimal places: `vvvv × scaling` in units
/// of `10^-decimals`.
fn bill_value(id: &[u8; 7], (scaling, decimals): (u16, u8), currency: Currency) -> Option<Money> {
    let digits = std::str::from_utf8(&id[2..6]).ok()?.parse::<i64>().ok()?;
    if digits == 0 {
        return None;
    }
    let units = digits.checked_mul(i64::from(scaling))?;
    let minor_exp = i64::from(currency.minor_exponent());
    let shift = minor_exp - i64::from(decimals);
    let minor = if shift >= 0 {
        units.checked_mul(10i64.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        let div = 10i64.checked_pow(u32::try_from(-shift).ok()?)?;
        if units % div != 0 {
            return None;
        }
        units / div
    };
    Some(Money::new(minor, currency))
}

#[cfg(test)]
pub(super) fn value_for_test(id: &[u8; 7], scaling: (u16, u8)) -> Option<Money> {
    bill_value(id, scaling, Currency::CNY)
}
