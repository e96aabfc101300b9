//! The ticket book: opens, escalates and resolves tickets from what the
//! kiosk detects and what staff do. Sans-IO: every call takes `now`.

use std::collections::BTreeMap;

use super::{Ticket, TicketAction, TicketChange, TicketId, TicketKind, TicketPolicy};
use crate::events::DeviceKind;
use crate::ids::{KioskId, Millis};

/// The actor name of the kiosk itself in ticket actions.
pub const KIOSK_ACTOR: &str = "kiosk";

/// One kiosk's fault tickets. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct TicketBook {
    kiosk: KioskId,
    site: String,
    policy: TicketPolicy,
    tickets: BTreeMap<TicketId, Ticket>,
    next_id: u64,
}

impl TicketBook {
    /// An empty book for `kiosk` at `site`; the first ticket is number 1.
    pub fn new(kiosk: KioskId, site: impl Into<String>, policy: TicketPolicy) -> TicketBook {
        TicketBook::restore(kiosk, site, policy, Vec::new())
    }

    /// A book holding `tickets` (as read back from the journal); new ids
    /// continue after the largest one. Resolved tickets past
    /// [`TicketPolicy::resolved_kept_max`] are left out, oldest first.
    pub fn restore(
        kiosk: KioskId,
        site: impl Into<String>,
        policy: TicketPolicy,
        tickets: Vec<Ticket>,
    ) -> TicketBook {
        let tickets: BTreeMap<_, _> = tickets.into_iter().map(|t| (t.id, t)).collect();
        let next_id = tickets
            .keys()
            .next_back()
            .map_or(1, |id| id.0.saturating_add(1));
        let mut book = TicketBook {
            kiosk,
            site: site.into(),
            policy,
            tickets,
            next_id,
        };
        book.prune_resolved();
        book
    }

    /// The policy in force.
    pub fn policy(&self) -> &TicketPolicy {
        &self.policy
    }

    /// A fault of `kind` was detected on `device`: opens a ticket, unless one
    /// for the same device and kind is open already (then nothing changes).
    /// Within [`TicketPolicy::reopen_merge_ms`] of the resolution of such a
    /// ticket, that ticket is reopened instead.
    pub fn fault_detected(
        &mut self,
        device: DeviceKind,
        kind: TicketKind,
        symptom: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        if self.open_of(device).any(|t| t.kind == kind) {
            return Vec::new();
        }
        let symptom = symptom.into();
        if let Some(id) = self.reopenable(device, kind, now) {
            let max = self.policy.actions_max;
            let t = self.tickets.get_mut(&id).expect("reopenable ticket exists");
            t.reopened_at = Some(now);
            t.resolved_at = None;
            t.acknowledged_at = None;
            t.remote_fix_at = None;
            t.dispatched_at = None;
            push_action(t, max, action(now, KIOSK_ACTOR, "reopened", &symptom));
            return vec![TicketChange::Opened(t.clone())];
        }
        let id = TicketId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let ticket = Ticket {
            id,
            kiosk: self.kiosk.clone(),
            site: self.site.clone(),
            device,
            kind,
            severity: self.policy.severity(device, kind),
            actions: vec![action(now, KIOSK_ACTOR, "detected", &symptom)],
            symptom,
            opened_at: now,
            acknowledged_at: None,
            remote_fix_at: None,
            dispatched_at: None,
            resolved_at: None,
            reopened_at: None,
            actions_dropped: 0,
        };
        self.tickets.insert(id, ticket.clone());
        vec![TicketChange::Opened(ticket)]
    }

    /// `device` is healthy again: resolves all its open tickets, by the kiosk.
    pub fn fault_cleared(&mut self, device: DeviceKind, now: Millis) -> Vec<TicketChange> {
        let ids: Vec<TicketId> = self.open_of(device).map(|t| t.id).collect();
        self.resolve_all(ids, now)
    }

