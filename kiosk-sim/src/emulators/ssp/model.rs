//! The SSP protocol adapter in front of a [`VirtualAcceptor`]: host
//! packets in, the unit's replies out.
//!
//! The virtual acceptor decides what happens to notes (timings, fault
//! plans, the cash box); this adapter shows its events the way an ITL unit
//! does: events queued and handed out by the next poll, conditions (jam,
//! stacker full, disabled) on every poll while they last, and the escrow
//! rule that the POLL after "read note n" accepts the note.
//!
//! ```text
//! Escrowed ─► read n ─(next POLL)─► stacking ─ Stacked ─► credit n, stacked
//!                    ├(REJECT)─► Returned ─► rejecting, rejected (code 0x08)
//!                    └(no POLL/HOLD for escrow-timeout)─► rejecting, rejected (code 0x13)
//! Rejected(reason) ─► rejecting, rejected (code by reason)   Fraud ─► fraud attempt n
//! Jammed ─► safe / unsafe jam on every poll ─ JamCleared ─► credit n + stacked / rejected / nothing
//! PowerUp(note) ─► slave reset, note cleared from front / into cash box   Offline ─► silence
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_hal::wire::ssp::essp::{is_prime, EsspKey, KeyExchange, SlaveCipher, STEX};
use kiosk_hal::wire::ssp::{Command, Decoder, Event, Packet, Reply, ReplyCode, SetupData};
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};
use tokio::runtime::Runtime;

use crate::devices::VirtualAcceptor;
use crate::emulators::runner::WireDevice;
use crate::rng::SimRng;

/// Counters and measurements of the SSP emulator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SspEmulatorStats {
    /// POLL / POLL WITH ACK answered.
    pub polls: u64,
    /// HOLDs answered.
    pub holds: u64,
    /// EVENT ACKs received.
    pub acks: u64,
    /// Notes accepted by a POLL after "read note".
    pub stacks: u64,
    /// Replies repeated for a command sent again with the same flag.
    pub repeats: u64,
    /// Packets with a bad CRC or framing (not answered).
    pub bad_frames: u64,
    /// Completed key exchanges.
    pub key_exchanges: u64,
    /// Commands that arrived encrypted and were accepted.
    pub encrypted_commands: u64,
    /// Commands refused with FA (key not set).
    pub refused_plain: u64,
    /// Encrypted packets dropped for a wrong count or key.
    pub bad_counts: u64,
    /// For each accepted note: time from the "read note" reply written to
    /// the accepting POLL read.
    pub escrow_to_stack: Vec<Duration>,
}

#[derive(Debug, Clone, Copy)]
struct Escrow {
    channel: u8,
    /// The read event was handed to the host (the next POLL accepts).
    shown_at: Option<Instant>,
    /// The last POLL / HOLD that kept it.
    kept_at: Instant,
}

pub(crate) struct SspDevice {
    /// Taken out and dropped on the emulator thread at the end (a runtime
    /// must not be dropped inside another runtime).
    rt: Option<Runtime>,
    acceptor: VirtualAcceptor,
    setup: SetupData,
    serial_number: u32,
    require_encryption: bool,
    fixed_key: u64,
    escrow_timeout: Duration,
    reset_quiet: Duration,
    rng: SimRng,
    decoder: Decoder,
    /// The flag and bytes of the last reply, for a repeated command.
    last: Option<(bool, Vec<u8>)>,
    generator: Option<u64>,
    modulus: Option<u64>,
    cipher: Option<SlaveCipher>,
    /// Events for the next poll.
    queue: VecDeque<Event>,
    /// POLL WITH ACK: the events repeated until EVENT ACK.
    unacked: Option<Vec<Event>>,
    escrow: Option<Escrow>,
    /// The note in the path (escrowed, stacking, jammed), for channel numbers.
    path_note: Option<Money>,
    host_rejected: bool,
    last_reject: u8,
    jam: Option<JamLocation>,
    stacker_full: bool,
    enabled: bool,
    inhibits: u16,
    /// The virtual acceptor is off: nothing is answered.
    offline: bool,
    /// A RESET is restarting the unit: a jam it clears is reported as a
    /// note cleared at reset.
    resetting: bool,
    cleared_at_reset: Option<Event>,
    quiet_until: Option<Instant>,
    pub(crate) stats: SspEmulatorStats,
}

