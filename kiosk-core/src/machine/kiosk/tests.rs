//! Tests of the kiosk machine driven by hand, without a runtime: a small
//! world answers every output the way a journal and devices would, and the
//! tests read the outputs in the order the machine gave them.

use std::collections::{BTreeMap, BTreeSet};

use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, AccountAnswer, AccountInfo, AccountNumber, CashBoxStatus,
    Currency, ErrorKind, FillLevel, IdempotencyKey, Money, NoteAtPowerUp, NoteFate, PaymentMethod,
    PostingAnswer, PrintOutcome, PrinterStatus,
};
use proptest::prelude::*;

use super::*;
use crate::commands::StaffCommand;
use crate::journal::{ClearingRecord, PendingPayment, Settlement};

fn yuan(n: i64) -> Money {
    Money::major(n, Currency::CNY)
}

/// Answers outputs like a journal and devices would, and keeps what the
/// checks need: the journal's pending and credited payments.
struct World {
    now: Millis,
    link: Result<(), ErrorKind>,
    /// How the acceptor answers calls (enable, status).
    acceptor: Result<(), ErrorKind>,
    /// What a status read finds when the acceptor answers.
    acceptor_status: AcceptorStatus,
    /// How long the backend takes to answer (the world's clock moves on).
    link_latency_ms: u64,
    next_row: i64,
    notes: BTreeMap<NoteId, (SessionId, Option<Money>)>,
    pending: BTreeMap<IdempotencyKey, PendingPayment>,
    credited: BTreeSet<IdempotencyKey>,
    sessions_begun: BTreeSet<SessionId>,
    /// What the journal holds at start.
    recovery: RecoveryRows,
    log: Vec<Output>,
}

impl World {
    fn new() -> World {
        World {
            now: Millis(1_000_000),
            link: Ok(()),
            acceptor: Ok(()),
            acceptor_status: AcceptorStatus::Inhibited,
            link_latency_ms: 50,
            next_row: 1,
            notes: BTreeMap::new(),
            pending: BTreeMap::new(),
            credited: BTreeSet::new(),
            sessions_begun: BTreeSet::new(),
            recovery: RecoveryRows::default(),
            log: Vec::new(),
        }
    }

    fn row(&mut self) -> NoteId {
        self.next_row += 1;
        NoteId(self.next_row)
    }

    /// Performs every output, answering those that ask; checks on the way
    /// what must hold of any output sequence.
    fn run(&mut self, m: &mut KioskMachine) {
        let mut n = 0;
        while let Some(output) = m.poll_output() {
            n += 1;
            assert!(n < 10_000, "the machine never stops giving outputs");
            self.check(&output);
            self.log.push(output.clone());
            if let Some(answer) = self.answer(output) {
                m.handle(answer, self.now);
            }
        }
    }

    fn check(&self, output: &Output) {
        match output {
            Output::Link(LinkCall::Post { posting, retry, .. }) => {
                assert!(
                    self.pending.contains_key(&posting.key),
                    "posted {} which the journal does not hold as pending",
                    posting.key
                );
                if *retry {
                    assert!(posting.code.is_none(), "a retry carried the payment code");
                }
            }
            Output::Journal(JournalOp::PaymentCredited { key, .. }) => {
                assert!(!self.credited.contains(key), "{key} credited twice");
                assert!(
                    self.pending.contains_key(key),
                    "{key} credited, never pending"
                );
            }
            Output::Event(KioskEvent::SessionStarted { session }) => assert!(
                self.sessions_begun.contains(session),
                "session {session} announced before it was journaled"
            ),
            _ => {}
        }
    }

