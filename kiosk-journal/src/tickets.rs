//! Fault tickets with every handling step (time, person, measure, result),
//! as the contingency plan asks them recorded.

use kiosk_core::events::DeviceKind;
use kiosk_core::tickets::{Severity, Ticket, TicketState};
use kiosk_core::Millis;

use crate::catalog::{Lang, Msg};
use crate::text::Table;
use crate::time::{self, UtcOffset};

fn state(s: TicketState) -> Msg {
    match s {
        TicketState::Open => Msg::StateOpen,
        TicketState::Acknowledged => Msg::StateAcknowledged,
        TicketState::RemoteFixTried => Msg::StateRemoteFixTried,
        TicketState::Dispatched => Msg::StateDispatched,
        TicketState::Resolved => Msg::StateResolved,
    }
}

fn device(d: DeviceKind) -> Msg {
    match d {
        DeviceKind::Acceptor => Msg::DeviceAcceptor,
        DeviceKind::CashBox => Msg::DeviceCashBox,
        DeviceKind::Printer => Msg::DevicePrinter,
        DeviceKind::Reader => Msg::DeviceReader,
        DeviceKind::Link => Msg::DeviceLink,
        DeviceKind::Kiosk => Msg::DeviceKiosk,
    }
}

fn severity(s: Severity) -> Msg {
    match s {
        Severity::Low => Msg::SeverityLow,
        Severity::Medium => Msg::SeverityMedium,
        Severity::High => Msg::SeverityHigh,
        Severity::Critical => Msg::SeverityCritical,
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
            t(state(k.state()))
        ));
        out.push_str(&format!(
            "  {} {}  {} {}  {} {}\n  {}: {}\n",
            t(Msg::Device),
            t(device(k.device)),
            t(Msg::Fault),
            k.kind,
            t(Msg::Severity),
            t(severity(k.severity)),
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
        let mut table = Table::left_aligned(vec![
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
