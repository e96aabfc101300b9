//! The virtual receipt printer: a paper roll, printing time, and faults.
//!
//! It keeps every receipt it physically printed ([`PrinterHandle::receipts`]),
//! so a drill can check what the customer really got against what the
//! kiosk believes.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use kiosk_core::Millis;
use kiosk_hal::{DeviceError, ErrorKind, PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter};
use serde::{Deserialize, Serialize};

use crate::clock::SimClock;
use crate::faults::{ConfigError, FaultLog, FaultPlan, FaultRule, LogSink};
use crate::rng::SimRng;

/// Paper, timings and planned faults of a [`VirtualPrinter`].
///
/// ```toml
/// [printer]
/// print-ms = 2000
/// paper-receipts = 10000
/// near-end-receipts = 50
/// one-way = false
/// answer-timeout-ms = 1000
///
/// [[printer.faults]]
/// trigger = { when = "between", from-ms = 600000, until-ms = 900000 }
/// fault = { type = "cover-open" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PrinterConfig {
    /// Time to print and cut one receipt. Default 2000.
    pub print_ms: u64,
    /// Receipts a full roll holds (also what a refill loads). Default 10000.
    pub paper_receipts: u32,
    /// From this many receipts left the status is `PaperNearEnd`. Default 50.
    pub near_end_receipts: u32,
    /// A one-way printer: status is always `Unknown` and a print returns
    /// `Ok(Unknown)` whether or not it printed. Default false.
    pub one_way: bool,
    /// How long a call to an offline printer waits before failing. Default 1000.
    pub answer_timeout_ms: u64,
    /// Planned faults, tried in order. Default none.
    pub faults: Vec<FaultRule<PrinterFault>>,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig {
            print_ms: 2000,
            paper_receipts: 10_000,
            near_end_receipts: 50,
            one_way: false,
            answer_timeout_ms: 1000,
            faults: Vec::new(),
        }
    }
}

/// A printer fault.
///
/// ```toml
/// fault = { type = "paper-out" }
/// fault = { type = "jam" }
/// fault = { type = "cover-open" }
/// fault = { type = "offline" }
/// fault = { type = "unknown" }
/// ```
///
/// - With `at` / `between` a fault is a **condition**: from `at-ms` until
///   fixed, or over the window (or until fixed, if earlier). Status shows it
///   and prints fail with it before any paper moves.
/// - With `nth-call` / `probability` (counting prints that start on paper)
///   it strikes **mid-receipt**: the print fails after half its time with
///   the fault's error, nothing counts as printed, and the condition stays
///   until fixed (`paper-out` empties the roll). `unknown` this way prints
///   the receipt but loses the printer's confirmation: `Ok(Unknown)`.
///
/// Fix conditions with [`PrinterHandle::fix`], [`PrinterHandle::load_paper`]
/// or [`PrinterHandle::service`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", from = "PrinterFaultRepr")]
pub enum PrinterFault {
    /// The paper runs out: `PaperOut`.
    PaperOut,
    /// Paper or cutter jam: `Jam` error, status `Jammed`.
    Jam,
    /// The cover is open: `CoverOpen`.
    CoverOpen,
    /// The printer does not answer: `Offline` error after `answer-timeout-ms`.
    Offline,
    /// The status channel is gone: the printer behaves as one-way (status
    /// `Unknown`, prints return `Ok(Unknown)`).
    Unknown,
}

/// How a [`PrinterFault`] is read: struct variants, so that unknown
/// fields are refused (serde ignores them on unit variants).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
enum PrinterFaultRepr {
    PaperOut {},
    Jam {},
    CoverOpen {},
    Offline {},
    Unknown {},
}

impl From<PrinterFaultRepr> for PrinterFault {
    fn from(repr: PrinterFaultRepr) -> PrinterFault {
        match repr {
            PrinterFaultRepr::PaperOut {} => PrinterFault::PaperOut,
            PrinterFaultRepr::Jam {} => PrinterFault::Jam,
            PrinterFaultRepr::CoverOpen {} => PrinterFault::CoverOpen,
            PrinterFaultRepr::Offline {} => PrinterFault::Offline,
            PrinterFaultRepr::Unknown {} => PrinterFault::Unknown,
        }
    }
}

