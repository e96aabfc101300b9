//! Checking a drill run: the money invariant, expectations, timings.

use kiosk_core::journal::PaymentState;
use kiosk_core::Millis;
use kiosk_hal::{Money, PaymentMethod};

use std::fmt::Display;

use super::report::{ExpectationResult, InvariantReport, Timings};
use super::run::DrillRun;
use super::scenario::Scenario;
use super::trace::{first_match, EventPattern, TraceEntry};
use crate::cli_text::{Lang, Msg};
use crate::faults::InjectedFault;

/// Minor units the cash box took in during the drill: what is in it now,
/// plus what staff took out, less what it started with.
pub fn physical_taken_in(scenario: &Scenario, run: &DrillRun) -> i64 {
    let initial: i64 = scenario
        .cash_box
        .initial_notes
        .iter()
        .map(|m| m.minor)
        .sum();
    let removed: i64 = run.removed_by_staff.iter().map(|m| m.minor).sum();
    run.staff.physical_contents().value.minor + removed - initial
}

/// Checks the money invariant: books, physical box and backend agree.
pub fn check_money(scenario: &Scenario, run: &DrillRun) -> InvariantReport {
    let currency = scenario.backend.currency;
    let mut violations = Vec::new();
    let totals = match run.kiosk.journal().cash_totals(currency) {
        Ok(t) => t,
        Err(e) => {
            violations.push(format!("journal unreadable: {e}"));
            return InvariantReport {
                physical_box: 0,
                journal_in_box: 0,
                credited: 0,
                pending: 0,
                refused: 0,
                in_doubt: 0,
                in_doubt_notes: 0,
                backend_credited: 0,
                max_applies_per_key: 0,
                holds: false,
                violations,
            };
        }
    };
    let physical = physical_taken_in(scenario, run);

    // Books: everything in the box is credited, pending or refused.
    let books = totals.credited.minor + totals.pending.minor + totals.refused.minor;
    if totals.in_box.minor != books {
        violations.push(format!(
            "journal in box {} != credited + pending + refused {}",
            totals.in_box.minor, books
        ));
    }
    // Physical: the box holds what the journal says, plus at most the in-doubt notes.
    if physical < totals.in_box.minor {
        violations.push(format!(
            "cash box holds {physical} but the journal counts {} in it: money unaccounted for",
            totals.in_box.minor
        ));
    }
    let unknown_value_in_doubt = totals.in_doubt_notes > 0 && totals.in_doubt.is_zero();
    if !unknown_value_in_doubt && physical > totals.in_box.minor + totals.in_doubt.minor {
        violations.push(format!(
            "cash box holds {physical}, more than journal in box {} + in doubt {}: a note went unrecorded",
            totals.in_box.minor, totals.in_doubt.minor
        ));
    }

    // Backend: nothing applied twice; what it credited is what the journal
    // credited, plus keys it applied whose answer the kiosk has not seen yet.
    let postings = run.backend.postings();
    let max_applies = postings.iter().map(|p| p.times_applied).max().unwrap_or(0);
    if max_applies > 1 {
        violations.push(format!("a key was applied {max_applies} times"));
    }
    let mut applied_unconfirmed = 0;
    for p in postings
        .iter()
        .filter(|p| p.times_applied > 0 && p.posting.method == PaymentMethod::Cash)
    {
        match run.kiosk.journal().payment_state(&p.posting.key) {
            Ok(Some(PaymentState::Credited)) => {}
            Ok(Some(PaymentState::Pending)) => applied_unconfirmed += p.posting.amount.minor,
            other => violations.push(format!(
                "backend credited key {} but the journal has it as {other:?}",
                p.posting.key
            )),
        }
    }
    let backend_credited = run.backend.credited_total(PaymentMethod::Cash).minor;
    if backend_credited != totals.credited.minor + applied_unconfirmed {
        violations.push(format!(
            "backend credited {backend_credited} != journal credited {} + applied-but-unanswered {applied_unconfirmed}",
            totals.credited.minor
        ));
    }
    if backend_credited > physical {
        violations.push(format!(
            "backend credited {backend_credited} but only {physical} is in the cash box: credited twice"
        ));
    }
    if !run.backend.key_conflicts().is_empty() {
        violations.push("a retry changed the posting under the same key".into());
    }
    InvariantReport {
        physical_box: physical,
        journal_in_box: totals.in_box.minor,
        credited: totals.credited.minor,
        pending: totals.pending.minor,
        refused: totals.refused.minor,
        in_doubt: totals.in_doubt.minor,
        in_doubt_notes: totals.in_doubt_notes,
        backend_credited,
        max_applies_per_key: max_applies,
        holds: violations.is_empty(),
        violations,
    }
}

