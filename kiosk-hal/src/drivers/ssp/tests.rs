//! The host driven by a scripted unit: no port, no clock.

use super::*;
use crate::wire::ssp::essp::{EsspKey, KeyExchange, SlaveCipher, DEFAULT_FIXED_KEY};
use crate::wire::ssp::{Command, Event, Packet, Reply, ReplyCode, SetupData};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, Currency, ErrorKind, JamLocation, Money, NoteAtPowerUp,
    NoteFate, RejectReason,
};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

/// Channels 1–6: 1, 5, 10, 20, 50, 100 yuan.
fn setup() -> SetupData {
    let values = [1u8, 5, 10, 20, 50, 100];
    SetupData {
        unit_type: 0,
        firmware: *b"0420",
        country: *b"CNY",
        value_multiplier: 1,
        channel_values: values.to_vec(),
        channel_security: vec![2; 6],
        real_value_multiplier: 100,
        protocol_version: 6,
        channel_countries: vec![*b"CNY"; 6],
        expanded_values: values.iter().map(|&v| u32::from(v)).collect(),
    }
}

/// The scripted unit's side of the link.
struct Rig {
    host: SspHost,
    now: u64,
    /// The unit's secret exponent and cipher (eSSP).
    slave_secret: u64,
    generator: u64,
    modulus: u64,
    slave: Option<SlaveCipher>,
    last_seq: Option<bool>,
    encryption: bool,
}

impl Rig {
    /// Polling at one rate (100 ms) throughout.
    fn new(encryption: bool) -> Rig {
        Rig::with_idle_poll(encryption, 100)
    }

    /// Polling every 100 ms, every `idle_ms` while disabled and quiet.
    fn with_idle_poll(encryption: bool, idle_ms: u64) -> Rig {
        let config = SspConfig {
            poll_interval_ms: 100,
            idle_poll_interval_ms: idle_ms,
            answer_timeout_ms: 300,
            command_retries: 2,
            encryption,
            ..SspConfig::for_port("/dev/null")
        };
        let mut rig = Rig {
            host: SspHost::new(&config),
            now: 0,
            slave_secret: 987_654_321,
            generator: 0,
            modulus: 0,
            slave: None,
            last_seq: None,
            encryption,
        };
        rig.host.port_opened(0, 42);
        rig
    }

    /// The next packet the host writes, decrypted; advances time up to one
    /// poll interval. Returns the command and whether it was encrypted.
    fn sent(&mut self) -> Option<(Command, bool, Packet)> {
        let mut out = self.host.poll_transmit(self.now);
        if out.is_none() {
            self.now += 100;
            out = self.host.poll_transmit(self.now);
        }
        let out = out?;
        let (packet, n) = Packet::parse(&out.bytes).unwrap();
        assert_eq!(n, out.bytes.len());
        let (data, encrypted) = match self.slave.as_mut() {
            Some(slave) if packet.data[0] == 0x7E => (slave.open(&packet.data).unwrap(), true),
            _ => (packet.data.clone(), false),
        };
        let command = Command::parse(&data).unwrap();
        assert_eq!(command, out.command);
        Some((command, encrypted, packet))
    }

    fn reply_to(&mut self, to: &Packet, encrypted: bool, reply: Reply) {
        let data = match (&self.slave, encrypted) {
            (Some(slave), true) => slave.seal(&reply.to_data(), &mut || 0x33).unwrap(),
            _ => reply.to_data(),
        };
        let packet = Packet::new(0, to.seq, data);
        self.host.handle_packet(self.now, &packet);
    }

    /// Expects `cmd` next and answers it.
    fn expect(&mut self, cmd: Command, reply: Reply) {
        let (sent, encrypted, packet) = self.sent().expect("a command");
        assert_eq!(sent, cmd, "at {} ms", self.now);
        if let Some(prev) = self.last_seq {
            if cmd != Command::Sync {
                assert_ne!(prev, packet.seq, "the flag toggles on a new command");
            }
        }
        self.last_seq = Some(packet.seq);
        self.reply_to(&packet, encrypted, reply);
    }

    fn outputs(&mut self) -> Vec<HostOutput> {
        std::iter::from_fn(|| self.host.poll_output()).collect()
    }

