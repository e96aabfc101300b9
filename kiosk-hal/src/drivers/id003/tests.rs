//! The host driven by a scripted device: no port, no clock.

use super::*;
use crate::wire::id003::{CurrencyEntry, HostCommand, RejectCode, Setting, StatusResponse};
use crate::wire::WireError;
use crate::{
    AcceptorEvent, AcceptorStatus, Currency, DeviceIdentity, DeviceProtocol, ErrorKind,
    JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

/// Escrow codes 0x62 = 10, 0x63 = 20, 0x64 = 50, 0x65 = 100 yuan.
fn table() -> Vec<CurrencyEntry> {
    [(0x62, 1, 1), (0x63, 2, 1), (0x64, 5, 1), (0x65, 1, 2)]
        .iter()
        .map(|&(escrow_code, value, exponent)| CurrencyEntry {
            escrow_code,
            country_code: 0x1A,
            value,
            exponent,
        })
        .collect()
}

/// A China-dataset version line in the layout public drivers parse.
const VERSION_LINE: &[u8] = b"i(CHN)100-SS ID003-05V200-41 16MAR18";

struct Rig {
    host: Id003Host,
    now: u64,
}

impl Rig {
    /// Polling at one rate (100 ms) throughout.
    fn new() -> Rig {
        Rig::with_idle_poll(100)
    }

    /// Polling every 100 ms, every `idle_ms` while inhibited and disabled.
    fn with_idle_poll(idle_ms: u64) -> Rig {
        let config = Id003Config {
            poll_interval_ms: 100,
            idle_poll_interval_ms: idle_ms,
            answer_timeout_ms: 500,
            ..Id003Config::for_port("/dev/null")
        };
        let mut rig = Rig {
            host: Id003Host::new(&config),
            now: 0,
        };
        rig.host.port_opened(0);
        rig
    }

    fn sent(&mut self) -> Option<HostCommand> {
        self.host.poll_transmit(self.now)
    }

    fn answer(&mut self, answer: StatusResponse) {
        self.host.handle_frame(self.now, &answer.to_frame());
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

    /// Expects `cmd` next (advancing time up to one poll interval) and answers it.
    fn expect(&mut self, cmd: HostCommand, answer: StatusResponse) {
        let mut sent = self.sent();
        if sent.is_none() {
            self.now += 100;
            sent = self.sent();
        }
        assert_eq!(sent, Some(cmd), "at {} ms", self.now);
        self.answer(answer);
    }

    /// Answers the next status poll with `status` and returns the events.
    fn poll(&mut self, status: StatusResponse) -> Vec<AcceptorEvent> {
        self.expect(HostCommand::StatusRequest, status);
        self.events()
    }

    fn init(&mut self, probe: StatusResponse) -> Vec<AcceptorEvent> {
        self.expect(HostCommand::StatusRequest, probe);
        self.expect(HostCommand::Reset, StatusResponse::Ack);
        self.expect(
            HostCommand::VersionRequest,
            StatusResponse::Version(VERSION_LINE.to_vec()),
        );
        self.expect(
            HostCommand::CurrencyAssignRequest,
            StatusResponse::CurrencyAssign(table()),
        );
        self.expect(
            HostCommand::SetEnable([0, 0]),
            StatusResponse::SettingEcho(Setting::Enable([0, 0])),
        );
        self.expect(
            HostCommand::SetInhibit(true),
            StatusResponse::SettingEcho(Setting::Inhibit(true)),
        );
        assert!(self.host.is_running());
        self.events()
    }

    /// Makes a request and answers the command it sends; returns its result.
    fn request(
        &mut self,
        request: Request,
        cmd: HostCommand,
        answer: StatusResponse,
    ) -> Result<(), ErrorKind> {
        self.host.request(7, request);
        self.expect(cmd, answer);
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

    fn enable(&mut self) {
        let r = self.request(
            Request::Enable(vec![cny(10), cny(20), cny(50)]),
            HostCommand::SetInhibit(false),
            StatusResponse::SettingEcho(Setting::Inhibit(false)),
        );
        assert_eq!(r, Ok(()));
    }
}

#[test]
fn initialises_then_polls_every_interval() {
    let mut rig = Rig::new();
    assert_eq!(rig.init(StatusResponse::Disabled), []);
    let table = rig.host.currency_table().unwrap();
    assert_eq!(table.value(0x65), Some(cny(100)));
    // The first poll follows initialisation at once, the next after the interval.
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
    rig.answer(StatusResponse::Disabled);
    rig.now += 50;
    assert_eq!(rig.sent(), None, "not before the poll interval");
    rig.now += 50;
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
    rig.answer(StatusResponse::Disabled);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Inhibited));
}

#[test]
fn a_note_is_escrowed_stacked_and_credited_exactly_once() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable();
    assert_eq!(rig.poll(StatusResponse::Idling), []);
    assert_eq!(rig.poll(StatusResponse::Accepting), []);
    let escrowed = AcceptorEvent::Escrowed { value: cny(50) };
    assert_eq!(rig.poll(StatusResponse::Escrow(0x64)), [escrowed]);
    assert_eq!(rig.poll(StatusResponse::Escrow(0x64)), [], "polled twice");
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Escrow));
    let r = rig.request(Request::Stack, HostCommand::Stack1, StatusResponse::Ack);
    assert_eq!(r, Ok(()));
    assert_eq!(rig.poll(StatusResponse::Stacking), []);
    let stacked = AcceptorEvent::Stacked { value: cny(50) };
    assert_eq!(rig.poll(StatusResponse::VendValid), [stacked]);
    assert_eq!(rig.sent(), Some(HostCommand::Ack), "VEND VALID is ACKed");
    // The ACK was lost: VEND VALID again, ACKed again, not credited again.
    assert_eq!(rig.poll(StatusResponse::VendValid), []);
    assert_eq!(rig.sent(), Some(HostCommand::Ack));
    assert_eq!(rig.poll(StatusResponse::Stacked), []);
    assert_eq!(rig.poll(StatusResponse::Idling), []);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Accepting));
}

