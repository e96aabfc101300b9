//! The hall's live picture, kept from every kiosk's telemetry, and the
//! guidance and dashboard views made from it. Sans-IO: the hall service
//! hands each received message and the time to [`Hall::apply`].
//!
//! Kiosks are ordered by id: the hall names them so that `K01` is the
//! nearest the entrance (ties in guidance go to it, as in the site model).
//! A kiosk's queue is its own count if it has a queue sensor, else the
//! customers this service sent there that have not started a session yet
//! (each new session takes the oldest; one not started within
//! [`DIRECTED_TTL_MS`] is forgotten: the customer went elsewhere).
//!
//! Kiosk clocks and the hall's are taken to agree (NTP on the hall's
//! network): session starts and ticket times are the kiosks'.

use std::collections::{BTreeMap, VecDeque};

use kiosk_core::tickets::TicketId;
use kiosk_hal::PaymentMethod;
use serde::Serialize;

use crate::guidance::{self, Candidate, Wants, INITIAL_SERVICE_MS};
use crate::messages::{
    EventMessage, KioskState, KioskStatus, Offline, StatusMessage, TicketChange, TicketInfo,
    TicketMessage,
};
use crate::topics::{Channel, HallTopics};

/// The operators' fault-response target: 5 minutes (domain.md).
pub const RESPONSE_TARGET_MS: u64 = 5 * 60 * 1000;

/// A customer sent to a kiosk who has not started there within this long
/// went elsewhere.
pub const DIRECTED_TTL_MS: u64 = 10 * 60 * 1000;

/// Customers in one queue before guidance sends nobody more there (the
/// site model's default queue limit).
pub const QUEUE_MAX: usize = 10;

/// How many recent events the dashboard keeps per kiosk.
const RECENT_EVENTS: usize = 5;

/// One kiosk as the hall knows it.
#[derive(Debug, Clone, Default)]
pub struct KioskEntry {
    /// Its last status (kept while offline, for the last known state).
    pub status: Option<KioskStatus>,
    /// Why it is offline, if it is.
    pub offline: Option<Offline>,
    /// When it last came online or went offline (hall clock).
    pub since_ms: u64,
    /// Recent mean service time.
    pub recent_service_ms: f64,
    /// Hall-clock times of customers sent here, not yet started.
    pub directed: VecDeque<u64>,
    /// Open tickets: the status's, then the ticket messages since.
    pub tickets: BTreeMap<TicketId, TicketInfo>,
    /// Recent events, newest first: (kiosk time, kind).
    pub recent: VecDeque<(u64, String)>,
}

impl KioskEntry {
    fn online(&self) -> bool {
        self.offline.is_none() && self.status.is_some()
    }

    fn queue(&self) -> usize {
        match self.status.as_ref().and_then(|s| s.queue) {
            Some(q) => q as usize,
            None => self.directed.len(),
        }
    }

    fn candidate(&self) -> Candidate {
        let status = self.status.as_ref();
        let offers = |m| status.is_some_and(|s| s.offered_methods.contains(&m));
        Candidate {
            accepting: self.online() && status.is_some_and(|s| s.state.takes_customers()),
            queue: self.queue(),
            cash: offers(PaymentMethod::Cash),
            code: offers(PaymentMethod::Code),
            recent_service_ms: self.recent_service_ms,
            busy_since_ms: status
                .and_then(|s| s.session.as_ref())
                .map(|s| s.started_at_ms),
        }
    }
}

/// What a message changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A kiosk's picture changed.
    Changed(String),
    /// Not one of ours, or nothing to take from it.
    Ignored,
    /// Could not be read (logged by the caller).
    Unreadable(String),
}

/// Every kiosk of one hall.
#[derive(Debug)]
pub struct Hall {
    topics: HallTopics,
    kiosks: BTreeMap<String, KioskEntry>,
}

impl Hall {
    /// An empty hall.
    pub fn new(topics: HallTopics) -> Hall {
        Hall {
            topics,
            kiosks: BTreeMap::new(),
        }
    }

