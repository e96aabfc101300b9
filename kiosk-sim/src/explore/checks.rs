//! The explorer's checks: what must hold after every step and at the end.
//!
//! Every check has a stable name (`--allow NAME` turns one off). The money
//! line is split into its parts so a report says which part broke:
//!
//! | name | when | holds if |
//! |---|---|---|
//! | `books` | every step | journal in-box = credited + pending + refused-and-held |
//! | `box-covered` | every step | physical box ≥ journal in-box (the journal never counts a note that is not there) |
//! | `box-explained` | every step, exact at the end | physical box ≤ in-box + in-doubt (+ one note in flight at a step) |
//! | `in-doubt-bounded` | every step | notes put in doubt ≤ faults so far that could put one in doubt |
//! | `no-double-credit` | every step | no key applied twice, and the backend credited no more cash than the box took in |
//! | `backend-agrees` | every step | backend cash credited = journal credited + applied-but-unanswered, and every applied key is credited or pending in the journal |
//! | `key-conflict` | every step | no retry carried a different posting under the same key |
//! | `pending-drains` | end | nothing pending once the link has been healthy, and nothing new became pending, for long enough (no session running) |
//! | `cash-offered` | end | cash is offered again once the devices have been healthy long enough (and staff have enabled the kiosk after every box removal) |
//! | `kiosk-runs` | end | the kiosk did not stop with an error (a journal write refused, …) |
//!
//! "Physical box" is what the cash box took in: its notes now, plus what
//! staff took out, less what it started with. Notes whose value the journal
//! does not know (in doubt after a restart) are allowed the largest note.
//!
//! # Notes in flight
//!
//! The acceptor puts a note in the box the instant it reports it stacked;
//! the kiosk journals it after it has read the report. At a step, one note
//! can therefore be in the box and not (yet) in the journal — the acceptor
//! moves one note at a time, so at most one, worth at most the largest
//! note. That is the slack `box-explained` allows at a step. At the end of
//! a run the generator has left a quiet tail (no customers, no faults for
//! [`HEALTHY_MS`] or more), nothing is in flight, and the line must hold
//! exactly: in-box ≤ physical ≤ in-box + in-doubt. A note that reached the
//! box with nothing journaled at all stays over the line for ever, so the
//! end check catches it even when the step check forgave it as in flight.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How long the link (or the devices) must have been free of injected
/// faults before `pending-drains` (or `cash-offered`) is checked: two
/// retry backoffs of the generated kiosk (8 s each), a posting timeout
/// (15 s), and margin.
pub const HEALTHY_MS: u64 = 60_000;

/// One of the explorer's checks (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Journal in-box = credited + pending + refused-and-held.
    Books,
    /// Physical box ≥ journal in-box.
    BoxCovered,
    /// Physical box ≤ in-box + in-doubt (+ a note in flight at a step).
    BoxExplained,
    /// Notes put in doubt ≤ faults that could put one in doubt.
    InDoubtBounded,
    /// No key applied twice; backend cash ≤ what the box took in.
    NoDoubleCredit,
    /// Backend and journal agree on what was credited.
    BackendAgrees,
    /// No retry changed the posting under its key.
    KeyConflict,
    /// Nothing pending once the link has been healthy long enough.
    PendingDrains,
    /// Cash offered again once the devices have been healthy long enough.
    CashOffered,
    /// The kiosk ran to the end without stopping on an error.
    KioskRuns,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 10] = [
        Check::Books,
        Check::BoxCovered,
        Check::BoxExplained,
        Check::InDoubtBounded,
        Check::NoDoubleCredit,
        Check::BackendAgrees,
        Check::KeyConflict,
        Check::PendingDrains,
        Check::CashOffered,
        Check::KioskRuns,
    ];

    /// The check's name, as `--allow` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Check::Books => "books",
            Check::BoxCovered => "box-covered",
            Check::BoxExplained => "box-explained",
            Check::InDoubtBounded => "in-doubt-bounded",
            Check::NoDoubleCredit => "no-double-credit",
            Check::BackendAgrees => "backend-agrees",
            Check::KeyConflict => "key-conflict",
            Check::PendingDrains => "pending-drains",
            Check::CashOffered => "cash-offered",
            Check::KioskRuns => "kiosk-runs",
        }
    }

    /// What the check demands, in one line.
    pub fn definition(self) -> &'static str {
        match self {
            Check::Books => "journal in-box = credited + pending + refused-and-held, after every step",
            Check::BoxCovered => "cash box took in ≥ journal in-box, after every step",
            Check::BoxExplained => {
                "cash box took in ≤ journal in-box + in doubt (+ one note in flight at a step; exact at the end)"
            }
            Check::InDoubtBounded => {
                "notes put in doubt ≤ acceptor faults + kiosk power losses + restarts + box removals so far"
            }
            Check::NoDoubleCredit => {
                "no key applied twice, backend cash credited ≤ what the cash box took in"
            }
            Check::BackendAgrees => {
                "backend cash credited = journal credited + applied-but-unanswered; every applied key is credited or pending in the journal"
            }
            Check::KeyConflict => "no retry carried a different posting under the same key",
            Check::PendingDrains => {
                "at the end, nothing pending once the link has been free of faults, and nothing new became pending, for 60 s"
            }
            Check::CashOffered => {
                "at the end, the welcome screen offers cash once the devices have been free of faults for 60 s (and staff enabled the kiosk after every box removal, and after the last removal the kiosk learnt of)"
            }
            Check::KioskRuns => "the kiosk ran to the end without stopping on an error",
        }
    }
}

