//! A simulated kiosk's executor: the real [`KioskMachine`] with an
//! in-memory journal, a virtual acceptor, printer, cash box, reader and
//! link, all answered in the hall's virtual time from the kiosk's actual
//! device health.
//!
//! It keeps the machine's executor contract: outputs are performed in
//! order, an output that answers is answered before the next is polled,
//! and new inputs go in only when the machine has nothing left to do
//! (inputs that come while a call is in progress wait in an inbox).
//! Journal ops and device reads answer at once (the serial line and the
//! disk are fast next to people); the backend and the printer take the
//! [`Timings`](super::Timings) durations: the executor then waits for the
//! engine's `Reply` event. The acceptor's own reports (a note escrowed,
//! stacked, given back) come as `Report` events after the note's travel
//! time; a customer's actions come from the engine.
//!
//! The fault model decides only *that* a device is broken (the `actual`
//! bits); the machine decides what it notices, which tickets it opens,
//! what it offers and how the customer's session ends.

use std::collections::VecDeque;

use kiosk_core::events::DeviceKind;
use kiosk_core::journal::SessionOutcome;
use kiosk_core::machine::kiosk::{
    DeviceCall, DeviceReply, Input, JournalOp, LinkAnswer, LinkCall, LinkReply, Output, Purpose,
};
use kiosk_core::machine::{KioskConfig, KioskMachine};
use kiosk_core::{CustomerAction, KioskEvent, Millis, Screen};
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, AccountAnswer, AccountNumber, CashBoxStatus, Currency,
    DeviceIdentity, DeviceProtocol, ErrorKind, FillLevel, JamLocation, Money, NoteAtPowerUp,
    NoteFate, PaymentCode, PaymentMethod, PaymentScheme, PostingAnswer, PrintOutcome,
    PrinterStatus, RejectReason,
};

use super::customer::{CustomerContext, Visit};
use super::faults::FaultKind;
use super::journal::MemJournal;
use crate::rng::SimRng;

/// How long the backend takes to answer an idle heartbeat.
const HEARTBEAT_MS: u64 = 100;

/// What the engine needs to know from a drain.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    /// The screen changed (for the customer at it).
    Screen(Screen),
    /// The session ended, as journaled.
    SessionEnded(SessionOutcome),
    /// The machine opened (or reopened) ticket `id` of `kind` on `device`.
    TicketOpened {
        id: u64,
        device: DeviceKind,
        kind: kiosk_core::tickets::TicketKind,
    },
    /// The machine resolved ticket `id`.
    TicketResolved { id: u64 },
    /// What the kiosk offers may have changed.
    Availability,
}

/// A call in progress, answered by the engine's `Reply` event.
#[derive(Debug, Clone)]
enum Waiting {
    Print(Purpose),
    Lookup(Purpose),
    Post {
        key: kiosk_hal::IdempotencyKey,
        retry: bool,
        amount: Money,
    },
    Heartbeat,
}

/// The acceptor's next report of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Stack,
    Return,
}

/// The virtual bill acceptor and cash box: where every note physically is.
#[derive(Debug, Default)]
pub(crate) struct Acceptor {
    enabled: bool,
    /// The note held in escrow.
    escrow: Option<Money>,
    /// A note stuck in the path by a jam.
    in_path: Option<Money>,
    /// Notes in the cash box, minor units, since the run began.
    pub(crate) boxed_minor: i64,
    /// Notes stacked into the box.
    pub(crate) stacked: u64,
    report: Option<Report>,
}

impl Acceptor {
    /// Cash in the box and the acceptor's path, minor units.
    pub(crate) fn physical_minor(&self) -> i64 {
        self.boxed_minor + self.escrow.map_or(0, |m| m.minor) + self.in_path.map_or(0, |m| m.minor)
    }
}

