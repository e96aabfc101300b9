//! The acceptor as a plain state machine: operations and time in, events out.

use std::collections::VecDeque;

use kiosk_core::Millis;
use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, DeviceError, ErrorKind, FillLevel, JamLocation, Money,
    NoteAtPowerUp, NoteFate, RejectReason,
};

use super::config::{AcceptorConfig, AcceptorFault};
use super::path::{into_stacking, AfterCut, Path, StackEnd};
use super::SlotRefusal;
use crate::devices::cashbox::BoxState;
use crate::devices::shared::Machine;
use crate::faults::{ConfigError, FaultPlan, LogSink, Trigger};
use crate::rng::SimRng;

#[derive(Debug, Clone, Copy)]
struct Jam {
    location: JamLocation,
    value: Money,
    fate: NoteFate,
    clear_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy)]
enum TimedAction {
    GoOffline,
    BackOnline,
    PowerCycle,
    RemoveBox,
    ReplaceBox,
}

/// A timed fault's start or end.
#[derive(Debug, Clone, Copy)]
struct TimedEntry {
    at: Millis,
    action: TimedAction,
    fault: AcceptorFault,
    end: bool,
}

/// A report handed again to a host that started after the one it was
/// handed to lost power before acknowledging it: in the fault log, where
/// the explorer counts it as a possible cause of one note in doubt.
struct ReportRepeated(AcceptorEvent);

impl std::fmt::Debug for ReportRepeated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportRepeated {{ report: {:?} }}", self.0)
    }
}

#[derive(Debug)]
enum Queued {
    Event(AcceptorEvent),
    WentOffline,
}

fn err(kind: ErrorKind, message: &str) -> DeviceError {
    DeviceError::new(kind, message)
}

/// The virtual acceptor and the physical box behind it.
pub(crate) struct AcceptorMachine {
    validate_ms: u64,
    stack_ms: u64,
    return_ms: u64,
    cash: BoxState,
    enabled: Vec<Money>,
    inhibited: bool,
    path: Path,
    jam: Option<Jam>,
    offline: bool,
    found_at_power_up: NoteAtPowerUp,
    queue: VecDeque<Queued>,
    held: Vec<AcceptorEvent>,
    timeline: VecDeque<TimedEntry>,
    log: LogSink,
    plan: FaultPlan<AcceptorFault>,
    inserted: u64,
    stacks: u64,
    /// Power-up reports made so far (what `nth-call` of a
    /// `misreport-power-up` counts).
    power_ups: u64,
    /// Jam clearings so far (what `nth-call` of a `misreport-jam-fate` counts).
    jam_clearings: u64,
    /// Reports handed to a host so far, repeats included (what `nth-call`
    /// of a `kiosk-power-loss-before-ack` counts).
    handed_over: u64,
    /// The report at the head of the queue was handed to the host now
    /// connected; its next call acknowledges it (removes it).
    head_handed: bool,
    /// Hosts the head report was handed to so far (more than one: it is
    /// being repeated to a host that started after one died).
    head_deliveries: u32,
    /// A `kiosk-power-loss-before-ack` struck the report handed over: the
    /// host loses power before its next call reaches the device (the
    /// outage's length, ms).
    host_dies: Option<u64>,
    returned_to_customer: Vec<Money>,
    retrieved_by_staff: Vec<Money>,
}

