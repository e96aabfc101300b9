//! The CCNET protocol adapter in front of a [`VirtualAcceptor`]: host
//! commands in, the real poll-state sequence out.
//!
//! The virtual acceptor decides what happens to notes; this adapter shows
//! its events the way a CCNET validator would, one state per poll, each
//! held until the host ACKs the answer (an unacknowledged answer is
//! repeated, as the protocol requires):
//!
//! ```text
//! Escrowed ─► escrow position+type ─(STACK)─► stacking ─ Stacked ─► bill stacked+type (until ACK) ─► idling
//!                                 └(RETURN)─► returning ─ Returned ─► bill returned+type (until ACK) ─► idling
//! Rejected ─► rejecting+code (reject-polls)     Fraud ─► cheated (cheat-polls)
//! Jammed ─► validator / drop cassette jammed ─ JamCleared ─► bill stacked / bill returned / initialize
//! PowerUp ─► power up (0x10/11/12) until RESET  Offline ─► silence until the next PowerUp
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_hal::wire::ccnet::{
    BillMask, BillTable, Decoder, FrameRepr, HostCommand, Identification, PollState, RejectCode,
    Reply, ADDR_BILL_VALIDATOR,
};
use kiosk_hal::wire::WireError;
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, Currency, JamLocation, Money, NoteAtPowerUp, NoteFate,
    RejectReason,
};
use tokio::runtime::Runtime;

use crate::devices::VirtualAcceptor;
use crate::emulators::runner::WireDevice;

/// What the emulated validator shows when polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Idle,
    Initializing(u32),
    Escrow(u8),
    Stacking,
    Stacked(u8),
    Returning,
    Returned(u8),
    Rejecting(RejectCode, u32),
    Cheated(u32),
    Jam(JamLocation),
    PowerUp(NoteAtPowerUp),
    CassetteFull,
    CassetteOut,
}

/// Counters and measurements of the CCNET emulator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CcnetEmulatorStats {
    /// POLLs answered.
    pub polls: u64,
    /// Answers repeated because the host did not ACK them.
    pub repeated_answers: u64,
    /// Frames from the host with a bad CRC or length (answered NAK).
    pub bad_frames: u64,
    /// NAKs received (the last answer sent again).
    pub naks: u64,
    /// Commands answered ILLEGAL COMMAND.
    pub illegal_commands: u64,
    /// ACKs received.
    pub acks: u64,
    /// STACK commands accepted.
    pub stacks: u64,
    /// For each STACK: time from the first escrow answer written to the STACK read.
    pub escrow_to_stack: Vec<Duration>,
}

pub(crate) struct CcnetDevice {
    rt: Option<Runtime>,
    acceptor: VirtualAcceptor,
    table: BillTable,
    identification: Identification,
    decoder: Decoder,
    shown: Shown,
    pending: VecDeque<AcceptorEvent>,
    offline: bool,
    inhibited: bool,
    enabled: BillMask,
    escrow: BillMask,
    /// The type of the note in the path (for jams that clear).
    note_type: u8,
    pub(crate) accepting: bool,
    /// The last POLL answer is waiting for the host's ACK.
    awaiting_ack: bool,
    /// The last POLL answer (repeated until ACKed).
    last_poll_answer: Option<Vec<u8>>,
    /// The last answer of any kind (sent again on NAK).
    last_answer: Option<Vec<u8>>,
    currency: Currency,
    pub(crate) forced: Option<PollState>,
    reject_polls: u32,
    cheat_polls: u32,
    init_polls: u32,
    escrow_shown_at: Option<Instant>,
    pub(crate) stats: CcnetEmulatorStats,
}