    fn answer(&mut self, output: Output) -> Option<Input> {
        let now = self.now;
        Some(match output {
            Output::Journal(op) => Input::Journal(match op {
                JournalOp::BeginSession(start) => {
                    self.sessions_begun.insert(start.id);
                    return None;
                }
                JournalOp::NoteEscrowed(session, value) => {
                    let note = self.row();
                    self.notes.insert(note, (session, Some(value)));
                    JournalReply::NoteEscrowed(note)
                }
                JournalOp::NoteInDoubt {
                    session,
                    note,
                    value,
                    cause,
                } => {
                    let note = note.unwrap_or_else(|| self.row());
                    self.notes.insert(note, (session, value));
                    JournalReply::NoteInDoubt { note, value, cause }
                }
                JournalOp::Settle { note, fate, .. } => {
                    let (session, value) = self.notes.get(&note).cloned().expect("a known note");
                    let settlement = match (fate, value) {
                        (NoteFate::InCashBox, Some(amount)) => {
                            let p = PendingPayment {
                                key: crate::machine::keys::settled_note(&session, note),
                                session,
                                account: AccountNumber("1".into()),
                                amount,
                                method: PaymentMethod::Cash,
                                created_at: now,
                                attempts: 0,
                            };
                            self.pending.insert(p.key.clone(), p.clone());
                            Settlement::Credit(p)
                        }
                        (NoteFate::InCashBox, None) => Settlement::InBoxValueUnknown,
                        (NoteFate::Returned, _) => Settlement::Returned,
                        (NoteFate::Unknown, _) => Settlement::StillInDoubt,
                    };
                    JournalReply::Settled {
                        note,
                        settlement: Box::new(settlement),
                    }
                }
                JournalOp::PaymentPending(session, key, amount) => {
                    self.pending.insert(
                        key.clone(),
                        PendingPayment {
                            key,
                            session,
                            account: AccountNumber("1".into()),
                            amount,
                            method: PaymentMethod::Cash,
                            created_at: now,
                            attempts: 0,
                        },
                    );
                    return None;
                }
                JournalOp::PaymentCredited { key, .. } => {
                    self.pending.remove(&key);
                    self.credited.insert(key);
                    return None;
                }
                JournalOp::PaymentRefused(key, _) => {
                    self.pending.remove(&key);
                    return None;
                }
                JournalOp::PostingAttempted(key) => JournalReply::Attempt(key, 1),
                JournalOp::RecordClearing {
                    operators,
                    counted,
                    counterfeit_found,
                    ..
                } => JournalReply::Clearing(Box::new(ClearingRecord {
                    id: 1,
                    at: now,
                    operators,
                    expected: counted,
                    counted,
                    counterfeit_found,
                    pending: yuan(0),
                    in_doubt_notes: 0,
                    chain_head: None,
                    notes: Vec::new(),
                })),
                JournalOp::ReadRecovery => JournalReply::Recovery(Box::new(self.recovery.clone())),
                JournalOp::ReadPending => {
                    JournalReply::Pending(self.pending.values().cloned().collect())
                }
                JournalOp::ReadInDoubt => JournalReply::InDoubt(Vec::new()),
                JournalOp::ReadUnprinted => JournalReply::Unprinted(Vec::new()),
                _ => return None,
            }),
            Output::Device(call) => Input::Device(match call {
                DeviceCall::EnableAcceptor(_) => DeviceReply::Enabled(self.acceptor),
                DeviceCall::InhibitAcceptor(p) => DeviceReply::Inhibited(p, Ok(())),
                DeviceCall::StackNote => DeviceReply::Stacking(Ok(())),
                DeviceCall::ReturnNote(p) => DeviceReply::Returning(p, Ok(())),
                DeviceCall::ResetAcceptor(p) => DeviceReply::Reset(p, Ok(())),
                DeviceCall::AcceptorStatus(p) => {
                    DeviceReply::AcceptorStatus(p, self.acceptor.map(|()| self.acceptor_status))
                }
                DeviceCall::CashBoxStatus(p) => DeviceReply::CashBoxStatus(
                    p,
                    Ok(CashBoxStatus {
                        present: true,
                        level: FillLevel::Normal,
                        contents: None,
                    }),
                ),
                DeviceCall::PrinterStatus(p) => {
                    DeviceReply::PrinterStatus(p, Ok(PrinterStatus::Ready))
                }
                DeviceCall::Print { purpose, .. } => {
                    DeviceReply::Printed(purpose, Ok(PrintOutcome::Printed))
                }
                DeviceCall::CheckReader(p) => DeviceReply::ReaderChecked(p, Ok(())),
                DeviceCall::ReadIdentities => DeviceReply::Identities(vec![
                    (DeviceKind::Acceptor, Ok(acceptor_identity())),
                    (DeviceKind::Printer, Err(ErrorKind::Offline)),
                ]),
            }),
            Output::Link(call) => Input::Link(LinkReply {
                latency_ms: {
                    self.now = self.now.plus_ms(self.link_latency_ms);
                    self.link_latency_ms
                },
                answer: match call {
                    LinkCall::Lookup { purpose, .. } => LinkAnswer::Lookup(
                        purpose,
                        self.link.map(|()| {
                            AccountAnswer::Payable(AccountInfo {
                                holder_name: "张三".into(),
                                amount_due: yuan(100),
                                balance: yuan(0),
                            })
                        }),
                    ),
                    LinkCall::Post { posting, retry, .. } => LinkAnswer::Post {
                        answer: self.link.map(|()| PostingAnswer::Credited {
                            backend_ref: format!("B-{}", posting.key),
                            new_balance: yuan(0),
                        }),
                        key: posting.key,
                        retry,
                    },
                    LinkCall::Heartbeat { .. } => LinkAnswer::Heartbeat(self.link),
                },
            }),
            Output::Event(_) | Output::SwitchToBackupLink => return None,
            Output::ReadLinkSwitches => Input::LinkSwitches(LinkSwitches::default()),
            Output::ReadSupervisors => Input::Supervisors(Vec::new()),
        })
    }