impl SspDevice {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rt: Runtime,
        acceptor: VirtualAcceptor,
        setup: SetupData,
        serial_number: u32,
        require_encryption: bool,
        fixed_key: u64,
        escrow_timeout: Duration,
        reset_quiet: Duration,
        rng: SimRng,
        left_inside: Option<Money>,
    ) -> SspDevice {
        SspDevice {
            rt: Some(rt),
            acceptor,
            setup,
            serial_number,
            require_encryption,
            fixed_key,
            escrow_timeout,
            reset_quiet,
            rng,
            decoder: Decoder::new(),
            last: None,
            generator: None,
            modulus: None,
            cipher: None,
            queue: VecDeque::new(),
            unacked: None,
            escrow: None,
            path_note: left_inside,
            host_rejected: false,
            last_reject: 0,
            jam: None,
            stacker_full: false,
            enabled: false,
            inhibits: 0,
            offline: false,
            resetting: false,
            cleared_at_reset: None,
            quiet_until: None,
            stats: SspEmulatorStats::default(),
        }
    }

    fn channel(&self, value: Option<Money>) -> u8 {
        value.and_then(|v| self.setup.channel_of(v)).unwrap_or(0)
    }

    fn accepted_values(&self) -> Vec<Money> {
        (1..=self.setup.channels() as u8)
            .filter(|c| self.inhibits & (1 << (c - 1)) != 0)
            .filter_map(|c| self.setup.value(c))
            .collect()
    }

    /// Moves the virtual acceptor's events into the poll queue. Power loss
    /// is immediate: what was not shown yet is gone with it.
    fn drain_events(&mut self) {
        loop {
            let Some(rt) = self.rt.as_ref() else { return };
            let acceptor = &mut self.acceptor;
            let next = rt.block_on(async {
                tokio::time::timeout(Duration::ZERO, acceptor.next_event()).await
            });
            match next {
                Ok(Ok(event)) => self.apply(event),
                Ok(Err(_offline)) => {
                    self.offline = true;
                    self.queue.clear();
                    self.unacked = None;
                    self.escrow = None;
                    self.jam = None;
                }
                Err(_elapsed) => return,
            }
        }
    }

    fn apply(&mut self, event: AcceptorEvent) {
        match event {
            AcceptorEvent::Escrowed { value } => {
                self.path_note = Some(value);
                self.host_rejected = false;
                self.queue.push_back(Event::Read(self.channel(Some(value))));
                self.escrow = Some(Escrow {
                    channel: self.channel(Some(value)),
                    shown_at: None,
                    kept_at: Instant::now(),
                });
            }
            AcceptorEvent::Stacked { value } => {
                self.queue
                    .push_back(Event::Credit(self.channel(Some(value))));
                self.queue.push_back(Event::Stacked);
                self.path_note = None;
            }
            AcceptorEvent::Returned { .. } => {
                self.last_reject = if self.host_rejected { 0x08 } else { 0x13 };
                self.queue.extend([Event::Rejecting, Event::Rejected]);
                self.path_note = None;
            }
            AcceptorEvent::Rejected { reason } => {
                self.last_reject = reject_code(reason);
                self.queue.extend([Event::Rejecting, Event::Rejected]);
            }
            AcceptorEvent::Jammed { location, .. } => self.jam = Some(location),
            AcceptorEvent::JamCleared { fate } if self.resetting => {
                self.jam = None;
                let left = self.path_note.take();
                let channel = self.channel(left);
                self.cleared_at_reset = match fate {
                    NoteFate::InCashBox => Some(Event::NoteClearedIntoCashbox(channel)),
                    NoteFate::Returned => Some(Event::NoteClearedFromFront(channel)),
                    NoteFate::Unknown => None,
                };
            }
            // The restart is reported by the RESET itself.
            AcceptorEvent::PowerUp { .. } if self.resetting => {}
            AcceptorEvent::JamCleared { fate } => {
                self.jam = None;
                match fate {
                    NoteFate::InCashBox => {
                        let note = self.path_note.take();
                        let channel = self.channel(note);
                        self.queue.extend([Event::Credit(channel), Event::Stacked]);
                    }
                    NoteFate::Returned => {
                        self.path_note = None;
                        self.last_reject = 0x0A;
                        self.queue.push_back(Event::Rejected);
                    }
                    // ⚠ The unit has nothing to say: the jam just ends.
                    NoteFate::Unknown => self.path_note = None,
                }
            }
            AcceptorEvent::Fraud { .. } => {
                let note = self.path_note.take();
                let channel = self.channel(note);
                self.queue.push_back(Event::FraudAttempt(channel));
            }
            AcceptorEvent::PowerUp { note } => {
                // A restart: keys, settings and the link's flag are gone.
                self.offline = false;
                self.cipher = None;
                self.generator = None;
                self.modulus = None;
                self.last = None;
                self.enabled = false;
                self.escrow = None;
                self.unacked = None;
                self.queue.clear();
                self.queue.push_back(Event::SlaveReset);
                let left = self.path_note.take();
                let channel = self.channel(left);
                match note {
                    NoteAtPowerUp::None => {}
                    NoteAtPowerUp::InAcceptor => {
                        self.queue.push_back(Event::NoteClearedFromFront(channel))
                    }
                    NoteAtPowerUp::InStacker => {
                        self.queue.push_back(Event::NoteClearedIntoCashbox(channel))
                    }
                }
            }
            AcceptorEvent::StackerFull => self.stacker_full = true,
            AcceptorEvent::StackerRemoved => {
                self.stacker_full = false;
                self.queue.push_back(Event::CashboxRemoved);
            }
            AcceptorEvent::StackerReplaced => self.queue.push_back(Event::CashboxReplaced),
            _ => {}
        }
    }

    /// The events a poll answers, with the conditions that last.
    fn poll(&mut self, with_ack: bool) -> Vec<Event> {
        self.stats.polls += 1;
        if let Some(e) = self.escrow.as_mut() {
            if let Some(at) = e.shown_at {
                // The POLL after "read note n" accepts the note.
                let stacked = self
                    .rt
                    .as_ref()
                    .map(|rt| rt.block_on(self.acceptor.stack()));
                if matches!(stacked, Some(Ok(()))) {
                    self.stats.stacks += 1;
                    self.stats.escrow_to_stack.push(at.elapsed());
                    self.queue.push_back(Event::Stacking);
                }
                self.escrow = None;
            } else {
                e.kept_at = Instant::now();
            }
        }
        self.drain_events();
        if with_ack {
            if let Some(events) = self.unacked.clone() {
                return events;
            }
        }
        let mut events: Vec<Event> = self.queue.drain(..).collect();
        match self.jam {
            Some(JamLocation::Stacker) => events.push(Event::SafeJam),
            Some(JamLocation::Acceptor) => events.push(Event::UnsafeJam),
            None => {}
        }
        if self.stacker_full {
            events.push(Event::StackerFull);
        }
        if !self.enabled {
            events.push(Event::Disabled);
        }
        if with_ack && events.iter().any(Event::needs_ack) {
            self.unacked = Some(events.clone());
        }
        if let Some(e) = self.escrow.as_mut() {
            if events
                .iter()
                .any(|ev| matches!(ev, Event::Read(c) if *c == e.channel))
            {
                e.shown_at = Some(Instant::now());
                e.kept_at = Instant::now();
            }
        }
        events
    }

    /// The reply to one command.
    fn command(&mut self, command: Command, encrypted: bool) -> Reply {
        self.drain_events();
        if self.require_encryption && !encrypted && command.needs_encryption() {
            self.stats.refused_plain += 1;
            return Reply::new(ReplyCode::KeyNotSet, []);
        }
        let ok = Reply::ok();
        let cannot = Reply::new(ReplyCode::CannotProcess, []);
        match command {
            Command::Sync | Command::DisplayOn | Command::DisplayOff => ok,
            Command::HostProtocolVersion(v) if (4..=7).contains(&v) => ok,
            Command::HostProtocolVersion(_) => Reply::new(ReplyCode::Fail, []),
            Command::SetupRequest => match self.setup.to_data() {
                Ok(data) => Reply::new(ReplyCode::Ok, data),
                Err(_) => Reply::new(ReplyCode::SoftwareError, []),
            },
            Command::GetSerialNumber => Reply::new(ReplyCode::Ok, self.serial_number.to_be_bytes()),
            Command::GetFirmwareVersion => Reply::new(ReplyCode::Ok, *b"NV02004420000000"),
            Command::GetDatasetVersion => Reply::new(ReplyCode::Ok, *b"CNY01001"),
            Command::LastRejectCode => Reply::new(ReplyCode::Ok, [self.last_reject]),
            Command::Poll | Command::PollWithAck => {
                let events = self.poll(command == Command::PollWithAck);
                let mut data = vec![ReplyCode::Ok.code()];
                data.extend(Event::emit_all(&events));
                Reply::parse(&data).unwrap_or(ok)
            }
            Command::EventAck => {
                self.stats.acks += 1;
                self.unacked = None;
                ok
            }
            Command::Hold => match self.escrow.as_mut() {
                Some(e) if e.shown_at.is_some() => {
                    self.stats.holds += 1;
                    e.kept_at = Instant::now();
                    ok
                }
                _ => cannot,
            },
            Command::Reject => match self.escrow.take() {
                Some(_) => {
                    self.host_rejected = true;
                    let _ = block_on(&self.rt, self.acceptor.return_note());
                    ok
                }
                None => cannot,
            },
            Command::SetInhibits(mask) => {
                self.inhibits = mask;
                if self.enabled {
                    let values = self.accepted_values();
                    let _ = block_on(&self.rt, self.acceptor.enable(&values));
                }
                ok
            }
            Command::Enable => {
                let values = self.accepted_values();
                if matches!(
                    block_on(&self.rt, self.acceptor.enable(&values)),
                    Some(Ok(()))
                ) {
                    self.enabled = true;
                }
                ok
            }
            Command::Disable => {
                let _ = block_on(&self.rt, self.acceptor.inhibit());
                self.enabled = false;
                ok
            }
            Command::Reset => {
                // A jam the restart clears is reported as a note cleared
                // at reset (into the cash box or to the front).
                // ⚠ Events queued and not yet polled survive the restart
                // (GA138 does not say; a unit dropping a credit there would
                // be the unit's fault, and the emulator stays truthful).
                self.resetting = true;
                let _ = block_on(&self.rt, self.acceptor.reset());
                self.drain_events();
                self.resetting = false;
                self.quiet_until = Some(Instant::now() + self.reset_quiet);
                let unreported: Vec<Event> = self.queue.drain(..).collect();
                self.apply(AcceptorEvent::PowerUp {
                    note: NoteAtPowerUp::None,
                });
                self.queue.extend(unreported);
                self.queue.extend(self.cleared_at_reset.take());
                ok
            }
            Command::SetGenerator(g) | Command::SetModulus(g) if !is_prime(g) => {
                Reply::new(ReplyCode::ParameterOutOfRange, [])
            }
            Command::SetGenerator(g) => {
                self.generator = Some(g);
                ok
            }
            Command::SetModulus(m) => {
                self.modulus = Some(m);
                ok
            }
            Command::RequestKeyExchange(host_inter) => match (self.generator, self.modulus) {
                (Some(g), Some(m)) => {
                    let secret = (self.rng.below(1 << 31)).max(2);
                    let unit = KeyExchange::new(g, m, secret);
                    let key = EsspKey::new(self.fixed_key, unit.shared_key(host_inter));
                    // The answer goes out in the clear; the next command is encrypted.
                    self.cipher = Some(SlaveCipher::new(key));
                    self.stats.key_exchanges += 1;
                    Reply::new(ReplyCode::Ok, unit.intermediate().to_le_bytes())
                }
                _ => Reply::new(ReplyCode::CannotProcess, []),
            },
            _ => Reply::new(ReplyCode::UnknownCommand, []),
        }
    }

    fn on_packet(&mut self, packet: &Packet, out: &mut Vec<Vec<u8>>) {
        if packet.address != 0 {
            return;
        }
        let is_sync = packet.data == [Command::Sync.code()];
        if let Some((seq, bytes)) = self.last.as_ref() {
            if *seq == packet.seq && !is_sync {
                // The host did not get our reply: the same bytes again.
                self.stats.repeats += 1;
                out.push(bytes.clone());
                return;
            }
        }
        let encrypted = packet.data.first() == Some(&STEX);
        let data = if encrypted {
            let Some(cipher) = self.cipher.as_mut() else {
                self.stats.refused_plain += 1;
                return self.send(packet.seq, Reply::new(ReplyCode::KeyNotSet, []), false, out);
            };
            match cipher.open(&packet.data) {
                Ok(data) => {
                    self.stats.encrypted_commands += 1;
                    data
                }
                Err(_) => {
                    // A stale count or a wrong key: the packet is dropped.
                    self.stats.bad_counts += 1;
                    return;
                }
            }
        } else {
            packet.data.clone()
        };
        let reply = match Command::parse(&data) {
            Ok(command) => self.command(command, encrypted),
            Err(kiosk_hal::wire::WireError::BadData { .. }) => {
                Reply::new(ReplyCode::WrongParameterCount, [])
            }
            Err(_) => Reply::new(ReplyCode::UnknownCommand, []),
        };
        self.send(packet.seq, reply, encrypted, out);
    }

    fn send(&mut self, seq: bool, reply: Reply, encrypted: bool, out: &mut Vec<Vec<u8>>) {
        let plain = reply.to_data();
        let data = match (encrypted, self.cipher.as_ref()) {
            (true, Some(cipher)) => {
                let rng = &mut self.rng;
                cipher
                    .seal(&plain, &mut || rng.below(256) as u8)
                    .unwrap_or(plain)
            }
            _ => plain,
        };
        if let Ok(bytes) = Packet::new(0, seq, data).to_bytes() {
            self.last = Some((seq, bytes.clone()));
            out.push(bytes);
        }
    }
}

