//! The streaming packet decoder.

use super::{scan, Packet, STX};
use crate::wire::{DecoderStats, WireError};

/// Bytes a [`Decoder`] buffers at most; the oldest are dropped beyond this.
/// Two of the longest possible packets fit.
pub const DEFAULT_BUFFER_CAPACITY: usize = 2 * super::MAX_WIRE_LEN;

/// Finds SSP packets in a byte stream delivered in any chunking.
///
/// Push what the port delivered with [`push`](Decoder::push), then call
/// [`next_packet`](Decoder::next_packet) until it returns `None`.
///
/// - Bytes before an STX are skipped and counted.
/// - Once STX, SEQ/ID and LEN are in, the decoder waits for LEN data bytes
///   and the CRC, unstuffing `7F 7F` pairs, however the bytes are split.
///   A trailing 0x7F waits for the next byte: only that byte tells a
///   stuffed 0x7F from a new start.
/// - A lone 0x7F inside a packet is, by the protocol's rule, a new start:
///   the cut packet counts as a framing error and decoding resumes at the
///   new STX. Stuffing guarantees no lone 0x7F inside a real packet, so
///   this never splits one, and a false STX from line noise never holds a
///   real packet back longer than that packet's own first byte.
/// - A packet whose CRC fails is dropped whole (counted as a CRC error).
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
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > DEFAULT_BUFFER_CAPACITY {
            self.drop_front(self.buf.len() - DEFAULT_BUFFER_CAPACITY);
        }
    }

    /// The next packet, an error for a broken one, or `None` when more bytes
    /// are needed. Call again after an error: decoding goes on.
    pub fn next_packet(&mut self) -> Option<Result<Packet, WireError>> {
        match self.buf.iter().position(|&b| b == STX) {
            Some(p) => self.drop_front(p),
            None => {
                let n = self.buf.len();
                self.drop_front(n);
                return None;
            }
        }
        let (result, used) = scan(&self.buf);
        match result {
            Ok(packet) => {
                self.buf.drain(..used);
                self.stats.ok();
                Some(Ok(packet))
            }
            Err(WireError::Truncated) => None,
            Err(e) => {
                if matches!(e, WireError::BadCrc { .. }) {
                    self.stats.crc_error();
                } else {
                    self.stats.framing_error();
                }
                self.drop_front(used.max(1));
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

    /// Drops everything buffered (after a reset or a reply timeout); counted as skipped.
    pub fn clear(&mut self) {
        let n = self.buf.len();
        self.drop_front(n);
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

    const SYNC: [u8; 6] = [0x7F, 0x80, 0x01, 0x11, 0x65, 0x82];
    const STUFFED: [u8; 8] = [0x7F, 0x80, 0x02, 0xF0, 0x60, 0x7F, 0x7F, 0xA1];

    fn drain(d: &mut Decoder) -> Vec<Result<Packet, WireError>> {
        std::iter::from_fn(|| d.next_packet()).collect()
    }

    #[test]
    fn decodes_byte_by_byte_with_stuffing() {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in STUFFED.iter().chain(&SYNC) {
            d.push(&[*b]);
            out.extend(drain(&mut d));
        }
        assert_eq!(
            out,
            vec![
                Ok(Packet::new(0, true, [0xF0, 0x60])),
                Ok(Packet::new(0, true, [0x11]))
            ]
        );
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.stats().frames_ok, 2);
    }

    #[test]
    fn garbage_stuffed_pairs_and_bad_crcs_are_skipped_and_counted() {
        let mut d = Decoder::new();
        d.push(&[0x00, 0x13, 0x37]);
        let mut bad = SYNC;
        bad[5] ^= 1;
        d.push(&bad);
        d.push(&STUFFED);
        let out = drain(&mut d);
        assert_eq!(
            out,
            vec![
                Err(WireError::BadCrc {
                    expected: 0x8265,
                    found: 0x8365
                }),
                Ok(Packet::new(0, true, [0xF0, 0x60])),
            ]
        );
        let s = d.stats();
        assert_eq!((s.frames_ok, s.crc_errors, s.bytes_skipped), (1, 1, 3 + 6));
    }

    #[test]
    fn a_lone_stx_cuts_a_false_packet_and_the_real_one_is_found() {
        // Noise `7F 80 FF` claims 255 data bytes; the real reply's lone STX
        // restarts reception at once.
        let mut d = Decoder::new();
        d.push(&[0x7F, 0x80, 0xFF, 0x01]);
        assert_eq!(drain(&mut d), vec![]);
        d.push(&SYNC);
        assert_eq!(
            drain(&mut d),
            vec![
                Err(WireError::BadData { cmd: STX, len: 4 }),
                Ok(Packet::new(0, true, [0x11]))
            ]
        );
        assert_eq!(d.stats().framing_errors, 1);
    }

    #[test]
    fn buffer_is_bounded() {
        let mut d = Decoder::new();
        d.push(&[0x7F, 0x80, 0xFF]);
        for _ in 0..30 {
            d.push(&[0xAA; 100]);
            assert!(d.buffered() <= DEFAULT_BUFFER_CAPACITY);
        }
        d.clear();
        d.push(&SYNC);
        assert_eq!(drain(&mut d), vec![Ok(Packet::new(0, true, [0x11]))]);
    }
}