    /// The hall's topics.
    pub fn topics(&self) -> &HallTopics {
        &self.topics
    }

    /// The kiosks, by id.
    pub fn kiosks(&self) -> &BTreeMap<String, KioskEntry> {
        &self.kiosks
    }

    fn entry(&mut self, kiosk: &str, now_ms: u64) -> &mut KioskEntry {
        self.kiosks
            .entry(kiosk.to_string())
            .or_insert_with(|| KioskEntry {
                since_ms: now_ms,
                recent_service_ms: INITIAL_SERVICE_MS,
                ..KioskEntry::default()
            })
    }

    /// Takes one message received on `topic` at `now_ms` (hall clock).
    pub fn apply(&mut self, topic: &str, payload: &[u8], now_ms: u64) -> Applied {
        let Some((kiosk, channel)) = self.topics.parse(topic) else {
            return Applied::Ignored;
        };
        let kiosk = kiosk.to_string();
        let unreadable = |e: serde_json::Error| Applied::Unreadable(format!("{topic}: {e}"));
        match channel {
            Channel::Status => {
                // An empty retained message clears the topic: a kiosk removed
                // from the hall.
                if payload.is_empty() {
                    return match self.kiosks.remove(&kiosk) {
                        Some(_) => Applied::Changed(kiosk),
                        None => Applied::Ignored,
                    };
                }
                match serde_json::from_slice::<StatusMessage>(payload) {
                    Ok(StatusMessage::Online(status)) => self.status(&kiosk, status, now_ms),
                    Ok(StatusMessage::Offline(offline)) => {
                        let e = self.entry(&kiosk, now_ms);
                        if e.offline.is_none() {
                            e.since_ms = now_ms;
                        }
                        e.offline = Some(offline);
                        // Customers sent there will not be served there.
                        e.directed.clear();
                    }
                    Err(e) => return unreadable(e),
                }
            }
            Channel::Ticket => match serde_json::from_slice::<TicketMessage>(payload) {
                Ok(t) => {
                    let e = self.entry(&kiosk, now_ms);
                    match t.change {
                        TicketChange::Opened => {
                            e.tickets.insert(
                                t.ticket,
                                TicketInfo {
                                    id: t.ticket,
                                    device: t.device,
                                    kind: t.kind,
                                    severity: t
                                        .severity
                                        .unwrap_or(kiosk_core::tickets::Severity::Medium),
                                    opened_at_ms: t.at_ms,
                                    escalated_at_ms: None,
                                },
                            );
                        }
                        TicketChange::Escalated => {
                            if let Some(info) = e.tickets.get_mut(&t.ticket) {
                                info.escalated_at_ms = Some(t.at_ms);
                            }
                        }
                        TicketChange::Resolved => {
                            e.tickets.remove(&t.ticket);
                        }
                    }
                }
                Err(e) => return unreadable(e),
            },
            Channel::Event => match serde_json::from_slice::<EventMessage>(payload) {
                Ok(m) => {
                    let kind = serde_json::to_value(&m.event)
                        .ok()
                        .and_then(|v| v.get("event").and_then(|k| k.as_str()).map(String::from))
                        .unwrap_or_default();
                    let e = self.entry(&kiosk, now_ms);
                    e.recent.push_front((m.at_ms, kind));
                    e.recent.truncate(RECENT_EVENTS);
                }
                Err(e) => return unreadable(e),
            },
            Channel::Command | Channel::CommandResult => return Applied::Ignored,
        }
        Applied::Changed(kiosk)
    }

