//! Shrinking a failing run to a short scenario file.
//!
//! Greedy, one element at a time: drop a customer, a note, a fault rule, a
//! power loss, a command, a staff action, an account change; keep the drop
//! if the run still fails one of the same checks; repeat until no single
//! drop keeps it failing. The seed stays the same (device random streams are
//! forked per device, so dropping one element shifts only the draws that
//! element made).
//!
//! The result is written as an ordinary scenario file whose `[expect]`
//! says `explorer-checks = true`, so `kiosk-sim drill --file F --seed S`
//! replays it with every explorer check, after every step.

use std::collections::BTreeSet;

use super::checks::Check;
use super::runner::{run_scenario, ExploreOptions};
use crate::drill::Scenario;

/// The outcome of shrinking.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest failing scenario found.
    pub scenario: Scenario,
    /// The checks it still fails (among those the original failed).
    pub checks: BTreeSet<Check>,
    /// Runs spent shrinking.
    pub runs: u32,
}

/// Every scenario one element smaller than `s`.
fn candidates(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    macro_rules! drop_each {
        ($($field:tt)+) => {
            for i in 0..s.$($field)+.len() {
                let mut c = s.clone();
                c.$($field)+.remove(i);
                out.push(c);
            }
        };
    }
    drop_each!(customers);
    drop_each!(power_losses);
    drop_each!(acceptor.faults);
    drop_each!(link.faults);
    drop_each!(printer.faults);
    drop_each!(commands);
    drop_each!(staff);
    drop_each!(account_changes);
    if let Some(reader) = &s.reader {
        for i in 0..reader.faults.len() {
            let mut c = s.clone();
            if let Some(r) = c.reader.as_mut() {
                r.faults.remove(i);
            }
            out.push(c);
        }
        if s.customers.iter().all(|c| c.code.is_none()) {
            let mut c = s.clone();
            c.reader = None;
            out.push(c);
        }
    }
    for number in s.backend.accounts.keys() {
        let mut c = s.clone();
        c.backend.accounts.remove(number);
        out.push(c);
    }
    // Everything half as late, when nothing happens in the first half.
    if let Some(first) = first_planned_ms(s).filter(|t| *t > 10_000) {
        let shift = first / 2;
        let mut c = s.clone();
        shift_earlier(&mut c, shift);
        out.push(c);
    }
    // End sooner: the quiet tail after the last planned thing.
    let last = last_planned_ms(s).unwrap_or(0) + super::generate::TAIL_MS;
    if last < s.duration_ms {
        let mut c = s.clone();
        c.duration_ms = last;
        out.push(c);
    }
    for (ci, customer) in s.customers.iter().enumerate() {
        for ni in 0..customer.notes.len() {
            let mut c = s.clone();
            c.customers[ci].notes.remove(ni);
            out.push(c);
        }
    }
    out
}

/// The first planned thing in the scenario: a customer, a power loss, a
/// command, a staff action, an account change, a timed fault.
fn first_planned_ms(s: &Scenario) -> Option<u64> {
    let timed = |t: &crate::Trigger| t.start().map(|m| m.0);
    s.customers
        .iter()
        .map(|c| c.arrive_ms)
        .chain(s.power_losses.iter().map(|p| p.at_ms))
        .chain(s.commands.iter().map(|c| c.at_ms))
        .chain(s.staff.iter().map(|a| a.at_ms))
        .chain(s.account_changes.iter().map(|a| a.at_ms))
        .chain(s.acceptor.faults.iter().filter_map(|f| timed(&f.trigger)))
        .chain(s.link.faults.iter().filter_map(|f| timed(&f.trigger)))
        .chain(s.printer.faults.iter().filter_map(|f| timed(&f.trigger)))
        .min()
}

/// The last planned thing (the end of a window counts).
fn last_planned_ms(s: &Scenario) -> Option<u64> {
    let timed = |t: &crate::Trigger| t.end().or(t.start()).map(|m| m.0);
    s.customers
        .iter()
        .map(|c| c.arrive_ms)
        .chain(s.power_losses.iter().map(|p| p.at_ms + p.down_ms))
        .chain(s.commands.iter().map(|c| c.at_ms))
        .chain(s.staff.iter().map(|a| a.at_ms))
        .chain(s.account_changes.iter().map(|a| a.at_ms))
        .chain(s.acceptor.faults.iter().filter_map(|f| timed(&f.trigger)))
        .chain(s.link.faults.iter().filter_map(|f| timed(&f.trigger)))
        .chain(s.printer.faults.iter().filter_map(|f| timed(&f.trigger)))
        .max()
}

/// Moves every planned time `by` ms earlier (and the end with them).
fn shift_earlier(s: &mut Scenario, by: u64) {
    use crate::Trigger;
    let shift = |t: &mut Trigger| match t {
        Trigger::At { at_ms } => *at_ms -= by,
        Trigger::Between { from_ms, until_ms } => {
            *from_ms -= by;
            if let Some(u) = until_ms {
                *u -= by;
            }
        }
        _ => {}
    };
    s.duration_ms -= by;
    s.customers.iter_mut().for_each(|c| c.arrive_ms -= by);
    s.power_losses.iter_mut().for_each(|p| p.at_ms -= by);
    s.commands.iter_mut().for_each(|c| c.at_ms -= by);
    s.staff.iter_mut().for_each(|a| a.at_ms -= by);
    s.account_changes.iter_mut().for_each(|a| a.at_ms -= by);
    s.acceptor
        .faults
        .iter_mut()
        .for_each(|f| shift(&mut f.trigger));
    s.link.faults.iter_mut().for_each(|f| shift(&mut f.trigger));
    s.printer
        .faults
        .iter_mut()
        .for_each(|f| shift(&mut f.trigger));
    if let Some(r) = s.reader.as_mut() {
        r.faults.iter_mut().for_each(|f| shift(&mut f.trigger));
    }
}

