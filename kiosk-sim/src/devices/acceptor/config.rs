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
    /// Time from `stack()` to `Stacked` (or to the jam / power cycle that
    /// replaces it). Default 800.
    pub stack_ms: u64,
    /// Time from `return_note()` to `Returned`. Default 500.
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

fn note_in_stacker() -> NoteAtPowerUp {
    NoteAtPowerUp::InStacker
}

/// A fault of the bill acceptor itself.
///
/// Serialised tagged by `type`, fields kebab-case:
///
/// ```toml
/// fault = { type = "jam-in-acceptor" }                          # fate = "returned", no self-clear
/// fault = { type = "jam-in-stacker", fate = "in-cash-box", clear-after-ms = 30000 }
/// fault = { type = "fraud", kind = "string-or-fishing" }
/// fault = { type = "offline" }
/// fault = { type = "power-cycle", note = "in-stacker" }
/// fault = { type = "stacker-removed" }
/// ```
///
/// Which triggers each accepts, and what they count:
///
/// | fault | triggers | consulted / happens |
/// |---|---|---|
/// | `jam-in-acceptor`, `jam-in-stacker` | all | on each `stack()` that moves a note; `nth-call` counts those |
/// | `fraud` | all | at the verdict on each inserted note; `nth-call` counts inserted notes |
/// | `power-cycle` | `at` | at that time |
/// | `power-cycle` | `nth-call`, `probability` | on a `stack()`: power is lost while the note moves |
/// | `offline` | `at` (for ever), `between` | over the window |
/// | `stacker-removed` | `at` (stays out), `between` (put back at the end) | over the window |
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
    /// itself after `clear_after_ms`, or by `reset()`) the device reports
    /// `JamCleared { fate }`; the note is physically in the box iff `fate`
    /// is `in-cash-box` (it goes there at the clearing).
    JamInAcceptor {
        /// Where the note ends up. Default `returned`.
        #[serde(default = "fate_returned")]
        fate: NoteFate,
        /// Clears by itself this long after jamming; absent: only `reset()` clears it.
        #[serde(default)]
        clear_after_ms: Option<u64>,
    },
    /// The note sticks in the stacker: `Jammed { location: stacker }`. The
    /// note is physically in the box iff `fate` is `in-cash-box` (from the
    /// moment of the jam). Clears like `jam-in-acceptor`.
    JamInStacker {
        /// Where the note ends up. Default `in-cash-box`.
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
    /// `next_event` returns one `Offline` error and then waits. A note in
    /// its path is returned (validating, escrow) or falls into the box
    /// (stacking). Back online it reports `PowerUp` with what it found
    /// (`in-acceptor`, `in-stacker` or `none`) and comes up inhibited.
    Offline {},
    /// Power is lost and comes back at once: `PowerUp { note }`, then the
    /// device is inhibited. With `note = "in-stacker"` a note in the path
    /// goes into the box; otherwise it is returned.
    PowerCycle {
        /// What the device reports finding. Default `in-stacker`.
        #[serde(default = "note_in_stacker")]
        note: NoteAtPowerUp,
    },
    /// The cash box is pulled out: `StackerRemoved`; stacking is refused
    /// until it is back (`StackerReplaced` at the end of a `between`
    /// window, or when a handle puts it back).
    StackerRemoved {},
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

    /// Refuses triggers the fault cannot honour.
    pub(crate) fn check(&self, trigger: &Trigger) -> Result<(), ConfigError> {
        trigger.validate()?;
        let ok = match self {
            AcceptorFault::Offline {} | AcceptorFault::StackerRemoved {} => trigger.is_timed(),
            AcceptorFault::PowerCycle { .. } => !matches!(trigger, Trigger::Between { .. }),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(ConfigError::new(format!(
                "acceptor fault {self:?} cannot use trigger {trigger:?}"
            )))
        }
    }
}