/// When the fault happened: the scenario's explicit time, else the first
/// event matching `expect.fault`, else the first timed fault or the first
/// fault the devices report having injected, whichever is earlier.
fn fault_time(
    scenario: &Scenario,
    trace: &[TraceEntry],
    injected: &[InjectedFault],
) -> Option<Millis> {
    if let Some(at) = scenario.expect.fault_at_ms {
        return Some(Millis(at));
    }
    if let Some(p) = &scenario.expect.fault {
        let pattern = EventPattern::parse(p).ok()?;
        return first_match(trace, &pattern, Millis(0)).map(|e| e.at);
    }
    // Timed faults start on the clock; call-counted ones when the device
    // says they struck. The first of either is the fault.
    let timed = scenario
        .acceptor
        .faults
        .iter()
        .map(|r| r.trigger.start())
        .chain(scenario.printer.faults.iter().map(|r| r.trigger.start()))
        .chain(scenario.link.faults.iter().map(|r| r.trigger.start()))
        .chain(
            scenario
                .reader
                .iter()
                .flat_map(|r| r.faults.iter().map(|f| f.trigger.start())),
        )
        .flatten();
    timed.chain(injected.iter().map(|f| f.at)).min()
}

/// Fault → detected → fallback → resolved, from the trace.
pub fn timings(scenario: &Scenario, trace: &[TraceEntry], injected: &[InjectedFault]) -> Timings {
    let e = &scenario.expect;
    let fault = fault_time(scenario, trace, injected);
    let find = |p: &Option<String>, from: Option<Millis>| {
        let pattern = EventPattern::parse(p.as_deref()?).ok()?;
        first_match(trace, &pattern, from?).map(|e| e.at)
    };
    let detected = find(&e.detected, fault);
    let fallback = find(&e.fallback, detected);
    let resolved = find(&e.resolved, detected);
    Timings {
        fault_at_ms: fault.map(|m| m.0),
        detect_ms: detected.zip(fault).map(|(d, f)| d.since(f)),
        fallback_ms: fallback.zip(detected).map(|(t, d)| t.since(d)),
        resolve_ms: resolved.zip(detected).map(|(r, d)| r.since(d)),
    }
}

