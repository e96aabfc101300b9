//! The ID-003 protocol adapter in front of a [`VirtualAcceptor`]: host
//! commands in, the real status sequence out.
//!
//! The virtual acceptor decides what happens to notes (timings, fault
//! plans, the cash box); this adapter only shows its events the way an
//! ID-003 validator would, one status per poll:
//!
//! ```text
//! Escrowed ─► escrow+code ─(stack)─► stacking ─ Stacked ─► VEND VALID (until ACK) ─► stacked ─► idle
//!                        └(return)─► returning ─ Returned ─► returning ─► idle
//! Rejected ─► rejecting+code (reject-polls)     Fraud ─► cheated (cheat-polls)
//! Jammed ─► acceptor/stacker jam ─ JamCleared ─► VEND VALID (in box) / returning / initialize
//! PowerUp ─► power up (0x40/41/42) until reset  Offline ─► silence until the next PowerUp
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_hal::wire::id003::{
    CurrencyEntry, Decoder, HostCommand, RejectCode, Setting, StatusResponse, VersionInfo,
};
use kiosk_hal::wire::WireError;
use kiosk_hal::{
    AcceptorEvent, BillAcceptor, JamLocation, Money, NoteAtPowerUp, NoteFate, RejectReason,
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
    VendValid,
    StackedOnce,
    Returning { done: bool },
    Rejecting(RejectCode, u32),
    Cheated(u32),
    Jam(JamLocation),
    PowerUp(NoteAtPowerUp),
    StackerFull,
    StackerOpen,
}

/// Counters and measurements of the ID-003 emulator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Id003EmulatorStats {
    /// Status requests answered.
    pub status_requests: u64,
    /// Frames from the host with a bad CRC or length (not answered).
    pub bad_frames: u64,
    /// Commands answered "invalid command".
    pub invalid_commands: u64,
    /// ACKs received for VEND VALID.
    pub acks: u64,
    /// Stack commands accepted.
    pub stacks: u64,
    /// For each stack command: time from the first escrow status written
    /// to the stack command read.
    pub escrow_to_stack: Vec<Duration>,
}

pub(crate) struct Id003Device {
    /// Taken out and dropped on the emulator thread at the end (a runtime
    /// must not be dropped inside another runtime).
    rt: Option<Runtime>,
    acceptor: VirtualAcceptor,
    entries: Vec<CurrencyEntry>,
    denominations: Vec<Money>,
    decoder: Decoder,
    shown: Shown,
    pending: VecDeque<AcceptorEvent>,
    /// The virtual acceptor is off: nothing is answered.
    offline: bool,
    inhibited: bool,
    /// A note was inserted and has no verdict yet.
    pub(crate) accepting: bool,
    settings: [Option<Setting>; 6],
    pub(crate) forced: Option<StatusResponse>,
    reject_polls: u32,
    cheat_polls: u32,
    init_polls: u32,
    escrow_shown_at: Option<Instant>,
    /// The answer to the version request (0x88).
    pub(crate) version: VersionInfo,
    pub(crate) stats: Id003EmulatorStats,
}

impl Id003Device {
    pub(crate) fn new(
        rt: Runtime,
        acceptor: VirtualAcceptor,
        entries: Vec<CurrencyEntry>,
        denominations: Vec<Money>,
        reject_polls: u32,
        cheat_polls: u32,
        init_polls: u32,
    ) -> Id003Device {
        Id003Device {
            rt: Some(rt),
            acceptor,
            entries,
            denominations,
            decoder: Decoder::new(),
            // The virtual acceptor queued its power-up report at switch-on:
            // the first poll drains and shows it.
            shown: Shown::Idle,
            pending: VecDeque::new(),
            offline: false,
            inhibited: true,
            accepting: false,
            settings: [None; 6],
            forced: None,
            reject_polls: reject_polls.max(1),
            cheat_polls: cheat_polls.max(1),
            init_polls: init_polls.max(1),
            escrow_shown_at: None,
            version: VersionInfo::parse(super::config::DEFAULT_VERSION.as_bytes())
                .expect("the default version line parses"),
            stats: Id003EmulatorStats::default(),
        }
    }

