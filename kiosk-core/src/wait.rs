//! The arithmetic of a kiosk's expected wait, shared by the site model
//! (kiosk-sim's guidance, simulated) and the hall's guidance service
//! (kiosk-fleet, on live telemetry), so the rule proven in drills is the
//! rule the hall runs.
//!
//! The expected wait of a customer joining a kiosk now is queue length ×
//! the kiosk's recent mean service time, plus what remains of its current
//! customer's expected time (nothing once that customer is overdue). The
//! recent mean follows finished sessions with weight [`SERVICE_WEIGHT`].
//! The sums keep one order of operations: the site model's index keys on
//! `queued + until` and must agree bit for bit with a scan.

/// The weight a finished service time gets in a kiosk's recent mean.
pub const SERVICE_WEIGHT: f64 = 0.2;

/// Folds a finished service time into a recent mean.
pub fn observe_service(mean_ms: f64, service_ms: u64) -> f64 {
    mean_ms + SERVICE_WEIGHT * (service_ms as f64 - mean_ms)
}

/// The queue's expected service time: length × recent mean.
pub fn queued_ms(queue: usize, recent_service_ms: f64) -> f64 {
    queue as f64 * recent_service_ms
}

/// When the current customer (started at `busy_since_ms`) is expected to
/// be done.
pub fn busy_until(busy_since_ms: u64, recent_service_ms: f64) -> f64 {
    busy_since_ms as f64 + recent_service_ms
}

/// The expected wait at `now_ms` for a kiosk with `queued` ms of queue
/// ([`queued_ms`]) whose current customer is expected done at `until`.
pub fn expected_wait_ms(queued: f64, until: Option<f64>, now_ms: u64) -> f64 {
    match until {
        Some(until) if until > now_ms as f64 => (queued + until) - now_ms as f64,
        _ => queued,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_kiosk_adds_what_remains_of_its_customer_and_an_overdue_one_nothing() {
        let queued = queued_ms(2, 60_000.0);
        assert_eq!(queued, 120_000.0);
        let until = busy_until(1_000, 60_000.0);
        assert_eq!(expected_wait_ms(queued, Some(until), 31_000), 150_000.0);
        assert_eq!(expected_wait_ms(queued, Some(until), 61_000), 120_000.0);
        assert_eq!(expected_wait_ms(queued, Some(until), 90_000), 120_000.0);
        assert_eq!(expected_wait_ms(queued, None, 31_000), 120_000.0);
    }

    #[test]
    fn the_recent_mean_moves_a_fifth_of_the_way() {
        assert_eq!(observe_service(60_000.0, 110_000), 70_000.0);
        assert_eq!(observe_service(60_000.0, 60_000), 60_000.0);
    }
}