/// Checks the scenario's expectations against the run.
pub fn check_expectations(scenario: &Scenario, run: &DrillRun) -> Vec<ExpectationResult> {
    let e = &scenario.expect;
    let trace = &run.trace;
    let mut out = Vec::new();
    let t = timings(scenario, trace, &run.injected);
    // What was seen, in both languages: a time in ms, or never.
    let ms = |v: Option<u64>| {
        move |l: Lang| match v {
            Some(ms) => Msg::ObsMs.fill(l, &[("ms", &ms)]),
            None => Msg::ObsNever.text(l).to_string(),
        }
    };
    let at = |v: Option<Millis>| {
        move |l: Lang| match v {
            Some(at) => Msg::ObsAt.fill(l, &[("at", &at)]),
            None => Msg::ObsNever.text(l).to_string(),
        }
    };
    // An expectation with an optional time limit.
    let limited = |plain: Msg, within: Msg, pattern: &str, limit: Option<u64>| {
        let pattern = pattern.to_string();
        move |l: Lang| match limit {
            Some(limit) => within.fill(l, &[("pattern", &pattern), ("limit", &limit)]),
            None => plain.fill(l, &[("pattern", &pattern)]),
        }
    };
    if let Some(p) = &e.detected {
        let limit = e.max_detect_ms;
        out.push(ExpectationResult::in_both(
            limited(Msg::ExpDetected, Msg::ExpDetectedWithin, p, limit),
            t.detect_ms.is_some_and(|d| limit.is_none_or(|l| d <= l)),
            ms(t.detect_ms),
        ));
    }
    if let Some(p) = &e.fallback {
        let limit = e.max_fallback_ms;
        out.push(ExpectationResult::in_both(
            limited(Msg::ExpFallback, Msg::ExpFallbackWithin, p, limit),
            t.fallback_ms.is_some_and(|d| limit.is_none_or(|l| d <= l)),
            ms(t.fallback_ms),
        ));
    }
    if let Some(p) = &e.resolved {
        out.push(ExpectationResult::in_both(
            |l| Msg::ExpResolved.fill(l, &[("pattern", p)]),
            t.resolve_ms.is_some(),
            ms(t.resolve_ms),
        ));
    }
    let first = |p: &str| {
        EventPattern::parse(p)
            .ok()
            .and_then(|pat| first_match(trace, &pat, Millis(0)).map(|e| e.at))
    };
    for p in &e.events {
        let seen = first(p);
        out.push(ExpectationResult::in_both(
            |l| Msg::ExpHappens.fill(l, &[("pattern", p)]),
            seen.is_some(),
            at(seen),
        ));
    }
    for p in &e.never {
        let seen = first(p);
        out.push(ExpectationResult::in_both(
            |l| Msg::ExpNever.fill(l, &[("pattern", p)]),
            seen.is_none(),
            at(seen),
        ));
    }
    for [a, b] in &e.order {
        let (ta, tb) = (first(a), first(b));
        let when = |t: Option<Millis>, l: Lang| match t {
            Some(t) => t.to_string(),
            None => Msg::ObsNever.text(l).to_string(),
        };
        out.push(ExpectationResult::in_both(
            |l| Msg::ExpOrder.fill(l, &[("first", a), ("then", b)]),
            matches!((ta, tb), (Some(x), Some(y)) if x <= y),
            |l| {
                Msg::ObsOrder.fill(
                    l,
                    &[
                        ("first", a),
                        ("first_at", &when(ta, l)),
                        ("then", b),
                        ("then_at", &when(tb, l)),
                    ],
                )
            },
        ));
    }
    money_expectations(scenario, run, &mut out);
    out
}

fn money_expectations(scenario: &Scenario, run: &DrillRun, out: &mut Vec<ExpectationResult>) {
    let currency = scenario.backend.currency;
    let m = &scenario.expect.money;
    let Ok(totals) = run.kiosk.journal().cash_totals(currency) else {
        out.push(ExpectationResult::in_both(
            |l| Msg::ExpJournalReadable.text(l).to_string(),
            false,
            |l| Msg::ObsError.text(l).to_string(),
        ));
        return;
    };
    let total = |name: Msg, want: &dyn Display, passed: bool, got: &dyn Display| {
        ExpectationResult::in_both(
            |l| Msg::ExpTotal.fill(l, &[("name", &name.text(l)), ("want", want)]),
            passed,
            |l| Msg::ObsValue.fill(l, &[("value", got)]),
        )
    };
    let major = |v: i64| Money::major(v, currency);
    let money = [
        (Msg::TotalCredited, m.credited, totals.credited),
        (Msg::TotalPending, m.pending, totals.pending),
        (Msg::TotalRefused, m.refused, totals.refused),
        (
            Msg::TotalCashBox,
            m.cash_box,
            Money::new(physical_taken_in(scenario, run), currency),
        ),
    ];
    for (name, want, got) in money {
        if let Some(want) = want {
            out.push(total(name, &major(want), got == major(want), &got));
        }
    }
    let counts = [
        (
            Msg::TotalInDoubtNotes,
            m.in_doubt_notes,
            totals.in_doubt_notes,
        ),
        (
            Msg::TotalRejectedNotes,
            m.rejected_notes,
            totals.rejected_notes,
        ),
    ];
    for (name, want, got) in counts {
        if let Some(want) = want {
            out.push(total(name, &want, got == want, &got));
        }
    }
}