    fn events(&mut self) -> Vec<AcceptorEvent> {
        self.outputs()
            .into_iter()
            .filter_map(|o| match o {
                HostOutput::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    fn init(&mut self) {
        self.expect(Command::Sync, Reply::ok());
        self.after_sync(0, false);
    }

    /// Set-up when the kiosk asked for notes before it finished: the
    /// set-up's own inhibits and ENABLE carry the kiosk's choice.
    fn init_enabled(&mut self) {
        self.expect(Command::Sync, Reply::ok());
        self.after_sync(0b1_1100, true);
    }

    /// Set-up after SYNC; the unit's inhibits and enabling as the kiosk last asked.
    fn after_sync(&mut self, mask: u16, enabled: bool) {
        if self.encryption {
            self.slave = None;
            let (cmd, _, p) = self.sent().unwrap();
            let Command::SetGenerator(g) = cmd else {
                panic!("{cmd:?}")
            };
            self.generator = g;
            self.reply_to(&p, false, Reply::ok());
            let (cmd, _, p) = self.sent().unwrap();
            let Command::SetModulus(m) = cmd else {
                panic!("{cmd:?}")
            };
            self.modulus = m;
            self.reply_to(&p, false, Reply::ok());
            let (cmd, _, p) = self.sent().unwrap();
            let Command::RequestKeyExchange(host_inter) = cmd else {
                panic!("{cmd:?}")
            };
            let unit = KeyExchange::new(self.generator, self.modulus, self.slave_secret);
            let key = EsspKey::new(DEFAULT_FIXED_KEY, unit.shared_key(host_inter));
            let answer = Reply::new(ReplyCode::Ok, unit.intermediate().to_le_bytes());
            self.reply_to(&p, false, answer);
            self.slave = Some(SlaveCipher::new(key));
            self.last_seq = Some(p.seq);
        }
        self.expect(Command::HostProtocolVersion(6), Reply::ok());
        self.expect(
            Command::SetupRequest,
            Reply::new(ReplyCode::Ok, setup().to_data().unwrap()),
        );
        self.expect(
            Command::GetSerialNumber,
            Reply::new(ReplyCode::Ok, 772_961u32.to_be_bytes()),
        );
        self.expect(Command::SetInhibits(mask), Reply::ok());
        let enable = if enabled {
            Command::Enable
        } else {
            Command::Disable
        };
        self.expect(enable, Reply::ok());
        assert!(self.host.is_running());
    }

    /// Answers the next poll (with ACK) with `events`; returns the acceptor events.
    fn poll(&mut self, events: &[Event]) -> Vec<AcceptorEvent> {
        let mut data = vec![0xF0];
        data.extend(Event::emit_all(events));
        self.expect(Command::PollWithAck, Reply::parse(&data).unwrap());
        if events.iter().any(Event::needs_ack) {
            self.expect(Command::EventAck, Reply::ok());
        }
        self.events()
    }

    fn request(&mut self, request: Request, cmds: &[(Command, Reply)]) -> Result<(), ErrorKind> {
        self.host.request(7, request);
        for (cmd, reply) in cmds {
            self.expect(*cmd, reply.clone());
        }
        self.done(7)
    }

    fn done(&mut self, token: u64) -> Result<(), ErrorKind> {
        self.outputs()
            .into_iter()
            .find_map(|o| match o {
                HostOutput::Done { token: t, result } if t == token => Some(result),
                _ => None,
            })
            .expect("request finished")
    }

    fn started(&mut self) {
        self.init();
        assert_eq!(
            self.poll(&[Event::Disabled]),
            [AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None
            }]
        );
        let r = self.request(
            Request::Enable(vec![cny(10), cny(20), cny(50)]),
            &[
                (Command::SetInhibits(0b1_1100), Reply::ok()),
                (Command::Enable, Reply::ok()),
            ],
        );
        assert_eq!(r, Ok(()));
        assert_eq!(self.host.status(), Ok(AcceptorStatus::Accepting));
    }
}

#[test]
fn sets_the_unit_up_reads_its_identity_and_reports_power_up() {
    let mut rig = Rig::new(false);
    rig.started();
    assert_eq!(rig.host.serial_number(), Some(772_961));
    assert_eq!(
        rig.host.setup().map(|s| s.firmware_text()),
        Some("0420".into())
    );
    assert!(!rig.host.is_encrypted());
    let id = rig.host.identity();
    assert_eq!(id.protocol, crate::DeviceProtocol::Ssp);
    assert_eq!(id.firmware.as_deref(), Some("4.20"));
    assert_eq!(id.serial.as_deref(), Some("772961"));
    assert_eq!(id.model.as_deref(), Some("Banknote validator"));
    assert_eq!(rig.poll(&[]), []);
}

#[test]
fn a_note_is_held_until_the_kiosk_stacks_it_and_credited_exactly_once() {
    let mut rig = Rig::new(false);
    rig.started();
    assert_eq!(rig.poll(&[Event::Read(0)]), []);
    let escrowed = AcceptorEvent::Escrowed { value: cny(50) };
    assert_eq!(rig.poll(&[Event::Read(5)]), [escrowed]);
    // A POLL now would accept it: HOLD until the kiosk decides.
    rig.expect(Command::Hold, Reply::ok());
    rig.expect(Command::Hold, Reply::ok());
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Escrow));
    // The accepting poll is the stack command; its answer is processed.
    let r = rig.request(
        Request::Stack,
        &[(
            Command::PollWithAck,
            Reply::new(ReplyCode::Ok, [Event::Stacking.code()]),
        )],
    );
    assert_eq!(r, Ok(()));
    let stacked = AcceptorEvent::Stacked { value: cny(50) };
    assert_eq!(rig.poll(&[Event::Credit(5), Event::Stacking]), [stacked]);
    // Credit repeated (as after a lost EVENT ACK): never credited twice.
    assert_eq!(rig.poll(&[Event::Credit(5), Event::Stacked]), []);
    assert_eq!(rig.poll(&[]), []);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Accepting));
}