    fn status(&mut self, kiosk: &str, status: KioskStatus, now_ms: u64) {
        let e = self.entry(kiosk, now_ms);
        let previous = e.status.take();
        // An older status (a retained one replayed after a newer live one)
        // never replaces a newer one.
        if let Some(p) = &previous {
            if (p.started_at_ms, p.seq) > (status.started_at_ms, status.seq) {
                e.status = previous;
                return;
            }
        }
        let before = previous.as_ref().and_then(|p| p.session.clone());
        if let Some(b) = &before {
            if status.session.as_ref().map(|s| &s.id) != Some(&b.id) {
                // The session ended: its length feeds the recent mean.
                let service = status.at_ms.saturating_sub(b.started_at_ms);
                e.recent_service_ms = guidance::observe_service(e.recent_service_ms, service);
            }
        }
        if let Some(s) = &status.session {
            if before.as_ref().map(|b| &b.id) != Some(&s.id) {
                // A new customer started: one of those sent here, if any.
                e.directed.pop_front();
            }
        }
        if e.offline.is_some() || previous.is_none() {
            e.since_ms = now_ms;
        }
        e.offline = None;
        e.tickets = status
            .open_tickets
            .iter()
            .map(|t| (t.id, t.clone()))
            .collect();
        e.status = Some(status);
    }

    /// Forgets customers sent long ago who never started.
    pub fn expire(&mut self, now_ms: u64) {
        for e in self.kiosks.values_mut() {
            while e
                .directed
                .front()
                .is_some_and(|at| now_ms.saturating_sub(*at) > DIRECTED_TTL_MS)
            {
                e.directed.pop_front();
            }
        }
    }

    /// Where an arriving customer who `wants` a method should go now, with
    /// reasons; `direct` counts them into that kiosk's queue.
    pub fn advise(&mut self, wants: Wants, now_ms: u64, direct: bool) -> Advice {
        self.expire(now_ms);
        let ids: Vec<&String> = self.kiosks.keys().collect();
        let candidates: Vec<Candidate> = self.kiosks.values().map(KioskEntry::candidate).collect();
        let choice = guidance::choose(&candidates, wants, None, now_ms, QUEUE_MAX);
        let mut reasons = Vec::new();
        for ((id, entry), c) in ids.iter().zip(self.kiosks.values()).zip(&candidates) {
            let (zh, en) = reason(entry, c, wants, now_ms);
            reasons.push(Reason {
                kiosk: (*id).clone(),
                usable: c.accepting && wants.can_use(c.cash, c.code) && c.queue < QUEUE_MAX,
                zh,
                en,
            });
        }
        let advice = match choice {
            Some(choice) => {
                let id = ids[choice.kiosk].clone();
                let minutes = choice.estimate_ms.div_ceil(60_000);
                let (zh, en) = if choice.estimate_ms == 0 {
                    (
                        format!("请到 {id} 号终端缴费，无需等待"),
                        format!("Please use kiosk {id}: no wait"),
                    )
                } else {
                    (
                        format!("请到 {id} 号终端缴费，预计等待约 {minutes} 分钟"),
                        format!("Please use kiosk {id}: about {minutes} min wait"),
                    )
                };
                Advice {
                    kiosk: Some(id),
                    estimate_ms: Some(choice.estimate_ms),
                    message_zh: zh,
                    message_en: en,
                    reasons,
                    at_ms: now_ms,
                }
            }
            None => Advice {
                kiosk: None,
                estimate_ms: None,
                message_zh: "暂无可用的自助终端，请到人工柜台缴费，或使用手机营业厅/网上营业厅"
                    .into(),
                message_en:
                    "No kiosk can take you now: please pay at the staffed counter, or in the mobile or online service hall"
                        .into(),
                reasons,
                at_ms: now_ms,
            },
        };
        if direct {
            if let Some(id) = &advice.kiosk {
                if let Some(e) = self.kiosks.get_mut(id) {
                    e.directed.push_back(now_ms);
                }
            }
        }
        advice
    }

    /// The dashboard's rows, nearest the entrance first.
    pub fn view(&self, now_ms: u64) -> HallView {
        let kiosks = self
            .kiosks
            .iter()
            .map(|(id, e)| row(id, e, now_ms))
            .collect();
        HallView {
            hall: self.topics.hall().to_string(),
            at_ms: now_ms,
            response_target_ms: RESPONSE_TARGET_MS,
            kiosks,
        }
    }
}