    /// Wakes the machine at each of its timeouts up to `until`.
    fn wait_until(&mut self, m: &mut KioskMachine, until: Millis) {
        while let Some(at) = m.poll_timeout() {
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            m.handle_timeout(self.now);
            self.run(m);
        }
        self.now = until;
    }

    fn give(&mut self, m: &mut KioskMachine, input: Input) {
        m.handle(input, self.now);
        self.run(m);
    }

    fn events(&self) -> impl Iterator<Item = &KioskEvent> {
        self.log.iter().filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
    }

    /// Position of the first output matching `f`.
    fn position(&self, f: impl Fn(&Output) -> bool) -> Option<usize> {
        self.log.iter().position(f)
    }
}

fn started(config: KioskConfig) -> (KioskMachine, World) {
    let mut m = KioskMachine::new(config, true);
    let mut w = World::new();
    w.give(&mut m, Input::Start);
    (m, w)
}

fn pay_cash(m: &mut KioskMachine, w: &mut World, notes: &[i64]) {
    w.give(
        m,
        Input::Customer(CustomerAction::EnterAccount {
            account: AccountNumber("13800000000".into()),
        }),
    );
    w.give(
        m,
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
    );
    for &n in notes {
        w.give(
            m,
            Input::Acceptor(Ok(AcceptorEvent::Escrowed { value: yuan(n) })),
        );
        w.give(
            m,
            Input::Acceptor(Ok(AcceptorEvent::Stacked { value: yuan(n) })),
        );
    }
    w.give(m, Input::Customer(CustomerAction::Confirm));
}

#[test]
fn an_idle_kiosk_sees_a_dead_link_within_five_seconds_and_stops_offering() {
    let (mut m, mut w) = started(KioskConfig::default());
    let t0 = w.now;
    w.link = Err(ErrorKind::Offline);
    w.wait_until(&mut m, t0.plus_ms(5_000));
    assert!(
        w.events().any(|e| matches!(
            e,
            KioskEvent::FaultDetected {
                device: DeviceKind::Link,
                ..
            }
        )),
        "no link fault within 5 s of idling: {:?}",
        w.events().collect::<Vec<_>>()
    );
    assert!(m.offered_methods().is_empty());
    assert!(matches!(
        w.events()
            .filter(|e| matches!(e, KioskEvent::Screen { .. }))
            .last(),
        Some(KioskEvent::Screen {
            screen: Screen::OutOfService { .. }
        })
    ));
    // The link comes back: the next heartbeat puts the methods back.
    w.link = Ok(());
    w.wait_until(&mut m, t0.plus_ms(10_000));
    assert_eq!(m.offered_methods().len(), 2);
}

#[test]
fn an_acceptor_that_fails_a_call_is_faulty_until_its_status_reads_healthy() {
    let (mut m, mut w) = started(KioskConfig::default());
    assert!(m.offered_methods().contains(&PaymentMethod::Cash));
    // The driver lost the device: enabling it for a customer fails, and
    // no report will ever come from it.
    w.acceptor = Err(ErrorKind::Offline);
    w.give(
        &mut m,
        Input::Customer(CustomerAction::EnterAccount {
            account: AccountNumber("13800000000".into()),
        }),
    );
    w.give(
        &mut m,
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
    );
    assert!(
        w.events().any(|e| matches!(
            e,
            KioskEvent::FaultDetected {
                device: DeviceKind::Acceptor,
                ..
            }
        )),
        "a failed enable opened no acceptor fault: {:?}",
        w.events().collect::<Vec<_>>()
    );
    assert!(
        m.tickets()
            .open_tickets()
            .iter()
            .any(|t| t.device == DeviceKind::Acceptor),
        "a failed enable opened no ticket"
    );
    // The customer gives up; the next one is not offered cash.
    w.give(&mut m, Input::Customer(CustomerAction::Cancel));
    let t0 = w.now;
    w.wait_until(&mut m, t0.plus_ms(60_000));
    assert!(!m.offered_methods().contains(&PaymentMethod::Cash));
    // The device answers again: the next health round sees it and cash
    // is offered again, with no report from the device needed.
    w.acceptor = Ok(());
    let t1 = w.now;
    let interval = KioskConfig::default().health_check_interval_ms;
    w.wait_until(&mut m, t1.plus_ms(interval + 1));
    assert!(
        m.offered_methods().contains(&PaymentMethod::Cash),
        "cash not offered again one health round after the acceptor answered"
    );
    assert!(!m
        .tickets()
        .open_tickets()
        .iter()
        .any(|t| t.device == DeviceKind::Acceptor));
}