impl CcnetDevice {
    pub(crate) fn new(
        rt: Runtime,
        acceptor: VirtualAcceptor,
        table: BillTable,
        identification: Identification,
        currency: Currency,
        polls: (u32, u32, u32),
    ) -> CcnetDevice {
        let (reject_polls, cheat_polls, init_polls) = polls;
        CcnetDevice {
            rt: Some(rt),
            acceptor,
            table,
            identification,
            decoder: Decoder::new(),
            shown: Shown::Idle,
            pending: VecDeque::new(),
            offline: false,
            inhibited: true,
            enabled: BillMask::NONE,
            escrow: BillMask::NONE,
            note_type: 0,
            accepting: false,
            awaiting_ack: false,
            last_poll_answer: None,
            last_answer: None,
            currency,
            forced: None,
            reject_polls: reject_polls.max(1),
            cheat_polls: cheat_polls.max(1),
            init_polls: init_polls.max(1),
            escrow_shown_at: None,
            stats: CcnetEmulatorStats::default(),
        }
    }

    fn drain_events(&mut self) {
        loop {
            let Some(rt) = self.rt.as_ref() else { return };
            let acceptor = &mut self.acceptor;
            let next = rt.block_on(async {
                tokio::time::timeout(Duration::ZERO, acceptor.next_event()).await
            });
            match next {
                Ok(Ok(event)) => {
                    if matches!(event, AcceptorEvent::PowerUp { .. }) {
                        self.offline = false;
                    }
                    self.pending.push_back(event);
                }
                Ok(Err(_offline)) => {
                    self.pending.clear();
                    self.offline = true;
                    self.accepting = false;
                    self.awaiting_ack = false;
                    self.last_poll_answer = None;
                    self.last_answer = None;
                    self.escrow_shown_at = None;
                    self.shown = Shown::Idle;
                }
                Err(_elapsed) => return,
            }
        }
    }

    fn yields_to(&self, event: &AcceptorEvent) -> bool {
        if matches!(event, AcceptorEvent::PowerUp { .. }) {
            return true;
        }
        match self.shown {
            Shown::Idle | Shown::CassetteFull | Shown::Initializing(_) => true,
            Shown::Stacking | Shown::Returning => true,
            Shown::Escrow(_) => matches!(
                event,
                AcceptorEvent::Jammed { .. } | AcceptorEvent::Returned { .. }
            ),
            Shown::Jam(_) => matches!(event, AcceptorEvent::JamCleared { .. }),
            Shown::CassetteOut => matches!(event, AcceptorEvent::StackerReplaced),
            _ => false,
        }
    }

    fn type_of(&self, value: Money) -> u8 {
        (0..self.table.entries.len() as u8)
            .find(|&t| self.table.value(t, value.currency) == Some(value))
            .unwrap_or(0)
    }

    fn apply(&mut self, event: AcceptorEvent) {
        self.shown = match event {
            AcceptorEvent::Escrowed { value } => {
                self.accepting = false;
                self.note_type = self.type_of(value);
                Shown::Escrow(self.note_type)
            }
            AcceptorEvent::Stacked { value } => Shown::Stacked(self.type_of(value)),
            AcceptorEvent::Returned { value } => Shown::Returned(self.type_of(value)),
            AcceptorEvent::Rejected { reason } => {
                self.accepting = false;
                Shown::Rejecting(reject_code(reason), self.reject_polls)
            }
            AcceptorEvent::Jammed { location, .. } => Shown::Jam(location),
            AcceptorEvent::JamCleared { fate } => match fate {
                NoteFate::InCashBox => Shown::Stacked(self.note_type),
                NoteFate::Returned => Shown::Returned(self.note_type),
                NoteFate::Unknown => Shown::Initializing(self.init_polls),
            },
            AcceptorEvent::Fraud { .. } => {
                self.accepting = false;
                Shown::Cheated(self.cheat_polls)
            }
            AcceptorEvent::PowerUp { note } => {
                self.inhibited = true;
                Shown::PowerUp(note)
            }
            AcceptorEvent::StackerFull => Shown::CassetteFull,
            AcceptorEvent::StackerRemoved => Shown::CassetteOut,
            AcceptorEvent::StackerReplaced => Shown::Idle,
            _ => self.shown,
        };
    }

