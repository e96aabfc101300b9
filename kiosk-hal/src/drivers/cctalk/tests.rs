//! The host driven by a scripted device: no port, no clock.

use super::host::value_for_test;
use super::test_rig::{self, Bills};
use super::*;
use crate::wire::cctalk::{
    BillEvent, BillRoute, BufferedBillEvents, FrameRepr, HostCommand, StatusCode, HEADER_NAK,
};
use crate::{
    AcceptorEvent, AcceptorStatus, Currency, ErrorKind, JamLocation, Money, NoteAtPowerUp,
    NoteFate, RejectReason,
};

fn cny(major: i64) -> Money {
    Money::major(major, Currency::CNY)
}

/// Bill types 1–4: 10, 20, 50, 100 yuan; scaling 100 with 2 decimals.
fn bill_id(t: u8) -> Vec<u8> {
    match t {
        1 => b"CN0010A".to_vec(),
        2 => b"CN0020A".to_vec(),
        3 => b"CN0050A".to_vec(),
        4 => b"CN0100A".to_vec(),
        _ => b".......".to_vec(),
    }
}

type Rig = test_rig::Rig<Bills>;

impl Rig {
    fn new() -> Rig {
        let config = CctalkConfig {
            poll_interval_ms: 200,
            answer_timeout_ms: 300,
            bill_types: 4,
            ..CctalkConfig::for_port("/dev/null")
        };
        Rig::with_host(CctalkHost::new(&config))
    }

    fn init(&mut self) -> Vec<AcceptorEvent> {
        let data = self.device.to_data();
        self.expect(HostCommand::ReadBufferedBillEvents, &data);
        self.expect(HostCommand::RequestEquipmentCategory, b"Bill Validator");
        self.expect(HostCommand::RequestManufacturerId, b"SIM");
        self.expect(HostCommand::RequestProductCode, b"BV-1");
        self.expect(HostCommand::RequestSerialNumber, &[0x39, 0x30, 0x00]);
        self.expect(HostCommand::RequestSoftwareRevision, b"1.2.3");
        for t in 1..=4 {
            self.expect(HostCommand::RequestBillId(t), &bill_id(t));
        }
        self.expect(
            HostCommand::RequestCountryScalingFactor(*b"CN"),
            &[100, 0, 2],
        );
        self.expect(HostCommand::ModifyBillOperatingMode(3), &[]);
        self.expect(HostCommand::ModifyInhibitStatus([0, 0]), &[]);
        self.expect(HostCommand::ModifyMasterInhibit(false), &[]);
        assert!(self.host.is_running());
        self.events()
    }

    fn enable(&mut self) {
        let r = self.request(
            Request::Enable(vec![cny(10), cny(20), cny(50)]),
            &[
                (HostCommand::ModifyInhibitStatus([0b0111, 0]), &[]),
                (HostCommand::ModifyMasterInhibit(true), &[]),
            ],
        );
        assert_eq!(r, Ok(()));
    }

    fn stack(&mut self) {
        let stack = HostCommand::RouteBill(BillRoute::Stack);
        assert_eq!(self.request(Request::Stack, &[(stack, &[])]), Ok(()));
    }
}

#[test]
fn bill_values_come_from_ids_and_scaling() {
    assert_eq!(value_for_test(b"CN0010A", (100, 2)), Some(cny(10)));
    assert_eq!(value_for_test(b"CN0005A", (1, 0)), Some(cny(5)));
    assert_eq!(value_for_test(b"CN0005A", (1, 3)), None, "not whole fen");
    assert_eq!(value_for_test(b".......", (1, 0)), None);
}

#[test]
fn initialises_reading_identity_and_bill_ids() {
    let mut rig = Rig::new();
    let power_up = AcceptorEvent::PowerUp {
        note: NoteAtPowerUp::None,
    };
    assert_eq!(rig.init(), [power_up]);
    assert_eq!(rig.host.value_of(4), Some(cny(100)));
    assert_eq!(rig.host.identity().serial_number, 12345);
    assert_eq!(rig.host.identity().category, "Bill Validator");
    let id = rig.host.identity().device_identity();
    assert_eq!(id.protocol, crate::DeviceProtocol::Cctalk);
    assert_eq!(id.manufacturer.as_deref(), Some("SIM"));
    assert_eq!(id.model.as_deref(), Some("BV-1"));
    assert_eq!(id.firmware.as_deref(), Some("1.2.3"));
    assert_eq!(id.serial.as_deref(), Some("12345"));
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Inhibited));
    rig.enable();
    assert_eq!(rig.host.status(), Ok(AcceptorStatus::Accepting));
}