#[test]
fn a_new_escrow_right_after_stacked_is_a_new_note() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable();
    rig.poll(StatusResponse::Escrow(0x62));
    rig.request(Request::Stack, HostCommand::Stack1, StatusResponse::Ack)
        .unwrap();
    let stacked = AcceptorEvent::Stacked { value: cny(10) };
    assert_eq!(rig.poll(StatusResponse::VendValid), [stacked]);
    assert_eq!(rig.sent(), Some(HostCommand::Ack));
    assert_eq!(rig.poll(StatusResponse::Stacked), []);
    // No idle status between the two notes.
    let escrowed = AcceptorEvent::Escrowed { value: cny(20) };
    assert_eq!(rig.poll(StatusResponse::Escrow(0x63)), [escrowed]);
}

#[test]
fn rejects_report_their_reason_once_and_returns_their_value() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable();
    let rejecting = StatusResponse::Rejecting(RejectCode::Discrimination);
    let counterfeit = AcceptorEvent::Rejected {
        reason: RejectReason::Counterfeit,
    };
    assert_eq!(rig.poll(rejecting.clone()), [counterfeit]);
    assert_eq!(rig.poll(rejecting), []);
    assert_eq!(rig.poll(StatusResponse::Idling), []);

    rig.poll(StatusResponse::Escrow(0x62));
    let r = rig.request(Request::Return, HostCommand::Return, StatusResponse::Ack);
    assert_eq!(r, Ok(()));
    assert_eq!(rig.poll(StatusResponse::Returning), []);
    let returned = AcceptorEvent::Returned { value: cny(10) };
    assert_eq!(rig.poll(StatusResponse::Idling), [returned]);
}

