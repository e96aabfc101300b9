//! The streaming frame decoder.

use super::{Checksum, FrameRepr};
use crate::wire::{DecoderStats, WireError};

/// Bytes a [`Decoder`] buffers at most; the oldest are dropped beyond this.
pub const DEFAULT_BUFFER_CAPACITY: usize = 1024;

/// Finds ccTalk frames in a byte stream delivered in any chunking.
///
/// ccTalk has no sync byte: every byte may start a frame, and the length
/// byte behind it commits the decoder to `N + 5` bytes (lengths are
/// commitments, see [`crate::wire`]). A committed frame that fails its
/// checksum gives back all but its first byte, and the search resumes one
/// byte later. A frame still incomplete when the line goes quiet (a reply
/// timeout, or ccTalk's 50 ms inter-byte limit) is noise: the shell calls
/// [`abandon_incomplete`](Decoder::abandon_incomplete) then.
///
/// Frames of every address come out, the host's own echo included: the
/// caller keeps those addressed to it.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    checksum: Checksum,
    stats: DecoderStats,
}

impl Decoder {
    /// A decoder for a line using `checksum`.
    pub fn new(checksum: Checksum) -> Decoder {
        Decoder {
            buf: Vec::new(),
            checksum,
            stats: DecoderStats::default(),
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
        match FrameRepr::parse(&self.buf, self.checksum) {
            Ok((frame, n)) => {
                self.buf.drain(..n);
                self.stats.ok();
                Some(Ok(frame))
            }
            Err(WireError::Truncated) => None,
            Err(e) => {
                self.stats.crc_error();
                self.drop_front(1);
                Some(Err(e))
            }
        }
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

    /// Gives up an incomplete frame after the line went quiet: its first
    /// byte is dropped (a framing error) and the rest searched again by the
    /// next [`next_frame`](Decoder::next_frame). Returns whether there was
    /// one. Never call it between two reads of one answer.
    pub fn abandon_incomplete(&mut self) -> bool {
        if self.buf.is_empty()
            || FrameRepr::parse(&self.buf, self.checksum) != Err(WireError::Truncated)
        {
            return false;
        }
        self.drop_front(1);
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

    const POLL: [u8; 5] = [0x28, 0x00, 0x01, 0xFE, 0xD9];
    const ACK: [u8; 5] = [0x01, 0x00, 0x28, 0x00, 0xD7];

    fn drain(d: &mut Decoder) -> Vec<Result<FrameRepr, WireError>> {
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    #[test]
    fn the_echo_and_the_reply_come_out_in_order_in_any_chunking() {
        let stream = [POLL, ACK].concat();
        for chunk in 1..stream.len() {
            let mut d = Decoder::new(Checksum::Simple);
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                out.extend(drain(&mut d));
            }
            assert_eq!(
                out,
                vec![
                    Ok(FrameRepr::new(40, 1, 254, [])),
                    Ok(FrameRepr::new(1, 40, 0, []))
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn garbage_is_skipped_one_byte_at_a_time() {
        let mut d = Decoder::new(Checksum::Simple);
        d.push(&[0xFF]);
        d.push(&ACK);
        let out = drain(&mut d);
        assert_eq!(
            out.last(),
            Some(&Ok(FrameRepr::new(1, 40, 0, []))),
            "{out:?}"
        );
        assert_eq!(d.buffered(), 0);
        // Without a sync byte the 8-bit sum can be fooled: `00 00 00`
        // before the same ACK forms a valid frame `00 01 00 28 00 D7` that
        // swallows it. This is why ccTalk resets the receiver after a 50 ms
        // gap, and why the host only takes frames addressed to it and
        // resends when its answer does not come.
        let mut d = Decoder::new(Checksum::Simple);
        d.push(&[0x00, 0x00, 0x00]);
        d.push(&ACK);
        let out: Vec<_> = drain(&mut d).into_iter().filter_map(Result::ok).collect();
        assert_eq!(out, vec![FrameRepr::new(0, 0, 0x28, [0x00])]);
        assert!(
            out.iter().all(|f| f.dest != 1),
            "the ACK was swallowed: {out:?}"
        );
    }

    #[test]
    fn a_noise_byte_with_a_long_length_is_abandoned_when_the_line_goes_quiet() {
        let mut d = Decoder::new(Checksum::Crc16);
        d.push(&[0x77, 0xF0]);
        d.push(&[0x01, 0x00, 0x30, 0x00, 0x37]);
        assert_eq!(drain(&mut d), vec![]);
        assert!(d.abandon_incomplete());
        let out = drain(&mut d);
        assert_eq!(
            out.last(),
            Some(&Ok(FrameRepr::new(1, 0, 0, []))),
            "{out:?}"
        );
        assert!(!d.abandon_incomplete());
        assert_eq!(d.stats().framing_errors, 1);
    }
}
