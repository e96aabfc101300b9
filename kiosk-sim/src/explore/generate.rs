//! Seed → scenario: the rates first, then customers and faults at random instants.
//!
//! The scenario is an ordinary drill [`Scenario`], so everything the drill
//! runner stages (virtual devices with fault plans, the virtual backend, a
//! real journal file, kiosk power losses, staff and commands) is what the
//! explorer exercises, and a failing run can be written out as a scenario
//! file.
//!
//! Time line of a generated run: customers arrive from 3 s on; faults,
//! power losses, staff actions and commands fall anywhere in the busy
//! period (until 20 s after the last planned arrival); then a quiet tail of
//! [`TAIL_MS`] with no planned fault starts, so the end-of-run checks can
//! demand that everything has settled. Faults drawn per operation
//! (probabilities) can still strike in the tail; the end checks look at
//! when the last fault really struck before they apply.

use std::collections::BTreeMap;

use kiosk_core::{KioskConfig, StaffCommand};
use kiosk_hal::{AccountNumber, Currency, FraudKind, Money, NoteFate, PaymentMethod};

use super::rates::Rates;
use crate::backend::{Account, AccountStatus, BackendConfig, LinkConfig};
use crate::devices::{AcceptorConfig, AcceptorFault, PrinterConfig, PrinterFault, ReaderConfig};
use crate::drill::scenario::{
    AccountChange, CustomerScript, Expectations, Finish, NoteSpec, PowerLoss, ScheduledCommand,
    StaffAction, StaffDoes,
};
use crate::drill::Scenario;
use crate::faults::{LinkFault, LinkOp};
use crate::rng::SimRng;
use crate::{FaultRule, Trigger};

/// The quiet tail after the busy period (virtual ms): long enough for the
/// end checks' [`HEALTHY_MS`](super::checks::HEALTHY_MS) plus a customer
/// who waited their full patience.
pub const TAIL_MS: u64 = 150_000;

/// Accounts that can be paid.
const OPEN_ACCOUNTS: [&str; 4] = ["1001", "1002", "1003", "1004"];

/// The people who may open a clearing.
const OPERATORS: [&str; 2] = ["王经理", "李出纳"];

/// A generated run: the rates the seed picked and the scenario they gave.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The rates.
    pub rates: Rates,
    /// The scenario.
    pub scenario: Scenario,
}

struct Gen {
    rng: SimRng,
    rates: Rates,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.rng.below(hi.saturating_sub(lo).max(1))
    }

    fn pick<T: Copy>(&mut self, menu: &[T]) -> T {
        menu[self.rng.below(menu.len() as u64) as usize]
    }
}

/// Generates the run for `seed`: rates, then the scenario.
pub fn generate(seed: u64) -> Generated {
    let root = SimRng::new(seed);
    let rates = Rates::draw(&mut root.fork("explore-rates"));
    let mut g = Gen {
        rng: root.fork("explore-scenario"),
        rates: rates.clone(),
    };
    let mut scenario = build(&mut g, seed);
    // From a stream of its own, so that every other draw, and so every
    // seed's scenario apart from this fault, is what it was before it.
    let mut own = root.fork("explore-repeats");
    if let Some(rule) = report_power_loss(&mut own, rates.report_power_losses) {
        scenario.acceptor.faults.push(rule);
    }
    Generated { rates, scenario }
}

/// The kiosk loses power after taking an acceptor report and before
/// acknowledging it, with probability `p` per report handed over (repeats
/// included, so the same report may reach several lives in a row). The
/// outage is short (the next life takes the report at once), a restart's
/// length, or long enough that customers walk away.
fn report_power_loss(rng: &mut SimRng, p: f64) -> Option<FaultRule<AcceptorFault>> {
    (p > 0.0).then(|| {
        let down_ms = [200, 2_000, 20_000][rng.below(3) as usize];
        FaultRule::new(
            Trigger::Probability { p },
            AcceptorFault::KioskPowerLossBeforeAck { down_ms },
        )
    })
}