#[test]
fn values_not_enabled_and_unknown_codes_are_returned_by_the_driver() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable(); // 10, 20, 50: not 100
    assert_eq!(rig.poll(StatusResponse::Escrow(0x65)), []);
    rig.expect(HostCommand::Return, StatusResponse::Ack);
    assert_eq!(rig.poll(StatusResponse::Returning), []);
    let inhibited = AcceptorEvent::Rejected {
        reason: RejectReason::Inhibited,
    };
    assert_eq!(rig.poll(StatusResponse::Idling), [inhibited]);
    assert_eq!(rig.poll(StatusResponse::Escrow(0x7E)), []);
    rig.expect(HostCommand::Return, StatusResponse::Ack);
    let other = AcceptorEvent::Rejected {
        reason: RejectReason::Other,
    };
    assert_eq!(rig.poll(StatusResponse::Idling), [other]);
}

#[test]
fn a_jam_that_ends_in_vend_valid_clears_into_the_cash_box() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable();
    rig.poll(StatusResponse::Escrow(0x63));
    rig.request(Request::Stack, HostCommand::Stack1, StatusResponse::Ack)
        .unwrap();
    let jammed = AcceptorEvent::Jammed {
        location: JamLocation::Stacker,
        value: Some(cny(20)),
    };
    assert_eq!(rig.poll(StatusResponse::StackerJam), [jammed]);
    assert_eq!(rig.poll(StatusResponse::StackerJam), []);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Jammed));
    let cleared = AcceptorEvent::JamCleared {
        fate: NoteFate::InCashBox,
    };
    assert_eq!(
        rig.poll(StatusResponse::VendValid),
        [cleared],
        "no Stacked too"
    );
    assert_eq!(rig.sent(), Some(HostCommand::Ack));
    assert_eq!(rig.poll(StatusResponse::Idling), []);
}

#[test]
fn a_jam_that_ends_at_rest_leaves_the_note_in_doubt() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    assert_eq!(
        rig.poll(StatusResponse::AcceptorJam),
        [AcceptorEvent::Jammed {
            location: JamLocation::Acceptor,
            value: None
        }]
    );
    assert_eq!(
        rig.poll(StatusResponse::Disabled),
        [AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown
        }]
    );
}

#[test]
fn conditions_are_reported_when_they_start() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    assert_eq!(
        rig.poll(StatusResponse::Cheated),
        [AcceptorEvent::Fraud {
            kind: crate::FraudKind::Unspecified
        }]
    );
    assert_eq!(rig.poll(StatusResponse::Cheated), []);
    assert_eq!(
        rig.poll(StatusResponse::StackerOpen),
        [AcceptorEvent::StackerRemoved]
    );
    assert!(!rig.host.cash_box().unwrap().present);
    assert_eq!(
        rig.poll(StatusResponse::Disabled),
        [AcceptorEvent::StackerReplaced]
    );
    assert_eq!(
        rig.poll(StatusResponse::StackerFull),
        [AcceptorEvent::StackerFull]
    );
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::StackerFull));
    let failure = StatusResponse::Failure(crate::wire::id003::FailureCode::StackMotor);
    assert_eq!(rig.poll(failure), [AcceptorEvent::Failure]);
}

#[test]
fn power_up_with_a_bill_in_the_stacker_is_reported_at_start() {
    let mut rig = Rig::new();
    let events = rig.init(StatusResponse::PowerUpBillInStacker);
    assert_eq!(
        events,
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker
        }]
    );
    // A restart while running: reported, then initialised again.
    let events = rig.poll(StatusResponse::PowerUpBillInAcceptor);
    assert_eq!(
        events,
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InAcceptor
        }]
    );
    rig.expect(HostCommand::Reset, StatusResponse::Ack);
}

#[test]
fn missed_answers_make_it_offline_once_and_an_answer_brings_it_back() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    for _ in 0..3 {
        rig.now += 100;
        assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
        rig.now += 500; // no answer
    }
    assert_eq!(rig.sent(), None);
    assert_eq!(rig.outputs(), [HostOutput::WentOffline]);
    assert_eq!(rig.host.status(), Err(ErrorKind::Offline));
    rig.host.request(9, Request::Inhibit);
    assert_eq!(rig.done(9), Err(ErrorKind::Offline));
    // Still polled while offline, and no second offline report.
    rig.now += 100;
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
    rig.now += 500;
    assert_eq!(rig.sent(), None);
    assert_eq!(rig.outputs(), []);
    rig.now += 100;
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
    rig.answer(StatusResponse::Disabled);
    assert_eq!(
        rig.events(),
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        }]
    );
    rig.expect(HostCommand::Reset, StatusResponse::Ack);
    assert_eq!(rig.host.stats().offline_episodes, 1);
}