impl AcceptorMachine {
    pub(crate) fn new(
        config: &AcceptorConfig,
        cash: BoxState,
        rng: SimRng,
    ) -> Result<AcceptorMachine, ConfigError> {
        let mut consulted = Vec::new();
        let mut timeline = Vec::new();
        for rule in &config.faults {
            rule.fault.check(&rule.trigger)?;
            if !rule.fault.is_timed(&rule.trigger) {
                consulted.push(rule.clone());
                continue;
            }
            let (start, end) = match rule.trigger {
                Trigger::At { at_ms } => (Millis(at_ms), None),
                Trigger::Between { from_ms, until_ms } => (Millis(from_ms), until_ms.map(Millis)),
                _ => unreachable!("checked: timed faults have timed triggers"),
            };
            let (begin, finish) = match rule.fault {
                AcceptorFault::Offline {} => (TimedAction::GoOffline, TimedAction::BackOnline),
                AcceptorFault::StackerRemoved {} => {
                    (TimedAction::RemoveBox, TimedAction::ReplaceBox)
                }
                AcceptorFault::PowerCycle { .. } => {
                    (TimedAction::PowerCycle, TimedAction::PowerCycle)
                }
                _ => unreachable!("only offline, stacker-removed and power-cycle are timed"),
            };
            timeline.push(TimedEntry {
                at: start,
                action: begin,
                fault: rule.fault,
                end: false,
            });
            if let Some(end) = end {
                timeline.push(TimedEntry {
                    at: end,
                    action: finish,
                    fault: rule.fault,
                    end: true,
                });
            }
        }
        // Stable: equal times keep their configuration order.
        timeline.sort_by_key(|entry| entry.at);
        Ok(AcceptorMachine {
            validate_ms: config.validate_ms,
            stack_ms: config.stack_ms,
            return_ms: config.return_ms,
            cash,
            enabled: Vec::new(),
            inhibited: true,
            path: Path::Idle,
            jam: None,
            offline: false,
            found_at_power_up: NoteAtPowerUp::None,
            queue: VecDeque::new(),
            held: Vec::new(),
            timeline: timeline.into(),
            log: LogSink::default(),
            plan: FaultPlan::new(consulted, rng)?,
            inserted: 0,
            stacks: 0,
            power_ups: 0,
            jam_clearings: 0,
            handed_over: 0,
            head_handed: false,
            head_deliveries: 0,
            host_dies: None,
            returned_to_customer: Vec::new(),
            retrieved_by_staff: Vec::new(),
        })
    }

    fn note_fault(&self, at: Millis, fault: Option<AcceptorFault>) {
        if let Some(fault) = fault {
            self.log.record(at, &fault);
        }
    }

    pub(crate) fn set_log(&mut self, log: LogSink) {
        self.log = log;
    }

    pub(crate) fn cash(&self) -> &BoxState {
        &self.cash
    }

    pub(crate) fn returned_to_customer(&self) -> &[Money] {
        &self.returned_to_customer
    }

    pub(crate) fn retrieved_by_staff(&self) -> &[Money] {
        &self.retrieved_by_staff
    }

    fn emit(&mut self, event: AcceptorEvent) {
        if self.offline {
            self.held.push(event);
        } else {
            self.queue.push_back(Queued::Event(event));
        }
    }

    fn online(&self) -> Result<(), DeviceError> {
        if self.offline {
            Err(err(ErrorKind::Offline, "virtual acceptor does not answer"))
        } else {
            Ok(())
        }
    }

    // ----- the customer -----

    pub(crate) fn insert(
        &mut self,
        now: Millis,
        value: Money,
        genuine: bool,
    ) -> Result<(), SlotRefusal> {
        if self.offline {
            return Err(SlotRefusal::Unpowered);
        }
        if !matches!(self.path, Path::Idle) || self.jam.is_some() {
            return Err(SlotRefusal::Busy);
        }
        self.inserted += 1;
        self.path = Path::Validating {
            value,
            genuine,
            number: self.inserted,
            done_at: now.plus_ms(self.validate_ms),
        };
        Ok(())
    }

    // ----- the host (BillAcceptor) -----

    pub(crate) fn enable(&mut self, accepted: &[Money]) -> Result<(), DeviceError> {
        self.online()?;
        self.enabled = accepted.to_vec();
        self.inhibited = false;
        Ok(())
    }

    pub(crate) fn inhibit(&mut self) -> Result<(), DeviceError> {
        self.online()?;
        self.inhibited = true;
        Ok(())
    }

    /// A call from the host reaches the device: it acknowledges the report
    /// last handed over, which leaves the queue (as an ID-003 host
    /// acknowledges a status by its next poll). Returns `false` when a
    /// `kiosk-power-loss-before-ack` struck that report: the host lost
    /// power before this call reached the device, nothing is acknowledged,
    /// and the call never arrives.
    pub(crate) fn host_call(&mut self) -> Result<(), u64> {
        if let Some(down_ms) = self.host_dies.take() {
            self.host_lost_power();
            return Err(down_ms);
        }
        if std::mem::take(&mut self.head_handed) {
            self.queue.pop_front();
            self.head_deliveries = 0;
        }
        Ok(())
    }

    /// The host lost power (any kiosk power loss): what it was handed and
    /// did not acknowledge stays at the head of the queue and is handed
    /// again to the next host, as often as it takes.
    pub(crate) fn host_lost_power(&mut self) {
        self.head_handed = false;
        self.host_dies = None;
    }