fn build(g: &mut Gen, seed: u64) -> Scenario {
    let (customers, busy_end) = customers(g);
    let arrivals: Vec<u64> = customers.iter().map(|c| c.arrive_ms).collect();
    let near_customer = |g: &mut Gen| {
        let base = arrivals[g.rng.below(arrivals.len() as u64) as usize];
        base + g.between(0, 25_000)
    };
    // Windows that open here are closed by `busy_end`.
    let anywhere = |g: &mut Gen| g.between(1_000, busy_end - 1_000);

    let acceptor = acceptor(g, &near_customer, &anywhere, busy_end);
    let (printer, printer_service) = printer(g, &anywhere, busy_end);
    let link = link(g, &anywhere, busy_end);
    let power_losses = power_losses(g, &near_customer);
    let (commands, staff) = operations(g, &anywhere, printer_service, busy_end);
    let account_changes = refusals(g, &customers);
    let reader = (g.rates.cash_share < 1.0).then(ReaderConfig::default);

    let kiosk = KioskConfig {
        retry_max_ms: 8_000,
        authorised_operators: OPERATORS.iter().map(|s| s.to_string()).collect(),
        ..KioskConfig::default()
    };
    Scenario {
        id: format!("explore-{seed}"),
        title: format!("explorer run, seed {seed}"),
        title_zh: Some(format!("随机探索运行，种子 {seed}")),
        description: String::new(),
        duration_ms: busy_end + TAIL_MS,
        kiosk,
        acceptor,
        cash_box: Default::default(),
        printer,
        reader,
        link,
        backup_link: None,
        failover: Default::default(),
        driver_failures: Vec::new(),
        supervisor: Default::default(),
        backend: backend(g),
        customers,
        power_losses,
        commands,
        staff,
        account_changes,
        expect: Expectations::default(),
        site: Default::default(),
        site_drill: None,
    }
}

fn backend(g: &mut Gen) -> BackendConfig {
    let cny = Currency::CNY;
    let mut accounts = BTreeMap::new();
    for (i, number) in OPEN_ACCOUNTS.iter().enumerate() {
        let due = g.pick(&[30, 120, 500, 2_000]);
        accounts.insert(
            AccountNumber(number.to_string().into()),
            Account {
                holder_name: format!("客户{i}"),
                amount_due: Money::major(due, cny),
                balance: Money::zero(cny),
                status: AccountStatus::Open,
            },
        );
    }
    for (number, status) in [
        ("1098", AccountStatus::NotPayable),
        ("1099", AccountStatus::Closed),
    ] {
        accounts.insert(
            AccountNumber(number.to_string().into()),
            Account {
                holder_name: "停用".into(),
                amount_due: Money::zero(cny),
                balance: Money::zero(cny),
                status,
            },
        );
    }
    BackendConfig {
        currency: cny,
        accounts,
    }
}

/// The customers and the end of the busy period.
fn customers(g: &mut Gen) -> (Vec<CustomerScript>, u64) {
    let mut out = Vec::new();
    let mut codes: Vec<String> = Vec::new();
    let mut t = 3_000;
    for _ in 0..g.rates.customers {
        let account = if g.chance(0.1) {
            g.pick(&["1098", "1099", "2000"]).to_string()
        } else {
            g.pick(&OPEN_ACCOUNTS).to_string()
        };
        let cash = g.chance(g.rates.cash_share);
        let think_ms = g.pick(&[300, 1_000, 2_500]);
        let finish = if g.chance(g.rates.not_confirming) {
            g.pick(&[Finish::Cancel, Finish::IdleTimeout])
        } else {
            Finish::Confirm
        };
        let mut notes = Vec::new();
        let mut code = None;
        if cash {
            let count = 1 + g.rng.below(u64::from(g.rates.notes_max));
            for _ in 0..count {
                let value = if g.chance(g.rates.odd_notes) {
                    g.pick(&[1, 5])
                } else {
                    g.pick(&[10, 20, 20, 50, 50, 100])
                };
                let genuine = !g.chance(g.rates.counterfeit);
                notes.push(if genuine {
                    NoteSpec::Genuine(value)
                } else {
                    NoteSpec::Detailed {
                        value,
                        genuine: false,
                    }
                });
            }
        } else {
            let digits = if !codes.is_empty() && g.chance(g.rates.reused_codes) {
                codes[g.rng.below(codes.len() as u64) as usize].clone()
            } else if g.chance(0.05) {
                "99123".to_string() // not a payment code
            } else {
                let mut d = String::from("13");
                for _ in 0..16 {
                    d.push(char::from(b'0' + g.rng.below(10) as u8));
                }
                d
            };
            codes.push(digits.clone());
            code = Some(digits);
        }
        let busy = 8_000
            + think_ms * (3 + notes.len() as u64)
            + 3_000 * notes.len() as u64
            + if finish == Finish::IdleTimeout {
                30_000
            } else {
                0
            };
        out.push(CustomerScript {
            arrive_ms: t,
            account,
            method: if cash {
                PaymentMethod::Cash
            } else {
                PaymentMethod::Code
            },
            notes,
            code,
            finish,
            think_ms,
        });
        t += busy + g.between(0, 30_000);
    }
    (out, t + 20_000)
}