    /// The fault of `kind` on `device` is over (link fast again, failure
    /// rate back to normal): resolves that open ticket only, by the kiosk.
    pub fn fault_kind_cleared(
        &mut self,
        device: DeviceKind,
        kind: TicketKind,
        now: Millis,
    ) -> Vec<TicketChange> {
        let ids: Vec<TicketId> = self
            .open_of(device)
            .filter(|t| t.kind == kind)
            .map(|t| t.id)
            .collect();
        self.resolve_all(ids, now)
    }

    /// The kiosk tried a remote fix on `device` (reset, reopen, restart):
    /// records it on each of the device's open tickets, and the first such
    /// time as `remote_fix_at`.
    pub fn remote_fix_tried(
        &mut self,
        device: DeviceKind,
        what: impl Into<String>,
        result: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        let step = action(now, KIOSK_ACTOR, &what.into(), &result.into());
        let max = self.policy.actions_max;
        self.tickets
            .values_mut()
            .filter(|t| t.is_open() && t.device == device)
            .map(|t| {
                t.remote_fix_at.get_or_insert(now);
                push_action(t, max, step.clone());
                TicketChange::Updated(t.clone())
            })
            .collect()
    }

    /// Operations has seen ticket `id`. Unknown or resolved: nothing changes.
    pub fn acknowledge(
        &mut self,
        id: TicketId,
        actor: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        let max = self.policy.actions_max;
        match self.tickets.get_mut(&id).filter(|t| t.is_open()) {
            Some(t) => {
                t.acknowledged_at.get_or_insert(now);
                push_action(t, max, action(now, &actor.into(), "acknowledged", ""));
                vec![TicketChange::Updated(t.clone())]
            }
            None => Vec::new(),
        }
    }

    /// Records a handling step on ticket `id` (open or resolved: a
    /// post-incident note is welcome). Unknown: nothing changes.
    pub fn record_action(
        &mut self,
        id: TicketId,
        actor: impl Into<String>,
        what: impl Into<String>,
        result: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        let max = self.policy.actions_max;
        match self.tickets.get_mut(&id) {
            Some(t) => {
                let step = action(now, &actor.into(), &what.into(), &result.into());
                push_action(t, max, step);
                vec![TicketChange::Updated(t.clone())]
            }
            None => Vec::new(),
        }
    }

    /// Staff send someone on site for ticket `id` →
    /// [`TicketChange::Escalated`]. Dispatched already: the step is only
    /// recorded ([`TicketChange::Updated`]). Unknown or resolved: nothing.
    pub fn dispatch(
        &mut self,
        id: TicketId,
        actor: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        let max = self.policy.actions_max;
        match self.tickets.get_mut(&id).filter(|t| t.is_open()) {
            Some(t) => {
                let first = t.dispatched_at.is_none();
                t.dispatched_at.get_or_insert(now);
                push_action(t, max, action(now, &actor.into(), "dispatched on site", ""));
                let t = t.clone();
                vec![if first {
                    TicketChange::Escalated(t)
                } else {
                    TicketChange::Updated(t)
                }]
            }
            None => Vec::new(),
        }
    }

    /// Staff resolve ticket `id`, with a note on what fixed it. Unknown or
    /// resolved already: nothing changes.
    pub fn resolve(
        &mut self,
        id: TicketId,
        actor: impl Into<String>,
        note: impl Into<String>,
        now: Millis,
    ) -> Vec<TicketChange> {
        if !self.tickets.get(&id).is_some_and(Ticket::is_open) {
            return Vec::new();
        }
        let change = self.resolve_one(id, &actor.into(), &note.into(), now);
        self.prune_resolved();
        vec![change]
    }

    /// Dispatches on site, by the kiosk, every open ticket whose escalation
    /// window has passed (`now >= opened + escalation_window_ms`) and that
    /// nobody was sent for yet.
    pub fn poll(&mut self, now: Millis) -> Vec<TicketChange> {
        let window = self.policy.escalation_window_ms;
        let max = self.policy.actions_max;
        // Written only when a ticket escalates: this runs at every idle tick.
        let mut what = None;
        self.tickets
            .values_mut()
            .filter(|t| t.is_open() && t.dispatched_at.is_none())
            .filter(|t| now >= t.episode_start().plus_ms(window))
            .map(|t| {
                t.dispatched_at = Some(now);
                let what = what.get_or_insert_with(|| {
                    format!("escalated to on-site after {}", duration_text(window))
                });
                push_action(t, max, action(now, KIOSK_ACTOR, what, "dispatched"));
                TicketChange::Escalated(t.clone())
            })
            .collect()
    }