    /// Hands the head of the queue to the host, keeping it until the host's
    /// next call acknowledges it ([`AcceptorMachine::host_call`]). Must
    /// follow a `host_call` (the last report acknowledged).
    pub(crate) fn pop_event(&mut self, now: Millis) -> Option<Result<AcceptorEvent, DeviceError>> {
        debug_assert!(!self.head_handed, "a host call acknowledges first");
        match self.queue.front()? {
            Queued::WentOffline => {
                self.queue.pop_front();
                Some(Err(err(
                    ErrorKind::Offline,
                    "virtual acceptor stopped answering",
                )))
            }
            Queued::Event(event) => {
                let event = *event;
                self.head_handed = true;
                self.head_deliveries += 1;
                if self.head_deliveries > 1 {
                    self.log.record(now, &ReportRepeated(event));
                }
                self.handed_over += 1;
                let n = self.handed_over;
                let dies = self
                    .plan
                    .active_by(now, |rule| {
                        matches!(rule.fault, AcceptorFault::KioskPowerLossBeforeAck { .. })
                            .then_some(n)
                    })
                    .cloned();
                if let Some(fault @ AcceptorFault::KioskPowerLossBeforeAck { down_ms }) = dies {
                    self.log.record(now, &fault);
                    self.host_dies = Some(down_ms);
                }
                Some(Ok(event))
            }
        }
    }

    pub(crate) fn stack(&mut self, now: Millis) -> Result<(), DeviceError> {
        self.online()?;
        if self.jam.is_some() {
            return Err(err(ErrorKind::Jam, "a note is jammed"));
        }
        let Path::Escrow { value } = self.path else {
            return Err(err(ErrorKind::InvalidState, "no note in escrow"));
        };
        if !self.cash.present() {
            self.emit(AcceptorEvent::StackerRemoved);
            return Ok(());
        }
        if self.cash.level() == FillLevel::Full {
            self.emit(AcceptorEvent::StackerFull);
            return Ok(());
        }
        self.stacks += 1;
        let stacks = self.stacks;
        let fault = self
            .plan
            .active_by(now, |rule| {
                rule.fault.on_stack(&rule.trigger).then_some(stacks)
            })
            .cloned();
        let end = match fault {
            Some(AcceptorFault::JamInAcceptor {
                fate,
                clear_after_ms,
            }) => StackEnd::Jam {
                location: JamLocation::Acceptor,
                fate,
                clear_after_ms,
            },
            Some(AcceptorFault::JamInStacker {
                fate,
                clear_after_ms,
            }) => StackEnd::Jam {
                location: JamLocation::Stacker,
                fate,
                clear_after_ms,
            },
            Some(AcceptorFault::PowerCycle {
                stack_percent: Some(percent),
            }) => StackEnd::PowerCut {
                at: into_stacking(now, self.stack_ms, percent),
            },
            _ => StackEnd::Stacked,
        };
        self.path = Path::Stacking {
            value,
            started_at: now,
            done_at: now.plus_ms(self.stack_ms),
            end,
            fault,
        };
        Ok(())
    }

    pub(crate) fn return_note(&mut self, now: Millis) -> Result<(), DeviceError> {
        self.online()?;
        let Path::Escrow { value } = self.path else {
            return Err(err(ErrorKind::InvalidState, "no note in escrow"));
        };
        self.path = Path::Returning {
            value,
            started_at: now,
            done_at: now.plus_ms(self.return_ms),
        };
        Ok(())
    }

    pub(crate) fn status(&self) -> Result<AcceptorStatus, DeviceError> {
        self.online()?;
        Ok(if self.jam.is_some() {
            AcceptorStatus::Jammed
        } else if !self.cash.present() {
            AcceptorStatus::StackerRemoved
        } else if self.cash.level() == FillLevel::Full {
            AcceptorStatus::StackerFull
        } else if matches!(
            self.path,
            Path::Escrow { .. } | Path::Stacking { .. } | Path::Returning { .. }
        ) {
            AcceptorStatus::Escrow
        } else if self.inhibited || self.enabled.is_empty() {
            AcceptorStatus::Inhibited
        } else {
            AcceptorStatus::Accepting
        })
    }