fn fate(g: &mut Gen) -> NoteFate {
    g.pick(&[NoteFate::Returned, NoteFate::InCashBox, NoteFate::Unknown])
}

/// How far into a stacking a power cut lands (the device decides from
/// that, truthfully, whether the note reached the box).
fn stack_percent(g: &mut Gen) -> u8 {
    g.between(0, 100) as u8
}

fn acceptor(
    g: &mut Gen,
    near_customer: &dyn Fn(&mut Gen) -> u64,
    anywhere: &dyn Fn(&mut Gen) -> u64,
    busy_end: u64,
) -> AcceptorConfig {
    let mut faults = Vec::new();
    // Clock faults first: power cycles at any instant, offline windows.
    for _ in 0..g.rates.power_cycles {
        let at_ms = near_customer(g);
        faults.push(FaultRule::new(
            Trigger::At { at_ms },
            AcceptorFault::PowerCycle {
                stack_percent: None,
            },
        ));
    }
    for _ in 0..g.rates.acceptor_offline {
        let from_ms = anywhere(g);
        let until = (from_ms + g.between(2_000, 40_000)).min(busy_end);
        faults.push(FaultRule::new(
            Trigger::Between {
                from_ms,
                until_ms: Some(until),
            },
            AcceptorFault::Offline {},
        ));
    }
    // Per-stack faults: two jam rules of different kinds, a power cycle.
    if g.rates.jam > 0.0 {
        for _ in 0..2 {
            let fate = fate(g);
            let clear_after_ms = if g.chance(g.rates.jam_stuck) {
                None
            } else {
                Some(g.pick(&[3_000, 10_000, 30_000]))
            };
            let fault = if g.chance(0.5) {
                AcceptorFault::JamInAcceptor {
                    fate,
                    clear_after_ms,
                }
            } else {
                AcceptorFault::JamInStacker {
                    fate,
                    clear_after_ms,
                }
            };
            faults.push(FaultRule::new(
                Trigger::Probability {
                    p: g.rates.jam / 2.0,
                },
                fault,
            ));
        }
    }
    if g.rates.stack_power_cycle > 0.0 {
        let stack_percent = Some(stack_percent(g));
        faults.push(FaultRule::new(
            Trigger::Probability {
                p: g.rates.stack_power_cycle,
            },
            AcceptorFault::PowerCycle { stack_percent },
        ));
    }
    if g.rates.fraud > 0.0 {
        let kind = g.pick(&[
            FraudKind::StringOrFishing,
            FraudKind::Optical,
            FraudKind::Tamper,
        ]);
        faults.push(FaultRule::new(
            Trigger::Probability { p: g.rates.fraud },
            AcceptorFault::Fraud { kind },
        ));
    }
    AcceptorConfig {
        validate_ms: g.pick(&[800, 1_500]),
        faults,
        ..AcceptorConfig::default()
    }
}

