//! The coin acceptor host driven by a scripted device: no port, no clock.

use super::test_rig::{self, Coins};
use super::*;
use crate::wire::cctalk::{BufferedBillEvents, CoinError, CoinEvent, HostCommand};
use crate::{
    AcceptorEvent, AcceptorStatus, Currency, ErrorKind, FraudKind, JamLocation, Money,
    NoteAtPowerUp, NoteFate, RejectReason,
};

fn fen(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

/// Positions 1–3: 1 jiao, 5 jiao, 1 yuan; position 4 empty.
fn coin_id(p: u8) -> &'static [u8] {
    match p {
        1 => b"CN010A",
        2 => b"CN050A",
        3 => b"CN100A",
        _ => b"......",
    }
}

type Rig = test_rig::Rig<Coins>;

impl Rig {
    fn new() -> Rig {
        let config = CctalkCoinConfig {
            poll_interval_ms: 200,
            answer_timeout_ms: 300,
            coin_positions: 4,
            ..CctalkCoinConfig::for_port("/dev/null")
        };
        Rig::with_host(CctalkHost::coins(&config))
    }

    fn init(&mut self) -> Vec<AcceptorEvent> {
        let data = self.device.to_data();
        self.expect(HostCommand::ReadBufferedCreditOrErrorCodes, &data);
        self.expect(HostCommand::RequestEquipmentCategory, b"Coin Acceptor");
        self.expect(HostCommand::RequestManufacturerId, b"SIM");
        self.expect(HostCommand::RequestProductCode, b"CA-1");
        self.expect(HostCommand::RequestSerialNumber, &[0x39, 0x30, 0x00]);
        self.expect(HostCommand::RequestSoftwareRevision, b"2.0");
        for p in 1..=4 {
            self.expect(HostCommand::RequestCoinId(p), coin_id(p));
        }
        self.expect(HostCommand::ModifyInhibitStatus([0, 0]), &[]);
        self.expect(HostCommand::ModifyMasterInhibit(false), &[]);
        assert!(self.host.is_running());
        self.events()
    }

    fn enable(&mut self) {
        let r = self.request(
            Request::Enable(vec![fen(50), fen(100)]),
            &[
                (HostCommand::ModifyInhibitStatus([0b0110, 0]), &[]),
                (HostCommand::ModifyMasterInhibit(true), &[]),
            ],
        );
        assert_eq!(r, Ok(()));
    }
}

fn coin(position: u8) -> CoinEvent {
    CoinEvent::Credit {
        position,
        sorter_path: 1,
    }
}

fn error(b: u8) -> CoinEvent {
    CoinEvent::Error(CoinError::from_byte(b))
}

#[test]
fn coins_are_credited_at_once_with_the_value_of_their_coin_id() {
    let mut rig = Rig::new();
    assert_eq!(
        rig.init(),
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        }]
    );
    assert_eq!(rig.host.identity().category, "Coin Acceptor");
    assert_eq!(rig.host.value_of(3), Some(fen(100)));
    assert_eq!(rig.host.value_of(4), None, "an empty position");
    rig.enable();
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Accepting));
    assert_eq!(
        rig.poll(&[coin(3), error(1), coin(2)]),
        [
            AcceptorEvent::Stacked { value: fen(100) },
            AcceptorEvent::Rejected {
                reason: RejectReason::Counterfeit
            },
            AcceptorEvent::Stacked { value: fen(50) },
        ]
    );
    // Read again and again: no second credit.
    assert_eq!(rig.poll(&[]), []);
    assert_eq!(rig.poll(&[]), []);
    // No escrow: stack and return are refused at once.
    assert_eq!(
        rig.request(Request::Stack, &[]),
        Err(ErrorKind::InvalidState)
    );
    assert_eq!(
        rig.request(Request::Return, &[]),
        Err(ErrorKind::InvalidState)
    );
}

#[test]
fn a_counter_jump_past_the_buffer_puts_a_coin_in_doubt() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    // Seven coins between two reads: the five newest are credited, the
    // two oldest are lost: one item in doubt with an alarm first.
    let happened: Vec<CoinEvent> = (0..7).map(|_| coin(3)).collect();
    let events = rig.poll(&happened);
    assert_eq!(
        events[..2],
        [
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown
            },
        ]
    );
    assert_eq!(events[2..], [AcceptorEvent::Stacked { value: fen(100) }; 5]);
    assert_eq!(rig.host.stats().lost_events, 2);
}

#[test]
fn jams_fraud_and_failures_are_reported_and_a_restart_sets_up_again() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    assert_eq!(
        rig.poll(&[error(14)]),
        [AcceptorEvent::Jammed {
            location: JamLocation::Acceptor,
            value: None
        }]
    );
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Jammed));
    assert_eq!(
        rig.poll(&[error(20), coin(1)]),
        [
            AcceptorEvent::Fraud {
                kind: FraudKind::StringOrFishing
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown
            },
            AcceptorEvent::Stacked { value: fen(10) },
        ]
    );
    assert_eq!(rig.poll(&[error(5)]), [AcceptorEvent::Failure]);
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Failure));
    // The acceptor restarts: counter 0, power-up, inhibits and master again.
    rig.device = BufferedBillEvents {
        counter: 0,
        pairs: [(0, 0); 5],
    };
    assert_eq!(
        rig.poll(&[]),
        [AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::None
        }]
    );
    rig.expect(HostCommand::ModifyInhibitStatus([0b0110, 0]), &[]);
    rig.expect(HostCommand::ModifyMasterInhibit(true), &[]);
    assert!(rig.host.is_running());
    assert_eq!(
        rig.poll(&[coin(3)]),
        [AcceptorEvent::Stacked { value: fen(100) }]
    );
}