impl PrinterFault {
    fn index(self) -> usize {
        self as usize
    }
}

/// A receipt the printer really printed, and when it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// When it came out (virtual ms).
    pub at: Millis,
}

#[derive(Default, Clone, Copy)]
struct Conditions {
    offline: bool,
    jam: bool,
    cover_open: bool,
    paper_out: bool,
    unknown: bool,
}

struct PrinterState {
    config: PrinterConfig,
    paper_left: u32,
    timed: Vec<FaultRule<PrinterFault>>,
    plan: FaultPlan<PrinterFault>,
    latched: [bool; 5],
    fixed_at: [Option<Millis>; 5],
    prints: u64,
    printed: Vec<PrintedReceipt>,
    log: LogSink,
}

impl PrinterState {
    fn has(&self, fault: PrinterFault, now: Millis) -> bool {
        self.latched[fault.index()]
            || self.timed.iter().any(|rule| {
                rule.fault == fault
                    && rule.trigger.covers(now)
                    && match (self.fixed_at[fault.index()], rule.trigger.start()) {
                        (Some(fixed), Some(start)) => fixed < start,
                        _ => true,
                    }
            })
    }

    fn conditions(&self, now: Millis) -> Conditions {
        Conditions {
            offline: self.has(PrinterFault::Offline, now),
            jam: self.has(PrinterFault::Jam, now),
            cover_open: self.has(PrinterFault::CoverOpen, now),
            paper_out: self.paper_left == 0 || self.has(PrinterFault::PaperOut, now),
            unknown: self.config.one_way || self.has(PrinterFault::Unknown, now),
        }
    }

    fn fix(&mut self, fault: PrinterFault, now: Millis) {
        self.latched[fault.index()] = false;
        self.fixed_at[fault.index()] = Some(now);
    }

    fn put_on_paper(&mut self, receipt: &Receipt, done_at: Millis) {
        self.paper_left = self.paper_left.saturating_sub(1);
        self.printed.push(PrintedReceipt {
            receipt: receipt.clone(),
            at: done_at,
        });
    }
}

/// What a print will do, decided at its start.
enum Plan {
    Done(PrintOutcome),
    Fail(ErrorKind, &'static str, u64),
}

/// The virtual printer, as the kiosk sees it ([`ReceiptPrinter`]).
pub struct VirtualPrinter {
    state: Arc<Mutex<PrinterState>>,
    clock: SimClock,
}

/// The drill's and the staff's hands on the printer (cloneable).
#[derive(Clone)]
pub struct PrinterHandle {
    state: Arc<Mutex<PrinterState>>,
    clock: SimClock,
}

fn lock(state: &Mutex<PrinterState>) -> MutexGuard<'_, PrinterState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl VirtualPrinter {
    /// Builds a printer with a full roll. `rng` should be the drill's
    /// generator forked for this device.
    pub fn new(
        config: &PrinterConfig,
        clock: SimClock,
        rng: SimRng,
    ) -> Result<(VirtualPrinter, PrinterHandle), ConfigError> {
        let (timed, by_call): (Vec<_>, Vec<_>) = config
            .faults
            .iter()
            .cloned()
            .partition(|rule| rule.trigger.is_timed());
        for rule in &timed {
            rule.trigger.validate()?;
        }
        let state = Arc::new(Mutex::new(PrinterState {
            config: config.clone(),
            paper_left: config.paper_receipts,
            timed,
            plan: FaultPlan::new(by_call, rng)?,
            latched: [false; 5],
            fixed_at: [None; 5],
            prints: 0,
            printed: Vec::new(),
            log: LogSink::default(),
        }));
        let handle = PrinterHandle {
            state: Arc::clone(&state),
            clock,
        };
        Ok((VirtualPrinter { state, clock }, handle))
    }

