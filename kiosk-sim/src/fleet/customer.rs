//! One customer at a kiosk's screen: what they do when the kiosk machine
//! shows them something, and how long it takes them.
//!
//! The customer only sees screens ([`Screen`]) and only acts through the
//! screen and the acceptor/reader slots; everything else (the account
//! check, stacking, posting, printing, the deadlines) is the machine's.
//! Every draw comes from the customer's own seed, so every run of a
//! comparison serves the very same customer the same way.

use kiosk_core::Screen;
use kiosk_hal::{
    AccountAnswer, AccountInfo, AccountRefusal, Money, PaymentMethod, PostingAnswer, RejectReason,
};

use super::config::{CustomerConfig, SiteConfig, Timings};
use crate::rng::SimRng;

/// Something the customer does, after a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    /// Types the account number and presses OK.
    EnterAccount,
    /// Picks a method on the confirmation screen.
    Choose(PaymentMethod),
    /// Cancels.
    Cancel,
    /// Presses Confirm after the last note.
    Confirm,
    /// Feeds a note into the acceptor (`reject`: it will not validate).
    Insert {
        value: Money,
        reject: Option<RejectReason>,
    },
    /// Presents a payment code (`unreadable`: it will not scan).
    Code { unreadable: bool },
}

/// What every customer of a run shares.
#[derive(Debug, Clone)]
pub(crate) struct CustomerContext {
    pub(crate) timings: Timings,
    customers: CustomerConfig,
    /// Accepted notes, ascending.
    notes: Vec<Money>,
    /// Minor units in one major unit of the notes' currency (looked up
    /// once: the currency table is searched by code).
    minor_per_major: i64,
}

impl CustomerContext {
    pub(crate) fn new(config: &SiteConfig) -> CustomerContext {
        let mut notes = config.session.accepted_notes.clone();
        notes.sort();
        let minor_per_major = Money::major(1, notes[0].currency).minor;
        CustomerContext {
            minor_per_major,
            timings: config.timings.clone(),
            customers: config.customers.clone(),
            notes,
        }
    }

    pub(crate) fn changeover_ms(&self, rng: &mut SimRng) -> u64 {
        self.timings.changeover.sample_ms(rng)
    }
}

/// A customer's visit at one kiosk.
#[derive(Debug)]
pub(crate) struct Visit {
    pub(crate) rng: SimRng,
    wants: PaymentMethod,
    flexible: bool,
    /// The customer ended the visit on purpose (cancelled, gave up, refused).
    pub(crate) voluntary_end: bool,
    due_minor: i64,
    paid_minor: i64,
    note: Money,
    note_attempts: u32,
    insertions: u32,
    idle_confirm: bool,
    code_attempts: u32,
    refused: bool,
}

impl Visit {
    /// A customer (`seed` is theirs) stepping up; with the delay until they
    /// have typed their account number.
    pub(crate) fn start(
        ctx: &CustomerContext,
        seed: u64,
        wants: PaymentMethod,
        flexible: bool,
    ) -> (Visit, u64) {
        let mut rng = SimRng::new(seed);
        let c = &ctx.customers;
        let due_major = c.amount_due_min_major
            + rng.below((c.amount_due_max_major - c.amount_due_min_major) as u64 + 1) as i64;
        let refused = rng.chance(c.account_refused_share);
        let idle_confirm = rng.chance(c.idle_confirm_share);
        let mut visit = Visit {
            rng,
            wants,
            flexible,
            voluntary_end: false,
            // What `Money::major(due_major, currency).minor` gives.
            due_minor: due_major
                .checked_mul(ctx.minor_per_major)
                .expect("the amount due fits in minor units"),
            paid_minor: 0,
            note: ctx.notes[0],
            note_attempts: 0,
            insertions: 0,
            idle_confirm,
            code_attempts: 0,
            refused,
        };
        let entry_ms = ctx.timings.account_entry.sample_ms(&mut visit.rng);
        (visit, entry_ms)
    }

    /// The backend's answer about this customer's account.
    pub(crate) fn account_answer(&mut self, currency: kiosk_hal::Currency) -> AccountAnswer {
        if self.refused {
            // Another kiosk would refuse it too: the visit ends here.
            self.voluntary_end = true;
            return AccountAnswer::Refused {
                reason: AccountRefusal::Unknown,
            };
        }
        AccountAnswer::Payable(AccountInfo {
            holder_name: "张三".into(),
            amount_due: Money::new(self.due_minor, currency),
            balance: Money::new(-self.due_minor, currency),
        })
    }

    /// The backend's answer to this customer's posting of `amount`.
    pub(crate) fn posting_answer(&self, amount: Money) -> PostingAnswer {
        PostingAnswer::Credited {
            backend_ref: "BOSS-1".into(),
            new_balance: Money::new(amount.minor - self.due_minor, amount.currency),
        }
    }

