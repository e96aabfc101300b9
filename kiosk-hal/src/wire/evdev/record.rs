//! The 64-bit `struct input_event` record: parse, emit, and a stream cutter.

use crate::wire::{DecoderStats, WireError};

/// Bytes of one `struct input_event` on a 64-bit kernel.
pub const RECORD_LEN: usize = 24;

/// One `struct input_event` (64-bit layout, native byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InputEvent {
    /// Timestamp, seconds.
    pub time_sec: i64,
    /// Timestamp, microseconds.
    pub time_usec: i64,
    /// Event type (`EV_KEY`, `EV_SYN`, …).
    pub kind: u16,
    /// Event code (a `KEY_*` for `EV_KEY`).
    pub code: u16,
    /// Value (`EV_KEY`: 0 release, 1 press, 2 repeat).
    pub value: i32,
}

impl InputEvent {
    /// An event with a zero timestamp.
    pub fn new(kind: u16, code: u16, value: i32) -> InputEvent {
        InputEvent {
            kind,
            code,
            value,
            ..InputEvent::default()
        }
    }

    /// Reads the record at the start of `buf`. Any 24 bytes are a record.
    ///
    /// Errors: [`WireError::Truncated`] for fewer than 24 bytes.
    pub fn parse(buf: &[u8]) -> Result<InputEvent, WireError> {
        let b: &[u8; RECORD_LEN] = buf
            .get(..RECORD_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(WireError::Truncated)?;
        let [s0, s1, s2, s3, s4, s5, s6, s7, u0, u1, u2, u3, u4, u5, u6, u7, t0, t1, c0, c1, v0, v1, v2, v3] =
            *b;
        Ok(InputEvent {
            time_sec: i64::from_ne_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
            time_usec: i64::from_ne_bytes([u0, u1, u2, u3, u4, u5, u6, u7]),
            kind: u16::from_ne_bytes([t0, t1]),
            code: u16::from_ne_bytes([c0, c1]),
            value: i32::from_ne_bytes([v0, v1, v2, v3]),
        })
    }

    /// Writes the record to the start of `buf`; returns 24.
    ///
    /// Errors: [`WireError::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let out = buf
            .get_mut(..RECORD_LEN)
            .ok_or(WireError::BufferTooSmall { needed: RECORD_LEN })?;
        out[..8].copy_from_slice(&self.time_sec.to_ne_bytes());
        out[8..16].copy_from_slice(&self.time_usec.to_ne_bytes());
        out[16..18].copy_from_slice(&self.kind.to_ne_bytes());
        out[18..20].copy_from_slice(&self.code.to_ne_bytes());
        out[20..24].copy_from_slice(&self.value.to_ne_bytes());
        Ok(RECORD_LEN)
    }

    /// The record's 24 bytes.
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut out = [0; RECORD_LEN];
        // 24 bytes always fit.
        let _ = self.emit(&mut out);
        out
    }
}

/// Cuts a byte stream into records, whatever the chunking. The kernel
/// hands out whole records; a pipe or a replayed file may not.
#[derive(Debug, Clone, Default)]
pub struct RecordDecoder {
    partial: Vec<u8>,
    stats: DecoderStats,
}

impl RecordDecoder {
    /// An empty decoder.
    pub fn new() -> RecordDecoder {
        RecordDecoder::default()
    }

    /// Feeds bytes; calls `each` for every complete record, in order.
    pub fn push(&mut self, mut bytes: &[u8], mut each: impl FnMut(InputEvent)) {
        if !self.partial.is_empty() {
            let need = RECORD_LEN - self.partial.len();
            let take = need.min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if let Ok(event) = InputEvent::parse(&self.partial) {
                self.partial.clear();
                self.stats.ok();
                each(event);
            }
        }
        let mut records = bytes.chunks_exact(RECORD_LEN);
        for record in records.by_ref() {
            if let Ok(event) = InputEvent::parse(record) {
                self.stats.ok();
                each(event);
            }
        }
        self.partial.extend_from_slice(records.remainder());
        debug_assert!(self.partial.len() < RECORD_LEN);
    }

    /// Bytes of an incomplete record waiting for the rest.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Drops an incomplete record (the source was reopened); counted as skipped.
    pub fn clear(&mut self) {
        self.stats.skipped(self.partial.len());
        self.partial.clear();
    }

    /// Records decoded (`frames_ok`) and bytes dropped by [`clear`](Self::clear).
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// A key press of `KEY_A` (30) at 1700000000.000123 s, written out as
    /// a little-endian 64-bit kernel lays it down.
    #[cfg(target_endian = "little")]
    const KEY_A_DOWN: [u8; 24] = [
        0x00, 0xF1, 0x53, 0x65, 0, 0, 0, 0, // tv_sec 1_700_000_000
        0x7B, 0, 0, 0, 0, 0, 0, 0, // tv_usec 123
        0x01, 0x00, // EV_KEY
        0x1E, 0x00, // KEY_A
        0x01, 0x00, 0x00, 0x00, // pressed
    ];

    #[cfg(target_endian = "little")]
    #[test]
    fn a_kernel_record_parses_and_re_emits() {
        let e = InputEvent::parse(&KEY_A_DOWN).unwrap();
        assert_eq!(
            e,
            InputEvent {
                time_sec: 1_700_000_000,
                time_usec: 123,
                kind: 1,
                code: 30,
                value: 1
            }
        );
        assert_eq!(e.to_bytes(), KEY_A_DOWN);
    }

    #[test]
    fn short_buffers_are_errors() {
        assert_eq!(InputEvent::parse(&[0; 23]), Err(WireError::Truncated));
        assert_eq!(
            InputEvent::new(1, 2, 1).emit(&mut [0; 10]),
            Err(WireError::BufferTooSmall { needed: 24 })
        );
    }

    proptest! {
        #[test]
        fn records_round_trip_in_any_chunking(
            events in vec((any::<i64>(), any::<i64>(), any::<u16>(), any::<u16>(), any::<i32>()), 0..20),
            sizes in vec(1usize..60, 1..8),
        ) {
            let events: Vec<InputEvent> = events
                .into_iter()
                .map(|(time_sec, time_usec, kind, code, value)| InputEvent { time_sec, time_usec, kind, code, value })
                .collect();
            let stream: Vec<u8> = events.iter().flat_map(|e| e.to_bytes()).collect();
            let mut d = RecordDecoder::new();
            let mut got = Vec::new();
            let mut rest = &stream[..];
            for &size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at(size.min(rest.len()));
                d.push(chunk, |e| got.push(e));
                rest = tail;
            }
            prop_assert_eq!(got, events);
            prop_assert_eq!(d.buffered(), 0);
        }
    }
}