    /// Records in `log`, under the name `device`, every fault that strikes a
    /// print (`nth-call` / `probability`). Timed conditions are not
    /// recorded: their times are in the configuration.
    pub fn with_fault_log(self, log: FaultLog, device: &str) -> VirtualPrinter {
        lock(&self.state).log = LogSink::new(log, device);
        self
    }
}

#[async_trait]
impl ReceiptPrinter for VirtualPrinter {
    async fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        let (c, near_end, answer_timeout_ms) = {
            let s = lock(&self.state);
            (
                s.conditions(self.clock.now()),
                s.paper_left <= s.config.near_end_receipts,
                s.config.answer_timeout_ms,
            )
        };
        if c.unknown {
            return Ok(PrinterStatus::Unknown);
        }
        if c.offline {
            self.clock.sleep_ms(answer_timeout_ms).await;
            return Err(DeviceError::new(
                ErrorKind::Offline,
                "printer does not answer",
            ));
        }
        Ok(if c.jam {
            PrinterStatus::Jammed
        } else if c.cover_open {
            PrinterStatus::CoverOpen
        } else if c.paper_out {
            PrinterStatus::PaperOut
        } else if near_end {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Ready
        })
    }

    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, DeviceError> {
        let now = self.clock.now();
        let (plan, print_ms) = {
            let mut s = lock(&self.state);
            let print_ms = s.config.print_ms;
            let done_at = now.plus_ms(print_ms);
            let c = s.conditions(now);
            let plan = if c.unknown {
                if !(c.offline || c.jam || c.cover_open || c.paper_out) {
                    s.put_on_paper(receipt, done_at);
                }
                Plan::Done(PrintOutcome::Unknown)
            } else if c.offline {
                let timeout = s.config.answer_timeout_ms;
                Plan::Fail(ErrorKind::Offline, "printer does not answer", timeout)
            } else if c.jam {
                Plan::Fail(ErrorKind::Jam, "printer jammed", 0)
            } else if c.cover_open {
                Plan::Fail(ErrorKind::CoverOpen, "printer cover open", 0)
            } else if c.paper_out {
                Plan::Fail(ErrorKind::PaperOut, "printer out of paper", 0)
            } else {
                s.prints += 1;
                let prints = s.prints;
                let half = print_ms / 2;
                let fault = s.plan.active(now, prints).copied();
                if let Some(fault) = &fault {
                    s.log.record(now, fault);
                }
                match fault {
                    None => {
                        s.put_on_paper(receipt, done_at);
                        Plan::Done(PrintOutcome::Printed)
                    }
                    Some(PrinterFault::Unknown) => {
                        s.put_on_paper(receipt, done_at);
                        Plan::Done(PrintOutcome::Unknown)
                    }
                    Some(PrinterFault::PaperOut) => {
                        s.paper_left = 0;
                        Plan::Fail(ErrorKind::PaperOut, "paper ran out mid-receipt", half)
                    }
                    Some(fault) => {
                        s.latched[fault.index()] = true;
                        let (kind, message) = match fault {
                            PrinterFault::Jam => (ErrorKind::Jam, "paper jammed mid-receipt"),
                            PrinterFault::CoverOpen => {
                                (ErrorKind::CoverOpen, "cover opened mid-receipt")
                            }
                            _ => (ErrorKind::Offline, "printer stopped answering mid-receipt"),
                        };
                        Plan::Fail(kind, message, half)
                    }
                }
            };
            (plan, print_ms)
        };
        match plan {
            Plan::Done(outcome) => {
                self.clock.sleep_ms(print_ms).await;
                Ok(outcome)
            }
            Plan::Fail(kind, message, after_ms) => {
                self.clock.sleep_ms(after_ms).await;
                Err(DeviceError::new(kind, message))
            }
        }
    }

    async fn identity(&mut self) -> Result<kiosk_hal::DeviceIdentity, DeviceError> {
        Ok(crate::devices::virtual_identity(
            crate::devices::VIRTUAL_PRINTER_MODEL,
        ))
    }
}