/// The world a drain answers from.
pub(crate) struct Io<'a> {
    /// Fault kinds active on the devices (bit per [`FaultKind`]).
    pub(crate) actual: u16,
    /// Draws device and backend times outside a session (the kiosk's own).
    pub(crate) rng: &'a mut SimRng,
    pub(crate) ctx: &'a CustomerContext,
    /// The customer in a session, for the backend's answers about them.
    pub(crate) visit: Option<&'a mut Visit>,
}

impl Io<'_> {
    /// A duration from `dist`, drawn from the customer's stream in a
    /// session (the same customer is served the same way in every run of a
    /// comparison) and from the kiosk's own otherwise.
    fn draw(&mut self, dist: &super::Dist) -> u64 {
        match self.visit.as_deref_mut() {
            Some(v) => dist.sample_ms(&mut v.rng),
            None => dist.sample_ms(self.rng),
        }
    }

    fn has(&self, kind: FaultKind) -> bool {
        self.actual & (1 << kind.index()) != 0
    }
}

/// See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Executor {
    /// `None` while the kiosk software is down (crashed).
    machine: Option<KioskMachine>,
    config: KioskConfig,
    pub(crate) journal: MemJournal,
    pub(crate) acceptor: Acceptor,
    waiting: Option<Waiting>,
    /// How long the call in progress takes (the link's latency).
    waited_ms: u64,
    inbox: VecDeque<Input>,
    currency: Currency,
    /// After a drain: schedule the `Reply` event this many ms from now.
    pub(crate) reply_in: Option<u64>,
    /// After a drain: schedule the `Report` event this many ms from now.
    pub(crate) report_in: Option<u64>,
    /// A drain since the engine last cleared it performed an event or a
    /// journal write.
    pub(crate) noisy: bool,
    /// Methods offered (cash, code), as of the last drain that could change them.
    pub(crate) offers: (bool, bool),
    /// Session alerts raised.
    pub(crate) alerts: u64,
}

impl Executor {
    /// A kiosk whose machine starts (recovers an empty journal) at `now`.
    pub(crate) fn new(config: KioskConfig, currency: Currency) -> Executor {
        Executor {
            machine: None,
            config,
            journal: MemJournal::default(),
            acceptor: Acceptor::default(),
            waiting: None,
            waited_ms: 0,
            inbox: VecDeque::new(),
            currency,
            reply_in: None,
            report_in: None,
            noisy: false,
            offers: (false, false),
            alerts: 0,
        }
    }

    /// The machine, while the software runs.
    pub(crate) fn machine(&self) -> Option<&KioskMachine> {
        self.machine.as_ref()
    }

    /// Whether the software runs.
    pub(crate) fn alive(&self) -> bool {
        self.machine.is_some()
    }

    /// Whether a call is in progress.
    pub(crate) fn busy(&self) -> bool {
        self.waiting.is_some()
    }

    /// The software starts: a new machine recovers what the journal holds,
    /// then the acceptor reports its power-up (a note it held in escrow
    /// goes back out of its mouth).
    pub(crate) fn boot(&mut self, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let mut m = KioskMachine::new(self.config.clone(), true);
        m.handle(Input::Start, Millis(now));
        self.machine = Some(m);
        self.waiting = None;
        self.inbox.clear();
        self.acceptor.enabled = false;
        self.acceptor.report = None;
        let note = match self.acceptor.escrow.take() {
            Some(_) => NoteAtPowerUp::InAcceptor,
            None => NoteAtPowerUp::None,
        };
        self.inbox
            .push_back(Input::Acceptor(Ok(AcceptorEvent::PowerUp { note })));
        self.drain(now, io, notices);
    }

    /// The software dies: whatever it was doing is lost; the journal stays.
    pub(crate) fn crash(&mut self) {
        self.machine = None;
        self.waiting = None;
        self.inbox.clear();
        self.acceptor.enabled = false;
        self.acceptor.report = None;
        // What it offers stays as the hall last heard it: a dead kiosk
        // tells nobody (operations notice it; see `Engine::noticed`).
    }

