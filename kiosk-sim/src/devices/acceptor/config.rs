//! Configuration and faults of the virtual bill acceptor.

use kiosk_hal::{FraudKind, NoteAtPowerUp, NoteFate};
use serde::{Deserialize, Serialize};

use crate::faults::{ConfigError, FaultRule, Trigger};

/// Timings and planned faults of a [`VirtualAcceptor`](super::VirtualAcceptor).
///
/// ```toml
/// [acceptor]
/// validate-ms = 1500   # note inserted -> escrowed / rejected
/// stack-ms = 800       # stack() -> stacked
/// return-ms = 500      # return_note() -> returned
///
/// [[acceptor.faults]]
/// trigger = { when = "nth-call", n = 2 }
/// fault = { type = "jam-in-stacker", fate = "in-cash-box", clear-after-ms = 30000 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct AcceptorConfig {
    /// Time from a note's insertion to its verdict (escrowed, rejected,
    /// fraud). Default 1500.
    pub validate_ms: u64,
    /// Time from `stack()` to `Stacked` (or to the jam that replaces it).
    /// A power cut during it places the note by how much of it had passed
    /// (see [`STACK_POINT_OF_NO_RETURN_PERCENT`]). Default 800.
    pub stack_ms: u64,
    /// Time from `return_note()` to `Returned`. A power cut during it
    /// places the note by how much of it had passed (see
    /// [`RETURN_OUT_PERCENT`]). Default 500.
    pub return_ms: u64,
    /// Planned faults, tried in order. Default none.
    pub faults: Vec<FaultRule<AcceptorFault>>,
}

impl Default for AcceptorConfig {
    fn default() -> Self {
        AcceptorConfig {
            validate_ms: 1500,
            stack_ms: 800,
            return_ms: 500,
            faults: Vec::new(),
        }
    }
}

fn fate_returned() -> NoteFate {
    NoteFate::Returned
}

fn fate_in_cash_box() -> NoteFate {
    NoteFate::InCashBox
}

fn fraud_string() -> FraudKind {
    FraudKind::StringOrFishing
}

/// How far, in percent of `stack-ms`, the stacker has to push a note
/// before it is past the point of no return.
///
/// Why a fixed point: a power cut stops the transport where it is, and what
/// happens to the note then is physics, not a choice. Before this point the
/// note is still held by the transport ahead of the stacker gate: at
/// power-up the device senses it in the acceptor (`in-acceptor`) and gives
/// it back to the customer. From this point on the stacker plate has pushed
/// it past the gate: it is in the cash box and the device reports
/// `in-stacker` (ID-003 0x42).
pub const STACK_POINT_OF_NO_RETURN_PERCENT: u64 = 50;

/// How far, in percent of `return-ms`, a returned note has to travel before
/// it is out of the device, at the customer's.
///
/// A power cut before this point leaves the note in the acceptor (reported
/// `in-acceptor`, then given back at power-up); from it on the customer holds
/// the note and the device finds nothing (`none`). Either way it never
/// reaches the box.
pub const RETURN_OUT_PERCENT: u64 = 50;