#[test]
fn an_acceptor_call_refused_for_its_state_is_not_a_fault() {
    let (mut m, mut w) = started(KioskConfig::default());
    w.acceptor = Err(ErrorKind::InvalidState);
    w.give(
        &mut m,
        Input::Customer(CustomerAction::EnterAccount {
            account: AccountNumber("13800000000".into()),
        }),
    );
    w.give(
        &mut m,
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
    );
    assert!(!w.events().any(|e| matches!(
        e,
        KioskEvent::FaultDetected {
            device: DeviceKind::Acceptor,
            ..
        }
    )));
}

#[test]
fn an_idle_kiosk_calls_a_slow_link_slow_at_the_first_slow_heartbeat() {
    let (mut m, mut w) = started(KioskConfig::default());
    let t0 = w.now;
    w.wait_until(&mut m, t0.plus_ms(10_000));
    assert!(!w.events().any(|e| matches!(e, KioskEvent::LinkSlow { .. })));
    w.link_latency_ms = 4_000;
    let slow_from = w.log.len();
    w.wait_until(&mut m, t0.plus_ms(30_000));
    let after: Vec<&Output> = w.log[slow_from..].iter().collect();
    let first_probe = after
        .iter()
        .position(|o| matches!(o, Output::Link(LinkCall::Heartbeat { .. })))
        .expect("the idle kiosk probes the link");
    let second_probe = after[first_probe + 1..]
        .iter()
        .position(|o| matches!(o, Output::Link(LinkCall::Heartbeat { .. })))
        .map(|i| i + first_probe + 1)
        .expect("and probes again");
    let slow = after
        .iter()
        .position(|o| matches!(o, Output::Event(KioskEvent::LinkSlow { .. })))
        .expect("link-slow raised");
    assert!(
        first_probe < slow && slow < second_probe,
        "link-slow should follow the first slow heartbeat: {after:?}"
    );
    // Fast again: three fast answers clear it (the ticket resolves).
    w.link_latency_ms = 50;
    w.wait_until(&mut m, t0.plus_ms(60_000));
    assert!(w.events().any(|e| matches!(
        e,
        KioskEvent::TicketResolved {
            kind: crate::tickets::TicketKind::LinkSlow,
            ..
        }
    )));
}

#[test]
fn every_money_event_is_journaled_before_it_is_announced() {
    let (mut m, mut w) = started(KioskConfig::default());
    pay_cash(&mut m, &mut w, &[50, 50]);
    assert!(m.session_id().is_none(), "the session should have ended");
    let journaled = |w: &World, f: &dyn Fn(&JournalOp) -> bool| {
        w.position(|o| matches!(o, Output::Journal(op) if f(op)))
            .expect("journaled")
    };
    let announced = |w: &World, f: &dyn Fn(&KioskEvent) -> bool| {
        w.position(|o| matches!(o, Output::Event(e) if f(e)))
            .expect("announced")
    };
    let begun = journaled(&w, &|op| matches!(op, JournalOp::BeginSession(_)));
    let started = announced(&w, &|e| matches!(e, KioskEvent::SessionStarted { .. }));
    assert!(begun < started);
    let pending = journaled(&w, &|op| matches!(op, JournalOp::PaymentPending(..)));
    let posted = w
        .position(|o| matches!(o, Output::Link(LinkCall::Post { .. })))
        .expect("posted");
    assert!(
        pending < posted,
        "posted before the pending payment was durable"
    );
    let credited = journaled(&w, &|op| matches!(op, JournalOp::PaymentCredited { .. }));
    let told = announced(&w, &|e| matches!(e, KioskEvent::PaymentCredited { .. }));
    assert!(credited < told);
    let stacked: Vec<usize> = w
        .log
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Output::Journal(JournalOp::NoteStacked(..))))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stacked.len(), 2);
    assert!(stacked.iter().all(|&i| i < pending));
    let ended = journaled(&w, &|op| matches!(op, JournalOp::EndSession(..)));
    let said = announced(&w, &|e| matches!(e, KioskEvent::SessionEnded { .. }));
    assert!(ended < said);
    // The journal's log moves into its file after the session, never inside it.
    let checkpoint = journaled(&w, &|op| matches!(op, JournalOp::Checkpoint));
    assert!(checkpoint > ended);
}