#[test]
fn a_note_is_escrowed_stacked_and_credited_once() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    let escrowed = AcceptorEvent::Escrowed { value: cny(20) };
    assert_eq!(
        rig.poll(&[BillEvent::PendingCredit { bill_type: 2 }]),
        [escrowed]
    );
    assert_eq!(rig.poll(&[]), [], "read again: nothing new");
    rig.stack();
    let stacked = AcceptorEvent::Stacked { value: cny(20) };
    assert_eq!(rig.poll(&[BillEvent::Credit { bill_type: 2 }]), [stacked]);
    assert_eq!(rig.poll(&[]), []);
}

#[test]
fn a_value_not_enabled_is_routed_back_and_rejects_map_to_reasons() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    assert_eq!(rig.poll(&[BillEvent::PendingCredit { bill_type: 4 }]), []);
    rig.expect(HostCommand::RouteBill(BillRoute::Return), &[]);
    let returned = BillEvent::Status(StatusCode::ReturnedFromEscrow);
    let inhibited = AcceptorEvent::Rejected {
        reason: RejectReason::Inhibited,
    };
    assert_eq!(rig.poll(&[returned]), [inhibited]);
    let counterfeit = AcceptorEvent::Rejected {
        reason: RejectReason::Counterfeit,
    };
    let fail = BillEvent::Status(StatusCode::ValidationFail);
    assert_eq!(rig.poll(&[fail]), [counterfeit]);
}

/// The protocol's loss detection: seven events between two reads, two of
/// them lost — among them, perhaps, the credit of the note being stacked.
#[test]
fn a_counter_jump_past_the_buffer_puts_the_stacking_note_in_doubt() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    rig.poll(&[BillEvent::PendingCredit { bill_type: 3 }]);
    rig.stack();
    let happened = [
        BillEvent::Credit { bill_type: 3 },
        BillEvent::Status(StatusCode::MasterInhibitActive),
        BillEvent::Status(StatusCode::StackerOk),
        BillEvent::Status(StatusCode::StackerOk),
        BillEvent::Status(StatusCode::StackerOk),
        BillEvent::Status(StatusCode::StackerOk),
        BillEvent::Status(StatusCode::StackerOk),
    ];
    let events = rig.poll(&happened);
    assert_eq!(
        events,
        [
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: Some(cny(50))
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown
            }
        ]
    );
    assert_eq!(rig.host.stats().lost_events, 2);
    // With no note in hand a lost burst is still a possible unseen note.
    let burst = [BillEvent::Status(StatusCode::StackerOk); 6];
    let events = rig.poll(&burst);
    assert_eq!(
        events,
        [
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown
            }
        ]
    );
    assert_eq!(rig.host.stats().lost_events, 3);
}

#[test]
fn a_restart_while_stacking_leaves_the_note_in_doubt_and_sets_the_device_up_again() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    rig.poll(&[BillEvent::PendingCredit { bill_type: 1 }]);
    rig.stack();
    rig.device = BufferedBillEvents {
        counter: 0,
        pairs: [(0, 0); 5],
    };
    let events = rig.poll(&[]);
    assert_eq!(
        events,
        [
            AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: Some(cny(10))
            },
            AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown
            },
            AcceptorEvent::PowerUp {
                note: NoteAtPowerUp::None
            }
        ]
    );
    rig.expect(HostCommand::ModifyBillOperatingMode(3), &[]);
    rig.expect(HostCommand::ModifyInhibitStatus([0b0111, 0]), &[]);
    rig.expect(HostCommand::ModifyMasterInhibit(true), &[]);
    assert!(rig.host.is_running());
}

#[test]
fn lost_replies_nak_and_a_stack_already_taken() {
    let mut rig = Rig::new();
    rig.init();
    rig.enable();
    rig.poll(&[BillEvent::PendingCredit { bill_type: 2 }]);
    rig.host.request(5, Request::Stack);
    let stack = HostCommand::RouteBill(BillRoute::Stack);
    assert_eq!(rig.sent(), Some(stack));
    rig.now += 400; // no reply: the slave stays silent on a bad frame
    assert_eq!(rig.sent(), Some(stack), "asked again");
    rig.host
        .handle_frame(rig.now, &FrameRepr::new(1, 40, HEADER_NAK, Vec::new()));
    assert_eq!(rig.sent(), Some(stack), "NAK: asked again");
    // The first copy was taken: "escrow empty" on a resend counts as done.
    rig.reply(&[254]);
    assert!(rig.outputs().contains(&HostOutput::Done {
        token: 5,
        result: Ok(())
    }));
    // Silence: offline once.
    let mut offline = 0;
    for _ in 0..30 {
        rig.now += 200;
        let _ = rig.host.poll_transmit(rig.now);
        offline += rig
            .outputs()
            .iter()
            .filter(|o| **o == HostOutput::WentOffline)
            .count();
    }
    assert_eq!(offline, 1);
    assert_eq!(rig.host.status(), Err(ErrorKind::Offline));
}