#[test]
fn a_counterfeit_is_rejected_with_the_units_reason() {
    let mut rig = Rig::new(false);
    rig.started();
    assert_eq!(rig.poll(&[Event::Read(0), Event::Rejecting]), []);
    assert_eq!(rig.poll(&[Event::Rejected]), []);
    rig.expect(Command::LastRejectCode, Reply::new(ReplyCode::Ok, [0x02]));
    let rejected = AcceptorEvent::Rejected {
        reason: RejectReason::Counterfeit,
    };
    assert_eq!(rig.events(), [rejected]);
}

#[test]
fn a_returned_note_is_reported_returned_and_a_value_not_enabled_is_rejected_by_the_host() {
    let mut rig = Rig::new(false);
    rig.started();
    rig.poll(&[Event::Read(4)]);
    let r = rig.request(Request::Return, &[(Command::Reject, Reply::ok())]);
    assert_eq!(r, Ok(()));
    assert_eq!(rig.poll(&[Event::Rejecting]), []);
    let returned = AcceptorEvent::Returned { value: cny(20) };
    assert_eq!(rig.poll(&[Event::Rejected]), [returned]);
    // 100 yuan is not enabled (a unit ignoring its inhibits): the host rejects it.
    assert_eq!(rig.poll(&[Event::Read(6)]), []);
    rig.expect(Command::Reject, Reply::ok());
    let inhibited = AcceptorEvent::Rejected {
        reason: RejectReason::Inhibited,
    };
    assert_eq!(rig.poll(&[Event::Rejecting, Event::Rejected]), [inhibited]);
    // Nothing waits in escrow: stack and return are refused at once.
    rig.host.request(9, Request::Stack);
    assert_eq!(rig.done(9), Err(ErrorKind::InvalidState));
}