#[test]
fn a_vanished_port_is_offline_at_once_and_reopening_reports_power_up() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.host.request(3, Request::Inhibit);
    rig.host.port_closed(rig.now);
    let outputs = rig.outputs();
    assert!(outputs.contains(&HostOutput::WentOffline));
    assert!(outputs.contains(&HostOutput::Done {
        token: 3,
        result: Err(ErrorKind::Offline)
    }));
    assert_eq!(rig.sent(), None);
    rig.host.port_opened(rig.now);
    let events = rig.init(StatusResponse::PowerUp);
    assert_eq!(
        events,
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        }]
    );
}

#[test]
fn corrupted_answers_are_resent_and_timeouts_fail_the_request() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.enable();
    rig.poll(StatusResponse::Escrow(0x64));
    rig.host.request(5, Request::Stack);
    assert_eq!(rig.sent(), Some(HostCommand::Stack1));
    rig.host.handle_wire_error(
        rig.now,
        WireError::BadCrc {
            expected: 1,
            found: 2,
        },
    );
    assert_eq!(rig.sent(), Some(HostCommand::Stack1), "resent at once");
    // The device had taken the first copy: the second is refused.
    rig.answer(StatusResponse::InvalidCommand);
    assert_eq!(rig.done(5), Ok(()));
    // A late answer to an earlier command is not taken for the next one's.
    rig.host.request(6, Request::Inhibit);
    assert_eq!(rig.sent(), Some(HostCommand::SetInhibit(true)));
    rig.answer(StatusResponse::Ack);
    assert_eq!(rig.outputs(), []);
    rig.now += 500;
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
    assert_eq!(rig.done(6), Err(ErrorKind::Timeout));
    assert_eq!(rig.host.stats().resends, 1);
}

#[test]
fn stack_without_escrow_is_refused_at_once() {
    let mut rig = Rig::new();
    rig.init(StatusResponse::Disabled);
    rig.host.request(1, Request::Stack);
    assert_eq!(rig.done(1), Err(ErrorKind::InvalidState));
}

#[test]
fn vend_valid_for_a_note_never_seen_is_in_the_box_value_unknown() {
    let mut rig = Rig::new();
    rig.expect(HostCommand::StatusRequest, StatusResponse::VendValid);
    assert_eq!(rig.sent(), Some(HostCommand::Ack));
    rig.expect(HostCommand::Reset, StatusResponse::Ack);
    let events = rig.events();
    assert_eq!(
        events,
        [
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox
            },
        ]
    );
}

#[test]
fn a_currency_table_that_cannot_be_read_is_a_failure() {
    let mut rig = Rig::new();
    rig.expect(HostCommand::StatusRequest, StatusResponse::Disabled);
    rig.expect(HostCommand::Reset, StatusResponse::Ack);
    // A device without the version request: no identity, and at once on.
    rig.expect(HostCommand::VersionRequest, StatusResponse::InvalidCommand);
    for _ in 0..5 {
        rig.expect(
            HostCommand::CurrencyAssignRequest,
            StatusResponse::InvalidCommand,
        );
    }
    assert_eq!(rig.events(), [AcceptorEvent::Failure]);
    rig.expect(
        HostCommand::SetEnable([0, 0]),
        StatusResponse::SettingEcho(Setting::Enable([0, 0])),
    );
    assert!(rig.host.currency_table().is_none());
    assert!(!rig.host.identity().is_known());
}