    /// Moves the virtual acceptor's queued events into `pending`. Power
    /// loss is immediate: what was not shown yet is gone with it.
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
                    self.escrow_shown_at = None;
                    self.shown = Shown::Idle;
                }
                Err(_elapsed) => return,
            }
        }
    }

    /// Whether the state shown now may give way to `event`.
    fn yields_to(&self, event: &AcceptorEvent) -> bool {
        if matches!(event, AcceptorEvent::PowerUp { .. }) {
            return true;
        }
        match self.shown {
            Shown::Idle | Shown::StackerFull | Shown::Initializing(_) => true,
            Shown::Stacking | Shown::Returning { done: false } => true,
            Shown::Escrow(_) => matches!(
                event,
                AcceptorEvent::Jammed { .. } | AcceptorEvent::Returned { .. }
            ),
            Shown::Jam(_) => matches!(event, AcceptorEvent::JamCleared { .. }),
            Shown::StackerOpen => matches!(event, AcceptorEvent::StackerReplaced),
            _ => false,
        }
    }

    fn apply(&mut self, event: AcceptorEvent) {
        self.shown = match event {
            AcceptorEvent::Escrowed { value } => {
                self.accepting = false;
                let code = self
                    .entries
                    .iter()
                    .find(|e| CurrencyEntry::money(e, value.currency) == Some(value))
                    .map_or(0, |e| e.escrow_code);
                Shown::Escrow(code)
            }
            AcceptorEvent::Stacked { .. } => Shown::VendValid,
            AcceptorEvent::Returned { .. } => Shown::Returning { done: true },
            AcceptorEvent::Rejected { reason } => {
                self.accepting = false;
                Shown::Rejecting(reject_code(reason), self.reject_polls)
            }
            AcceptorEvent::Jammed { location, .. } => Shown::Jam(location),
            AcceptorEvent::JamCleared { fate } => match fate {
                NoteFate::InCashBox => Shown::VendValid,
                NoteFate::Returned => Shown::Returning { done: true },
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
            AcceptorEvent::StackerFull => Shown::StackerFull,
            AcceptorEvent::StackerRemoved => Shown::StackerOpen,
            AcceptorEvent::StackerReplaced => Shown::Idle,
            _ => self.shown,
        };
    }

    /// The answer to a status request, advancing counted states.
    fn status(&mut self) -> StatusResponse {
        while let Some(event) = self.pending.front() {
            if !self.yields_to(event) {
                break;
            }
            if let Some(event) = self.pending.pop_front() {
                self.apply(event);
            }
        }
        let status = match self.shown {
            Shown::Idle if self.inhibited => StatusResponse::Disabled,
            Shown::Idle if self.accepting => StatusResponse::Accepting,
            Shown::Idle => StatusResponse::Idling,
            Shown::Initializing(_) => StatusResponse::Initialize,
            Shown::Escrow(code) => StatusResponse::Escrow(code),
            Shown::Stacking => StatusResponse::Stacking,
            Shown::VendValid => StatusResponse::VendValid,
            Shown::StackedOnce => StatusResponse::Stacked,
            Shown::Returning { .. } => StatusResponse::Returning,
            Shown::Rejecting(code, _) => StatusResponse::Rejecting(code),
            Shown::Cheated(_) => StatusResponse::Cheated,
            Shown::Jam(JamLocation::Acceptor) => StatusResponse::AcceptorJam,
            Shown::Jam(JamLocation::Stacker) => StatusResponse::StackerJam,
            Shown::PowerUp(NoteAtPowerUp::None) => StatusResponse::PowerUp,
            Shown::PowerUp(NoteAtPowerUp::InAcceptor) => StatusResponse::PowerUpBillInAcceptor,
            Shown::PowerUp(NoteAtPowerUp::InStacker) => StatusResponse::PowerUpBillInStacker,
            Shown::StackerFull => StatusResponse::StackerFull,
            Shown::StackerOpen => StatusResponse::StackerOpen,
        };
        if matches!(self.shown, Shown::Escrow(_)) {
            self.escrow_shown_at.get_or_insert_with(Instant::now);
        }
        self.shown = match self.shown {
            Shown::Initializing(n) | Shown::Cheated(n) if n > 1 => match self.shown {
                Shown::Initializing(_) => Shown::Initializing(n - 1),
                _ => Shown::Cheated(n - 1),
            },
            Shown::Rejecting(code, n) if n > 1 => Shown::Rejecting(code, n - 1),
            Shown::Initializing(_)
            | Shown::Cheated(_)
            | Shown::Rejecting(..)
            | Shown::StackedOnce
            | Shown::Returning { done: true } => Shown::Idle,
            other => other,
        };
        self.forced.clone().unwrap_or(status)
    }

    /// The answer to a command; `None` for no answer (unpowered, or the host's ACK).
    fn command(&mut self, cmd: HostCommand) -> Option<StatusResponse> {
        self.drain_events();
        if self.offline {
            return None;
        }
        let ack = StatusResponse::Ack;
        Some(match cmd {
            HostCommand::StatusRequest => {
                self.stats.status_requests += 1;
                return Some(self.status());
            }
            HostCommand::Reset => {
                let _ = self.rt.as_ref()?.block_on(self.acceptor.reset());
                self.pending
                    .retain(|e| !matches!(e, AcceptorEvent::PowerUp { .. }));
                self.shown = Shown::Initializing(self.init_polls);
                self.inhibited = true;
                ack
            }
            HostCommand::Stack1 | HostCommand::Stack2 => match self.shown {
                Shown::Escrow(_) if self.rt.as_ref()?.block_on(self.acceptor.stack()).is_ok() => {
                    self.stats.stacks += 1;
                    if let Some(at) = self.escrow_shown_at.take() {
                        self.stats.escrow_to_stack.push(at.elapsed());
                    }
                    self.shown = Shown::Stacking;
                    ack
                }
                _ => self.invalid(),
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
                    self.shown = Shown::Returning { done: false };
                    ack
                }
                _ => self.invalid(),
            },
            HostCommand::Hold | HostCommand::Wait => ack,
            HostCommand::Ack => {
                self.stats.acks += 1;
                if self.shown == Shown::VendValid {
                    self.shown = Shown::StackedOnce;
                }
                return None; // the host's ACK is not answered
            }
            HostCommand::CurrencyAssignRequest => {
                StatusResponse::CurrencyAssign(self.entries.clone())
            }
            HostCommand::VersionRequest => StatusResponse::Version(self.version.to_data()),
            HostCommand::BootVersionRequest => StatusResponse::BootVersion(b"BOOT 1.0".to_vec()),
            other => match (other.setting(), read_index(other)) {
                (Some(setting), _) => {
                    if let Setting::Inhibit(on) = setting {
                        let done = if on {
                            self.rt.as_ref()?.block_on(self.acceptor.inhibit())
                        } else {
                            self.rt
                                .as_ref()?
                                .block_on(self.acceptor.enable(&self.denominations))
                        };
                        if done.is_ok() {
                            self.inhibited = on;
                        }
                    }
                    self.settings[usize::from(setting.index())] = Some(setting);
                    StatusResponse::SettingEcho(setting)
                }
                (None, Some(i)) => match self.settings[i] {
                    Some(setting) => StatusResponse::SettingValue(setting),
                    None => self.invalid(),
                },
                (None, None) => self.invalid(),
            },
        })
    }

    fn invalid(&mut self) -> StatusResponse {
        self.stats.invalid_commands += 1;
        StatusResponse::InvalidCommand
    }
}