fn reason(e: &KioskEntry, c: &Candidate, wants: Wants, now_ms: u64) -> (String, String) {
    if let Some(off) = &e.offline {
        return if off.clean {
            ("已关闭".into(), "shut down".into())
        } else {
            (
                "离线（连接中断）".into(),
                "offline (connection lost)".into(),
            )
        };
    }
    let Some(s) = &e.status else {
        return ("无状态".into(), "no status".into());
    };
    match s.state {
        KioskState::Starting => return ("正在启动".into(), "starting".into()),
        KioskState::Stopping => return ("正在停止".into(), "stopping".into()),
        KioskState::OutOfService => return ("暂停服务".into(), "out of service".into()),
        KioskState::InService => {}
    }
    if !wants.can_use(c.cash, c.code) {
        return match wants {
            Wants::Cash => ("现金不可用".into(), "cash not offered".into()),
            Wants::Code => ("付款码不可用".into(), "payment codes not offered".into()),
            Wants::Either => ("无可用缴费方式".into(), "no payment method".into()),
        };
    }
    if c.queue >= QUEUE_MAX {
        return (
            format!("排队已满（{} 人）", c.queue),
            format!("queue full ({})", c.queue),
        );
    }
    let wait_s = (c.expected_wait_ms(now_ms) / 1000.0).round() as u64;
    (
        format!("排队 {} 人，预计等待 {} 秒", c.queue, wait_s),
        format!("{} queued, expected wait {} s", c.queue, wait_s),
    )
}