    pub(crate) fn reset(&mut self, now: Millis) -> Result<(), DeviceError> {
        self.online()?;
        if self.jam.is_some() {
            self.clear_jam(now);
        }
        if let Path::Escrow { value } = self.path {
            self.path = Path::Idle;
            self.returned_to_customer.push(value);
            self.emit(AcceptorEvent::Returned { value });
        }
        Ok(())
    }

    // ----- staff -----

    pub(crate) fn remove_box(&mut self) -> Vec<Money> {
        if self.cash.present() {
            self.cash.set_present(false);
            self.emit(AcceptorEvent::StackerRemoved);
        }
        self.cash.take_all()
    }

    pub(crate) fn insert_box(&mut self) {
        if !self.cash.present() {
            self.cash.set_present(true);
            self.emit(AcceptorEvent::StackerReplaced);
        }
    }

    // ----- what time does -----

    fn finish_path(&mut self, at: Millis) {
        match std::mem::replace(&mut self.path, Path::Idle) {
            Path::Validating {
                value,
                genuine,
                number,
                ..
            } => self.verdict(at, value, genuine, number),
            Path::Stacking {
                value,
                started_at,
                done_at,
                end,
                fault,
            } => match end {
                StackEnd::Stacked => {
                    self.cash.push(value);
                    self.emit(AcceptorEvent::Stacked { value });
                    if self.cash.level() == FillLevel::Full {
                        self.emit(AcceptorEvent::StackerFull);
                    }
                }
                StackEnd::Jam {
                    location,
                    fate,
                    clear_after_ms,
                } => {
                    self.note_fault(at, fault);
                    if location == JamLocation::Stacker && fate == NoteFate::InCashBox {
                        self.cash.push(value);
                    }
                    self.jam = Some(Jam {
                        location,
                        value,
                        fate,
                        clear_at: clear_after_ms.map(|ms| at.plus_ms(ms)),
                    });
                    self.emit(AcceptorEvent::Jammed {
                        location,
                        value: Some(value),
                    });
                }
                StackEnd::PowerCut { .. } => {
                    // Power is cut while the note moves: put the path back
                    // as it was at the cut, and let physics place the note.
                    self.note_fault(at, fault);
                    self.path = Path::Stacking {
                        value,
                        started_at,
                        done_at,
                        end,
                        fault,
                    };
                    self.power_cycle(at);
                }
            },
            Path::Returning { value, .. } => {
                self.returned_to_customer.push(value);
                self.emit(AcceptorEvent::Returned { value });
            }
            idle_or_escrow => self.path = idle_or_escrow,
        }
    }