/// A fault of the bill acceptor itself.
///
/// Serialised tagged by `type`, fields kebab-case:
///
/// ```toml
/// fault = { type = "jam-in-acceptor" }                          # fate = "returned", no self-clear
/// fault = { type = "jam-in-stacker", fate = "in-cash-box", clear-after-ms = 30000 }
/// fault = { type = "fraud", kind = "string-or-fishing" }
/// fault = { type = "offline" }
/// fault = { type = "power-cycle" }                              # with an `at` trigger
/// fault = { type = "power-cycle", stack-percent = 80 }          # with nth-call / probability
/// fault = { type = "stacker-removed" }
/// fault = { type = "misreport-power-up", report = "in-stacker" } # the device lies
/// fault = { type = "misreport-jam-fate", report = "returned" }   # the device lies
/// fault = { type = "kiosk-power-loss-before-ack", down-ms = 2000 } # the host dies, the report comes again
/// ```
///
/// Which triggers each accepts, and what they count:
///
/// | fault | triggers | consulted / happens |
/// |---|---|---|
/// | `jam-in-acceptor`, `jam-in-stacker` | all | on each `stack()` that moves a note; `nth-call` counts those |
/// | `fraud` | all | at the verdict on each inserted note; `nth-call` counts inserted notes |
/// | `power-cycle` | `at` | power is cut at that time, wherever the note is |
/// | `power-cycle` | `nth-call`, `probability` | on a `stack()`: power is cut `stack-percent` into the stacking |
/// | `offline` | `at` (for ever), `between` | over the window |
/// | `stacker-removed` | `at` (stays out), `between` (put back at the end) | over the window |
/// | `misreport-power-up` | all | at each power-up report; `nth-call` counts power-ups |
/// | `misreport-jam-fate` | all | at each jam clearing; `nth-call` counts clearings |
/// | `kiosk-power-loss-before-ack` | all | at each report handed to the host, repeats included; `nth-call` counts those |
///
/// # Where a power cut leaves the note
///
/// `power-cycle` and `offline` only say *when* power goes. Where the note
/// then is follows from where it was in its path, and the power-up report
/// (`PowerUp { note }`) says exactly that, as a real validator reports what
/// its sensors see:
///
/// | note was | it ends | reported |
/// |---|---|---|
/// | nowhere | – | `none` |
/// | being validated | in the acceptor, given back at power-up | `in-acceptor` |
/// | in escrow | in the acceptor, given back at power-up | `in-acceptor` |
/// | being stacked, before [`STACK_POINT_OF_NO_RETURN_PERCENT`] of `stack-ms` | in the acceptor, given back | `in-acceptor` |
/// | being stacked, from that point on | in the cash box | `in-stacker` |
/// | being returned, before [`RETURN_OUT_PERCENT`] of `return-ms` | in the acceptor, given back | `in-acceptor` |
/// | being returned, from that point on | at the customer's | `none` |
///
/// A jammed note is not in this path: a cut leaves it jammed where it is,
/// and only the jam's clearing reports it (`JamCleared { fate }`).
///
/// Only the explicit lying faults (`misreport-*`) make a report differ from
/// where the note is; they never move a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum AcceptorFault {
    /// The note sticks in the acceptor head while being stacked: `Jammed
    /// { location: acceptor }` instead of `Stacked`. When cleared (by
    /// itself after `clear_after_ms`, or by `reset()`) the note goes where
    /// `fate` says (into the box at the clearing for `in-cash-box`, back to
    /// the customer for `returned`, out by staff's hand for `unknown`) and
    /// the device reports `JamCleared { fate }` with that same fate.
    JamInAcceptor {
        /// Where the note physically ends up. Default `returned`.
        #[serde(default = "fate_returned")]
        fate: NoteFate,
        /// Clears by itself this long after jamming; absent: only `reset()` clears it.
        #[serde(default)]
        clear_after_ms: Option<u64>,
    },
    /// The note sticks in the stacker: `Jammed { location: stacker }`. With
    /// `fate = "in-cash-box"` the note is in the box from the moment of the
    /// jam; otherwise it goes where `fate` says at the clearing. The
    /// clearing reports that same fate. Clears like `jam-in-acceptor`.
    JamInStacker {
        /// Where the note physically ends up. Default `in-cash-box`.
        #[serde(default = "fate_in_cash_box")]
        fate: NoteFate,
        /// Clears by itself this long after jamming; absent: only `reset()` clears it.
        #[serde(default)]
        clear_after_ms: Option<u64>,
    },
    /// A cheat: instead of a verdict the device reports `Fraud { kind }`
    /// and the note is pulled back out (never in the box).
    Fraud {
        /// Which cheat. Default `string-or-fishing`.
        #[serde(default = "fraud_string")]
        kind: FraudKind,
    },
    /// The device stops answering: every call fails with `Offline`,
    /// `next_event` returns one `Offline` error and then waits. It has lost
    /// power: a note in its path ends where the table above says. Back
    /// online it reports `PowerUp` with where that note is and comes up
    /// inhibited.
    Offline {},
    /// Power is cut and comes back at once: the note in the path ends where
    /// the table above says, the device reports `PowerUp { note }` with
    /// where it is, and comes up inhibited.
    PowerCycle {
        /// For `nth-call` and `probability` (consulted on `stack()`): how
        /// far into the stacking, in percent of `stack-ms` (0–99), power
        /// is cut. Required there; refused with `at`, which cuts at its
        /// instant.
        #[serde(default)]
        stack_percent: Option<u8>,
    },
    /// The cash box is pulled out: `StackerRemoved`; stacking is refused
    /// until it is back (`StackerReplaced` at the end of a `between`
    /// window, or when a handle puts it back).
    StackerRemoved {},
    /// **The device lies**: a power-up report it makes while this fault is
    /// active says `report` whatever its path holds. The note stays where
    /// power left it. Stages faulty firmware or a broken sensor: the kiosk
    /// must not lose money when the device misreports.
    MisreportPowerUp {
        /// What the device claims it found.
        report: NoteAtPowerUp,
    },
    /// **The device lies**: a jam clearing it makes while this fault is
    /// active reports `JamCleared { fate: report }` whatever the jam's real
    /// fate. The note still goes where the jam's `fate` puts it.
    MisreportJamFate {
        /// The fate the device claims.
        report: NoteFate,
    },
    /// **The kiosk loses power** after it took the report just handed over
    /// and before its next call to the device, which is what acknowledges
    /// the report: the kiosk has done everything it does with the report
    /// (journaled it) and is dark for `down_ms`. The device keeps the
    /// unacknowledged report and hands it again to the kiosk that starts
    /// next, as an ID-003 device repeats a status its host did not
    /// acknowledge (each repeat is in the fault log as `ReportRepeated`).
    /// The repeat is itself a report handed over, so the next life may die
    /// the same way: the same report to several lives in a row.
    ///
    /// Only a drill's kiosk life loop can honour it (it waits on
    /// [`HostPower::power_loss`](super::HostPower::power_loss)); a host
    /// that does not wait just never gets an answer to its next call.
    KioskPowerLossBeforeAck {
        /// How long the kiosk stays dark.
        down_ms: u64,
    },
}

