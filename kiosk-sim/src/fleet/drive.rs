//! The engine and each kiosk's executor: what goes into the machine, what
//! it reported, and its calls and timers as queue events.
//!
//! # Idle ticks
//!
//! Between customers the machine checks its devices every
//! `health-check-interval-ms` and sends the backend a heartbeat every
//! `link-probe-interval-ms`: thousands of wake-ups per kiosk-hour. Once an
//! idle tick has changed nothing (no event, no journal write, and no
//! acceptor fault whose reset it retries), every further tick gives the
//! same answers to the same machine until a device or the link changes, or
//! one of the machine's own deadlines comes
//! ([`KioskMachine::next_watch_deadline`](kiosk_core::machine::KioskMachine::next_watch_deadline)).
//! The engine then lets the kiosk be *quiet*: it wakes the machine only at
//! those deadlines, and, when the fault model changes a device, at the
//! next tick of its health-check grid, where the machine finds the change
//! exactly as if it had kept ticking. A customer's action wakes it at once.

use kiosk_core::events::DeviceKind;
use kiosk_core::CustomerAction;

use super::customer::Act;
use super::events::Event;
use super::executor::{Executor, Io, Notice};
use super::sim::Engine;

impl Engine<'_> {
    /// Runs `f` on kiosk `k`'s executor with the world it answers from,
    /// then handles what the machine reported and schedules what it waits for.
    pub(super) fn drive(
        &mut self,
        k: usize,
        f: impl FnOnce(&mut Executor, &mut Io, &mut Vec<Notice>),
    ) {
        {
            let kiosk = &mut self.kiosks[k];
            let visit = kiosk.busy.as_mut().and_then(|b| b.visit.as_mut());
            let mut io = Io {
                actual: kiosk.actual,
                rng: &mut kiosk.io_rng,
                ctx: &self.ctx,
                visit,
            };
            f(&mut kiosk.exec, &mut io, &mut self.notices);
        }
        self.settle(k);
    }

    /// The software of kiosk `k` starts (at the beginning, or after a crash).
    pub(super) fn boot(&mut self, k: usize) {
        let now = self.now;
        self.drive(k, |e, io, n| e.boot(now, io, n));
    }

    /// Gives kiosk `k`'s machine `input`.
    pub(super) fn feed(&mut self, k: usize, input: kiosk_core::machine::kiosk::Input) {
        let now = self.now;
        self.drive(k, |e, io, n| e.input(input, now, io, n));
    }

    /// After a drain: schedules the call's answer and the acceptor's
    /// report, handles what the machine reported, and sets its timer.
    fn settle(&mut self, k: usize) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if let Some(d) = kiosk.exec.reply_in.take() {
            kiosk.reply_token = kiosk.reply_token.wrapping_add(1);
            let token = kiosk.reply_token;
            self.queue.push(
                now + d,
                Event::Reply {
                    kiosk: k as u16,
                    token,
                },
            );
        }
        let kiosk = &mut self.kiosks[k];
        if let Some(d) = kiosk.exec.report_in.take() {
            kiosk.report_token = kiosk.report_token.wrapping_add(1);
            let token = kiosk.report_token;
            self.queue.push(
                now + d,
                Event::Report {
                    kiosk: k as u16,
                    token,
                },
            );
        }
        let kiosk = &mut self.kiosks[k];
        if !kiosk.ticking {
            // Anything but an idle tick (a customer, a device's report, a
            // repair) may change what the next tick finds.
            kiosk.quiet = false;
        } else if !kiosk.exec.busy() {
            kiosk.ticking = false;
            kiosk.quiet = !kiosk.exec.noisy
                && kiosk.exec.machine().is_some_and(|m| {
                    m.session_id().is_none() && !m.faults().contains_key(&DeviceKind::Acceptor)
                });
        }
        let mut notices = std::mem::take(&mut self.notices);
        for notice in notices.drain(..) {
            match notice {
                Notice::Screen(screen) => self.show(k, &screen),
                Notice::SessionEnded(outcome) => self.session_ended(k, outcome),
                Notice::TicketOpened { id, device, kind } => {
                    self.machine_detected(k, id, device, kind)
                }
                Notice::TicketResolved { id } => self.machine_resolved(k, id),
                Notice::Availability => self.availability_changed(k),
            }
        }
        if self.notices.capacity() == 0 {
            self.notices = notices;
        }
        self.check_refused(k);
        self.arm_timer(k);
        self.reindex(k);
    }

    /// Sets kiosk `k`'s timer to its machine's next deadline (only the
    /// one-shot deadlines while it is quiet).
    pub(super) fn arm_timer(&mut self, k: usize) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        let Some(m) = kiosk.exec.machine() else {
            kiosk.timer_at = None;
            return;
        };
        if kiosk.exec.busy() {
            return; // the answer comes first; the timer is set after it
        }
        let due = if kiosk.quiet && m.session_id().is_none() {
            m.next_watch_deadline()
        } else {
            m.poll_timeout()
        };
        let Some(due) = due.map(|d| d.0.max(now)) else {
            kiosk.timer_at = None;
            kiosk.timer_token = kiosk.timer_token.wrapping_add(1);
            return;
        };
        if kiosk.timer_at == Some(due) {
            return;
        }
        kiosk.timer_at = Some(due);
        kiosk.timer_token = kiosk.timer_token.wrapping_add(1);
        let token = kiosk.timer_token;
        self.queue.push(
            due,
            Event::Timer {
                kiosk: k as u16,
                token,
            },
        );
    }

    /// A device or the link of kiosk `k` changed: a quiet kiosk ticks
    /// again from the next tick of its health-check grid.
    pub(super) fn wake(&mut self, k: usize) {
        let now = self.now;
        let interval = self.config.machine.health_check_interval_ms;
        let kiosk = &mut self.kiosks[k];
        if !kiosk.quiet {
            return;
        }
        kiosk.quiet = false;
        let Some(m) = kiosk.exec.machine() else {
            return;
        };
        if kiosk.exec.busy() || m.session_id().is_some() {
            return;
        }
        let due = match m.poll_timeout() {
            Some(d) if d.0 >= now => d.0,
            _ => {
                let last = kiosk.last_tick_ms.min(now);
                last + (now - last).div_ceil(interval).max(1) * interval
            }
        };
        if kiosk.timer_at.is_some_and(|t| t <= due) {
            return;
        }
        kiosk.timer_at = Some(due);
        kiosk.timer_token = kiosk.timer_token.wrapping_add(1);
        let token = kiosk.timer_token;
        self.queue.push(
            due,
            Event::Timer {
                kiosk: k as u16,
                token,
            },
        );
    }

    pub(super) fn timer(&mut self, k: usize, token: u32) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if kiosk.timer_token != token {
            return;
        }
        kiosk.timer_at = None;
        if kiosk
            .exec
            .machine()
            .is_some_and(|m| m.session_id().is_none())
        {
            kiosk.ticking = true;
            kiosk.exec.noisy = false;
            kiosk.last_tick_ms = now;
        }
        self.drive(k, |e, io, n| e.timeout(now, io, n));
    }

    pub(super) fn reply(&mut self, k: usize, token: u32) {
        if self.kiosks[k].reply_token != token {
            return;
        }
        let now = self.now;
        self.drive(k, |e, io, n| e.reply(now, io, n));
    }

    pub(super) fn report(&mut self, k: usize, token: u32) {
        if self.kiosks[k].report_token != token {
            return;
        }
        let now = self.now;
        self.kiosks[k].ticking = false;
        self.drive(k, |e, io, n| e.report(now, io, n));
    }

    /// The customer at `k` does what they set out to do.
    pub(super) fn step(&mut self, k: usize, token: u32) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if kiosk.token != token {
            return;
        }
        let Some(busy) = kiosk.busy.as_mut().filter(|b| !b.leaving) else {
            return;
        };
        let Some(act) = busy.act.take() else {
            return;
        };
        kiosk.ticking = false;
        let customer = |a| Executor::customer(a);
        match act {
            Act::EnterAccount => {
                busy.entered = true;
                let input = customer(CustomerAction::EnterAccount {
                    account: Executor::account(),
                });
                self.feed(k, input);
            }
            Act::Choose(method) => self.feed(k, customer(CustomerAction::ChooseMethod { method })),
            Act::Cancel => self.feed(k, customer(CustomerAction::Cancel)),
            Act::Confirm => self.feed(k, customer(CustomerAction::Confirm)),
            Act::Insert { value, reject } => self.drive(k, |e, io, n| {
                if let Some(input) = e.insert(value, reject, io) {
                    e.input(input, now, io, n);
                }
            }),
            Act::Code { unreadable } => self.drive(k, |e, io, n| {
                if let Some(input) = e.code(unreadable, io) {
                    e.input(input, now, io, n);
                }
            }),
        }
    }

    /// The customer at `k` sees `screen` and may act on it.
    fn show(&mut self, k: usize, screen: &kiosk_core::Screen) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        let running = kiosk
            .exec
            .machine()
            .is_some_and(|m| m.session_id().is_some());
        let Some(busy) = kiosk.busy.as_mut().filter(|b| !b.leaving && b.entered) else {
            return;
        };
        let Some(visit) = busy.visit.as_mut() else {
            return;
        };
        if let Some((delay, act)) = visit.react(screen, running, &self.ctx) {
            busy.act = Some(act);
            kiosk.token = kiosk.token.wrapping_add(1);
            self.queue.push(
                now + delay,
                Event::Step {
                    kiosk: k as u16,
                    token: kiosk.token,
                },
            );
        }
    }

    /// A visit whose session ended without a journaled end (it ended
    /// before taking money: account refused or unreachable, cancelled at
    /// the confirmation) ends with nothing paid; one where the machine
    /// started no session at all (it offers nothing now) sends the
    /// customer elsewhere.
    fn check_refused(&mut self, k: usize) {
        let kiosk = &mut self.kiosks[k];
        let Some(m) = kiosk.exec.machine() else {
            return;
        };
        let running = m.session_id().is_some();
        let Some(busy) = kiosk.busy.as_mut() else {
            return;
        };
        if busy.leaving || !busy.entered || busy.outcome.is_some() || busy.visit.is_none() {
            return;
        }
        if running {
            busy.session_seen = true;
            return;
        }
        if kiosk.exec.busy() {
            return;
        }
        if busy.session_seen {
            self.unjournaled_no_payment += 1;
            self.session_ended(k, kiosk_core::journal::SessionOutcome::NoPayment);
        } else {
            busy.visit = None;
            self.walk_away(k);
        }
    }
}