    /// Gives the machine `input` now, or once it has finished what it is doing.
    pub(crate) fn input(&mut self, input: Input, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let Some(m) = self.machine.as_mut() else {
            return;
        };
        if self.waiting.is_some() {
            self.inbox.push_back(input);
            return;
        }
        // Not waiting: the last drain left no output and an empty inbox,
        // so the input goes in at once (what the inbox would do next).
        debug_assert!(self.inbox.is_empty());
        m.handle(input, Millis(now));
        self.drain(now, io, notices);
    }

    /// The machine's timer: wakes it if `now` is its deadline.
    pub(crate) fn timeout(&mut self, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let Some(m) = self.machine.as_mut() else {
            return;
        };
        if self.waiting.is_some() || m.poll_timeout().is_none_or(|d| d.0 > now) {
            return;
        }
        m.handle_timeout(Millis(now));
        self.drain(now, io, notices);
    }

    /// The customer feeds a note: the acceptor's answer to it.
    pub(crate) fn insert(
        &mut self,
        value: Money,
        reject: Option<RejectReason>,
        io: &Io,
    ) -> Option<Input> {
        if !self.acceptor.enabled || self.acceptor.escrow.is_some() {
            return None;
        }
        Some(Input::Acceptor(if io.has(FaultKind::AcceptorOffline) {
            Err(ErrorKind::Offline)
        } else if io.has(FaultKind::BillJam) {
            Err(ErrorKind::Jam)
        } else if let Some(reason) = reject {
            Ok(AcceptorEvent::Rejected { reason })
        } else {
            self.acceptor.escrow = Some(value);
            Ok(AcceptorEvent::Escrowed { value })
        }))
    }

    /// The customer presents a code: the reader's answer.
    pub(crate) fn code(&self, unreadable: bool, io: &Io) -> Option<Input> {
        if !self.machine.as_ref()?.wants().code {
            return None;
        }
        Some(Input::CodeRead(if io.has(FaultKind::ReaderFailure) {
            Err(ErrorKind::Offline)
        } else if unreadable {
            Err(ErrorKind::Protocol)
        } else {
            Ok(PaymentCode::new(
                PaymentScheme::WeChatPay,
                "134567890123456789",
            ))
        }))
    }

    /// A customer action at the screen.
    pub(crate) fn customer(action: CustomerAction) -> Input {
        Input::Customer(action)
    }

    /// The account a customer types.
    pub(crate) fn account() -> AccountNumber {
        AccountNumber("13800000000".into())
    }

    /// What a fault of `kind` starting now does to the devices at once.
    /// The acceptor's driver polls it all the time, so it reports a jam,
    /// its own failure or a full stacker as it happens, in a session or
    /// not (a note in escrow is caught in the jam); the reader fails the
    /// code it is waiting for.
    pub(crate) fn interrupt(&mut self, kind: FaultKind) -> Option<Input> {
        let m = self.machine.as_ref()?;
        match kind {
            FaultKind::BillJam => {
                self.acceptor.report = None;
                let value = self.acceptor.escrow.take();
                self.acceptor.in_path = value;
                Some(Input::Acceptor(Ok(AcceptorEvent::Jammed {
                    location: JamLocation::Acceptor,
                    value,
                })))
            }
            FaultKind::AcceptorOffline => Some(Input::Acceptor(Err(ErrorKind::Offline))),
            FaultKind::CashBoxFull => Some(Input::Acceptor(Ok(AcceptorEvent::StackerFull))),
            FaultKind::ReaderFailure if m.wants().code => {
                Some(Input::CodeRead(Err(ErrorKind::Offline)))
            }
            _ => None,
        }
    }

