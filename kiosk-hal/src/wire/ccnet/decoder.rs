//! The streaming frame decoder.

use super::{Frame, FrameRepr, MAX_FRAME_LEN, MIN_FRAME_LEN, SYNC};
use crate::wire::{DecoderStats, WireError};

/// Bytes a [`Decoder`] buffers at most; the oldest are dropped beyond this.
pub const DEFAULT_BUFFER_CAPACITY: usize = 1024;

/// Finds CCNET frames in a byte stream delivered in any chunking.
///
/// Push what the port delivered with [`push`](Decoder::push), then call
/// [`next_frame`](Decoder::next_frame) until it returns `None`.
///
/// The rules are ID-003's (see [`crate::wire`]: lengths are commitments):
///
/// - Bytes before a SYNC (0x02) are skipped and counted.
/// - Once SYNC, ADR and LNG are in, the decoder waits for all LNG bytes
///   and never takes a frame from inside them: a bill table or an
///   identification string can hold bytes that form a valid frame (a
///   "bill stacked", say), and decoding it would invent a credit.
/// - Only a committed frame that fails its CRC (or an LNG outside 6–250)
///   gives its bytes back: its SYNC is dropped and the search resumes
///   right after it. 0x02 is a common byte, so false SYNCs are frequent
///   in noise; the driver calls
///   [`abandon_incomplete`](Decoder::abandon_incomplete) when its next
///   command goes out (the validator speaks only when asked).
/// - At most [`DEFAULT_BUFFER_CAPACITY`] bytes are kept.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    stats: DecoderStats,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends bytes read from the port.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.len() >= DEFAULT_BUFFER_CAPACITY {
            let keep = &bytes[bytes.len() - DEFAULT_BUFFER_CAPACITY..];
            self.stats
                .skipped(self.buf.len() + bytes.len() - DEFAULT_BUFFER_CAPACITY);
            self.buf.clear();
            self.buf.extend_from_slice(keep);
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > DEFAULT_BUFFER_CAPACITY {
            self.drop_front(self.buf.len() - DEFAULT_BUFFER_CAPACITY);
        }
    }

    /// The next frame, an error for a broken frame, or `None` when more
    /// bytes are needed. Call again after an error: decoding goes on.
    pub fn next_frame(&mut self) -> Option<Result<FrameRepr, WireError>> {
        match self.buf.iter().position(|&b| b == SYNC) {
            Some(p) => self.drop_front(p),
            None => {
                let n = self.buf.len();
                self.drop_front(n);
                return None;
            }
        }
        let lng = usize::from(*self.buf.get(2)?);
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&lng) {
            self.drop_front(1);
            self.stats.framing_error();
            return Some(Err(WireError::BadLength(lng)));
        }
        // Committed to `lng` bytes.
        let candidate = self.buf.get(..lng)?;
        Some(match Frame::parse(candidate) {
            Ok((frame, n)) => {
                debug_assert_eq!(n, lng);
                let repr = frame.to_repr();
                self.buf.drain(..n);
                self.stats.ok();
                Ok(repr)
            }
            Err(e) => {
                if matches!(e, WireError::BadCrc { .. }) {
                    self.stats.crc_error();
                } else {
                    self.stats.framing_error();
                }
                self.drop_front(1);
                Err(e)
            }
        })
    }

    /// The decoder's counters.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything buffered; counted as skipped.
    pub fn clear(&mut self) {
        let n = self.buf.len();
        self.drop_front(n);
    }

    /// Gives up an incomplete frame after the line went quiet: its SYNC is
    /// dropped (a framing error) and the bytes behind it are searched again
    /// by the next [`next_frame`](Decoder::next_frame). Returns whether there
    /// was one. Never call it between two reads of one answer.
    pub fn abandon_incomplete(&mut self) -> bool {
        let Some(p) = self.buf.iter().position(|&b| b == SYNC) else {
            return false;
        };
        if Frame::parse(&self.buf[p..]) != Err(WireError::Truncated) {
            return false;
        }
        self.drop_front(p + 1);
        self.stats.framing_error();
        true
    }

    fn drop_front(&mut self, n: usize) {
        if n > 0 {
            self.buf.drain(..n);
            self.stats.skipped(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLL: [u8; 6] = [0x02, 0x03, 0x06, 0x33, 0xDA, 0x81];
    const STACKED_2: [u8; 7] = [0x02, 0x03, 0x07, 0x81, 0x02, 0x46, 0x09];

    fn drain(d: &mut Decoder) -> Vec<Result<FrameRepr, WireError>> {
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    #[test]
    fn decodes_byte_by_byte_after_garbage() {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in [0x00, 0x55].iter().chain(&POLL).chain(&STACKED_2) {
            d.push(&[*b]);
            out.extend(drain(&mut d));
        }
        assert_eq!(
            out,
            vec![
                Ok(FrameRepr::new(3, [0x33])),
                Ok(FrameRepr::new(3, [0x81, 0x02]))
            ]
        );
        assert_eq!(d.stats().bytes_skipped, 2);
    }

    #[test]
    fn a_frame_inside_a_longer_frame_is_never_taken_on_any_split() {
        // A 40-byte identification answer whose text holds a complete,
        // valid "bill stacked" frame.
        let mut payload = b"SM-CN1234      ".to_vec();
        payload.extend_from_slice(&STACKED_2);
        payload.resize(35, b' ');
        let outer = FrameRepr::new(3, payload.clone()).to_bytes().unwrap();
        for split in 1..outer.len() {
            let mut d = Decoder::new();
            d.push(&outer[..split]);
            let mut out = drain(&mut d);
            d.push(&outer[split..]);
            out.extend(drain(&mut d));
            assert_eq!(
                out,
                vec![Ok(FrameRepr::new(3, payload.clone()))],
                "split {split}"
            );
        }
    }

    #[test]
    fn a_false_sync_is_given_up_on_crc_failure_or_when_abandoned() {
        let mut d = Decoder::new();
        d.push(&[0x02, 0x03, 0x0A, 0x11]); // noise committing to 10 bytes
        d.push(&POLL);
        // The false frame fails its CRC, then the search resumes right
        // after its SYNC and finds the poll.
        let expected = crc_of(&[0x02, 0x03, 0x0A, 0x11, 0x02, 0x03, 0x06, 0x33]);
        assert_eq!(
            drain(&mut d),
            vec![
                Err(WireError::BadCrc {
                    expected,
                    found: 0x81DA
                }),
                Ok(FrameRepr::new(3, [0x33]))
            ]
        );
        let mut d = Decoder::new();
        d.push(&[0x02, 0x03, 0xF0]);
        d.push(&POLL);
        assert_eq!(drain(&mut d), vec![]);
        assert!(d.abandon_incomplete());
        assert_eq!(drain(&mut d), vec![Ok(FrameRepr::new(3, [0x33]))]);
        assert!(!d.abandon_incomplete());
        assert_eq!(d.buffered(), 0);
    }

    fn crc_of(bytes: &[u8]) -> u16 {
        super::super::crc16(bytes)
    }

    #[test]
    fn bad_lengths_are_framing_errors_and_the_buffer_is_bounded() {
        let mut d = Decoder::new();
        d.push(&[0x02, 0x03, 0x05]);
        d.push(&POLL);
        assert_eq!(
            drain(&mut d),
            vec![Err(WireError::BadLength(5)), Ok(FrameRepr::new(3, [0x33]))]
        );
        d.push(&[0x02, 0x03, 0xF0]);
        for _ in 0..20 {
            d.push(&[0xAA; 100]);
            assert!(d.buffered() <= DEFAULT_BUFFER_CAPACITY);
        }
        d.clear();
        assert_eq!(d.buffered(), 0);
    }
}