#[test]
fn a_command_waits_for_no_session_and_reports_after_its_effects() {
    let config = KioskConfig {
        authorised_operators: vec!["王".into(), "李".into()],
        ..KioskConfig::default()
    };
    let (mut m, mut w) = started(config);
    w.give(
        &mut m,
        Input::Customer(CustomerAction::EnterAccount {
            account: AccountNumber("1".into()),
        }),
    );
    assert!(
        !m.wants().commands,
        "commands are taken only between sessions"
    );
    w.give(&mut m, Input::Customer(CustomerAction::Cancel));
    assert!(m.wants().commands);
    w.log.clear();
    w.give(
        &mut m,
        Input::Command(StaffCommand::BeginClearing {
            operators: ["王".into(), "李".into()],
        }),
    );
    assert!(
        m.offered_methods().is_empty(),
        "no cash while the box is out"
    );
    // Putting the kiosk back in service mid-clearing is refused.
    w.give(&mut m, Input::Command(StaffCommand::Enable));
    assert!(w.events().any(|e| matches!(
        e,
        KioskEvent::CommandDone { command, ok: false, .. } if command == "enable"
    )));
    assert!(m.offered_methods().is_empty());
    w.log.clear();
    w.give(
        &mut m,
        Input::Command(StaffCommand::EndClearing {
            counted: yuan(0),
            counted_notes: None,
            counterfeit_found: 0,
            settle: Vec::new(),
        }),
    );
    let report = w
        .position(|o| matches!(o, Output::Event(KioskEvent::ClearingReport { .. })))
        .expect("clearing report");
    let done = w
        .position(|o| matches!(o, Output::Event(KioskEvent::CommandDone { ok: true, .. })))
        .expect("command done");
    assert!(report < done);
    assert_eq!(m.offered_methods().len(), 2);
}

#[test]
fn a_remote_command_is_journaled_with_who_gave_it_and_a_refusal_as_a_security_event() {
    use crate::commands::{AuthorisedCommand, Remote};
    let (mut m, mut w) = started(KioskConfig::default());
    w.log.clear();
    w.give(
        &mut m,
        Input::Remote(Remote::Command(AuthorisedCommand {
            command: StaffCommand::Disable {
                reason: "维修".into(),
            },
            by: vec!["zhang".into()],
        })),
    );
    let journaled = w
        .position(|o| {
            matches!(o, Output::Journal(JournalOp::RecordCommand { by, command, ok: true, .. })
                if by == &["zhang".to_string()] && command == "disable")
        })
        .expect("the command journaled with who gave it");
    let done = w
        .position(|o| matches!(o, Output::Event(KioskEvent::CommandDone { .. })))
        .expect("done");
    assert!(
        journaled < done,
        "journaled before anyone is told it is done"
    );
    assert!(m.offered_methods().is_empty());

    w.log.clear();
    w.give(
        &mut m,
        Input::Remote(Remote::Refused {
            reason: "POST /v1/commands from 10.0.0.9: unknown token".into(),
            claimed: None,
        }),
    );
    let journaled = w
        .position(|o| matches!(o, Output::Journal(JournalOp::RecordSecurityEvent { .. })))
        .expect("a security event in the journal");
    let alarm = w
        .position(|o| matches!(o, Output::Event(KioskEvent::SecurityAlarm { .. })))
        .expect("an alarm");
    assert!(journaled < alarm);
    assert!(
        !w.log
            .iter()
            .any(|o| matches!(o, Output::Event(KioskEvent::CommandDone { .. }))),
        "a refusal performs nothing"
    );
}

#[test]
fn a_note_in_the_box_outside_any_session_is_journaled_in_doubt_with_an_alarm() {
    let (mut m, mut w) = started(KioskConfig::default());
    w.give(
        &mut m,
        Input::Acceptor(Ok(AcceptorEvent::PowerUp {
            note: NoteAtPowerUp::InStacker,
        })),
    );
    let begun = w
        .position(|o| matches!(o, Output::Journal(JournalOp::BeginSession(_))))
        .expect("an unattended session row for the note");
    let in_doubt = w
        .position(|o| {
            matches!(
                o,
                Output::Journal(JournalOp::NoteInDoubt {
                    cause: InDoubtCause::Unaccounted,
                    ..
                })
            )
        })
        .expect("the note journaled in doubt");
    assert!(begun < in_doubt);
    assert!(w
        .events()
        .any(|e| matches!(e, KioskEvent::SecurityAlarm { .. })));
    // In doubt is not a lock: cash is still offered.
    assert!(m.offered_methods().contains(&PaymentMethod::Cash));
}

/// One random thing that can happen to a kiosk.
#[derive(Debug, Clone)]
enum Happening {
    Enter,
    Choose(PaymentMethod),
    Confirm,
    Cancel,
    Note(i64),
    Stack,
    Return,
    PowerUp(NoteAtPowerUp),
    JamCleared(NoteFate),
    Jam,
    Removed,
    Replaced,
    Code,
    Wait(u64),
    Link(bool),
    Command(u8),
}