    fn verdict(&mut self, at: Millis, value: Money, genuine: bool, number: u64) {
        let fraud = self
            .plan
            .active_by(at, |rule| {
                matches!(rule.fault, AcceptorFault::Fraud { .. }).then_some(number)
            })
            .cloned();
        if let Some(fault @ AcceptorFault::Fraud { kind }) = fraud {
            self.log.record(at, &fault);
            self.returned_to_customer.push(value);
            self.emit(AcceptorEvent::Fraud { kind });
            return;
        }
        let reason = if self.inhibited {
            Some(RejectReason::Inhibited)
        } else if !genuine {
            Some(RejectReason::Counterfeit)
        } else if !self.enabled.contains(&value) {
            Some(RejectReason::Inhibited)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.returned_to_customer.push(value);
                self.emit(AcceptorEvent::Rejected { reason });
            }
            None => {
                self.path = Path::Escrow { value };
                self.emit(AcceptorEvent::Escrowed { value });
            }
        }
    }

    /// Clears the jam: the note goes where the jam's fate puts it, and the
    /// device reports that fate unless a `misreport-jam-fate` is active.
    fn clear_jam(&mut self, at: Millis) {
        let Some(jam) = self.jam.take() else {
            return;
        };
        match jam.fate {
            NoteFate::InCashBox if jam.location == JamLocation::Acceptor => {
                self.cash.push(jam.value)
            }
            // A stacker jam with this fate put the note in the box when it jammed.
            NoteFate::InCashBox => {}
            NoteFate::Returned => self.returned_to_customer.push(jam.value),
            NoteFate::Unknown => self.retrieved_by_staff.push(jam.value),
        }
        self.jam_clearings += 1;
        let n = self.jam_clearings;
        let lie = self
            .plan
            .active_by(at, |rule| {
                matches!(rule.fault, AcceptorFault::MisreportJamFate { .. }).then_some(n)
            })
            .cloned();
        let fate = match lie {
            Some(fault @ AcceptorFault::MisreportJamFate { report }) => {
                self.log.record(at, &fault);
                report
            }
            _ => jam.fate,
        };
        self.emit(AcceptorEvent::JamCleared { fate });
    }

    /// Power is cut at `at`: the note in the path ends where physics puts
    /// it (see [`Path::after_power_cut`]). Returns what the device's
    /// sensors will find when power is back.
    fn lose_power(&mut self, at: Millis) -> NoteAtPowerUp {
        let after = std::mem::replace(&mut self.path, Path::Idle).after_power_cut(at);
        self.settle(after);
        after.sensed()
    }

    /// Puts a note where a power cut left it.
    fn settle(&mut self, after: AfterCut) {
        match after {
            AfterCut::Empty => {}
            AfterCut::InAcceptor(value) | AfterCut::AtCustomer(value) => {
                self.returned_to_customer.push(value)
            }
            AfterCut::InBox(value) => self.cash.push(value),
        }
    }

    /// Power is back: the device comes up inhibited and reports what it
    /// found, `found`, unless a `misreport-power-up` is active.
    fn power_up(&mut self, at: Millis, found: NoteAtPowerUp) {
        self.power_ups += 1;
        let n = self.power_ups;
        let lie = self
            .plan
            .active_by(at, |rule| {
                matches!(rule.fault, AcceptorFault::MisreportPowerUp { .. }).then_some(n)
            })
            .cloned();
        let note = match lie {
            Some(fault @ AcceptorFault::MisreportPowerUp { report }) => {
                self.log.record(at, &fault);
                report
            }
            _ => found,
        };
        self.inhibited = true;
        self.emit(AcceptorEvent::PowerUp { note });
    }

    /// Power is cut at `at` and comes back at once.
    fn power_cycle(&mut self, at: Millis) {
        if self.offline {
            return;
        }
        let found = self.lose_power(at);
        self.power_up(at, found);
    }

    /// The device is switched on with `left` in its path, left there by a
    /// power cut before it was (the ID-003 emulator's start): the note is
    /// settled and the device reports its first power-up.
    pub(crate) fn power_on(&mut self, now: Millis, left: AfterCut) {
        debug_assert!(
            matches!(self.path, Path::Idle),
            "power_on is the first thing"
        );
        self.settle(left);
        self.power_up(now, left.sensed());
    }

    fn timed(&mut self, entry: TimedEntry) {
        if entry.end {
            self.log
                .record(entry.at, &format_args!("end of {:?}", entry.fault));
        } else {
            self.log.record(entry.at, &entry.fault);
        }
        match entry.action {
            TimedAction::GoOffline if !self.offline => {
                self.found_at_power_up = self.lose_power(entry.at);
                self.offline = true;
                self.queue.push_back(Queued::WentOffline);
            }
            TimedAction::BackOnline if self.offline => {
                self.offline = false;
                let found = std::mem::replace(&mut self.found_at_power_up, NoteAtPowerUp::None);
                self.power_up(entry.at, found);
                for event in std::mem::take(&mut self.held) {
                    self.emit(event);
                }
            }
            TimedAction::PowerCycle => self.power_cycle(entry.at),
            TimedAction::RemoveBox if self.cash.present() => {
                self.cash.set_present(false);
                self.emit(AcceptorEvent::StackerRemoved);
            }
            TimedAction::ReplaceBox => self.insert_box(),
            _ => {}
        }
    }
}

impl Machine for AcceptorMachine {
    fn advance(&mut self, now: Millis) {
        loop {
            let due = [
                self.path.deadline(),
                self.jam.and_then(|j| j.clear_at),
                self.timeline.front().map(|entry| entry.at),
            ];
            // Earliest first; on a tie the note's path, then the jam, then the timeline.
            let mut next: Option<(usize, Millis)> = None;
            for (source, at) in due.iter().enumerate() {
                if let Some(at) = *at {
                    if at <= now && next.is_none_or(|(_, best)| at < best) {
                        next = Some((source, at));
                    }
                }
            }
            match next {
                None => break,
                Some((0, at)) => self.finish_path(at),
                Some((1, at)) => self.clear_jam(at),
                Some(_) => {
                    if let Some(entry) = self.timeline.pop_front() {
                        self.timed(entry);
                    }
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Millis> {
        [
            self.path.deadline(),
            self.jam.and_then(|j| j.clear_at),
            self.timeline.front().map(|entry| entry.at),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