fn row(id: &str, e: &KioskEntry, now_ms: u64) -> KioskRow {
    let s = e.status.as_ref();
    let (state, zh, en) = match (&e.offline, s.map(|s| s.state)) {
        (Some(off), _) if off.clean => ("offline", "已关闭", "shut down"),
        (Some(_), _) => ("lost", "离线（连接中断）", "offline: connection lost"),
        (None, None) => ("unknown", "未知", "unknown"),
        (None, Some(KioskState::Starting)) => ("starting", "正在启动", "starting"),
        (None, Some(KioskState::InService)) => ("in-service", "正常服务", "in service"),
        (None, Some(KioskState::OutOfService)) => ("out-of-service", "暂停服务", "out of service"),
        (None, Some(KioskState::Stopping)) => ("stopping", "正在停止", "stopping"),
    };
    let tickets = e
        .tickets
        .values()
        .map(|t| {
            let age_ms = now_ms.saturating_sub(t.opened_at_ms);
            let responded_ms = t
                .escalated_at_ms
                .map(|at| at.saturating_sub(t.opened_at_ms));
            TicketRow {
                id: t.id,
                device: serde_json::to_value(t.device).unwrap_or_default(),
                kind: serde_json::to_value(t.kind).unwrap_or_default(),
                severity: serde_json::to_value(t.severity).unwrap_or_default(),
                age_ms,
                responded_ms,
                overdue: match responded_ms {
                    Some(r) => r > RESPONSE_TARGET_MS,
                    None => age_ms > RESPONSE_TARGET_MS,
                },
            }
        })
        .collect();
    KioskRow {
        id: id.to_string(),
        state: state.to_string(),
        state_zh: zh.to_string(),
        state_en: en.to_string(),
        since_ms: e.since_ms,
        faults: s
            .map(|s| {
                s.devices
                    .iter()
                    .filter_map(|d| {
                        d.fault
                            .map(|f| serde_json::json!({ "device": d.device, "fault": f }))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        offered_methods: s.map(|s| s.offered_methods.clone()).unwrap_or_default(),
        busy: s.is_some_and(|s| s.session.is_some()),
        queue: e.queue(),
        queue_measured: s.is_some_and(|s| s.queue.is_some()),
        cash_box: s
            .and_then(|s| s.cash_box)
            .map(|c| serde_json::to_value(c).unwrap_or_default()),
        notes_stacked: s.map(|s| s.notes_stacked).unwrap_or(0),
        pending_payments: s.map(|s| s.pending_payments).unwrap_or(0),
        in_doubt_notes: s.map(|s| s.in_doubt_notes).unwrap_or(0),
        tickets,
        recent_events: e.recent.iter().cloned().collect(),
        recent_service_ms: e.recent_service_ms.round() as u64,
    }
}

/// Why each kiosk was or was not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The kiosk.
    pub kiosk: String,
    /// Whether it could take this customer.
    pub usable: bool,
    /// In Chinese.
    pub zh: String,
    /// In English.
    pub en: String,
}

/// Where to send an arriving customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advice {
    /// The kiosk; `None`: none can take them (alternative channels).
    pub kiosk: Option<String>,
    /// The expected wait there.
    pub estimate_ms: Option<u64>,
    /// What to tell the customer, Chinese.
    pub message_zh: String,
    /// What to tell the customer, English.
    pub message_en: String,
    /// Every kiosk's state for this customer.
    pub reasons: Vec<Reason>,
    /// When (hall clock).
    pub at_ms: u64,
}

/// One open ticket on the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    /// Its id.
    pub id: TicketId,
    /// The device.
    pub device: serde_json::Value,
    /// What it is about.
    pub kind: serde_json::Value,
    /// How urgent.
    pub severity: serde_json::Value,
    /// How long it has been open.
    pub age_ms: u64,
    /// How long until someone responded (was dispatched), if yet.
    pub responded_ms: Option<u64>,
    /// Past the 5-minute response target without (or before) a response.
    pub overdue: bool,
}

/// One kiosk on the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct KioskRow {
    /// Its id.
    pub id: String,
    /// `in-service`, `out-of-service`, `starting`, `stopping`, `offline`, `lost`, `unknown`.
    pub state: String,
    /// The state in Chinese.
    pub state_zh: String,
    /// The state in English.
    pub state_en: String,
    /// Since when (hall clock) it has been online or offline.
    pub since_ms: u64,
    /// Devices with a fault, and the fault.
    pub faults: Vec<serde_json::Value>,
    /// Methods offered.
    pub offered_methods: Vec<PaymentMethod>,
    /// A customer at it now.
    pub busy: bool,
    /// Customers waiting.
    pub queue: usize,
    /// Whether the queue is measured by the kiosk (else estimated).
    pub queue_measured: bool,
    /// The cash box as last read.
    pub cash_box: Option<serde_json::Value>,
    /// Notes stacked since the kiosk's service started.
    pub notes_stacked: u64,
    /// Payments not yet answered by the backend.
    pub pending_payments: u32,
    /// Notes in doubt.
    pub in_doubt_notes: u32,
    /// Open tickets with their age against the response target.
    pub tickets: Vec<TicketRow>,
    /// Recent events (kiosk time, kind), newest first.
    pub recent_events: Vec<(u64, String)>,
    /// Recent mean service time.
    pub recent_service_ms: u64,
}