    /// A repaired acceptor reports it: a cleared jam (the note stuck in
    /// it pushed into the box), or a power-up.
    pub(crate) fn acceptor_repaired(&mut self, kind: FaultKind) -> Option<Input> {
        let event = match kind {
            FaultKind::BillJam => {
                let fate = match self.acceptor.in_path.take() {
                    Some(v) => {
                        self.acceptor.boxed_minor += v.minor;
                        self.acceptor.stacked += 1;
                        NoteFate::InCashBox
                    }
                    None => NoteFate::Returned,
                };
                AcceptorEvent::JamCleared { fate }
            }
            FaultKind::AcceptorOffline => {
                self.acceptor.enabled = false;
                self.acceptor.report = None;
                let note = match self.acceptor.escrow.take() {
                    Some(_) => NoteAtPowerUp::InAcceptor,
                    None => NoteAtPowerUp::None,
                };
                AcceptorEvent::PowerUp { note }
            }
            _ => return None,
        };
        Some(Input::Acceptor(Ok(event)))
    }

    /// The awaited call's answer has come.
    pub(crate) fn reply(&mut self, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let Some(waiting) = self.waiting.take() else {
            return;
        };
        let link_down = io.has(FaultKind::LinkDown);
        let input = match waiting {
            Waiting::Print(purpose) => Input::Device(DeviceReply::Printed(
                purpose,
                printer_fault(io).map_or(Ok(PrintOutcome::Printed), Err),
            )),
            Waiting::Lookup(purpose) => {
                let answer = if link_down {
                    Err(ErrorKind::Offline)
                } else {
                    match (purpose, io.visit.as_deref_mut()) {
                        (Purpose::Session, Some(v)) => Ok(v.account_answer(self.currency)),
                        _ => Ok(AccountAnswer::Refused {
                            reason: kiosk_hal::AccountRefusal::Unknown,
                        }),
                    }
                };
                link(self.waited_ms, LinkAnswer::Lookup(purpose, answer))
            }
            Waiting::Post { key, retry, amount } => {
                let answer = if link_down {
                    Err(ErrorKind::Offline)
                } else {
                    Ok(match (retry, io.visit.as_deref()) {
                        (false, Some(v)) => v.posting_answer(amount),
                        _ => PostingAnswer::Credited {
                            backend_ref: "BOSS-1".into(),
                            new_balance: Money::new(0, amount.currency),
                        },
                    })
                };
                link(self.waited_ms, LinkAnswer::Post { key, retry, answer })
            }
            Waiting::Heartbeat => link(
                HEARTBEAT_MS,
                LinkAnswer::Heartbeat(if link_down {
                    Err(ErrorKind::Offline)
                } else {
                    Ok(())
                }),
            ),
        };
        if let Some(m) = self.machine.as_mut() {
            m.handle(input, Millis(now));
        }
        self.drain(now, io, notices);
    }

    /// The acceptor's own report is due.
    pub(crate) fn report(&mut self, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let Some(report) = self.acceptor.report.take() else {
            return;
        };
        let Some(value) = self.acceptor.escrow else {
            return;
        };
        let event = match report {
            Report::Stack if io.has(FaultKind::AcceptorOffline) => Err(ErrorKind::Offline),
            Report::Stack if io.has(FaultKind::CashBoxFull) => Ok(AcceptorEvent::StackerFull),
            Report::Stack => {
                self.acceptor.escrow = None;
                self.acceptor.boxed_minor += value.minor;
                self.acceptor.stacked += 1;
                Ok(AcceptorEvent::Stacked { value })
            }
            Report::Return => {
                self.acceptor.escrow = None;
                Ok(AcceptorEvent::Returned { value })
            }
        };
        self.input(Input::Acceptor(event), now, io, notices);
    }