#[test]
fn a_jam_is_reported_once_and_its_clearing_says_where_the_note_went() {
    let mut rig = Rig::new(false);
    rig.started();
    rig.poll(&[Event::Read(3)]);
    rig.request(Request::Stack, &[(Command::PollWithAck, Reply::ok())])
        .unwrap();
    let jammed = AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value: Some(cny(10)),
    };
    assert_eq!(rig.poll(&[Event::Stacking, Event::SafeJam]), [jammed]);
    assert_eq!(rig.poll(&[Event::SafeJam]), [], "a lasting condition");
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Jammed));
    let cleared = AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    };
    assert_eq!(rig.poll(&[Event::Credit(3), Event::Stacked]), [cleared]);
    assert_eq!(rig.poll(&[]), []);
    // An unsafe jam that ends with nothing said: fate unknown.
    rig.poll(&[Event::UnsafeJam]);
    let unknown = AcceptorEvent::JamCleared {
        fate: NoteFate::Unknown,
    };
    assert_eq!(rig.poll(&[]), [unknown]);
}

#[test]
fn power_up_with_a_note_cleared_into_the_cash_box_is_reported_in_the_stacker() {
    let mut rig = Rig::new(false);
    rig.started();
    assert_eq!(rig.poll(&[]), []);
    assert_eq!(rig.poll(&[Event::SlaveReset, Event::Initialising]), []);
    // A SLAVE RESET after set-up means a restart: set up again.
    rig.last_seq = None;
    rig.expect(Command::Sync, Reply::ok());
    rig.after_sync(0b1_1100, true);
    let in_stacker = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(
        rig.poll(&[Event::NoteClearedIntoCashbox(6), Event::Disabled]),
        [in_stacker]
    );
}

#[test]
fn the_slave_reset_of_the_start_is_not_taken_for_a_restart() {
    let mut rig = Rig::new(false);
    rig.init();
    // The first poll after set-up reports the start (and a note cleared
    // into the box at it): PowerUp, acknowledged, no second set-up.
    let in_stacker = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::InStacker,
    };
    assert_eq!(
        rig.poll(&[Event::SlaveReset, Event::NoteClearedIntoCashbox(6)]),
        [in_stacker]
    );
    assert_eq!(rig.poll(&[Event::Disabled]), []);
    assert!(rig.host.is_running());
}

#[test]
fn fraud_stacker_full_and_the_cash_box_are_reported_on_change() {
    let mut rig = Rig::new(false);
    rig.started();
    let fraud = AcceptorEvent::Fraud {
        kind: crate::FraudKind::Unspecified,
    };
    assert_eq!(rig.poll(&[Event::FraudAttempt(2)]), [fraud]);
    assert_eq!(
        rig.poll(&[Event::StackerFull]),
        [AcceptorEvent::StackerFull]
    );
    assert_eq!(rig.poll(&[Event::StackerFull]), []);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::StackerFull));
    assert_eq!(
        rig.poll(&[Event::CashboxRemoved]),
        [AcceptorEvent::StackerRemoved]
    );
    assert!(!rig.host.cash_box().unwrap().present);
    assert_eq!(
        rig.poll(&[Event::CashboxReplaced]),
        [AcceptorEvent::StackerReplaced]
    );
}

#[test]
fn lost_replies_are_resent_with_the_same_bytes_then_the_unit_is_offline_once() {
    let mut rig = Rig::new(false);
    rig.started();
    let first = rig.host.poll_transmit(rig.now + 100).unwrap();
    rig.now += 100;
    // No reply: after the timeout the same bytes go out again, twice.
    for _ in 0..2 {
        rig.now += 300;
        let again = rig.host.poll_transmit(rig.now).unwrap();
        assert_eq!(again, first);
    }
    rig.now += 300;
    assert_eq!(rig.host.poll_transmit(rig.now), None);
    assert_eq!(rig.outputs(), [HostOutput::WentOffline]);
    assert_eq!(rig.host.status(), Err(ErrorKind::Offline));
    assert_eq!(rig.host.stats().resends, 2);
    // Probing with SYNC; the unit answers: set up again, then PowerUp.
    rig.now += 100;
    rig.last_seq = None;
    rig.expect(Command::Sync, Reply::ok());
    rig.after_sync(0b1_1100, true);
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(rig.poll(&[]), [power_up]);
    assert_eq!(rig.host.stats().offline_episodes, 1);
}

