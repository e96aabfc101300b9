//! The day's cash statement (对账单): what went into the cash box during a
//! day, by denomination, and where the money stands at the end of it.
//!
//! Replayed from the audit trail up to the end of the day, so a statement
//! printed a week later says what it said that evening:
//!
//! - **into the box**: notes stacked, or in-doubt notes settled into the
//!   box, during the day, by currency and denomination;
//! - **during the day**: cash payments credited and refused that day, and
//!   code payments (no cash) credited that day;
//! - **at the end of the day**, over the journal's whole life: notes in
//!   the box (by their values), cash payments credited, pending (answered
//!   by nobody yet, or notes in no payment yet) and refused-held (by the
//!   payments' amounts), in-doubt notes, what clearings took out, and what
//!   is in the box since the last clearing.
//!
//! The money line is checked on the end-of-day totals: the notes' values
//! on one side, the payments' amounts (plus notes in no payment) on the
//! other. In-doubt notes are not in the box as far as the journal knows;
//! they are shown beside it (the count at clearing may exceed the box by
//! up to their value).

use std::collections::{BTreeMap, HashMap};

use kiosk_core::journal::{AuditRow, ClearingRecord, NoteId, PaymentState, ReadOnlyJournal};
use kiosk_core::Millis;
use kiosk_hal::{Currency, IdempotencyKey, Money, PaymentMethod};
use serde::Serialize;

use crate::catalog::{Lang, Msg};
use crate::kind::{Fate, Kind};
use crate::text::{amount, Table};
use crate::time::{self, UtcOffset};

/// One denomination's notes into the box during the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denomination {
    /// The note's value; `None` for notes whose value the device never
    /// reported (settled into the box with no value).
    pub value: Option<Money>,
    /// How many.
    pub notes: u32,
}

/// A sum and how many items make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counted {
    /// How many (notes or payments).
    pub count: u32,
    /// Their total.
    pub amount: Money,
}

/// The statement of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyStatement {
    /// The currency.
    pub currency: Currency,
    /// Notes into the box during the day, by denomination (largest first).
    pub denominations: Vec<Denomination>,
    /// Their total (notes of known value).
    pub into_box: Counted,
    /// Cash payments credited during the day.
    pub credited_during_day: Counted,
    /// Cash payments refused during the day (their notes held in the box).
    pub refused_during_day: Counted,
    /// Code payments credited during the day (no cash).
    pub code_credited_during_day: Counted,
    /// The totals at the end of the day.
    pub end_of_day: EndOfDay,
}

/// The journal's cash totals at the end of the day, over its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EndOfDay {
    /// Notes in the box (their values).
    pub in_box: Counted,
    /// Cash payments credited.
    pub credited: Money,
    /// Cash payments not answered yet, plus notes in no payment yet.
    pub pending: Money,
    /// Cash payments refused: the notes are in the box, held for staff.
    pub refused_held: Money,
    /// Notes in doubt (their known values; `count` includes those of unknown value).
    pub in_doubt: Counted,
    /// What clearings up to then expected (took out).
    pub cleared: Money,
    /// In the box since the last clearing: `in_box - cleared`.
    pub in_box_since_clearing: Money,
    /// Whether `in_box == credited + pending + refused_held`.
    pub money_line_holds: bool,
}

/// One clearing during the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClearingLine {
    /// The clearing's number.
    pub id: i64,
    /// When.
    pub at: Millis,
    /// The two people.
    pub operators: [String; 2],
    /// What the journal expected.
    pub expected: Money,
    /// What was counted.
    pub counted: Money,
    /// Per denomination: expected and counted notes (empty for a clearing
    /// before format 5).
    pub notes: Vec<kiosk_core::journal::DenominationLine>,
}

/// The day's cash statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The UTC offset the day is taken at.
    pub utc_offset: String,
    /// The day's first kiosk millisecond.
    pub from: Millis,
    /// The next day's first.
    pub to: Millis,
    /// The kiosks of the journal.
    pub kiosks: Vec<String>,
    /// The chain head of the journal now (`rows:hash`).
    pub chain_head: String,
    /// One statement per currency met.
    pub currencies: Vec<CurrencyStatement>,
    /// Clearings during the day.
    pub clearings: Vec<ClearingLine>,
}