    /// The answer to POLL (the state shown; advanced only by the host's ACK).
    fn poll(&mut self) -> PollState {
        while let Some(event) = self.pending.front() {
            if !self.yields_to(event) {
                break;
            }
            if let Some(event) = self.pending.pop_front() {
                self.apply(event);
            }
        }
        let state = match self.shown {
            Shown::Idle if self.inhibited => PollState::UnitDisabled,
            Shown::Idle if self.accepting => PollState::Accepting,
            Shown::Idle => PollState::Idling,
            Shown::Initializing(_) => PollState::Initialize,
            Shown::Escrow(t) => PollState::EscrowPosition(t),
            Shown::Stacking => PollState::Stacking,
            Shown::Stacked(t) => PollState::BillStacked(t),
            Shown::Returning => PollState::Returning,
            Shown::Returned(t) => PollState::BillReturned(t),
            Shown::Rejecting(code, _) => PollState::Rejecting(code),
            Shown::Cheated(_) => PollState::Cheated,
            Shown::Jam(JamLocation::Acceptor) => PollState::ValidatorJammed,
            Shown::Jam(JamLocation::Stacker) => PollState::DropCassetteJammed,
            Shown::PowerUp(NoteAtPowerUp::None) => PollState::PowerUp,
            Shown::PowerUp(NoteAtPowerUp::InAcceptor) => PollState::PowerUpBillInValidator,
            Shown::PowerUp(NoteAtPowerUp::InStacker) => PollState::PowerUpBillInStacker,
            Shown::CassetteFull => PollState::DropCassetteFull,
            Shown::CassetteOut => PollState::DropCassetteOutOfPosition,
        };
        if matches!(self.shown, Shown::Escrow(_)) {
            self.escrow_shown_at.get_or_insert_with(Instant::now);
        }
        self.forced.unwrap_or(state)
    }

    /// The host ACKed the last POLL answer: counted and one-shot states move on.
    fn acked(&mut self) {
        self.shown = match self.shown {
            Shown::Initializing(n) if n > 1 => Shown::Initializing(n - 1),
            Shown::Cheated(n) if n > 1 => Shown::Cheated(n - 1),
            Shown::Rejecting(code, n) if n > 1 => Shown::Rejecting(code, n - 1),
            Shown::Initializing(_)
            | Shown::Cheated(_)
            | Shown::Rejecting(..)
            | Shown::Stacked(_)
            | Shown::Returned(_) => Shown::Idle,
            other => other,
        };
    }

