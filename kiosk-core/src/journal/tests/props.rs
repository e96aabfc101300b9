//! Property: random sequences of journal calls (legal or not, with restarts)
//! keep `in_box == credited + pending + refused`, never credit a key twice,
//! and a refused call writes nothing; the notes expected by denomination
//! (`cash_counts`) add up to the box the money line uses (less what the
//! clearings took out), and a clearing whose count misses a note names it.

use std::collections::HashSet;

use kiosk_hal::{NoteFate, PaymentMethod, RejectReason};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::journal::{CreditOutcome, NoteId, SessionOutcome};

const DENOMS: [i64; 6] = [100, 500, 1000, 2000, 5000, 10000];

#[derive(Debug, Clone)]
enum Op {
    Begin {
        cash: bool,
    },
    End {
        s: Index,
        outcome: u8,
    },
    Escrow {
        s: Index,
        denom: Index,
        eur: bool,
    },
    Stack {
        s: Index,
        note: Option<Index>,
        denom: Index,
    },
    Return {
        note: Index,
    },
    Reject {
        s: Index,
    },
    InDoubt {
        s: Index,
        note: Option<Index>,
        denom: Option<Index>,
    },
    Settle {
        note: Index,
        fate: u8,
    },
    Pay {
        s: Index,
        reuse: Option<Index>,
        exact: bool,
        denom: Index,
    },
    Attempt {
        k: Index,
    },
    Credit {
        k: Index,
    },
    Refuse {
        k: Index,
    },
    Reopen,
    /// A clearing counted by denomination, one note short of `short`'s
    /// denomination if given.
    Clear {
        eur: bool,
        short: Option<Index>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let i = any::<Index>;
    prop_oneof![
        2 => any::<bool>().prop_map(|cash| Op::Begin { cash }),
        1 => (i(), 0u8..6).prop_map(|(s, outcome)| Op::End { s, outcome }),
        4 => (i(), i(), prop::bool::weighted(0.05)).prop_map(|(s, denom, eur)| Op::Escrow { s, denom, eur }),
        4 => (i(), prop::option::weighted(0.7, i()), i()).prop_map(|(s, note, denom)| Op::Stack { s, note, denom }),
        1 => i().prop_map(|note| Op::Return { note }),
        1 => i().prop_map(|s| Op::Reject { s }),
        2 => (i(), prop::option::of(i()), prop::option::of(i()))
            .prop_map(|(s, note, denom)| Op::InDoubt { s, note, denom }),
        2 => (i(), 0u8..3).prop_map(|(note, fate)| Op::Settle { note, fate }),
        3 => (i(), prop::option::weighted(0.2, i()), prop::bool::weighted(0.8), i())
            .prop_map(|(s, reuse, exact, denom)| Op::Pay { s, reuse, exact, denom }),
        1 => i().prop_map(|k| Op::Attempt { k }),
        2 => i().prop_map(|k| Op::Credit { k }),
        1 => i().prop_map(|k| Op::Refuse { k }),
        1 => Just(Op::Reopen),
        1 => (prop::bool::weighted(0.2), prop::option::of(i()))
            .prop_map(|(eur, short)| Op::Clear { eur, short }),
    ]
}

/// What the test remembers to aim its calls at real records.
#[derive(Default)]
struct World {
    sessions: Vec<SessionId>,
    notes: Vec<(SessionId, NoteId)>,
    keys: Vec<IdempotencyKey>,
    credited: HashSet<IdempotencyKey>,
    next_key: u32,
}

fn pick<T: Clone>(v: &[T], i: &Index) -> Option<T> {
    (!v.is_empty()).then(|| v[i.index(v.len())].clone())
}

/// Sum of the session's stacked notes not in a payment (what an honest runner posts).
fn unposted(j: &Journal, s: &SessionId) -> Option<Money> {
    j.open_sessions()
        .unwrap()
        .into_iter()
        .find(|o| &o.id == s)
        .and_then(|o| o.unposted_stacked)
        .or_else(|| {
            // Ended sessions are not listed: ask the file directly.
            let (sum, cur): (Option<i64>, Option<String>) = j
                .conn
                .query_row(
                    "SELECT sum(value_minor), max(value_currency) FROM notes
                     WHERE session = (SELECT n FROM sessions WHERE id = ?1)
                       AND state = 1 AND payment IS NULL",
                    [&s.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            Some(Money::new(sum?, Currency::try_from(cur?).unwrap()))
        })
}

/// Applies one call; `Ok(true)` if it succeeded, `Ok(false)` if skipped.
fn apply(j: &mut Journal, w: &mut World, op: &Op, at: Millis) -> Result<bool, JournalError> {
    let d = |i: &Index| cny(DENOMS[i.index(DENOMS.len())]);
    match op {
        Op::Begin { cash } => {
            let seq = w.sessions.len() as u64 + 1;
            let method = if *cash {
                PaymentMethod::Cash
            } else {
                PaymentMethod::Code
            };
            w.sessions.push(begin(j, seq, method));
        }
        Op::End { s, outcome } => {
            let Some(s) = pick(&w.sessions, s) else {
                return Ok(false);
            };
            let outcomes = [
                SessionOutcome::Credited,
                SessionOutcome::Pending,
                SessionOutcome::Refused,
                SessionOutcome::NoPayment,
                SessionOutcome::Aborted,
                SessionOutcome::Interrupted,
            ];
            j.end_session(&s, outcomes[*outcome as usize % outcomes.len()], at)?;
        }
        Op::Escrow { s, denom, eur } => {
            let Some(s) = pick(&w.sessions, s) else {
                return Ok(false);
            };
            let mut value = d(denom);
            if *eur {
                value.currency = Currency::EUR;
            }
            let id = j.note_escrowed(&s, value, at)?;
            w.notes.push((s, id));
        }
        Op::Stack { s, note, denom } => {
            let target = note.as_ref().and_then(|n| pick(&w.notes, n));
            let (s, id) = match target {
                Some((s, id)) => (s, Some(id)),
                None => match pick(&w.sessions, s) {
                    Some(s) => (s, None),
                    None => return Ok(false),
                },
            };
            let id2 = j.note_stacked(&s, id, d(denom), at)?;
            if id.is_none() {
                w.notes.push((s, id2));
            }
        }
        Op::Return { note } => {
            let Some((_, id)) = pick(&w.notes, note) else {
                return Ok(false);
            };
            j.note_returned(id, at)?;
        }
        Op::Reject { s } => {
            let Some(s) = pick(&w.sessions, s) else {
                return Ok(false);
            };
            j.note_rejected(&s, RejectReason::Counterfeit, at)?;
        }
        Op::InDoubt { s, note, denom } => {
            let value = denom.as_ref().map(d);
            match note.as_ref().and_then(|n| pick(&w.notes, n)) {
                Some((s, id)) => {
                    j.note_in_doubt(&s, Some(id), value, at)?;
                }
                None => {
                    let Some(s) = pick(&w.sessions, s) else {
                        return Ok(false);
                    };
                    let id = j.note_in_doubt(&s, None, value, at)?;
                    w.notes.push((s, id));
                }
            }
        }
        Op::Settle { note, fate } => {
            let Some((_, id)) = pick(&w.notes, note) else {
                return Ok(false);
            };
            let fate = [NoteFate::InCashBox, NoteFate::Returned, NoteFate::Unknown][*fate as usize];
            if let crate::journal::Settlement::Credit(p) = j.settle_in_doubt(id, fate, at)? {
                w.keys.push(p.key);
            }
        }
        Op::Pay {
            s,
            reuse,
            exact,
            denom,
        } => {
            let Some(s) = pick(&w.sessions, s) else {
                return Ok(false);
            };
            let key = match reuse.as_ref().and_then(|r| pick(&w.keys, r)) {
                Some(k) => k,
                None => {
                    w.next_key += 1;
                    key(&format!("P{}", w.next_key))
                }
            };
            let amount = if *exact {
                unposted(j, &s).unwrap_or(d(denom))
            } else {
                d(denom)
            };
            let p = j.payment_pending(&s, &key, amount, at)?;
            if !w.keys.contains(&p.key) {
                w.keys.push(p.key);
            }
        }
        Op::Attempt { k } => {
            let Some(k) = pick(&w.keys, k) else {
                return Ok(false);
            };
            j.posting_attempted(&k, at)?;
        }
        Op::Credit { k } => {
            let Some(k) = pick(&w.keys, k) else {
                return Ok(false);
            };
            match j.payment_credited(&k, "BOSS", cny(0), at)? {
                CreditOutcome::Credited => {
                    assert!(w.credited.insert(k.clone()), "{k} credited twice")
                }
                CreditOutcome::AlreadyCredited => assert!(w.credited.contains(&k)),
            }
        }
        Op::Refuse { k } => {
            let Some(k) = pick(&w.keys, k) else {
                return Ok(false);
            };
            j.payment_refused(&k, "refused", at)?;
        }
        Op::Reopen => unreachable!("handled by the caller"),
        Op::Clear { eur, short } => {
            let currency = if *eur { Currency::EUR } else { Currency::CNY };
            let mut counted = j.cash_counts(currency)?.in_box;
            let missing = short
                .as_ref()
                .and_then(|i| pick(&counted, i))
                .map(|c| c.value);
            for c in counted.iter_mut().filter(|c| Some(c.value) == missing) {
                c.count -= 1;
            }
            let total = crate::journal::total_of(&counted, currency).unwrap();
            let ops = ["王芳".to_string(), "李强".to_string()];
            let record = j.record_clearing(at, &ops, total, Some(&counted), 0)?;
            let named: Vec<(Money, i64)> = missing.map(|v| (v, -1)).into_iter().collect();
            assert_eq!(record.note_differences(), named, "{record:?}");
        }
    }
    Ok(true)
}

/// The notes expected by denomination add up to what the books say is in
/// the box less what the clearings took out, each clearing's lines to its
/// expected total, and the notes in doubt to the books' in-doubt total.
fn assert_counts_match_the_books(j: &Journal, currency: Currency) {
    let counts = j.cash_counts(currency).unwrap();
    let totals = j.cash_totals(currency).unwrap();
    let clearings: Vec<_> = j
        .clearings()
        .unwrap()
        .into_iter()
        .filter(|c| c.counted.currency == currency)
        .collect();
    let cleared: i64 = clearings.iter().map(|c| c.expected.minor).sum();
    assert_eq!(
        counts.in_box_total().unwrap().minor,
        totals.in_box.minor - cleared,
        "{counts:?} against {totals:?}"
    );
    for c in &clearings {
        assert_eq!(c.unattributed().unwrap_or(c.expected.minor), 0, "{c:?}");
    }
    assert_eq!(
        crate::journal::total_of(&counts.in_doubt, currency).unwrap(),
        totals.in_doubt
    );
    let in_doubt: u32 = counts.in_doubt.iter().map(|c| c.count).sum();
    assert_eq!(
        in_doubt + counts.in_doubt_unknown_value,
        totals.in_doubt_notes
    );
}

/// Everything recovery reads, to compare across a restart.
fn snapshot(j: &Journal) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        j.open_sessions().unwrap(),
        j.pending_payments().unwrap(),
        j.in_doubt_notes().unwrap(),
        j.cash_totals(Currency::CNY).unwrap(),
        j.cash_totals(Currency::EUR).unwrap(),
        j.max_session_seq().unwrap(),
    ) + &format!(
        "|{:?}|{:?}|{:?}",
        j.cash_counts(Currency::CNY).unwrap(),
        j.cash_counts(Currency::EUR).unwrap(),
        j.clearings().unwrap()
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_calls_keep_the_money_invariant(ops in prop::collection::vec(op(), 1..80)) {
        let (_dir, path) = temp_path();
        let mut j = Journal::open(&path).unwrap();
        j.unsynced_for_tests();
        let mut w = World::default();
        for (step, op) in ops.iter().enumerate() {
            let at = Millis(step as u64 * 10);
            if let Op::Reopen = op {
                let before = snapshot(&j);
                drop(j);
                j = Journal::open(&path).unwrap();
                j.unsynced_for_tests();
                prop_assert_eq!(snapshot(&j), before);
                continue;
            }
            let before = (snapshot(&j), j.event_count());
            if apply(&mut j, &mut w, op, at).is_err() {
                prop_assert_eq!((snapshot(&j), j.event_count()), before, "a refused {:?} wrote", op);
            }
            for currency in [Currency::CNY, Currency::EUR] {
                assert_balanced(&j.cash_totals(currency).unwrap());
                assert_counts_match_the_books(&j, currency);
            }
        }
        let twice: i64 = j.conn.query_row(
            "SELECT count(*) FROM (SELECT payment_key FROM audit WHERE kind = 'payment-credited'
                                   GROUP BY payment_key HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        ).unwrap();
        prop_assert_eq!(twice, 0);
        // The running totals agree with the rows, and every payment is its notes.
        j.verify_full().unwrap();
    }
}