impl WireDevice for Id003Device {
    fn on_stop(&mut self) {
        drop(self.rt.take());
    }

    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.next_frame() {
            let answer = match frame {
                Err(_) => {
                    self.stats.bad_frames += 1;
                    continue;
                }
                Ok(frame) => match HostCommand::from_frame(&frame) {
                    Ok(cmd) => self.command(cmd),
                    Err(WireError::UnknownCommand(_)) | Err(WireError::BadData { .. }) => {
                        Some(self.invalid())
                    }
                    Err(_) => None,
                },
            };
            if let Some(bytes) = answer.and_then(|a| a.to_bytes().ok()) {
                out.push(bytes);
            }
        }
    }
}

fn read_index(cmd: HostCommand) -> Option<usize> {
    (0x80..=0x85)
        .contains(&cmd.code())
        .then(|| usize::from(cmd.code() - 0x80))
}

/// A reject code for a reason (the inverse of `RejectCode::reason`).
fn reject_code(reason: RejectReason) -> RejectCode {
    match reason {
        RejectReason::Counterfeit => RejectCode::Discrimination,
        RejectReason::Inhibited => RejectCode::Inhibited,
        RejectReason::Insertion => RejectCode::Insertion,
        RejectReason::Transport => RejectCode::Conveying,
        _ => RejectCode::Unspecified,
    }
}