fn happening() -> impl Strategy<Value = Happening> {
    prop_oneof![
        Just(Happening::Enter),
        prop_oneof![Just(PaymentMethod::Cash), Just(PaymentMethod::Code)]
            .prop_map(Happening::Choose),
        Just(Happening::Confirm),
        Just(Happening::Cancel),
        prop_oneof![Just(10i64), Just(50), Just(100)].prop_map(Happening::Note),
        Just(Happening::Stack),
        Just(Happening::Return),
        prop_oneof![
            Just(NoteAtPowerUp::None),
            Just(NoteAtPowerUp::InAcceptor),
            Just(NoteAtPowerUp::InStacker)
        ]
        .prop_map(Happening::PowerUp),
        prop_oneof![
            Just(NoteFate::InCashBox),
            Just(NoteFate::Returned),
            Just(NoteFate::Unknown)
        ]
        .prop_map(Happening::JamCleared),
        Just(Happening::Jam),
        Just(Happening::Removed),
        Just(Happening::Replaced),
        Just(Happening::Code),
        (0u64..200_000).prop_map(Happening::Wait),
        any::<bool>().prop_map(Happening::Link),
        (0u8..6).prop_map(Happening::Command),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever happens, in whatever order: the machine only posts what the
    /// journal holds as pending, never credits a key twice, never announces
    /// a session before journaling it, never sends a retry with the payment
    /// code, takes no command in a session, and always comes to rest.
    #[test]
    fn random_histories_keep_the_machine_honest(
        history in proptest::collection::vec(happening(), 1..120)
    ) {
        let config = KioskConfig {
            authorised_operators: vec!["a".into(), "b".into()],
            ..KioskConfig::default()
        };
        let (mut m, mut w) = started(config);
        let mut last_value = yuan(10);
        for h in history {
            let wants = m.wants();
            let input = match h {
                Happening::Enter => Input::Customer(CustomerAction::EnterAccount {
                    account: AccountNumber("1".into()),
                }),
                Happening::Choose(method) => Input::Customer(CustomerAction::ChooseMethod { method }),
                Happening::Confirm => Input::Customer(CustomerAction::Confirm),
                Happening::Cancel => Input::Customer(CustomerAction::Cancel),
                Happening::Note(v) if wants.acceptor => {
                    last_value = yuan(v);
                    Input::Acceptor(Ok(AcceptorEvent::Escrowed { value: last_value }))
                }
                Happening::Stack if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::Stacked { value: last_value }))
                }
                Happening::Return if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::Returned { value: last_value }))
                }
                Happening::PowerUp(note) if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::PowerUp { note }))
                }
                Happening::JamCleared(fate) if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::JamCleared { fate }))
                }
                Happening::Jam if wants.acceptor => Input::Acceptor(Ok(AcceptorEvent::Jammed {
                    location: kiosk_hal::JamLocation::Stacker,
                    value: Some(last_value),
                })),
                Happening::Removed if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::StackerRemoved))
                }
                Happening::Replaced if wants.acceptor => {
                    Input::Acceptor(Ok(AcceptorEvent::StackerReplaced))
                }
                Happening::Code if wants.code => Input::CodeRead(Err(ErrorKind::Timeout)),
                Happening::Wait(ms) => {
                    let until = w.now.plus_ms(ms);
                    w.wait_until(&mut m, until);
                    continue;
                }
                Happening::Link(up) => {
                    w.link = if up { Ok(()) } else { Err(ErrorKind::Offline) };
                    continue;
                }
                Happening::Command(n) if wants.commands => Input::Command(match n {
                    0 => StaffCommand::Restart,
                    1 => StaffCommand::SelfTest,
                    2 => StaffCommand::BeginClearing { operators: ["a".into(), "b".into()] },
                    3 => StaffCommand::EndClearing {
                        counted: yuan(0),
                        counted_notes: None,
                        counterfeit_found: 0,
                        settle: Vec::new(),
                    },
                    4 => StaffCommand::ReprintReceipts,
                    _ => StaffCommand::Enable,
                }),
                _ => continue,
            };
            w.give(&mut m, input);
            prop_assert!(m.poll_output().is_none(), "outputs left after the world ran them");
            if m.session_id().is_some() {
                prop_assert!(!m.wants().commands);
            }
        }
        // Given time and a working link, nothing stays pending.
        w.link = Ok(());
        if m.session_id().is_some() {
            w.give(&mut m, Input::Customer(CustomerAction::Cancel));
        }
        let until = w.now.plus_ms(600_000);
        w.wait_until(&mut m, until);
        if m.session_id().is_none() {
            prop_assert_eq!(m.pending_retries(), 0, "payments still pending after 10 minutes of a working link");
            prop_assert!(w.pending.is_empty(), "journal still holds pending: {:?}", w.pending.keys().collect::<Vec<_>>());
        }
    }
}