impl Statement {
    /// Whether the money line holds in every currency.
    pub fn money_line_holds(&self) -> bool {
        self.currencies
            .iter()
            .all(|c| c.end_of_day.money_line_holds)
    }
}

/// A payment as replayed up to the end of the day.
struct Payment {
    amount: Money,
    method: PaymentMethod,
    state: PaymentState,
}

/// A note in the box: its value, when it went in, and its payment now.
struct BoxNote {
    value: Option<Money>,
    at: Millis,
    payment: Option<IdempotencyKey>,
}

/// What the replay of the audit trail up to the end of the day found.
#[derive(Default)]
struct Replay {
    in_box: HashMap<NoteId, BoxNote>,
    in_doubt: HashMap<NoteId, Option<Money>>,
    payments: HashMap<IdempotencyKey, Payment>,
    credited_in_day: Vec<(Money, PaymentMethod)>,
    refused_in_day: Vec<(Money, PaymentMethod)>,
}

impl Replay {
    fn row(&mut self, r: &AuditRow, from: Millis) {
        let in_day = r.at >= from;
        match Kind::parse(&r.kind) {
            Kind::NoteStacked => self.went_into_box(r),
            Kind::NoteInDoubt => {
                if let Some(n) = r.note {
                    self.in_doubt.insert(n, r.note_value);
                }
            }
            Kind::NoteSettled | Kind::NoteSettledByStaff => {
                let fate = Fate::from_detail(r.detail.as_deref());
                if fate == Some(Fate::InCashBox) {
                    self.went_into_box(r);
                }
                if let (Some(Fate::InCashBox | Fate::Returned), Some(n)) = (fate, r.note) {
                    self.in_doubt.remove(&n);
                }
                self.payment_created(r);
            }
            Kind::PaymentPending => self.payment_created(r),
            Kind::PaymentCredited => self.answered(r, PaymentState::Credited, in_day),
            Kind::PaymentRefused => self.answered(r, PaymentState::Refused, in_day),
            _ => {}
        }
    }

    fn went_into_box(&mut self, r: &AuditRow) {
        if let Some(n) = r.note {
            self.in_box.insert(
                n,
                BoxNote {
                    value: r.note_value,
                    at: r.at,
                    payment: r.note_payment.clone(),
                },
            );
        }
    }

    fn payment_created(&mut self, r: &AuditRow) {
        if let (Some(key), Some(p)) = (&r.payment_key, &r.payment) {
            self.payments.entry(key.clone()).or_insert(Payment {
                amount: p.amount,
                method: p.method,
                state: PaymentState::Pending,
            });
        }
    }

    fn answered(&mut self, r: &AuditRow, state: PaymentState, in_day: bool) {
        let Some(p) = r
            .payment_key
            .as_ref()
            .and_then(|k| self.payments.get_mut(k))
        else {
            return;
        };
        p.state = state;
        if in_day {
            let list = match state {
                PaymentState::Refused => &mut self.refused_in_day,
                _ => &mut self.credited_in_day,
            };
            list.push((p.amount, p.method));
        }
    }
}

/// The statement of `day` (`[from, to)` at `offset`).
pub fn build(
    journal: &ReadOnlyJournal,
    day: &str,
    offset: UtcOffset,
    (from, to): (Millis, Millis),
) -> Result<Statement, kiosk_core::journal::JournalError> {
    let mut replay = Replay::default();
    journal.for_each_audit_row(Some(to), |r| replay.row(r, from))?;
    let clearings: Vec<ClearingRecord> = journal
        .clearings()?
        .into_iter()
        .filter(|c| c.at < to)
        .collect();
    Ok(Statement {
        day: day.to_string(),
        utc_offset: offset.to_string(),
        from,
        to,
        kiosks: journal.kiosks()?.into_iter().map(|k| k.0).collect(),
        chain_head: journal.chain_head()?.to_string(),
        currencies: by_currency(&replay, &clearings, from),
        clearings: clearings
            .iter()
            .filter(|c| c.at >= from)
            .map(|c| ClearingLine {
                id: c.id,
                at: c.at,
                operators: c.operators.clone(),
                expected: c.expected,
                counted: c.counted,
                notes: c.notes.clone(),
            })
            .collect(),
    })
}