    /// When [`TicketBook::poll`] next has something to escalate: sleep until
    /// then. `None`: nothing is waiting for escalation.
    pub fn next_deadline(&self) -> Option<Millis> {
        let window = self.policy.escalation_window_ms;
        self.tickets
            .values()
            .filter(|t| t.is_open() && t.dispatched_at.is_none())
            .map(|t| t.episode_start().plus_ms(window))
            .min()
    }

    /// The open tickets, by id.
    pub fn open_tickets(&self) -> Vec<&Ticket> {
        self.tickets.values().filter(|t| t.is_open()).collect()
    }

    /// Ticket `id`, if the book holds it.
    pub fn get(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    /// Every ticket the book holds (open, and the latest resolved), by id.
    pub fn all(&self) -> Vec<&Ticket> {
        self.tickets.values().collect()
    }

    fn open_of(&self, device: DeviceKind) -> impl Iterator<Item = &Ticket> {
        self.tickets
            .values()
            .filter(move |t| t.is_open() && t.device == device)
    }

    /// The latest resolved ticket of `device` and `kind` resolved within the
    /// merge window, if merging is on.
    fn reopenable(&self, device: DeviceKind, kind: TicketKind, now: Millis) -> Option<TicketId> {
        let merge = self.policy.reopen_merge_ms;
        if merge == 0 {
            return None;
        }
        self.tickets
            .values()
            .rev()
            .filter(|t| t.device == device && t.kind == kind)
            .find_map(|t| t.resolved_at.map(|at| (t.id, at)))
            .filter(|(_, at)| now.since(*at) <= merge)
            .map(|(id, _)| id)
    }

    fn resolve_all(&mut self, ids: Vec<TicketId>, now: Millis) -> Vec<TicketChange> {
        let changes = ids
            .into_iter()
            .map(|id| self.resolve_one(id, KIOSK_ACTOR, "fault cleared", now))
            .collect();
        self.prune_resolved();
        changes
    }

    fn resolve_one(&mut self, id: TicketId, actor: &str, note: &str, now: Millis) -> TicketChange {
        let max = self.policy.actions_max;
        let t = self.tickets.get_mut(&id).expect("ticket to resolve exists");
        t.resolved_at = Some(now);
        push_action(t, max, action(now, actor, "resolved", note));
        TicketChange::Resolved(t.clone())
    }

    /// Forgets the oldest resolved tickets past `resolved_kept_max`.
    fn prune_resolved(&mut self) {
        let resolved: Vec<TicketId> = self
            .tickets
            .values()
            .filter(|t| !t.is_open())
            .map(|t| t.id)
            .collect();
        let excess = resolved.len().saturating_sub(self.policy.resolved_kept_max);
        for id in &resolved[..excess] {
            self.tickets.remove(id);
        }
    }
}

fn action(at: Millis, actor: &str, what: &str, result: &str) -> TicketAction {
    TicketAction {
        at,
        actor: actor.to_string(),
        action: what.to_string(),
        result: result.to_string(),
    }
}

/// Appends `step`, dropping the oldest actions after the first past `max`.
fn push_action(t: &mut Ticket, max: usize, step: TicketAction) {
    let max = max.max(2);
    while t.actions.len() >= max {
        t.actions.remove(1);
        t.actions_dropped = t.actions_dropped.saturating_add(1);
    }
    t.actions.push(step);
}

/// `600000` → `"10 min"`, `90000` → `"90 s"`, `1500` → `"1500 ms"`.
fn duration_text(ms: u64) -> String {
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{} s", ms / 1_000)
    } else {
        format!("{ms} ms")
    }
}