impl PrinterHandle {
    /// A new driver handle onto the same physical printer: what restarting
    /// the printer's driver gives (used by supervised drills).
    pub fn driver(&self) -> VirtualPrinter {
        VirtualPrinter {
            state: Arc::clone(&self.state),
            clock: self.clock,
        }
    }

    /// Every receipt physically printed so far, in order.
    pub fn receipts(&self) -> Vec<PrintedReceipt> {
        lock(&self.state).printed.clone()
    }

    /// Receipts left on the roll.
    pub fn paper_left(&self) -> u32 {
        lock(&self.state).paper_left
    }

    /// Loads a roll of `receipts` and clears any paper-out condition.
    pub fn load_paper(&self, receipts: u32) {
        let mut s = lock(&self.state);
        s.paper_left = receipts;
        s.fix(PrinterFault::PaperOut, self.clock.now());
    }

    /// Fixes one condition (clears the jam, closes the cover, powers it
    /// back on, restores the status channel; `paper-out` loads a full roll).
    pub fn fix(&self, fault: PrinterFault) {
        if fault == PrinterFault::PaperOut {
            let full = lock(&self.state).config.paper_receipts;
            self.load_paper(full);
        } else {
            lock(&self.state).fix(fault, self.clock.now());
        }
    }

    /// Fixes every condition and loads a full roll (a technician's visit).
    pub fn service(&self) {
        for fault in [
            PrinterFault::PaperOut,
            PrinterFault::Jam,
            PrinterFault::CoverOpen,
            PrinterFault::Offline,
            PrinterFault::Unknown,
        ] {
            self.fix(fault);
        }
    }
}

#[cfg(test)]
mod tests {
    use kiosk_hal::ReceiptLine;

    use super::*;
    use crate::faults::Trigger;

    fn receipt(reference: &str) -> Receipt {
        Receipt {
            reference: reference.to_string(),
            lines: vec![ReceiptLine::Bold("CNY 50.00".into())],
        }
    }

    fn printer(config: PrinterConfig) -> (VirtualPrinter, PrinterHandle, SimClock) {
        let clock = SimClock::new();
        let (p, h) = VirtualPrinter::new(&config, clock, SimRng::new(3)).unwrap();
        (p, h, clock)
    }