/// The statement of each currency, from the replay up to the end of the
/// day and the clearings until then.
fn by_currency(
    replay: &Replay,
    clearings: &[ClearingRecord],
    from: Millis,
) -> Vec<CurrencyStatement> {
    // Every currency met, in code order.
    let mut currencies: Vec<Currency> = replay
        .in_box
        .values()
        .filter_map(|n| n.value.map(|v| v.currency))
        .chain(
            replay
                .in_doubt
                .values()
                .filter_map(|v| v.map(|v| v.currency)),
        )
        .chain(replay.payments.values().map(|p| p.amount.currency))
        .chain(clearings.iter().map(|c| c.expected.currency))
        .collect();
    currencies.sort_by(|a, b| a.code().cmp(b.code()));
    currencies.dedup();
    let unknown_in_day = replay
        .in_box
        .values()
        .filter(|n| n.value.is_none() && n.at >= from)
        .count();

    let mut out = Vec::new();
    for (i, &c) in currencies.iter().enumerate() {
        let zero = Money::zero(c);
        let counted = |items: &mut dyn Iterator<Item = Money>| {
            items.fold(
                Counted {
                    count: 0,
                    amount: zero,
                },
                |acc, m| Counted {
                    count: acc.count + 1,
                    amount: Money::new(acc.amount.minor + m.minor, c),
                },
            )
        };
        // Into the box during the day, by denomination.
        let mut by_value: BTreeMap<i64, u32> = BTreeMap::new();
        for n in replay.in_box.values().filter(|n| n.at >= from) {
            if let Some(v) = n.value.filter(|v| v.currency == c) {
                *by_value.entry(v.minor).or_default() += 1;
            }
        }
        let mut denominations: Vec<Denomination> = by_value
            .iter()
            .rev()
            .map(|(&minor, &notes)| Denomination {
                value: Some(Money::new(minor, c)),
                notes,
            })
            .collect();
        // Notes of unknown value have no currency: listed under the first.
        if i == 0 && unknown_in_day > 0 {
            denominations.push(Denomination {
                value: None,
                notes: u32::try_from(unknown_in_day).unwrap_or(u32::MAX),
            });
        }
        let into_box = counted(
            &mut replay
                .in_box
                .values()
                .filter(|n| n.at >= from)
                .filter_map(|n| n.value.filter(|v| v.currency == c)),
        );
        let day_list = |list: &[(Money, PaymentMethod)], method: PaymentMethod| {
            counted(
                &mut list
                    .iter()
                    .filter(|(m, how)| m.currency == c && *how == method)
                    .map(|(m, _)| *m),
            )
        };

        // The end of the day: notes by their values, payments by their amounts.
        let in_box = counted(
            &mut replay
                .in_box
                .values()
                .filter_map(|n| n.value.filter(|v| v.currency == c)),
        );
        let mut by_state: BTreeMap<&'static str, i64> = BTreeMap::new();
        for p in replay
            .payments
            .values()
            .filter(|p| p.method == PaymentMethod::Cash && p.amount.currency == c)
        {
            let bucket = match p.state {
                PaymentState::Credited => "credited",
                PaymentState::Pending => "pending",
                PaymentState::Refused => "refused",
            };
            *by_state.entry(bucket).or_default() += p.amount.minor;
        }
        // Notes in no payment (yet, at the end of the day) are pending money.
        let unassigned: i64 = replay
            .in_box
            .values()
            .filter(|n| {
                n.payment
                    .as_ref()
                    .is_none_or(|k| !replay.payments.contains_key(k))
            })
            .filter_map(|n| n.value.filter(|v| v.currency == c))
            .map(|v| v.minor)
            .sum();
        let get = |k: &str| by_state.get(k).copied().unwrap_or(0);
        let credited = get("credited");
        let pending = get("pending") + unassigned;
        let refused = get("refused");
        let cleared: i64 = clearings
            .iter()
            .filter(|cl| cl.expected.currency == c)
            .map(|cl| cl.expected.minor)
            .sum();
        let in_doubt_count = replay
            .in_doubt
            .values()
            .filter(|v| v.is_none_or(|v| v.currency == c) && (i == 0 || v.is_some()))
            .count();
        let in_doubt_value: i64 = replay
            .in_doubt
            .values()
            .filter_map(|v| v.filter(|v| v.currency == c))
            .map(|v| v.minor)
            .sum();
        out.push(CurrencyStatement {
            currency: c,
            denominations,
            into_box,
            credited_during_day: day_list(&replay.credited_in_day, PaymentMethod::Cash),
            refused_during_day: day_list(&replay.refused_in_day, PaymentMethod::Cash),
            code_credited_during_day: day_list(&replay.credited_in_day, PaymentMethod::Code),
            end_of_day: EndOfDay {
                in_box,
                credited: Money::new(credited, c),
                pending: Money::new(pending, c),
                refused_held: Money::new(refused, c),
                in_doubt: Counted {
                    count: u32::try_from(in_doubt_count).unwrap_or(u32::MAX),
                    amount: Money::new(in_doubt_value, c),
                },
                cleared: Money::new(cleared, c),
                in_box_since_clearing: Money::new(in_box.amount.minor - cleared, c),
                money_line_holds: in_box.amount.minor == credited + pending + refused,
            },
        });
    }
    out
}