    /// Performs outputs until the machine waits for a call's answer or has
    /// nothing left to do; then feeds it what waited in the inbox.
    fn drain(&mut self, now: u64, io: &mut Io, notices: &mut Vec<Notice>) {
        let t = Millis(now);
        loop {
            if self.waiting.is_some() {
                return;
            }
            let Some(m) = self.machine.as_mut() else {
                return;
            };
            let Some(output) = m.poll_output() else {
                match self.inbox.pop_front() {
                    Some(input) => {
                        m.handle(input, t);
                        continue;
                    }
                    None => return,
                }
            };
            // An answer goes straight into the machine (an answer is
            // large: moving it around costs more than building it).
            match output {
                Output::Journal(op) => {
                    self.noisy |= !matches!(op, JournalOp::Checkpoint);
                    if let Some(reply) = self.journal.apply(op, t) {
                        self.answer(Input::Journal(reply), t);
                    }
                }
                Output::Device(call) => {
                    if let Some(reply) = self.device(call, io) {
                        self.answer(reply, t);
                    }
                }
                Output::Link(call) => self.link(call, io),
                Output::Event(event) => {
                    self.noisy = true;
                    self.notice(event, notices);
                }
                Output::SwitchToBackupLink => {}
                Output::ReadLinkSwitches => self.answer(Input::LinkSwitches(Default::default()), t),
                Output::ReadSupervisors => self.answer(Input::Supervisors(Vec::new()), t),
            }
        }
    }

    /// Answers the output just performed.
    fn answer(&mut self, input: Input, t: Millis) {
        if let Some(m) = self.machine.as_mut() {
            m.handle(input, t);
        }
    }

    fn notice(&mut self, event: KioskEvent, notices: &mut Vec<Notice>) {
        match event {
            KioskEvent::Screen { screen } => notices.push(Notice::Screen(screen)),
            KioskEvent::SessionEnded { outcome, .. } => notices.push(Notice::SessionEnded(outcome)),
            KioskEvent::TicketOpened {
                ticket,
                device,
                kind,
                ..
            } => {
                notices.push(Notice::TicketOpened {
                    id: ticket.0,
                    device,
                    kind,
                });
                self.availability(notices);
            }
            KioskEvent::TicketResolved { ticket, .. } => {
                notices.push(Notice::TicketResolved { id: ticket.0 });
                self.availability(notices);
            }
            KioskEvent::Alert { .. } => self.alerts += 1,
            KioskEvent::FaultDetected { .. }
            | KioskEvent::FaultCleared { .. }
            | KioskEvent::CommandDone { .. }
            | KioskEvent::Recovered { .. } => self.availability(notices),
            _ => {}
        }
    }

    fn availability(&mut self, notices: &mut Vec<Notice>) {
        let Some(m) = &self.machine else { return };
        let offers = (m.offers(PaymentMethod::Cash), m.offers(PaymentMethod::Code));
        if offers != self.offers {
            self.offers = offers;
            notices.push(Notice::Availability);
        }
    }