    /// What the customer does about `screen` (`running`: the session is
    /// still going after it), and after how long; `None`: nothing (they
    /// wait, or the session's deadline decides).
    pub(crate) fn react(
        &mut self,
        screen: &Screen,
        running: bool,
        ctx: &CustomerContext,
    ) -> Option<(u64, Act)> {
        let t = &ctx.timings;
        let c = &ctx.customers;
        match screen {
            Screen::ConfirmAccount { .. } => {
                let act = if self.rng.chance(c.confirm_cancel_share) {
                    self.voluntary_end = true;
                    Act::Cancel
                } else {
                    Act::Choose(self.wants)
                };
                Some((t.confirm.sample_ms(&mut self.rng), act))
            }
            Screen::MethodUnavailable { offered, .. } if running => {
                let other = match self.wants {
                    PaymentMethod::Cash => PaymentMethod::Code,
                    PaymentMethod::Code => PaymentMethod::Cash,
                };
                let act = if self.flexible && offered.contains(&other) {
                    self.wants = other;
                    Act::Choose(other)
                } else {
                    Act::Cancel
                };
                Some((t.confirm.sample_ms(&mut self.rng), act))
            }
            Screen::InsertNotes { .. } if running => {
                self.note = self.draw_note(ctx);
                Some(self.insert(ctx))
            }
            Screen::NoteAccepted { value, .. } if running => {
                self.paid_minor += value.minor;
                self.next_note_or_confirm(ctx)
            }
            Screen::NoteRejected { .. } if running => {
                if self.note_attempts >= c.note_attempts_max {
                    // Gives that note up and takes another one.
                    self.note = self.draw_note(ctx);
                }
                self.next_insert_or_confirm(ctx)
            }
            Screen::PresentCode { .. } if running => {
                let present_ms = t.code_present.sample_ms(&mut self.rng);
                Some(self.code(ctx, present_ms))
            }
            Screen::CodeUnreadable if running => {
                if self.code_attempts < c.code_attempts_max {
                    let again_ms = t.confirm_press.sample_ms(&mut self.rng);
                    Some(self.code(ctx, again_ms))
                } else {
                    self.voluntary_end = true;
                    Some((t.confirm_press.sample_ms(&mut self.rng), Act::Cancel))
                }
            }
            _ => None,
        }
    }

    fn code(&mut self, ctx: &CustomerContext, delay_ms: u64) -> (u64, Act) {
        self.code_attempts += 1;
        let unreadable = self.rng.chance(ctx.customers.code_unreadable_share);
        (delay_ms, Act::Code { unreadable })
    }

    /// After a stacked note: another note, Confirm, or wait for the idle timeout.
    fn next_note_or_confirm(&mut self, ctx: &CustomerContext) -> Option<(u64, Act)> {
        if self.paid_minor < self.due_minor && self.insertions < ctx.customers.notes_max {
            self.note = self.draw_note(ctx);
            return Some(self.insert(ctx));
        }
        self.confirm(ctx)
    }

    /// After a rejected note: try again (same or another note) or finish.
    fn next_insert_or_confirm(&mut self, ctx: &CustomerContext) -> Option<(u64, Act)> {
        if self.insertions < ctx.customers.notes_max {
            return Some(self.insert(ctx));
        }
        self.confirm(ctx)
    }

    fn confirm(&mut self, ctx: &CustomerContext) -> Option<(u64, Act)> {
        if self.idle_confirm {
            None // the session's insertion idle timeout ends it
        } else {
            Some((
                ctx.timings.confirm_press.sample_ms(&mut self.rng),
                Act::Confirm,
            ))
        }
    }

    fn insert(&mut self, ctx: &CustomerContext) -> (u64, Act) {
        let (t, c) = (&ctx.timings, &ctx.customers);
        self.insertions += 1;
        self.note_attempts += 1;
        let reject = if self.rng.chance(c.note_reject_share) {
            Some(if self.rng.chance(c.counterfeit_share) {
                RejectReason::Counterfeit
            } else {
                RejectReason::Insertion
            })
        } else {
            None
        };
        let delay =
            t.note_insert.sample_ms(&mut self.rng) + t.note_validate.sample_ms(&mut self.rng);
        (
            delay,
            Act::Insert {
                value: self.note,
                reject,
            },
        )
    }

    /// The customer's next note: mostly the largest that does not overpay,
    /// sometimes a smaller one; the smallest covering note at the end.
    fn draw_note(&mut self, ctx: &CustomerContext) -> Money {
        self.note_attempts = 0;
        let remaining = self.due_minor - self.paid_minor;
        let fitting = ctx
            .notes
            .iter()
            .take_while(|n| n.minor <= remaining)
            .count();
        if fitting == 0 {
            return *ctx
                .notes
                .iter()
                .find(|n| n.minor >= remaining)
                .unwrap_or(&ctx.notes[0]);
        }
        if self.rng.chance(0.6) {
            ctx.notes[fitting - 1]
        } else {
            ctx.notes[self.rng.below(fitting as u64) as usize]
        }
    }
}
