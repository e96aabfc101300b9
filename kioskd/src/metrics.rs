//! `/metrics`: what operations graphs and alerts on, in the Prometheus /
//! OpenMetrics text format, made by the `prometheus-client` crate.
//!
//! Everything here is fed from the kiosk's events ([`crate::watch`]) and
//! from the timed link ([`crate::link::TimedLink`]); nothing is read from
//! the kiosk while it runs. Kinds are enums in the code and become label
//! values only here.

use std::sync::Arc;
use std::time::Duration;

use kiosk_core::journal::SessionOutcome;
use kiosk_core::DeviceKind;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Which backend call a latency is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkCall {
    /// An account check.
    Lookup,
    /// A payment posting.
    Post,
    /// An idle heartbeat.
    Heartbeat,
}

impl LinkCall {
    fn label(self) -> &'static str {
        match self {
            LinkCall::Lookup => "lookup",
            LinkCall::Post => "post",
            LinkCall::Heartbeat => "heartbeat",
        }
    }
}

/// Why the API refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials, or wrong ones (401).
    Unauthenticated,
    /// Right credentials, wrong role or the same person twice (403).
    Forbidden,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Unauthenticated => "unauthenticated",
            Refusal::Forbidden => "forbidden",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Call {
    call: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Device {
    device: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

type HistogramFamily = Family<Call, Histogram, fn() -> Histogram>;

/// The journal's write times into the metrics.
impl kiosk_core::JournalTimings for Metrics {
    fn write_took(&mut self, took: Duration) {
        self.journal_write(took);
    }
}

/// The service's metrics. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    sessions: Family<Outcome, Counter>,
    payments: Family<Outcome, Counter>,
    notes_stacked: Counter,
    pending_payments: Gauge,
    in_doubt_notes: Gauge,
    posting_attempts: Counter,
    link_latency: HistogramFamily,
    link_errors: Family<Call, Counter>,
    device_fault: Family<Device, Gauge>,
    tickets_open: Gauge,
    api_refusals: Family<Reason, Counter>,
    security_alarms: Counter,
    journal_commit: Histogram,
    fleet_published: Counter,
    fleet_dropped: Counter,
    fleet_connected: Gauge,
}

/// The label of a device.
pub fn device_label(device: DeviceKind) -> &'static str {
    match device {
        DeviceKind::Acceptor => "acceptor",
        DeviceKind::CashBox => "cash-box",
        DeviceKind::Printer => "printer",
        DeviceKind::Reader => "reader",
        DeviceKind::Link => "link",
        DeviceKind::Kiosk => "kiosk",
    }
}

/// The label of a session outcome.
pub fn outcome_label(outcome: SessionOutcome) -> &'static str {
    match outcome {
        SessionOutcome::Credited => "credited",
        SessionOutcome::Pending => "pending",
        SessionOutcome::Refused => "refused",
        SessionOutcome::NoPayment => "no-payment",
        SessionOutcome::Aborted => "aborted",
        SessionOutcome::Interrupted => "interrupted",
    }
}

/// Every device, for gauges that start at 0.
pub const DEVICES: [DeviceKind; 6] = [
    DeviceKind::Acceptor,
    DeviceKind::CashBox,
    DeviceKind::Printer,
    DeviceKind::Reader,
    DeviceKind::Link,
    DeviceKind::Kiosk,
];