#[test]
fn a_corrupted_reply_is_answered_by_a_resend_not_a_new_command() {
    let mut rig = Rig::new(false);
    rig.started();
    let (cmd, _, packet) = rig.sent().unwrap();
    assert_eq!(cmd, Command::PollWithAck);
    rig.host.handle_wire_error(
        rig.now,
        WireError::BadCrc {
            expected: 1,
            found: 2,
        },
    );
    let again = rig.host.poll_transmit(rig.now).unwrap();
    assert_eq!(Packet::parse(&again.bytes).unwrap().0, packet);
    // A reply with the other flag is a late one: ignored.
    rig.host
        .handle_packet(rig.now, &Packet::new(0, !packet.seq, [0xF0, 0xEE, 0x05]));
    assert_eq!(rig.events(), []);
    assert_eq!(rig.host.stats().unexpected_answers, 1);
}

#[test]
fn essp_exchanges_keys_and_encrypts_every_command_after() {
    let mut rig = Rig::new(true);
    rig.started();
    assert!(rig.host.is_encrypted());
    assert_eq!(rig.host.stats().key_exchanges, 1);
    let (cmd, encrypted, packet) = rig.sent().unwrap();
    assert_eq!((cmd, encrypted), (Command::PollWithAck, true));
    rig.reply_to(&packet, true, Reply::new(ReplyCode::Ok, [0xEF, 0x05]));
    assert_eq!(rig.events(), [AcceptorEvent::Escrowed { value: cny(50) }]);
}

#[test]
fn a_key_not_set_answer_makes_the_host_exchange_keys() {
    let mut rig = Rig::new(false);
    rig.started();
    // The unit insists on eSSP (or restarted and lost its keys).
    rig.expect(Command::PollWithAck, Reply::new(ReplyCode::KeyNotSet, []));
    rig.expect(Command::Sync, Reply::ok());
    let (cmd, _, _) = rig.sent().unwrap();
    assert!(matches!(cmd, Command::SetGenerator(g) if crate::wire::ssp::essp::is_prime(g)));
}

#[test]
fn after_a_reset_the_units_silence_is_not_an_outage() {
    let mut rig = Rig::new(false);
    rig.started();
    let r = rig.request(Request::Reset, &[(Command::Reset, Reply::ok())]);
    assert_eq!(r, Ok(()));
    // Booting: SYNC after SYNC goes unanswered for a while.
    let mut syncs = 0;
    for _ in 0..40 {
        rig.now += 150;
        if let Some(t) = rig.host.poll_transmit(rig.now) {
            assert_eq!(t.command, Command::Sync);
            syncs += 1;
        }
    }
    assert!(syncs >= 6, "{syncs}");
    assert!(!rig.outputs().contains(&HostOutput::WentOffline));
    // The unit is up again and answers a SYNC.
    let sync = loop {
        rig.now += 50;
        if let Some(t) = rig.host.poll_transmit(rig.now) {
            break t;
        }
    };
    let (packet, _) = Packet::parse(&sync.bytes).unwrap();
    rig.reply_to(&packet, false, Reply::ok());
    rig.last_seq = Some(packet.seq);
    rig.after_sync(0b1_1100, true);
}

#[test]
fn a_jam_the_kiosks_reset_clears_into_the_box_is_that_jams_clearing_not_a_power_up() {
    let mut rig = Rig::new(false);
    rig.started();
    rig.poll(&[Event::Read(5)]);
    rig.request(Request::Stack, &[(Command::PollWithAck, Reply::ok())])
        .unwrap();
    rig.poll(&[Event::SafeJam]);
    // The kiosk resets the unit to clear the jam; the unit restarts and
    // reports the note it cleared into the box at reset.
    let r = rig.request(Request::Reset, &[(Command::Reset, Reply::ok())]);
    assert_eq!(r, Ok(()));
    rig.last_seq = None;
    rig.expect(Command::Sync, Reply::ok());
    rig.after_sync(0b1_1100, true);
    let cleared = AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    };
    assert_eq!(
        rig.poll(&[Event::SlaveReset, Event::NoteClearedIntoCashbox(5)]),
        [cleared],
        "settles the note in doubt; no power-up that would leave it unsettled"
    );
    assert_eq!(rig.poll(&[]), []);
}

