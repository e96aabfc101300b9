//! The kiosk's telemetry queue: bounded, never blocking the kiosk.
//!
//! The kiosk's observer (on the payment path) only pushes here; a separate
//! task drains it to the broker while connected. Events and tickets queue
//! up to the capacity; when the broker is away long enough to fill it, the
//! oldest go first and are counted. The status is not queued: it is one
//! "dirty" flag, since only the latest status matters and it is retained;
//! it is sent again whenever the connection comes back.

use std::collections::VecDeque;

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// QoS 1 (at least once) rather than 0.
    pub at_least_once: bool,
}

/// The queue.
#[derive(Debug)]
pub struct Outbox {
    capacity: usize,
    queue: VecDeque<Outgoing>,
    status_dirty: bool,
    dropped: u64,
}

impl Outbox {
    /// A queue of at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            capacity: capacity.max(1),
            queue: VecDeque::new(),
            status_dirty: true,
            dropped: 0,
        }
    }

    /// Queues `message`; the oldest goes if full. Returns whether one was dropped.
    pub fn push(&mut self, message: Outgoing) -> bool {
        let dropped = self.queue.len() >= self.capacity;
        if dropped {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(message);
        debug_assert!(self.queue.len() <= self.capacity);
        dropped
    }

    /// The status changed (or must be sent again).
    pub fn mark_status(&mut self) {
        self.status_dirty = true;
    }

    /// Whether the status is to be sent; clears the flag.
    pub fn take_status(&mut self) -> bool {
        std::mem::take(&mut self.status_dirty)
    }

    /// The oldest queued message.
    pub fn pop(&mut self) -> Option<Outgoing> {
        self.queue.pop_front()
    }

    /// Puts a message that could not be handed over back in front (it
    /// counts as dropped if the queue filled meanwhile).
    pub fn unpop(&mut self, message: Outgoing) {
        if self.queue.len() >= self.capacity {
            self.dropped += 1;
            return;
        }
        self.queue.push_front(message);
    }

    /// Messages dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: u8) -> Outgoing {
        Outgoing {
            topic: "t".into(),
            payload: vec![n],
            at_least_once: false,
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let mut o = Outbox::new(2);
        assert!(!o.push(msg(1)));
        assert!(!o.push(msg(2)));
        assert!(o.push(msg(3)));
        assert_eq!(o.dropped(), 1);
        assert_eq!(o.pop().unwrap().payload, vec![2]);
        o.unpop(msg(2));
        o.push(msg(4));
        o.unpop(msg(9));
        assert_eq!(o.dropped(), 3, "one dropped by push, one by unpop");
        assert_eq!(o.len(), 2);
    }

    #[test]
    fn the_status_is_one_flag_not_a_queue() {
        let mut o = Outbox::new(1);
        assert!(o.take_status(), "sent once at the start");
        assert!(!o.take_status());
        o.mark_status();
        o.mark_status();
        assert!(o.take_status());
        assert!(!o.take_status());
    }
}
