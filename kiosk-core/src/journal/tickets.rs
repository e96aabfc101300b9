//! Fault tickets in the journal: one row per ticket, upserted by id.
//!
//! A row keeps the ticket whole as JSON (`ticket` column; the serde form of
//! [`Ticket`] is part of the file format) beside plain columns for staff
//! reading the file with `sqlite3` and for the open-ticket index. Tickets
//! are never deleted. Every save is one transaction with one audit row
//! (`ticket-opened`, `ticket-updated` or `ticket-resolved`).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use super::chain::Writer;
use super::codec::serde_name;
use super::events::{Event, EventKind};
use super::fail::Fail;
use super::{Journal, JournalError, JournalErrorKind};
use crate::tickets::{Ticket, TicketId};

impl Journal {
    /// Saves `ticket` (a new one, or a newer version of a saved one) in one
    /// transaction with an audit row. A ticket's identity (kiosk, device,
    /// kind, opening time) never changes: a save that would change it →
    /// [`JournalErrorKind::IllegalTransition`], nothing written.
    pub fn save_ticket(&mut self, ticket: &Ticket) -> Result<(), JournalError> {
        self.write(|c| save(c, ticket))
    }

    /// Every ticket in the journal, by id.
    pub fn tickets(&self) -> Result<Vec<Ticket>, JournalError> {
        self.read(|c| select(c, "SELECT ticket FROM tickets ORDER BY id"))
    }

    /// The tickets not resolved, by id.
    pub fn open_tickets(&self) -> Result<Vec<Ticket>, JournalError> {
        self.read(|c| {
            select(
                c,
                "SELECT ticket FROM tickets WHERE resolved_at IS NULL ORDER BY id",
            )
        })
    }
}

/// The ticket's id as an SQLite integer.
fn row_id(id: TicketId) -> Result<i64, Fail> {
    i64::try_from(id.0)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Fail::illegal(format!("ticket id {} out of range", id.0)))
}

/// Upserts the row and appends the audit row.
fn save(conn: &Writer<'_>, ticket: &Ticket) -> Result<(), Fail> {
    let id = row_id(ticket.id)?;
    let stored = load(conn, id)?;
    if let Some(old) = &stored {
        let same = (&old.kiosk, old.device, &old.kind, old.opened_at)
            == (&ticket.kiosk, ticket.device, &ticket.kind, ticket.opened_at);
        if !same {
            return Err(Fail::illegal(format!(
                "ticket {} is {} {} of {} opened at {}; a save cannot make it {} {} of {} at {}",
                ticket.id,
                serde_name(&old.device),
                old.kind,
                old.kiosk,
                old.opened_at,
                serde_name(&ticket.device),
                ticket.kind,
                ticket.kiosk,
                ticket.opened_at
            )));
        }
    }
    let text = serde_json::to_string(ticket)
        .map_err(|e| Fail::new(JournalErrorKind::Storage, format!("ticket to JSON: {e}")))?;
    let state = serde_name(&ticket.state());
    conn.prepare_cached(
        "INSERT INTO tickets (id, kiosk, site, device, kind, severity, state, opened_at,
                              resolved_at, ticket)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET
             site = excluded.site, severity = excluded.severity, state = excluded.state,
             resolved_at = excluded.resolved_at, ticket = excluded.ticket",
    )?
    .execute(params![
        id,
        ticket.kiosk.0,
        ticket.site,
        serde_name(&ticket.device),
        ticket.kind.to_string(),
        serde_name(&ticket.severity),
        state,
        ticket.opened_at.0,
        ticket.resolved_at.map(|m| m.0),
        text,
    ])?;
    let kind = match (&stored, ticket.is_open()) {
        (None, _) => EventKind::TicketOpened,
        (Some(_), false) => EventKind::TicketResolved,
        (Some(_), true) => EventKind::TicketUpdated,
    };
    let at = ticket
        .actions
        .last()
        .map_or(ticket.opened_at, |a| a.at.max(ticket.opened_at));
    Event::new(kind, at)
        .detail(json!({
            "ticket": ticket.id.0,
            "device": serde_name(&ticket.device),
            "kind": ticket.kind.to_string(),
            "severity": serde_name(&ticket.severity),
            "state": state,
            "last_action": ticket.actions.last(),
        }))
        .append(conn)
}

/// The stored ticket `id`, if any.
fn load(conn: &Connection, id: i64) -> Result<Option<Ticket>, Fail> {
    let text: Option<String> = conn
        .prepare_cached("SELECT ticket FROM tickets WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    text.map(|t| parse(&t)).transpose()
}

/// The tickets a `SELECT ticket …` query returns.
fn select(conn: &Connection, sql: &str) -> Result<Vec<Ticket>, Fail> {
    let texts: Vec<String> = conn
        .prepare_cached(sql)?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    texts.iter().map(|t| parse(t)).collect()
}

fn parse(text: &str) -> Result<Ticket, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::corrupt(format!("stored ticket: {e}")))
}