/// The identity the test world's acceptor reports.
fn acceptor_identity() -> kiosk_hal::DeviceIdentity {
    kiosk_hal::DeviceIdentity {
        model: Some("i(CHN)100-SS".into()),
        firmware: Some("ID003-05V200-41".into()),
        country: Some("CHN".into()),
        ..kiosk_hal::DeviceIdentity::of(kiosk_hal::DeviceProtocol::Id003)
    }
}

/// Regression: the start-of-day self-test checked each device but never
/// said which unit it checked: its report and journal record carried no
/// model, firmware or serial number, so a swapped validator or a firmware
/// update left no trace in the daily records.
#[test]
fn the_self_test_report_and_its_journal_record_name_each_unit_checked() {
    let (mut m, mut w) = started(KioskConfig::default());
    w.log.clear();
    w.give(&mut m, Input::Command(StaffCommand::SelfTest));
    let asked = w
        .position(|o| matches!(o, Output::Device(DeviceCall::ReadIdentities)))
        .expect("the self-test reads the identities");
    let report = w
        .log
        .iter()
        .find_map(|o| match o {
            Output::Event(KioskEvent::SelfTest { report }) => Some(report.clone()),
            _ => None,
        })
        .expect("a report");
    let acceptor = report
        .checks
        .iter()
        .find(|c| c.device == DeviceKind::Acceptor)
        .expect("an acceptor check");
    assert_eq!(acceptor.identity, Some(acceptor_identity()));
    let printer = report
        .checks
        .iter()
        .find(|c| c.device == DeviceKind::Printer)
        .expect("a printer check");
    assert_eq!(printer.identity, None, "a driver that cannot say: none");
    let recorded = w
        .position(|o| {
            matches!(o, Output::Journal(JournalOp::RecordCommand { command, result, .. })
                if command == "self-test"
                    && result.contains("acceptor: id003 model=i(CHN)100-SS firmware=ID003-05V200-41"))
        })
        .expect("the journal record names the acceptor unit");
    assert!(asked < recorded);
}

/// After a restart the newest note is in doubt because the acceptor had
/// reported it in the cash box outside any session, and that report comes
/// again (the last start took it but did not live to acknowledge it, as an
/// ID-003 host acknowledges by its next poll). The repeated report must not
/// settle that note, crediting the last customer for a note that was never
/// theirs and may be the same one twice: the note was never in the path.
/// A note that went in doubt in the path is settled by it, as before.
#[test]
fn a_repeated_report_after_a_restart_never_settles_an_unaccounted_note() {
    for unaccounted in [true, false] {
        let mut w = World::new();
        let note = NoteId(900);
        let session = SessionId("K01-000090".into());
        w.notes.insert(note, (session.clone(), Some(yuan(10))));
        w.recovery = RecoveryRows {
            max_session_seq: 90,
            in_doubt: vec![crate::journal::InDoubtNote {
                id: note,
                session,
                value: Some(yuan(10)),
                since: w.now,
            }],
            last_note: Some(note),
            last_note_unaccounted: unaccounted,
            ..RecoveryRows::default()
        };
        let mut m = KioskMachine::new(KioskConfig::default(), true);
        w.give(&mut m, Input::Start);
        w.give(
            &mut m,
            Input::Acceptor(Ok(AcceptorEvent::Stacked { value: yuan(10) })),
        );
        let settled = w
            .log
            .iter()
            .any(|o| matches!(o, Output::Journal(JournalOp::Settle { note: n, .. }) if *n == note));
        let journaled_again = w.log.iter().any(|o| {
            matches!(
                o,
                Output::Journal(JournalOp::NoteInDoubt {
                    cause: InDoubtCause::Unaccounted,
                    ..
                })
            )
        });
        assert_eq!(settled, !unaccounted, "unaccounted: {unaccounted}");
        assert_eq!(journaled_again, unaccounted, "unaccounted: {unaccounted}");
        assert!(
            w.pending.is_empty() == unaccounted,
            "a credit only for the path note: {:?}",
            w.pending
        );
    }
}

/// A restart that left a note in the acceptor's path (the newest note, in
/// doubt): the journal as [`started_with_a_note_in_the_path`] reads it.
fn restart_with_a_note_in_the_path(w: &mut World) -> NoteId {
    let note = NoteId(700);
    let session = SessionId("K01-000070".into());
    w.notes.insert(note, (session.clone(), Some(yuan(20))));
    w.recovery = RecoveryRows {
        max_session_seq: 70,
        in_doubt: vec![crate::journal::InDoubtNote {
            id: note,
            session,
            value: Some(yuan(20)),
            since: w.now,
        }],
        last_note: Some(note),
        ..RecoveryRows::default()
    };
    note
}

