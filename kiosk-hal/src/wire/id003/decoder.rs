//! The streaming frame decoder.

use super::{Frame, FrameRepr, MAX_FRAME_LEN, MIN_FRAME_LEN, SYNC};
use crate::wire::{DecoderStats, WireError};

/// Bytes a [`Decoder`] buffers at most; the oldest are dropped beyond this.
pub const DEFAULT_BUFFER_CAPACITY: usize = 1024;

/// Finds ID-003 frames in a byte stream delivered in any chunking.
///
/// Push what the port delivered with [`push`](Decoder::push), then call
/// [`next_frame`](Decoder::next_frame) until it returns `None`.
///
/// - Bytes before a SYNC are skipped and counted.
/// - Once SYNC and LNG are in, the decoder is committed to that frame: it
///   waits for all LNG bytes, however they are split, and never takes a
///   frame from inside them. Version strings, TITO ticket numbers and
///   currency tables can carry bytes that form a complete, valid frame
///   (VEND VALID, say); decoding those as frames would invent a credit.
/// - Only when the committed frame is complete and fails its CRC (or LNG
///   is below 5 or above the configured maximum) is its SYNC taken for
///   noise: that one byte is dropped and the search resumes right after
///   it, so a real frame hidden behind a false SYNC is still found. A CRC
///   failure counts as a CRC error, a bad LNG as a framing error.
/// - A false SYNC with a large LNG therefore holds back the frames behind
///   it until LNG bytes have arrived (at most 255, about 290 ms of line
///   time at 9600 baud 8E1, but a validator only sends when polled). The
///   driver calls [`abandon_incomplete`](Decoder::abandon_incomplete) when
///   its next command goes out, after an answer or a reply timeout: the
///   validator speaks only when asked, so a frame still incomplete then
///   was noise.
/// - At most [`DEFAULT_BUFFER_CAPACITY`] bytes are kept; drain the decoder
///   after each push, or the oldest bytes are dropped (and counted).
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    max_frame_len: usize,
    stats: DecoderStats,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting every frame length LNG can describe (5–255).
    pub fn new() -> Decoder {
        Decoder {
            buf: Vec::new(),
            max_frame_len: MAX_FRAME_LEN,
            stats: DecoderStats::default(),
        }
    }

    /// A decoder that treats LNG above `max_frame_len` as a framing error.
    /// The limit is clamped to 5–255. A driver that knows its validator's
    /// longest answer (usually the currency table) can tighten it.
    pub fn with_max_frame_len(max_frame_len: usize) -> Decoder {
        Decoder {
            max_frame_len: max_frame_len.clamp(MIN_FRAME_LEN, MAX_FRAME_LEN),
            ..Decoder::new()
        }
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
        let lng = usize::from(*self.buf.get(1)?);
        if lng < MIN_FRAME_LEN || lng > self.max_frame_len {
            self.drop_front(1);
            self.stats.framing_error();
            return Some(Err(WireError::BadLength(lng)));
        }
        // Committed to `lng` bytes: wait for all of them, even when a
        // complete frame seems to start inside the bytes already here.
        let candidate = self.buf.get(..lng)?;
        debug_assert!(
            lng <= DEFAULT_BUFFER_CAPACITY,
            "a whole frame fits the buffer"
        );
        Some(match Frame::parse(candidate) {
            Ok((frame, n)) => {
                debug_assert_eq!(n, lng);
                let repr = frame.to_repr();
                self.buf.drain(..n);
                self.stats.ok();
                Ok(repr)
            }
            Err(e) => {
                // Only a failed committed frame gives its bytes back to the
                // search: drop its SYNC and look again right after it.
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

    /// Drops everything buffered (after a reset or a reply timeout); counted as skipped.
    pub fn clear(&mut self) {
        let n = self.buf.len();
        self.drop_front(n);
    }

    /// Gives up on an incomplete frame when the line has gone quiet (a reply
    /// timeout): its SYNC is taken for noise, dropped and counted as a framing
    /// error, and the bytes behind it are searched again by the next
    /// [`next_frame`](Decoder::next_frame). Returns whether there was an
    /// incomplete frame to give up (a complete frame still waiting for
    /// [`next_frame`](Decoder::next_frame) is left alone).
    ///
    /// Unlike [`clear`](Decoder::clear) this keeps a real frame that arrived
    /// behind a false SYNC. Call it only after a pause longer than any frame
    /// takes to arrive (255 bytes ≈ 290 ms at 9600 baud 8E1), never between two
    /// reads of one answer: that would reopen the split-delivery bug.
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

    const STATUS_REQUEST: [u8; 5] = [0xFC, 0x05, 0x11, 0x27, 0x56];
    const ESCROW_63: [u8; 6] = [0xFC, 0x06, 0x13, 0x63, 0xA2, 0xD8];

    fn drain(d: &mut Decoder) -> Vec<Result<FrameRepr, WireError>> {
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    #[test]
    fn decodes_byte_by_byte() {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in STATUS_REQUEST.iter().chain(&ESCROW_63) {
            d.push(&[*b]);
            out.extend(drain(&mut d));
        }
        assert_eq!(
            out,
            vec![
                Ok(FrameRepr::new(0x11, [])),
                Ok(FrameRepr::new(0x13, [0x63]))
            ]
        );
        assert_eq!(d.stats().frames_ok, 2);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn resyncs_after_garbage_and_counts_it() {
        let mut d = Decoder::new();
        d.push(&[0x00, 0x13, 0x37]);
        d.push(&STATUS_REQUEST);
        assert_eq!(drain(&mut d), vec![Ok(FrameRepr::new(0x11, []))]);
        assert_eq!(d.stats().bytes_skipped, 3);
    }

    #[test]
    fn bad_crc_and_bad_length_are_counted_and_skipped() {
        let mut d = Decoder::new();
        d.push(&[0xFC, 0x05, 0x11, 0x27, 0x57]); // CRC hi byte corrupted
        d.push(&[0xFC, 0x02]); // LNG < 5
        d.push(&ESCROW_63);
        let out = drain(&mut d);
        assert_eq!(
            out,
            vec![
                Err(WireError::BadCrc {
                    expected: 0x5627,
                    found: 0x5727
                }),
                Err(WireError::BadLength(2)),
                Ok(FrameRepr::new(0x13, [0x63])),
            ]
        );
        let s = d.stats();
        assert_eq!((s.frames_ok, s.crc_errors, s.framing_errors), (1, 1, 1));
    }

    #[test]
    fn false_sync_with_huge_length_holds_frames_until_its_crc_fails() {
        // `FC FF` commits to 255 bytes: the escrow behind it waits until they
        // are in, then the false frame fails its CRC and the escrow is found.
        let mut d = Decoder::new();
        d.push(&[0xFC, 0xFF, 0x01]);
        d.push(&ESCROW_63);
        assert_eq!(drain(&mut d), vec![]);
        let filler = vec![0x00; 255 - 3 - ESCROW_63.len()];
        d.push(&filler);
        let out = drain(&mut d);
        assert!(
            matches!(&out[..], [Err(WireError::BadCrc { .. }), Ok(f)] if *f == FrameRepr::new(0x13, [0x63])),
            "{out:?}"
        );
        let s = d.stats();
        assert_eq!(
            (s.crc_errors, s.bytes_skipped),
            (1, 3 + filler.len() as u64)
        );
    }

    #[test]
    fn abandoning_an_incomplete_frame_frees_the_frames_behind_it() {
        let mut d = Decoder::new();
        d.push(&[0x00, 0xFC, 0xFF, 0x01]);
        d.push(&ESCROW_63);
        d.push(&STATUS_REQUEST[..3]);
        assert_eq!(drain(&mut d), vec![]);
        assert!(d.abandon_incomplete());
        assert_eq!(drain(&mut d), vec![Ok(FrameRepr::new(0x13, [0x63]))]);
        // The status request is a real, incomplete frame: abandoning it too
        // is the caller's call (after a timeout); its bytes are counted.
        assert!(d.abandon_incomplete());
        assert_eq!(drain(&mut d), vec![]);
        assert!(!d.abandon_incomplete());
        let s = d.stats();
        assert_eq!((s.frames_ok, s.framing_errors), (1, 2));
        assert_eq!(s.bytes_skipped, 4 + 3);
        assert_eq!(d.buffered(), 0);
        // A complete frame not yet taken is never abandoned.
        d.push(&STATUS_REQUEST);
        assert!(!d.abandon_incomplete());
        assert_eq!(drain(&mut d), vec![Ok(FrameRepr::new(0x11, []))]);
    }

    #[test]
    fn max_frame_len_rejects_absurd_lengths() {
        let mut d = Decoder::with_max_frame_len(16);
        d.push(&[0xFC, 0x40]);
        d.push(&STATUS_REQUEST);
        assert_eq!(
            drain(&mut d),
            vec![
                Err(WireError::BadLength(0x40)),
                Ok(FrameRepr::new(0x11, []))
            ]
        );
    }

    #[test]
    fn buffer_is_bounded() {
        let mut d = Decoder::new();
        d.push(&[0xFC, 0xFF]);
        for _ in 0..20 {
            d.push(&[0xAA; 100]);
            assert!(d.buffered() <= DEFAULT_BUFFER_CAPACITY);
        }
        d.push(&vec![0x55; 5000]);
        assert_eq!(d.buffered(), DEFAULT_BUFFER_CAPACITY);
        d.push(&STATUS_REQUEST);
        assert_eq!(drain(&mut d), vec![Ok(FrameRepr::new(0x11, []))]);
        d.clear();
        assert_eq!(d.buffered(), 0);
    }
}
