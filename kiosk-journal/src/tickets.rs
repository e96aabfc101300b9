//! Fault tickets with every handling step (time, person, measure, result),
//! as the contingency plan asks them recorded.

use kiosk_core::tickets::Ticket;
use kiosk_core::Millis;

use crate::catalog::{Lang, Msg};
use crate::text::Table;
use crate::time::{self, UtcOffset};

/// A serde name (`"cash-box"`, `"dispatched"`) of a value.
fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Every ticket as text in `lang`.
pub fn render(tickets: &[Ticket], lang: Lang, offset: UtcOffset) -> String {
    let t = |m: Msg| m.text(lang);
    let when = |m: Option<Millis>| m.map_or("—".to_string(), |m| time::format(m, offset));
    let mut out = format!("{} (UTC{offset})\n", t(Msg::TicketsTitle));
    if tickets.is_empty() {
        out.push_str(&format!("{}\n", t(Msg::NoTickets)));
    }
    for k in tickets {
        out.push_str(&format!(
            "\n{} #{}  {} {}  {} {}  {} {}\n",
            t(Msg::Ticket),
            k.id.0,
            t(Msg::Kiosk),
            k.kiosk.0,
            t(Msg::Site),
            k.site,
            t(Msg::State),
            name(&k.state())
        ));
        out.push_str(&format!(
            "  {} {}  {} {}  {} {}\n  {}: {}\n",
            t(Msg::Device),
            name(&k.device),
            t(Msg::Fault),
            k.kind,
            t(Msg::Severity),
            name(&k.severity),
            t(Msg::Symptom),
            k.symptom
        ));
        for (m, at) in [
            (Msg::Opened, Some(k.opened_at)),
            (Msg::Acknowledged, k.acknowledged_at),
            (Msg::RemoteFix, k.remote_fix_at),
            (Msg::Dispatched, k.dispatched_at),
            (Msg::Resolved, k.resolved_at),
        ] {
            out.push_str(&format!("  {}: {}\n", t(m), when(at)));
        }
        out.push_str(&format!("  {}:\n", t(Msg::Steps)));
        if k.actions_dropped > 0 {
            out.push_str(&format!(
                "  ({}: {})\n",
                t(Msg::StepsDropped),
                k.actions_dropped
            ));
        }
        let mut table = Table::new(vec![
            t(Msg::Time).into(),
            t(Msg::Person).into(),
            t(Msg::Measure).into(),
            t(Msg::Result).into(),
        ]);
        for a in &k.actions {
            table.row(vec![
                time::format(a.at, offset),
                a.actor.clone(),
                a.action.clone(),
                a.result.clone(),
            ]);
        }
        for line in table.render().lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