/// Shrinks `scenario` (which fails some of `target` with `seed`) greedily.
///
/// A candidate counts as still failing if it fails any check in `target`
/// that `options.allow` does not allow. Stops after `budget` runs.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    target: &BTreeSet<Check>,
    options: &ExploreOptions,
    budget: u32,
) -> Shrunk {
    let wanted: BTreeSet<Check> = target.difference(&options.allow).copied().collect();
    let mut best = scenario.clone();
    let mut runs = 0;
    let mut checks = wanted.clone();
    'outer: loop {
        for candidate in candidates(&best) {
            if runs >= budget {
                break 'outer;
            }
            runs += 1;
            let report = run_scenario(&candidate, seed, options);
            let failing: BTreeSet<Check> = report.checks().intersection(&wanted).copied().collect();
            if !failing.is_empty() {
                best = candidate;
                checks = failing;
                continue 'outer;
            }
        }
        break;
    }
    Shrunk {
        scenario: best,
        checks,
        runs,
    }
}

/// The scenario as a short TOML file: keys equal to their defaults are left
/// out, and `[expect]` asks the drill runner for the explorer's checks
/// (allowing `allow`), so `kiosk-sim drill --file F --seed S` replays it.
pub fn to_toml(
    scenario: &Scenario,
    seed: u64,
    allow: &BTreeSet<Check>,
    note: &str,
) -> Result<String, String> {
    let mut s = scenario.clone();
    s.expect.explorer_checks = true;
    s.expect.explorer_allow = allow.iter().map(|c| c.name().to_string()).collect();
    let value = toml::Value::try_from(&s).map_err(|e| format!("cannot write the scenario: {e}"))?;
    let base_text = format!("id = {:?}\ntitle = {:?}\n", s.id, s.title);
    let base = Scenario::from_toml("defaults", &base_text).map_err(|e| e.to_string())?;
    let defaults = toml::Value::try_from(&base).map_err(|e| e.to_string())?;
    let pruned = prune(value, &defaults);
    let toml::Value::Table(top) = pruned else {
        return Err("the scenario is not a table".into());
    };
    let mut body = String::new();
    emit_section(&mut body, "", &top);
    let mut out = String::new();
    for line in note.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!(
        "# Replay: kiosk-sim drill --file <this file> --seed {seed}\n\n"
    ));
    out.push_str(&body);
    Ok(out)
}

/// `value` without the table entries equal to those in `defaults`.
fn prune(value: toml::Value, defaults: &toml::Value) -> toml::Value {
    match (value, defaults) {
        (toml::Value::Table(table), toml::Value::Table(def)) => {
            let mut out = toml::map::Map::new();
            for (k, v) in table {
                match def.get(&k) {
                    Some(d) if *d == v && k != "id" && k != "title" => {}
                    Some(d) => {
                        let pruned = prune(v, d);
                        let empty = matches!(&pruned, toml::Value::Table(t) if t.is_empty());
                        if !empty {
                            out.insert(k, pruned);
                        }
                    }
                    None => {
                        out.insert(k, v);
                    }
                }
            }
            toml::Value::Table(out)
        }
        (v, _) => v,
    }
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

/// A value on one line (tables as inline tables).
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        toml::Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn is_array_of_tables(v: &toml::Value) -> bool {
    matches!(v, toml::Value::Array(a) if !a.is_empty() && a.iter().all(toml::Value::is_table))
}

/// Whether a table reads well on one line: no nested tables of tables.
fn fits_inline(t: &toml::map::Map<String, toml::Value>) -> bool {
    t.values().all(|v| match v {
        toml::Value::Table(inner) => inner.values().all(|x| !x.is_table()),
        toml::Value::Array(a) => !is_array_of_tables(v) || a.len() <= 1,
        _ => true,
    }) && inline(&toml::Value::Table(t.clone())).len() <= 100
}

/// Writes `table` as the section `path` (the top level when empty): plain
/// keys first, small tables inline, then sub-sections and arrays of tables
/// whose entries are written one line per field.
fn emit_section(out: &mut String, path: &str, table: &toml::map::Map<String, toml::Value>) {
    let join = |k: &str| {
        if path.is_empty() {
            key(k)
        } else {
            format!("{path}.{}", key(k))
        }
    };
    for (k, v) in table {
        let plain = match v {
            toml::Value::Table(t) => !path.is_empty() && fits_inline(t),
            _ => !is_array_of_tables(v),
        };
        if plain {
            out.push_str(&format!("{} = {}\n", key(k), inline(v)));
        }
    }
    for (k, v) in table {
        match v {
            toml::Value::Table(t) if path.is_empty() || !fits_inline(t) => {
                let sub = join(k);
                let has_plain = t.values().any(|x| !x.is_table() && !is_array_of_tables(x))
                    || t.values()
                        .any(|x| matches!(x, toml::Value::Table(i) if fits_inline(i)));
                if has_plain {
                    out.push_str(&format!("\n[{sub}]\n"));
                }
                emit_section(out, &sub, t);
            }
            toml::Value::Array(a) if is_array_of_tables(v) => {
                for entry in a {
                    out.push_str(&format!("\n[[{}]]\n", join(k)));
                    if let toml::Value::Table(t) = entry {
                        for (ek, ev) in t {
                            out.push_str(&format!("{} = {}\n", key(ek), inline(ev)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