    /// A device call: answered at once, or (printing) after a while.
    fn device(&mut self, call: DeviceCall, io: &mut Io) -> Option<Input> {
        let offline = io.has(FaultKind::AcceptorOffline);
        let acc = |ok: bool| if ok { Ok(()) } else { Err(ErrorKind::Offline) };
        let reply = match call {
            DeviceCall::EnableAcceptor(_) => DeviceReply::Enabled(if offline {
                Err(ErrorKind::Offline)
            } else if io.has(FaultKind::BillJam) {
                Err(ErrorKind::Jam)
            } else {
                self.acceptor.enabled = true;
                Ok(())
            }),
            DeviceCall::InhibitAcceptor(p) => {
                self.acceptor.enabled = false;
                DeviceReply::Inhibited(p, acc(!offline))
            }
            DeviceCall::StackNote => {
                if !offline && self.acceptor.escrow.is_some() {
                    self.acceptor.report = Some(Report::Stack);
                    self.report_in = Some(io.draw(&io.ctx.timings.note_stack));
                }
                DeviceReply::Stacking(acc(!offline))
            }
            DeviceCall::ReturnNote(p) => {
                if !offline && self.acceptor.escrow.is_some() {
                    self.acceptor.report = Some(Report::Return);
                    self.report_in = Some(io.draw(&io.ctx.timings.note_return));
                }
                DeviceReply::Returning(p, acc(!offline))
            }
            DeviceCall::ResetAcceptor(p) => DeviceReply::Reset(p, acc(!offline)),
            DeviceCall::AcceptorStatus(p) => DeviceReply::AcceptorStatus(
                p,
                if offline {
                    Err(ErrorKind::Offline)
                } else if io.has(FaultKind::BillJam) {
                    Ok(AcceptorStatus::Jammed)
                } else if self.acceptor.escrow.is_some() {
                    Ok(AcceptorStatus::Escrow)
                } else if self.acceptor.enabled {
                    Ok(AcceptorStatus::Accepting)
                } else {
                    Ok(AcceptorStatus::Inhibited)
                },
            ),
            DeviceCall::CashBoxStatus(p) => DeviceReply::CashBoxStatus(
                p,
                Ok(CashBoxStatus {
                    present: true,
                    level: if io.has(FaultKind::CashBoxFull) {
                        FillLevel::Full
                    } else {
                        FillLevel::Normal
                    },
                    contents: None,
                }),
            ),
            DeviceCall::PrinterStatus(p) => DeviceReply::PrinterStatus(
                p,
                Ok(if io.has(FaultKind::PrinterPaperOut) {
                    PrinterStatus::PaperOut
                } else if io.has(FaultKind::PrinterJam) {
                    PrinterStatus::Jammed
                } else {
                    PrinterStatus::Ready
                }),
            ),
            DeviceCall::Print { purpose, .. } => {
                if let Some(kind) = printer_fault(io) {
                    // A broken printer says so at once.
                    return Some(Input::Device(DeviceReply::Printed(purpose, Err(kind))));
                }
                self.waiting = Some(Waiting::Print(purpose));
                self.reply_in = Some(io.draw(&io.ctx.timings.printing));
                return None;
            }
            DeviceCall::CheckReader(p) => {
                DeviceReply::ReaderChecked(p, acc(!io.has(FaultKind::ReaderFailure)))
            }
            // Simulated units have no model, firmware or serial number.
            DeviceCall::ReadIdentities => DeviceReply::Identities(
                [
                    DeviceKind::Acceptor,
                    DeviceKind::CashBox,
                    DeviceKind::Printer,
                    DeviceKind::Link,
                ]
                .into_iter()
                .map(|d| (d, Ok(DeviceIdentity::of(DeviceProtocol::Virtual))))
                .collect(),
            ),
        };
        Some(Input::Device(reply))
    }

    /// A backend call: answered after the backend's time.
    fn link(&mut self, call: LinkCall, io: &mut Io) {
        let t = &io.ctx.timings;
        let (waiting, delay) = match call {
            LinkCall::Lookup { purpose, .. } => {
                (Waiting::Lookup(purpose), io.draw(&t.account_check))
            }
            LinkCall::Post { posting, retry, .. } => (
                Waiting::Post {
                    key: posting.key,
                    retry,
                    amount: posting.amount,
                },
                io.draw(&t.posting),
            ),
            LinkCall::Heartbeat { .. } => (Waiting::Heartbeat, HEARTBEAT_MS),
        };
        self.waiting = Some(waiting);
        self.waited_ms = delay;
        self.reply_in = Some(delay);
    }
}

fn printer_fault(io: &Io) -> Option<ErrorKind> {
    if io.has(FaultKind::PrinterPaperOut) {
        Some(ErrorKind::PaperOut)
    } else if io.has(FaultKind::PrinterJam) {
        Some(ErrorKind::Jam)
    } else {
        None
    }
}

fn link(latency_ms: u64, answer: LinkAnswer) -> Input {
    Input::Link(LinkReply { latency_ms, answer })
}