impl WireDevice for SspDevice {
    fn on_stop(&mut self) {
        drop(self.rt.take());
    }

    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        self.decoder.push(bytes);
        while let Some(packet) = self.decoder.next_packet() {
            let Ok(packet) = packet else {
                self.stats.bad_frames += 1;
                continue;
            };
            self.drain_events();
            if self.offline {
                continue;
            }
            if let Some(until) = self.quiet_until {
                if Instant::now() < until {
                    continue;
                }
                self.quiet_until = None;
            }
            self.on_packet(&packet, out);
        }
    }

    fn on_tick(&mut self, _out: &mut Vec<Vec<u8>>) {
        let Some(e) = self.escrow else { return };
        if e.shown_at.is_some() && e.kept_at.elapsed() >= self.escrow_timeout {
            // No POLL or HOLD in time: the unit gives the note back.
            self.escrow = None;
            self.host_rejected = false;
            let _ = block_on(&self.rt, self.acceptor.return_note());
        }
    }
}

/// The LAST REJECT CODE for a reason (GA138's table).
fn reject_code(reason: RejectReason) -> u8 {
    match reason {
        RejectReason::Counterfeit => 0x02,
        RejectReason::Inhibited => 0x06,
        RejectReason::Insertion => 0x07,
        RejectReason::Transport => 0x0D,
        RejectReason::HostReturned => 0x08,
        _ => 0x0A,
    }
}

/// Runs one of the virtual acceptor's calls on the emulator's runtime
/// (`None` once the runtime is gone at the end).
fn block_on<T>(rt: &Option<Runtime>, f: impl std::future::Future<Output = T>) -> Option<T> {
    Some(rt.as_ref()?.block_on(f))
}