impl Check {
    /// What the check demands, in one line, in `lang`.
    pub fn definition_in(self, lang: crate::cli_text::Lang) -> &'static str {
        use crate::cli_text::Lang;
        if lang == Lang::En {
            return self.definition();
        }
        match self {
            Check::Books => "每一步之后：日志中的在箱金额 = 已入账 + 待确认 + 拒付暂存",
            Check::BoxCovered => "每一步之后：钱箱收进的金额 ≥ 日志中的在箱金额",
            Check::BoxExplained => {
                "钱箱收进的金额 ≤ 日志中的在箱金额 + 存疑金额（每一步允许一张在途纸币；结束时须精确相等）"
            }
            Check::InDoubtBounded => {
                "存疑纸币数 ≤ 至今的识别器故障 + 断电 + 重启 + 取走钱箱次数"
            }
            Check::NoDoubleCredit => "同一幂等键不被应用两次；后台现金入账 ≤ 钱箱收进的金额",
            Check::BackendAgrees => {
                "后台现金入账 = 日志已入账 + 已应用但未收到应答的；每个已应用的键在日志中为已入账或待确认"
            }
            Check::KeyConflict => "重试不会以同一幂等键提交不同的入账内容",
            Check::PendingDrains => {
                "结束时：链路无故障 60 秒后不再有待确认，且期间没有新的待确认"
            }
            Check::CashOffered => {
                "结束时：设备无故障 60 秒后欢迎屏提供现金支付（每次取走钱箱后、以及终端最后一次得知钱箱被取走后，已由工作人员重新启用）"
            }
            Check::KioskRuns => "自助机运行到结束，没有因错误停止",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Check {
    type Err = String;

    fn from_str(s: &str) -> Result<Check, String> {
        Check::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Check::ALL.iter().map(|c| c.name()).collect();
                format!("unknown check {s:?}; checks: {}", names.join(", "))
            })
    }
}

/// A check that failed, where it first failed and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which check.
    pub check: Check,
    /// Virtual time of the first failure (ms).
    pub at_ms: u64,
    /// The step (kiosk event index, 0-based) of the first failure; `None` at the end.
    pub step: Option<usize>,
    /// What was seen the first time.
    pub message: String,
    /// Steps (plus the end check) at which it failed.
    pub times: u32,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.step {
            Some(step) => format!("step {step} at {} ms", self.at_ms),
            None => format!("end of run at {} ms", self.at_ms),
        };
        write!(
            f,
            "{}: {} ({at}; failed {} time{})",
            self.check,
            self.message,
            self.times,
            if self.times == 1 { "" } else { "s" }
        )
    }
}

/// The violations of one run, first failure of each check kept.
#[derive(Debug, Clone, Default)]
pub struct Violations {
    list: Vec<Violation>,
}

impl Violations {
    /// Records a failure of `check`.
    pub fn fail(&mut self, check: Check, at_ms: u64, step: Option<usize>, message: String) {
        match self.list.iter_mut().find(|v| v.check == check) {
            Some(v) => v.times += 1,
            None => self.list.push(Violation {
                check,
                at_ms,
                step,
                message,
                times: 1,
            }),
        }
    }

    /// The violations, by check.
    pub fn into_sorted(mut self) -> Vec<Violation> {
        self.list.sort_by_key(|v| v.check);
        self.list
    }
}