    fn with_faults(faults: Vec<FaultRule<PrinterFault>>) -> PrinterConfig {
        PrinterConfig {
            faults,
            ..PrinterConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn prints_take_time_and_are_kept() {
        let (mut p, h, clock) = printer(PrinterConfig::default());
        assert_eq!(p.status().await.unwrap(), PrinterStatus::Ready);
        assert_eq!(
            p.print(&receipt("K1-000001")).await.unwrap(),
            PrintOutcome::Printed
        );
        assert_eq!(clock.now(), Millis(2000));
        let kept = h.receipts();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (kept[0].receipt.reference.as_str(), kept[0].at),
            ("K1-000001", Millis(2000))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn roll_runs_near_end_then_out_and_refuses_to_print() {
        let (mut p, h, _) = printer(PrinterConfig {
            paper_receipts: 3,
            near_end_receipts: 1,
            ..PrinterConfig::default()
        });
        for i in 0..2 {
            p.print(&receipt(&format!("R{i}"))).await.unwrap();
        }
        assert_eq!(p.status().await.unwrap(), PrinterStatus::PaperNearEnd);
        p.print(&receipt("R2")).await.unwrap();
        assert_eq!(p.status().await.unwrap(), PrinterStatus::PaperOut);
        let err = p.print(&receipt("R3")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PaperOut);
        assert_eq!(h.receipts().len(), 3, "the failed receipt is not kept");
        h.load_paper(10);
        assert_eq!(p.status().await.unwrap(), PrinterStatus::Ready);
    }

    #[tokio::test(start_paused = true)]
    async fn paper_out_mid_receipt_is_an_error_and_nothing_is_kept() {
        let rule = FaultRule::new(Trigger::NthCall { n: 2 }, PrinterFault::PaperOut);
        let (mut p, h, clock) = printer(with_faults(vec![rule]));
        p.print(&receipt("R1")).await.unwrap();
        let err = p.print(&receipt("R2")).await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::PaperOut, Millis(3000))
        );
        assert_eq!(h.receipts().len(), 1);
        assert_eq!(p.status().await.unwrap(), PrinterStatus::PaperOut);
        h.fix(PrinterFault::PaperOut);
        assert_eq!(
            p.print(&receipt("R2")).await.unwrap(),
            PrintOutcome::Printed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_way_printer_never_claims_printed() {
        let (mut p, h, _) = printer(PrinterConfig {
            one_way: true,
            ..PrinterConfig::default()
        });
        assert_eq!(p.status().await.unwrap(), PrinterStatus::Unknown);
        assert_eq!(
            p.print(&receipt("R1")).await.unwrap(),
            PrintOutcome::Unknown
        );
        assert_eq!(h.receipts().len(), 1, "it did print");
    }

    #[tokio::test(start_paused = true)]
    async fn timed_conditions_show_in_status_and_fail_prints() {
        let cover = FaultRule::new(
            Trigger::Between {
                from_ms: 1000,
                until_ms: Some(5000),
            },
            PrinterFault::CoverOpen,
        );
        let offline = FaultRule::new(Trigger::At { at_ms: 10_000 }, PrinterFault::Offline);
        let (mut p, h, clock) = printer(with_faults(vec![cover, offline]));
        clock.sleep_until(Millis(1000)).await;
        assert_eq!(p.status().await.unwrap(), PrinterStatus::CoverOpen);
        assert_eq!(
            p.print(&receipt("R1")).await.unwrap_err().kind(),
            ErrorKind::CoverOpen
        );
        clock.sleep_until(Millis(5000)).await;
        assert_eq!(p.status().await.unwrap(), PrinterStatus::Ready);
        clock.sleep_until(Millis(10_000)).await;
        let err = p.print(&receipt("R2")).await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::Offline, Millis(11_000))
        );
        h.fix(PrinterFault::Offline);
        assert_eq!(
            p.print(&receipt("R2")).await.unwrap(),
            PrintOutcome::Printed
        );
        assert_eq!(h.receipts().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn mid_receipt_jam_latches_until_fixed() {
        let rule = FaultRule::new(Trigger::NthCall { n: 1 }, PrinterFault::Jam);
        let (mut p, h, _) = printer(with_faults(vec![rule]));
        assert_eq!(
            p.print(&receipt("R1")).await.unwrap_err().kind(),
            ErrorKind::Jam
        );
        assert_eq!(p.status().await.unwrap(), PrinterStatus::Jammed);
        assert!(h.receipts().is_empty());
        h.service();
        assert_eq!(
            p.print(&receipt("R1")).await.unwrap(),
            PrintOutcome::Printed
        );
    }

    #[test]
    fn config_reads_from_toml() {
        let config: PrinterConfig = toml::from_str(
            r#"
            print-ms = 1500
            one-way = true
            [[faults]]
            trigger = { when = "nth-call", n = 4 }
            fault = { type = "paper-out" }
            "#,
        )
        .unwrap();
        assert_eq!(config.print_ms, 1500);
        assert_eq!(config.paper_receipts, 10_000);
        assert_eq!(config.faults[0].fault, PrinterFault::PaperOut);
        assert!(toml::from_str::<PrinterConfig>("print-msec = 1").is_err());
        let extra = r#"
            [[faults]]
            trigger = { when = "nth-call", n = 4 }
            fault = { type = "jam", extra = 1 }
        "#;
        assert!(
            toml::from_str::<PrinterConfig>(extra).is_err(),
            "unit variants deny unknown fields"
        );
    }
}