#[test]
fn reads_the_version_line_at_initialisation_as_the_identity() {
    let mut rig = Rig::new();
    assert_eq!(
        rig.host.identity(),
        DeviceIdentity::of(DeviceProtocol::Id003)
    );
    rig.init(StatusResponse::PowerUp);
    let id = rig.host.identity();
    assert_eq!(id.protocol, DeviceProtocol::Id003);
    assert_eq!(id.model.as_deref(), Some("i(CHN)100-SS"));
    assert_eq!(id.firmware.as_deref(), Some("ID003-05V200-41 16MAR18"));
    assert_eq!(id.country.as_deref(), Some("CHN"));
    assert_eq!(id.serial, None, "ID-003 has no serial-number request");
}

#[test]
fn a_version_line_that_does_not_parse_leaves_the_identity_unknown() {
    let mut rig = Rig::new();
    rig.expect(HostCommand::StatusRequest, StatusResponse::Disabled);
    rig.expect(HostCommand::Reset, StatusResponse::Ack);
    rig.expect(
        HostCommand::VersionRequest,
        StatusResponse::Version(vec![0xFF, 0x00]),
    );
    rig.expect(
        HostCommand::CurrencyAssignRequest,
        StatusResponse::CurrencyAssign(table()),
    );
    assert!(!rig.host.identity().is_known());
}

/// When the next status request goes out, from now (`None`: not within 5 s).
fn next_poll_in(rig: &mut Rig) -> Option<u64> {
    let start = rig.now;
    for _ in 0..=5_000 {
        if rig.sent() == Some(HostCommand::StatusRequest) {
            return Some(rig.now - start);
        }
        rig.now += 1;
    }
    None
}

#[test]
fn an_inhibited_disabled_acceptor_is_polled_at_the_idle_interval_until_asked() {
    let mut rig = Rig::with_idle_poll(1000);
    rig.init(StatusResponse::Disabled);
    assert_eq!(next_poll_in(&mut rig), Some(0), "first poll at once");
    rig.answer(StatusResponse::Disabled);
    // Inhibited and disabled: nothing can move, a poll a second.
    assert_eq!(rig.host.next_deadline_ms(), Some(rig.now + 1000));
    assert_eq!(next_poll_in(&mut rig), Some(1000));
    rig.answer(StatusResponse::Disabled);
    // A request goes out at once, not at the next poll, and the polls
    // that follow come at the normal interval.
    rig.now += 300;
    rig.host.request(9, Request::Enable(vec![cny(10)]));
    assert_eq!(rig.sent(), Some(HostCommand::SetInhibit(false)));
    rig.answer(StatusResponse::SettingEcho(Setting::Inhibit(false)));
    assert_eq!(rig.done(9), Ok(()));
    assert_eq!(next_poll_in(&mut rig), Some(0));
    rig.answer(StatusResponse::Idling);
    assert_eq!(next_poll_in(&mut rig), Some(100));
    // An escrow while accepting: the note is handled at the normal pace.
    rig.answer(StatusResponse::Escrow(0x62));
    assert_eq!(next_poll_in(&mut rig), Some(100));
}

#[test]
fn an_inhibited_acceptor_reporting_anything_but_disabled_is_polled_at_the_normal_interval() {
    let mut rig = Rig::with_idle_poll(1000);
    rig.init(StatusResponse::Disabled);
    assert_eq!(next_poll_in(&mut rig), Some(0));
    rig.answer(StatusResponse::Disabled);
    assert_eq!(next_poll_in(&mut rig), Some(1000));
    // The box is pulled out while the kiosk is idle: watch it closely
    // until it is back and the device says "disabled" again.
    rig.answer(StatusResponse::StackerOpen);
    assert_eq!(next_poll_in(&mut rig), Some(100));
    rig.answer(StatusResponse::StackerOpen);
    assert_eq!(next_poll_in(&mut rig), Some(100));
    rig.answer(StatusResponse::Disabled);
    assert_eq!(next_poll_in(&mut rig), Some(1000));
    // A missed answer is asked again at once, whatever the interval.
    assert_eq!(rig.host.next_deadline_ms(), Some(rig.now + 500));
    rig.now += 500;
    assert_eq!(rig.sent(), Some(HostCommand::StatusRequest));
}