/// The printer, and when a technician services it (if it had faults).
fn printer(
    g: &mut Gen,
    anywhere: &dyn Fn(&mut Gen) -> u64,
    busy_end: u64,
) -> (PrinterConfig, Option<u64>) {
    let mut faults = Vec::new();
    for _ in 0..g.rates.printer_faults {
        let fault = g.pick(&[
            PrinterFault::PaperOut,
            PrinterFault::Jam,
            PrinterFault::CoverOpen,
            PrinterFault::Offline,
            PrinterFault::Unknown,
        ]);
        let trigger = match g.rng.below(3) {
            0 => Trigger::At { at_ms: anywhere(g) },
            1 => {
                let from_ms = anywhere(g);
                Trigger::Between {
                    from_ms,
                    until_ms: Some((from_ms + g.between(5_000, 60_000)).min(busy_end)),
                }
            }
            _ => Trigger::NthCall {
                n: 1 + g.rng.below(u64::from(g.rates.customers)),
            },
        };
        faults.push(FaultRule::new(trigger, fault));
    }
    let service = (!faults.is_empty()).then_some(busy_end);
    (
        PrinterConfig {
            faults,
            ..PrinterConfig::default()
        },
        service,
    )
}

fn link(g: &mut Gen, anywhere: &dyn Fn(&mut Gen) -> u64, busy_end: u64) -> LinkConfig {
    let mut faults = Vec::new();
    for _ in 0..g.rates.link_drops {
        let from_ms = anywhere(g);
        let until = (from_ms + g.between(3_000, 60_000)).min(busy_end);
        let on = g.pick(&[LinkOp::Any, LinkOp::Post]);
        let fault = if g.chance(0.2) {
            LinkFault::Slow {
                latency_ms: g.pick(&[3_000, 12_000, 20_000]),
                on,
            }
        } else {
            LinkFault::Down {
                fail_after_ms: g.pick(&[200, 1_000, 5_000]),
                on,
            }
        };
        faults.push(FaultRule::new(
            Trigger::Between {
                from_ms,
                until_ms: Some(until),
            },
            fault,
        ));
    }
    // Lost and garbled answers on the n-th posting (so they cannot strike for
    // ever): each of the first postings independently at the run's rate.
    let postings = 2 * u64::from(g.rates.customers) + 2;
    for n in 1..=postings {
        if g.chance(g.rates.lost_answers) {
            let timeout_ms = g.pick(&[1_000, 5_000, 20_000]);
            faults.push(FaultRule::new(
                Trigger::NthCall { n },
                LinkFault::LoseAnswer {
                    timeout_ms,
                    on: LinkOp::Post,
                },
            ));
        } else if g.chance(g.rates.nonsense) {
            faults.push(FaultRule::new(
                Trigger::NthCall { n },
                LinkFault::Nonsense { on: LinkOp::Post },
            ));
        }
    }
    for n in 1..=u64::from(g.rates.customers) {
        if g.chance(g.rates.lost_lookups) {
            faults.push(FaultRule::new(
                Trigger::NthCall { n },
                LinkFault::LoseAnswer {
                    timeout_ms: 5_000,
                    on: LinkOp::Lookup,
                },
            ));
        }
    }
    LinkConfig {
        latency_ms: g.pick(&[50, 200, 800]),
        faults,
    }
}

fn power_losses(g: &mut Gen, near_customer: &dyn Fn(&mut Gen) -> u64) -> Vec<PowerLoss> {
    let mut starts: Vec<u64> = (0..g.rates.power_losses)
        .map(|_| near_customer(g))
        .collect();
    starts.sort_unstable();
    let mut out: Vec<PowerLoss> = Vec::new();
    for at in starts {
        let earliest = out.last().map_or(0, |p| p.at_ms + p.down_ms + 1_000);
        let down_ms = g.pick(&[200, 2_000, 20_000]);
        out.push(PowerLoss {
            at_ms: at.max(earliest),
            down_ms,
        });
    }
    out
}