fn started_with_a_note_in_the_path(w: &mut World) -> (KioskMachine, NoteId) {
    let note = restart_with_a_note_in_the_path(w);
    let mut m = KioskMachine::new(KioskConfig::default(), true);
    w.give(&mut m, Input::Start);
    (m, note)
}

fn settled_as(w: &World, note: NoteId) -> Option<NoteFate> {
    w.log.iter().find_map(|o| match o {
        Output::Journal(JournalOp::Settle { note: n, fate, .. }) if *n == note => Some(*fate),
        _ => None,
    })
}

/// After a restart with a note possibly in the acceptor's path, cash waits
/// for the acceptor's word on that note: its repeated `Escrowed` report,
/// delivered late by a driver, would otherwise reach the next cash
/// customer's session as that customer's own note. Here the report comes
/// while the kiosk is idle: the note is returned, its `Returned` report
/// settles it, and only then is cash offered. (QR payments go on.)
#[test]
fn after_a_restart_cash_waits_for_the_acceptor_to_report_the_note_in_its_path() {
    let mut w = World::new();
    let (mut m, note) = started_with_a_note_in_the_path(&mut w);
    assert!(!m.offers(PaymentMethod::Cash), "no cash before the report");
    assert!(m.offers(PaymentMethod::Code), "QR goes on");
    w.give(
        &mut m,
        Input::Acceptor(Ok(AcceptorEvent::Escrowed { value: yuan(20) })),
    );
    assert!(
        !m.offers(PaymentMethod::Cash),
        "the note is on its way back"
    );
    w.give(
        &mut m,
        Input::Acceptor(Ok(AcceptorEvent::Returned { value: yuan(20) })),
    );
    assert_eq!(settled_as(&w, note), Some(NoteFate::Returned));
    assert!(m.offers(PaymentMethod::Cash), "reported: cash again");
    let welcome_with_cash = w.log.iter().rposition(|o| {
        matches!(o, Output::Event(KioskEvent::Screen { screen: Screen::Welcome { methods } })
            if methods.contains(&PaymentMethod::Cash))
    });
    let settle = w
        .position(|o| matches!(o, Output::Journal(JournalOp::Settle { .. })))
        .unwrap();
    assert!(
        welcome_with_cash.is_some_and(|at| at > settle),
        "cash is shown again after the settlement"
    );
}

/// An idle acceptor (its path empty, read twice) ends the wait too: the
/// note stays in doubt for staff, unsettled, and cash is offered within
/// two health checks.
#[test]
fn after_a_restart_an_idle_acceptor_ends_the_wait_within_two_health_checks() {
    let mut w = World::new();
    let (mut m, note) = started_with_a_note_in_the_path(&mut w);
    let t0 = w.now;
    assert!(!m.offers(PaymentMethod::Cash));
    let interval = KioskConfig::default().health_check_interval_ms;
    w.wait_until(&mut m, t0.plus_ms(2 * interval));
    assert!(m.offers(PaymentMethod::Cash));
    assert_eq!(settled_as(&w, note), None, "still in doubt, for staff");
}

/// A silent acceptor does not lock cash: after `path-report-wait-ms` the
/// note leaves the path slot (in doubt for staff), an alarm says so, and
/// cash is offered again; a report coming after that cannot settle it.
#[test]
fn after_a_restart_a_silent_acceptor_holds_cash_back_only_for_the_bound() {
    let mut w = World::new();
    // Holding a note it never reports on (escrow, and the return never
    // comes back as a report).
    w.acceptor_status = AcceptorStatus::Escrow;
    let (mut m, note) = started_with_a_note_in_the_path(&mut w);
    let t0 = w.now;
    let bound = KioskConfig::default().path_report_wait_ms;
    w.wait_until(&mut m, t0.plus_ms(bound - 1));
    assert!(!m.offers(PaymentMethod::Cash), "still waiting");
    w.wait_until(&mut m, t0.plus_ms(bound + 1));
    assert!(m.offers(PaymentMethod::Cash), "in doubt is never a lock");
    assert!(w.events().any(
        |e| matches!(e, KioskEvent::SecurityAlarm { reason } if reason.contains("stays in doubt"))
    ));
    w.give(
        &mut m,
        Input::Acceptor(Ok(AcceptorEvent::Returned { value: yuan(20) })),
    );
    assert_eq!(settled_as(&w, note), None, "the slot was let go");
}