impl Metrics {
    /// A registry with every metric, at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kioskd");
        let sessions = Family::<Outcome, Counter>::default();
        let payments = Family::<Outcome, Counter>::default();
        let notes_stacked = Counter::default();
        let pending_payments = Gauge::default();
        let in_doubt_notes = Gauge::default();
        let posting_attempts = Counter::default();
        let link_latency: HistogramFamily =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let link_errors = Family::<Call, Counter>::default();
        let device_fault = Family::<Device, Gauge>::default();
        let tickets_open = Gauge::default();
        let api_refusals = Family::<Reason, Counter>::default();
        let security_alarms = Counter::default();
        // 100 µs to about 3 s: one synced SQLite commit each.
        let journal_commit = Histogram::new(exponential_buckets(0.0001, 2.0, 15));
        registry.register(
            "journal_commit_seconds",
            "Time of each journal write (one synced commit)",
            journal_commit.clone(),
        );
        registry.register(
            "sessions",
            "Customer sessions ended, by outcome",
            sessions.clone(),
        );
        registry.register(
            "payments",
            "Payments the backend answered, by outcome (credited, refused)",
            payments.clone(),
        );
        registry.register(
            "notes_stacked",
            "Notes the acceptor reported in the cash box",
            notes_stacked.clone(),
        );
        registry.register(
            "pending_payments",
            "Payments journaled and not yet answered by the backend",
            pending_payments.clone(),
        );
        registry.register(
            "in_doubt_notes",
            "Notes whose fate is unknown (settled by the device or at clearing)",
            in_doubt_notes.clone(),
        );
        registry.register(
            "posting_attempts",
            "Payment postings sent to the backend, first tries and retries",
            posting_attempts.clone(),
        );
        registry.register(
            "link_latency_seconds",
            "Time of each backend call, answered or not",
            link_latency.clone(),
        );
        registry.register(
            "link_errors",
            "Backend calls that ended in an error (timeout, offline, bad answer)",
            link_errors.clone(),
        );
        registry.register(
            "device_fault",
            "1 while the device has a fault, else 0",
            device_fault.clone(),
        );
        registry.register(
            "tickets_open",
            "Fault tickets open (not resolved)",
            tickets_open.clone(),
        );
        registry.register(
            "api_refusals",
            "Operator API requests refused, by reason",
            api_refusals.clone(),
        );
        registry.register(
            "security_alarms",
            "Security alarms raised by the kiosk",
            security_alarms.clone(),
        );
        let fleet_published = Counter::default();
        let fleet_dropped = Counter::default();
        let fleet_connected = Gauge::default();
        registry.register(
            "fleet_messages_published",
            "Telemetry messages handed to the MQTT client (statuses, tickets, events)",
            fleet_published.clone(),
        );
        registry.register(
            "fleet_messages_dropped",
            "Tickets and events dropped (oldest first) while the broker was away and the queue full",
            fleet_dropped.clone(),
        );
        registry.register(
            "fleet_connected",
            "1 while connected to the hall's MQTT broker, else 0",
            fleet_connected.clone(),
        );
        for device in DEVICES {
            device_fault
                .get_or_create(&Device {
                    device: device_label(device),
                })
                .set(0);
        }
        Metrics {
            registry: Arc::new(registry),
            sessions,
            payments,
            notes_stacked,
            pending_payments,
            in_doubt_notes,
            posting_attempts,
            link_latency,
            link_errors,
            device_fault,
            tickets_open,
            api_refusals,
            security_alarms,
            journal_commit,
            fleet_published,
            fleet_dropped,
            fleet_connected,
        }
    }

    /// The text exposition (ends with `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        out
    }

    /// A session ended.
    pub fn session_ended(&self, outcome: SessionOutcome) {
        self.sessions
            .get_or_create(&Outcome {
                outcome: outcome_label(outcome),
            })
            .inc();
    }

    /// The backend answered a payment.
    pub fn payment_answered(&self, credited: bool) {
        let outcome = if credited { "credited" } else { "refused" };
        self.payments.get_or_create(&Outcome { outcome }).inc();
    }

    /// A note reached the box.
    pub fn note_stacked(&self) {
        self.notes_stacked.inc();
    }

    /// A posting was sent.
    pub fn posting_attempt(&self) {
        self.posting_attempts.inc();
    }

    /// Money not yet settled, as counted by [`crate::watch::KioskView`].
    pub fn set_open_money(&self, pending_payments: usize, in_doubt_notes: usize) {
        self.pending_payments.set(pending_payments as i64);
        self.in_doubt_notes.set(in_doubt_notes as i64);
    }

    /// Open tickets now.
    pub fn set_tickets_open(&self, open: usize) {
        self.tickets_open.set(open as i64);
    }

    /// A device's fault state.
    pub fn set_fault(&self, device: DeviceKind, faulty: bool) {
        self.device_fault
            .get_or_create(&Device {
                device: device_label(device),
            })
            .set(i64::from(faulty));
    }

    /// One journal write took `took`.
    pub fn journal_write(&self, took: Duration) {
        self.journal_commit.observe(took.as_secs_f64());
    }

    /// One backend call's time and whether it answered.
    pub fn link_call(&self, call: LinkCall, took: Duration, answered: bool) {
        let label = Call { call: call.label() };
        self.link_latency
            .get_or_create(&label)
            .observe(took.as_secs_f64());
        if !answered {
            self.link_errors.get_or_create(&label).inc();
        }
    }

    /// The API refused a request.
    pub fn refused(&self, why: Refusal) {
        self.api_refusals
            .get_or_create(&Reason {
                reason: why.label(),
            })
            .inc();
    }

    /// The kiosk raised a security alarm.
    pub fn security_alarm(&self) {
        self.security_alarms.inc();
    }

    /// A telemetry message went to the MQTT client.
    pub fn fleet_published(&self) {
        self.fleet_published.inc();
    }

    /// A telemetry message was dropped (the broker away, the queue full).
    pub fn fleet_dropped(&self) {
        self.fleet_dropped.inc();
    }

    /// The broker connection came up or went down.
    pub fn fleet_connected(&self, up: bool) {
        self.fleet_connected.set(i64::from(up));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_every_metric_with_its_labels() {
        let m = Metrics::new();
        m.session_ended(SessionOutcome::Credited);
        m.session_ended(SessionOutcome::Credited);
        m.set_fault(DeviceKind::Printer, true);
        m.link_call(LinkCall::Post, Duration::from_millis(3), false);
        m.set_open_money(2, 1);
        let text = m.render();
        assert!(
            text.contains("kioskd_sessions_total{outcome=\"credited\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("kioskd_device_fault{device=\"printer\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kioskd_device_fault{device=\"acceptor\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("kioskd_link_latency_seconds_count{call=\"post\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kioskd_link_errors_total{call=\"post\"} 1"),
            "{text}"
        );
        assert!(text.contains("kioskd_pending_payments 2"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }
}