/// Commands and staff actions: box removals, clearings, restarts, self-tests,
/// the printer's service.
fn operations(
    g: &mut Gen,
    anywhere: &dyn Fn(&mut Gen) -> u64,
    printer_service: Option<u64>,
    busy_end: u64,
) -> (Vec<ScheduledCommand>, Vec<StaffAction>) {
    let mut commands = Vec::new();
    let mut staff = Vec::new();
    for _ in 0..g.rates.box_removals {
        let at = anywhere(g);
        staff.push(StaffAction {
            at_ms: at,
            action: StaffDoes::RemoveCashBox,
        });
        let back = at + g.between(1_000, 30_000);
        staff.push(StaffAction {
            at_ms: back,
            action: StaffDoes::InsertCashBox,
        });
        // A removal outside a clearing takes the kiosk out of service
        // until staff have looked and put it back in service.
        commands.push(ScheduledCommand {
            at_ms: back + 5_000,
            command: StaffCommand::Enable,
        });
    }
    if g.rates.box_removals + g.rates.clearings > 0 {
        // A late report of a removal (the acceptor was offline), or a
        // clearing cut short by a power loss (the open clearing does not
        // survive a restart), takes the kiosk out of service again: staff
        // check once more at the end.
        commands.push(ScheduledCommand {
            at_ms: busy_end + 2_000,
            command: StaffCommand::Enable,
        });
    }
    for _ in 0..g.rates.clearings {
        let at = anywhere(g);
        let operators = [OPERATORS[0].to_string(), OPERATORS[1].to_string()];
        commands.push(ScheduledCommand {
            at_ms: at,
            command: StaffCommand::BeginClearing { operators },
        });
        staff.push(StaffAction {
            at_ms: at + 5_000,
            action: StaffDoes::RemoveCashBox,
        });
        staff.push(StaffAction {
            at_ms: at + 15_000,
            action: StaffDoes::InsertCashBox,
        });
        commands.push(ScheduledCommand {
            at_ms: at + 20_000,
            command: StaffCommand::EndClearing {
                counted: Money::zero(Currency::CNY),
                counted_notes: None,
                counterfeit_found: 0,
                settle: Vec::new(),
            },
        });
    }
    for _ in 0..g.rates.commands {
        let command = g.pick(&[0, 1, 2]);
        let command = match command {
            0 => StaffCommand::Restart,
            1 => StaffCommand::SelfTest,
            _ => StaffCommand::PrintTest,
        };
        commands.push(ScheduledCommand {
            at_ms: anywhere(g),
            command,
        });
    }
    if let Some(at_ms) = printer_service {
        staff.push(StaffAction {
            at_ms,
            action: StaffDoes::ServicePrinter,
        });
        commands.push(ScheduledCommand {
            at_ms: at_ms + 1_000,
            command: StaffCommand::ReprintReceipts,
        });
    }
    // The runner sends commands in list order, each when its time comes.
    commands.sort_by_key(|c| c.at_ms);
    staff.sort_by_key(|s| s.at_ms);
    (commands, staff)
}

/// Accounts closed while their customer pays, reopened half a minute later.
fn refusals(g: &mut Gen, customers: &[CustomerScript]) -> Vec<AccountChange> {
    let mut out = Vec::new();
    let open: Vec<&CustomerScript> = customers
        .iter()
        .filter(|c| OPEN_ACCOUNTS.contains(&c.account.as_str()))
        .collect();
    if open.is_empty() {
        return out;
    }
    for _ in 0..g.rates.refusals {
        let c = open[g.rng.below(open.len() as u64) as usize];
        // Between the account check (just after arrival) and the posting
        // (after the notes), so that the posting is what the backend refuses.
        let notes = c.notes.len() as u64;
        let paying = c.think_ms * (2 + notes) + 3_000 * notes + 2_000;
        let at = c.arrive_ms + g.between(1_500, 1_500 + paying);
        out.push(AccountChange {
            at_ms: at,
            account: c.account.clone(),
            status: g.pick(&[AccountStatus::Closed, AccountStatus::NotPayable]),
        });
        out.push(AccountChange {
            at_ms: at + 30_000,
            account: c.account.clone(),
            status: AccountStatus::Open,
        });
    }
    out.sort_by_key(|c| c.at_ms);
    out
}