/// The statement as text in `lang`.
pub fn render(s: &Statement, lang: Lang, offset: UtcOffset) -> String {
    let t = |m: Msg| m.text(lang);
    let mut out = String::new();
    out.push_str(&format!(
        "{} — {} {} (UTC{})\n",
        t(Msg::StatementTitle),
        t(Msg::Day),
        s.day,
        s.utc_offset
    ));
    out.push_str(&format!("{}: {}\n", t(Msg::Kiosk), s.kiosks.join(", ")));
    out.push_str(&format!("{}: {}\n", t(Msg::ChainHead), s.chain_head));
    if s.currencies.is_empty() {
        out.push_str(&format!("\n{}: {}\n", t(Msg::IntoBox), t(Msg::None)));
    }
    for c in &s.currencies {
        out.push_str(&format!(
            "\n{} ({})\n",
            t(Msg::IntoBoxByDenomination),
            c.currency
        ));
        let mut table = Table::new(vec![
            t(Msg::Denomination).into(),
            t(Msg::NoteCount).into(),
            t(Msg::Amount).into(),
        ]);
        for d in &c.denominations {
            match d.value {
                Some(v) => table.row(vec![
                    amount(v),
                    d.notes.to_string(),
                    amount(Money::new(v.minor * i64::from(d.notes), v.currency)),
                ]),
                None => table.row(vec![
                    t(Msg::ValueUnknown).into(),
                    d.notes.to_string(),
                    "—".into(),
                ]),
            }
        }
        let notes: u32 = c.denominations.iter().map(|d| d.notes).sum();
        table.row(vec![
            t(Msg::Total).into(),
            notes.to_string(),
            amount(c.into_box.amount),
        ]);
        out.push_str(&table.render());

        let e = &c.end_of_day;
        out.push('\n');
        let mut table = Table::new(vec![
            String::new(),
            t(Msg::TheDay).into(),
            t(Msg::EndOfDay).into(),
        ]);
        table.row(vec![
            t(Msg::IntoBox).into(),
            amount(c.into_box.amount),
            amount(e.in_box.amount),
        ]);
        table.row(vec![
            t(Msg::Credited).into(),
            amount(c.credited_during_day.amount),
            amount(e.credited),
        ]);
        table.row(vec![
            t(Msg::Pending).into(),
            String::new(),
            amount(e.pending),
        ]);
        table.row(vec![
            t(Msg::RefusedHeld).into(),
            amount(c.refused_during_day.amount),
            amount(e.refused_held),
        ]);
        table.row(vec![
            t(Msg::InDoubt).into(),
            String::new(),
            format!(
                "{} ({} {})",
                amount(e.in_doubt.amount),
                e.in_doubt.count,
                t(Msg::NotesUnit)
            ),
        ]);
        table.row(vec![
            t(Msg::Cleared).into(),
            String::new(),
            amount(e.cleared),
        ]);
        table.row(vec![
            t(Msg::InBoxSinceClearing).into(),
            String::new(),
            amount(e.in_box_since_clearing),
        ]);
        table.row(vec![
            t(Msg::CodePayments).into(),
            amount(c.code_credited_during_day.amount),
            String::new(),
        ]);
        out.push_str(&table.render());
        out.push_str(&format!(
            "{} ({}): {} = {} + {} + {} → {}\n",
            t(Msg::MoneyLine),
            t(Msg::EndOfDay),
            amount(e.in_box.amount),
            amount(e.credited),
            amount(e.pending),
            amount(e.refused_held),
            if e.money_line_holds {
                t(Msg::Holds)
            } else {
                t(Msg::Broken)
            }
        ));
        if e.in_doubt.count > 0 {
            out.push_str(&format!(
                "{}: {} ({})\n",
                t(Msg::InDoubt),
                amount(e.in_doubt.amount),
                t(Msg::InDoubtExplained)
            ));
        }
    }
    if !s.clearings.is_empty() {
        out.push_str(&format!("\n{}\n", t(Msg::ClearingsDuringDay)));
        let mut table = Table::new(vec![
            t(Msg::ClearingNo).into(),
            t(Msg::Time).into(),
            t(Msg::OperatorA).into(),
            t(Msg::OperatorB).into(),
            t(Msg::Expected).into(),
            t(Msg::Counted).into(),
            t(Msg::OverShortByNote).into(),
        ]);
        let count_lang = match lang {
            Lang::Zh => kiosk_core::journal::CountLang::Zh,
            Lang::En => kiosk_core::journal::CountLang::En,
        };
        for c in &s.clearings {
            let by_note = match kiosk_core::journal::differences(&c.notes, count_lang) {
                _ if c.notes.is_empty() => "—".to_string(),
                None => t(Msg::NotByDenomination).to_string(),
                Some(d) if d.is_empty() => t(Msg::Even).to_string(),
                Some(d) => d,
            };
            table.row(vec![
                c.id.to_string(),
                time::format(c.at, offset),
                c.operators[0].clone(),
                c.operators[1].clone(),
                amount(c.expected),
                amount(c.counted),
                by_note,
            ]);
        }
        out.push_str(&table.render());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::journal::PaymentFacts;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::CNY)
    }

    fn row(id: i64, at: u64, kind: &str) -> AuditRow {
        AuditRow {
            id,
            at: Millis(at),
            kind: kind.into(),
            session: None,
            note: None,
            payment_key: None,
            note_value: None,
            detail: None,
            payment: None,
            note_payment: None,
        }
    }

    fn stacked(id: i64, at: u64, note: i64, value: i64, payment: &str) -> AuditRow {
        AuditRow {
            note: Some(NoteId(note)),
            note_value: Some(cny(value)),
            note_payment: Some(IdempotencyKey(payment.into())),
            ..row(id, at, "note-stacked")
        }
    }

    fn payment(id: i64, at: u64, kind: &str, key: &str, amount: i64) -> AuditRow {
        AuditRow {
            payment_key: Some(IdempotencyKey(key.into())),
            payment: Some(PaymentFacts {
                amount: cny(amount),
                method: PaymentMethod::Cash,
                state: PaymentState::Credited,
            }),
            ..row(id, at, kind)
        }
    }

    /// Two notes of a payment, credited, before and during the day.
    fn replay(payment_amount: i64) -> Replay {
        let mut r = Replay::default();
        for row in [
            stacked(1, 10, 1, 10000, "P1"),
            stacked(2, 11, 2, 5000, "P1"),
            payment(3, 12, "payment-pending", "P1", payment_amount),
            stacked(4, 110, 3, 2000, "P2"),
            payment(5, 120, "payment-credited", "P1", payment_amount),
        ] {
            r.row(&row, Millis(100));
        }
        r
    }

    #[test]
    fn the_money_line_holds_when_payments_are_their_notes() {
        let s = &by_currency(&replay(15000), &[], Millis(100))[0];
        assert_eq!(s.into_box.amount, cny(2000), "only the note of the day");
        assert_eq!(s.credited_during_day.amount, cny(15000));
        let e = s.end_of_day;
        assert_eq!(e.in_box.amount, cny(17000));
        assert_eq!(e.credited, cny(15000));
        // P2 was never journaled by the end of the day: its note is pending.
        assert_eq!(e.pending, cny(2000));
        assert!(e.money_line_holds);
    }

    #[test]
    fn the_money_line_breaks_when_a_payment_is_not_its_notes() {
        let s = &by_currency(&replay(16000), &[], Millis(100))[0];
        assert_eq!(s.end_of_day.credited, cny(16000));
        assert!(!s.end_of_day.money_line_holds);
    }
}