impl AcceptorFault {
    /// Whether the fault is consulted on `stack()` under this trigger.
    pub(crate) fn on_stack(&self, trigger: &Trigger) -> bool {
        match self {
            AcceptorFault::JamInAcceptor { .. } | AcceptorFault::JamInStacker { .. } => true,
            AcceptorFault::PowerCycle { .. } => !trigger.is_timed(),
            _ => false,
        }
    }

    /// Whether the fault happens on the clock rather than on an operation.
    pub(crate) fn is_timed(&self, trigger: &Trigger) -> bool {
        match self {
            AcceptorFault::Offline {} | AcceptorFault::StackerRemoved {} => true,
            AcceptorFault::PowerCycle { .. } => trigger.is_timed(),
            _ => false,
        }
    }

    /// Refuses triggers the fault cannot honour and settings that make no
    /// sense with its trigger.
    pub(crate) fn check(&self, trigger: &Trigger) -> Result<(), ConfigError> {
        trigger.validate()?;
        let refused = |why: &str| {
            Err(ConfigError::new(format!(
                "acceptor fault {self:?} with trigger {trigger:?}: {why}"
            )))
        };
        match self {
            AcceptorFault::Offline {} | AcceptorFault::StackerRemoved {} if !trigger.is_timed() => {
                refused("it needs a time (at or between)")
            }
            AcceptorFault::PowerCycle { .. } if matches!(trigger, Trigger::Between { .. }) => {
                refused("a power cycle happens at an instant (at), or on a stack (nth-call, probability)")
            }
            AcceptorFault::PowerCycle {
                stack_percent: Some(_),
            } if trigger.is_timed() => refused(
                "with `at` power is cut at that instant; stack-percent is for nth-call and probability",
            ),
            AcceptorFault::PowerCycle {
                stack_percent: None,
            } if !trigger.is_timed() => refused(
                "say how far into the stacking power is cut: stack-percent = 0..=99",
            ),
            AcceptorFault::PowerCycle {
                stack_percent: Some(percent),
            } if *percent >= 100 => refused(&format!(
                "stack-percent = {percent} is not in 0..=99 (at 100 the note is already stacked)"
            )),
            _ => Ok(()),
        }
    }
}