#[test]
fn an_enable_queued_during_set_up_uses_the_channel_table_read_after_it() {
    let mut rig = Rig::new(false);
    // The kiosk enables before SETUP REQUEST is answered.
    rig.host
        .request(3, Request::Enable(vec![cny(10), cny(20), cny(50)]));
    rig.init_enabled();
    rig.expect(Command::SetInhibits(0b1_1100), Reply::ok());
    rig.expect(Command::Enable, Reply::ok());
    assert_eq!(rig.done(3), Ok(()));
}

#[test]
fn an_encrypted_unit_that_lost_its_keys_is_rekeyed_and_its_restart_reported() {
    let mut rig = Rig::new(true);
    rig.started();
    // Restarted: it no longer knows the key, and says so.
    rig.expect(Command::PollWithAck, Reply::new(ReplyCode::KeyNotSet, []));
    rig.last_seq = None;
    rig.expect(Command::Sync, Reply::ok());
    rig.after_sync(0b1_1100, true);
    assert_eq!(rig.host.stats().key_exchanges, 2);
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(rig.poll(&[Event::SlaveReset, Event::Disabled]), [power_up]);
}

/// When the host next writes a POLL WITH ACK, from now (`None`: not within 5 s).
fn next_poll_in(rig: &mut Rig) -> Option<(u64, Packet)> {
    let start = rig.now;
    for _ in 0..=5_000 {
        if let Some(out) = rig.host.poll_transmit(rig.now) {
            assert_eq!(out.command, Command::PollWithAck, "at {} ms", rig.now);
            let (packet, _) = Packet::parse(&out.bytes).unwrap();
            return Some((rig.now - start, packet));
        }
        rig.now += 1;
    }
    None
}

/// Answers `packet` (a poll) with OK and `events`.
fn answer_poll(rig: &mut Rig, packet: &Packet, events: &[Event]) {
    let mut data = vec![0xF0];
    data.extend(Event::emit_all(events));
    rig.reply_to(packet, false, Reply::parse(&data).unwrap());
}

#[test]
fn a_disabled_unit_saying_only_disabled_is_polled_once_a_second_until_asked() {
    let mut rig = Rig::with_idle_poll(false, 1000);
    rig.init();
    let (_, p) = next_poll_in(&mut rig).unwrap();
    answer_poll(&mut rig, &p, &[Event::Disabled]);
    // Kept disabled and quiet: GA138's slowest poll, once a second.
    let (after, p) = next_poll_in(&mut rig).unwrap();
    assert_eq!(after, 1000);
    answer_poll(&mut rig, &p, &[Event::Disabled]);
    // The cash box is pulled out: watch at the normal interval.
    let (after, p) = next_poll_in(&mut rig).unwrap();
    assert_eq!(after, 1000);
    answer_poll(&mut rig, &p, &[Event::Disabled, Event::CashboxRemoved]);
    let (after, p) = next_poll_in(&mut rig).unwrap();
    assert_eq!(after, 100);
    answer_poll(&mut rig, &p, &[Event::Disabled]);
    // A request goes out at once, and the polls after it are normal.
    rig.now += 300;
    rig.host.request(7, Request::Enable(vec![cny(10)]));
    let (cmd, _, p) = rig.sent().unwrap();
    assert!(matches!(cmd, Command::SetInhibits(_)), "{cmd:?}");
    rig.reply_to(&p, false, Reply::ok());
    let (cmd, _, p) = rig.sent().unwrap();
    assert_eq!(cmd, Command::Enable);
    rig.reply_to(&p, false, Reply::ok());
    assert_eq!(rig.done(7), Ok(()));
    let (after, p) = next_poll_in(&mut rig).unwrap();
    assert_eq!(after, 0);
    answer_poll(&mut rig, &p, &[]);
    let (after, _) = next_poll_in(&mut rig).unwrap();
    assert_eq!(after, 100);
}

#[test]
fn an_idle_poll_slower_than_ga138_allows_is_refused() {
    let config = SspConfig {
        idle_poll_interval_ms: 1001,
        ..SspConfig::for_port("/dev/ttyUSB0")
    };
    assert!(config.validate().unwrap_err().contains("GA138"));
    let at_most = SspConfig {
        idle_poll_interval_ms: 1000,
        ..config
    };
    assert_eq!(at_most.validate(), Ok(()));
}