/// The whole dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct HallView {
    /// The hall.
    pub hall: String,
    /// When (hall clock).
    pub at_ms: u64,
    /// The fault-response target.
    pub response_target_ms: u64,
    /// Every kiosk, nearest the entrance first.
    pub kiosks: Vec<KioskRow>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::DeviceStatus;
    use kiosk_core::DeviceKind;

    fn status(id: &str, seq: u64, state: KioskState, session: Option<(&str, u64)>) -> Vec<u8> {
        StatusMessage::Online(KioskStatus {
            kiosk_id: id.into(),
            seq,
            started_at_ms: 1,
            at_ms: 1_000 * seq,
            state,
            devices: vec![DeviceStatus {
                device: DeviceKind::Printer,
                fault: None,
                identity: None,
            }],
            offered_methods: vec![PaymentMethod::Cash, PaymentMethod::Code],
            session: session.map(|(id, at)| crate::messages::SessionState {
                id: id.into(),
                started_at_ms: at,
            }),
            queue: None,
            cash_box: None,
            notes_stacked: 0,
            open_tickets: vec![],
            pending_payments: 0,
            in_doubt_notes: 0,
            clearing_open: false,
            telemetry_dropped: 0,
        })
        .to_payload()
    }

    fn hall() -> Hall {
        Hall::new(HallTopics::new("H1").unwrap())
    }

    #[test]
    fn a_kiosk_whose_will_fires_is_avoided_and_a_spare_is_used_at_once() {
        let mut h = hall();
        let t = |k: &str| format!("kiosk/v1/H1/{k}/status");
        h.apply(&t("K01"), &status("K01", 1, KioskState::InService, None), 0);
        h.apply(&t("K02"), &status("K02", 1, KioskState::InService, None), 0);
        assert_eq!(
            h.advise(Wants::Cash, 10, true).kiosk.as_deref(),
            Some("K01")
        );
        assert_eq!(
            h.advise(Wants::Cash, 10, true).kiosk.as_deref(),
            Some("K02")
        );
        assert_eq!(
            h.advise(Wants::Cash, 10, false).kiosk.as_deref(),
            Some("K01")
        );
        let will = StatusMessage::Offline(Offline {
            kiosk_id: "K01".into(),
            clean: false,
            at_ms: None,
        });
        assert_eq!(
            h.apply(&t("K01"), &will.to_payload(), 20),
            Applied::Changed("K01".into())
        );
        let advice = h.advise(Wants::Cash, 30, false);
        assert_eq!(advice.kiosk.as_deref(), Some("K02"));
        assert_eq!(advice.reasons[0].en, "offline (connection lost)");
        assert!(!advice.reasons[0].usable);
        // A spare comes online: it has nobody waiting, so it is used at once.
        h.apply(
            &t("K09"),
            &status("K09", 1, KioskState::InService, None),
            40,
        );
        assert_eq!(
            h.advise(Wants::Cash, 50, false).kiosk.as_deref(),
            Some("K09")
        );
        assert_eq!(h.view(50).kiosks[0].state, "lost");
    }

    #[test]
    fn sessions_take_directed_customers_and_teach_the_service_time() {
        let mut h = hall();
        let t = "kiosk/v1/H1/K01/status";
        h.apply(t, &status("K01", 1, KioskState::InService, None), 0);
        h.advise(Wants::Either, 0, true);
        h.advise(Wants::Either, 0, true);
        assert_eq!(h.kiosks()["K01"].directed.len(), 2);
        h.apply(
            t,
            &status("K01", 2, KioskState::InService, Some(("s1", 2_000))),
            2_000,
        );
        assert_eq!(h.kiosks()["K01"].directed.len(), 1);
        // Ends at 102 s: 100 s of service.
        h.apply(t, &status("K01", 102, KioskState::InService, None), 102_000);
        assert_eq!(h.kiosks()["K01"].recent_service_ms, 68_000.0);
        // A stale retained status does not go back in time.
        h.apply(
            t,
            &status("K01", 2, KioskState::OutOfService, None),
            103_000,
        );
        assert_eq!(h.kiosks()["K01"].status.as_ref().unwrap().seq, 102);
        h.expire(2_000 + DIRECTED_TTL_MS + 1);
        assert!(h.kiosks()["K01"].directed.is_empty());
    }

    #[test]
    fn nobody_takes_customers_then_the_alternative_channels_are_named() {
        let mut h = hall();
        h.apply(
            "kiosk/v1/H1/K01/status",
            &status("K01", 1, KioskState::OutOfService, None),
            0,
        );
        let a = h.advise(Wants::Cash, 0, true);
        assert_eq!(a.kiosk, None);
        assert!(a.message_zh.contains("人工柜台"), "{}", a.message_zh);
        assert_eq!(a.reasons[0].zh, "暂停服务");
        assert!(matches!(
            h.apply("kiosk/v1/H1/K01/status", b"{", 0),
            Applied::Unreadable(_)
        ));
        assert_eq!(
            h.apply("kiosk/v1/H2/K01/status", b"{}", 0),
            Applied::Ignored
        );
    }
}