    /// The answer to a command: a payload, or `None` for no answer.
    fn command(&mut self, cmd: HostCommand) -> Option<Vec<u8>> {
        self.drain_events();
        if self.offline {
            return None;
        }
        let ack = vec![Reply::Ack.code()];
        if !matches!(cmd, HostCommand::Poll | HostCommand::Ack | HostCommand::Nak)
            && self.awaiting_ack
        {
            // Another command after an answer: the host had it.
            self.awaiting_ack = false;
            self.acked();
        }
        Some(match cmd {
            HostCommand::Poll => {
                self.stats.polls += 1;
                if self.awaiting_ack {
                    if let Some(last) = self.last_poll_answer.clone() {
                        // The host never ACKed: the same answer again.
                        self.stats.repeated_answers += 1;
                        return Some(last);
                    }
                }
                self.awaiting_ack = true;
                let answer = self.poll().to_payload();
                self.last_poll_answer = Some(answer.clone());
                answer
            }
            HostCommand::Ack => {
                self.stats.acks += 1;
                if self.awaiting_ack {
                    self.awaiting_ack = false;
                    self.acked();
                }
                return None;
            }
            HostCommand::Nak => {
                self.stats.naks += 1;
                return self.last_answer.clone();
            }
            HostCommand::Reset => {
                let _ = self.rt.as_ref()?.block_on(self.acceptor.reset());
                self.pending
                    .retain(|e| !matches!(e, AcceptorEvent::PowerUp { .. }));
                self.shown = Shown::Initializing(self.init_polls);
                self.inhibited = true;
                self.enabled = BillMask::NONE;
                self.awaiting_ack = false;
                ack
            }
            HostCommand::Stack => match self.shown {
                Shown::Escrow(_) if self.rt.as_ref()?.block_on(self.acceptor.stack()).is_ok() => {
                    self.stats.stacks += 1;
                    if let Some(at) = self.escrow_shown_at.take() {
                        self.stats.escrow_to_stack.push(at.elapsed());
                    }
                    self.shown = Shown::Stacking;
                    ack
                }
                _ => self.illegal(),
            },
            HostCommand::Return => match self.shown {
                Shown::Escrow(_)
                    if self
                        .rt
                        .as_ref()?
                        .block_on(self.acceptor.return_note())
                        .is_ok() =>
                {
                    self.escrow_shown_at = None;
                    self.shown = Shown::Returning;
                    ack
                }
                _ => self.illegal(),
            },
            HostCommand::Hold | HostCommand::SetSecurity(_) => ack,
            HostCommand::EnableBillTypes { enabled, escrow } => {
                let values: Vec<Money> = (0..24u8)
                    .filter(|&t| enabled.contains(t))
                    .filter_map(|t| {
                        self.table
                            .entries
                            .get(usize::from(t))
                            .and_then(|e| e.money(self.currency()))
                    })
                    .collect();
                let done = if values.is_empty() {
                    self.rt.as_ref()?.block_on(self.acceptor.inhibit())
                } else {
                    self.rt.as_ref()?.block_on(self.acceptor.enable(&values))
                };
                if done.is_ok() {
                    self.inhibited = values.is_empty();
                    self.enabled = enabled;
                    self.escrow = escrow;
                }
                ack
            }
            HostCommand::GetStatus => {
                let mut out = self.enabled.to_bytes().to_vec();
                out.extend_from_slice(&self.escrow.to_bytes());
                out
            }
            HostCommand::Identification => self.identification.to_payload(),
            HostCommand::GetBillTable => self.table.to_payload(),
        })
    }

    fn currency(&self) -> Currency {
        self.currency
    }

    fn illegal(&mut self) -> Vec<u8> {
        self.stats.illegal_commands += 1;
        vec![Reply::IllegalCommand.code()]
    }
}

impl WireDevice for CcnetDevice {
    fn on_stop(&mut self) {
        drop(self.rt.take());
    }

    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.next_frame() {
            // NAKs (ours and the host's) are not answers to remember.
            let (payload, remember) = match frame {
                Err(_) => {
                    self.stats.bad_frames += 1;
                    let nak = (!self.offline).then(|| vec![Reply::Nak.code()]);
                    (nak, false)
                }
                Ok(frame) if frame.address != ADDR_BILL_VALIDATOR => (None, false),
                Ok(frame) => match HostCommand::from_frame(&frame) {
                    Ok(HostCommand::Nak) => (self.command(HostCommand::Nak), false),
                    Ok(cmd) => (self.command(cmd), true),
                    Err(WireError::UnknownCommand(_)) | Err(WireError::BadData { .. }) => {
                        ((!self.offline).then(|| self.illegal()), true)
                    }
                    Err(_) => (None, false),
                },
            };
            let Some(payload) = payload else { continue };
            if let Ok(bytes) = FrameRepr::new(ADDR_BILL_VALIDATOR, payload.clone()).to_bytes() {
                if remember {
                    self.last_answer = Some(payload);
                }
                out.push(bytes);
            }
        }
    }
}

/// A reject code for a reason.
fn reject_code(reason: RejectReason) -> RejectCode {
    match reason {
        RejectReason::Counterfeit => RejectCode::Verification,
        RejectReason::Inhibited => RejectCode::Inhibit,
        RejectReason::Insertion => RejectCode::Insertion,
        RejectReason::Transport => RejectCode::Conveying,
        _ => RejectCode::Operation,
    }
}
