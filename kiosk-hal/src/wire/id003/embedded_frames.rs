//! Regression tests for split delivery of frames whose data holds whole
//! frames.
//!
//! A version answer, a TITO ticket number or a currency table can carry
//! bytes that form a complete, CRC-valid frame (say VEND VALID,
//! `FC 05 15 …`). Once the decoder has seen SYNC and LNG it has committed to
//! that many bytes: nothing inside them may come out as a frame of its own
//! unless the committed frame fails its CRC. The old decoder preferred a
//! complete inner frame while the outer one was still arriving, so a split
//! delivery turned a version string into a credit.
//!
//! Every test feeds every split point (every 2-way and every 3-way split,
//! and byte by byte); the property tests in `proptests.rs` add random
//! splits of random outer frames.

use super::*;

/// The bytes of a frame; the CRC comes from the codec (CRC-16/KERMIT).
fn frame(cmd: u8, data: &[u8]) -> Vec<u8> {
    FrameRepr::new(cmd, data)
        .to_bytes()
        .expect("short test frame")
}

fn vend_valid() -> Vec<u8> {
    frame(0x15, &[])
}

fn escrow_63() -> Vec<u8> {
    frame(0x13, &[0x63])
}

/// Outer frames that each embed at least one complete, valid frame.
fn outer_frames() -> Vec<Vec<u8>> {
    let vv = vend_valid();
    let esc = escrow_63();
    let stacked = frame(0x16, &[]);
    vec![
        // Version answer with VEND VALID in the middle.
        frame(0x88, &[b"i(CHN)".as_slice(), &vv, b"-SS"].concat()),
        // Inner frame right at the start of the data.
        frame(0x88, &[vv.as_slice(), b"ID003"].concat()),
        // Inner frame as the last data bytes, just before the outer CRC.
        frame(0x88, &[b"V".as_slice(), &esc].concat()),
        // The data is exactly one frame.
        frame(0x89, &stacked),
        // Two inner frames back to back (a currency-table-sized answer).
        frame(0x8A, &[vv.as_slice(), &esc, &stacked].concat()),
        // A frame inside a frame inside a frame.
        frame(0x88, &frame(0x88, &[b"x".as_slice(), &vv].concat())),
        // TITO ticket escrow whose number holds a frame, then stray SYNCs
        // with short and huge lengths.
        frame(
            0x13,
            &[[0x6F].as_slice(), &esc, &[SYNC, 0x02, SYNC, 0xFF, b'7']].concat(),
        ),
    ]
}

/// Pushes each part in turn, draining the decoder after each push.
fn feed(d: &mut Decoder, parts: &[&[u8]]) -> Vec<Result<FrameRepr, WireError>> {
    let mut out = Vec::new();
    for part in parts {
        d.push(part);
        out.extend(std::iter::from_fn(|| d.next_frame()));
    }
    out
}

/// Every way to cut `bytes` into 1, 2 or 3 non-empty parts, and byte by byte.
fn all_splits(bytes: &[u8]) -> Vec<Vec<&[u8]>> {
    let n = bytes.len();
    let mut out = vec![vec![bytes], bytes.chunks(1).collect()];
    for i in 1..n {
        out.push(vec![&bytes[..i], &bytes[i..]]);
        for j in i + 1..n {
            out.push(vec![&bytes[..i], &bytes[i..j], &bytes[j..]]);
        }
    }
    out
}

fn repr(bytes: &[u8]) -> FrameRepr {
    FrameRepr::parse(bytes).expect("valid test frame").0
}

#[test]
fn test_frames_really_embed_valid_frames() {
    let vv = vend_valid();
    for outer in outer_frames() {
        let inner_at = (1..outer.len()).find(|&p| Frame::parse(&outer[p..]).is_ok());
        assert!(inner_at.is_some(), "{outer:02X?} embeds no valid frame");
        assert!(Frame::parse(&outer).is_ok());
    }
    assert!(outer_frames()[0]
        .windows(vv.len())
        .any(|w| w == vv.as_slice()));
}

#[test]
fn an_outer_frame_comes_out_whole_at_every_split() {
    for outer in outer_frames() {
        let want = repr(&outer);
        for parts in all_splits(&outer) {
            let mut d = Decoder::new();
            let got = feed(&mut d, &parts);
            let cuts: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert_eq!(
                got,
                vec![Ok(want.clone())],
                "parts {cuts:?} of {outer:02X?}"
            );
            let s = d.stats();
            assert_eq!(
                (s.frames_ok, s.crc_errors, s.framing_errors, s.bytes_skipped),
                (1, 0, 0, 0),
                "parts {cuts:?} of {outer:02X?}"
            );
            assert_eq!(d.buffered(), 0);
        }
    }
}

#[test]
fn frames_around_an_outer_frame_survive_every_split() {
    let before = frame(0x1A, &[]);
    let after = escrow_63();
    for outer in outer_frames() {
        let stream = [before.as_slice(), &outer, &after].concat();
        let want = vec![Ok(repr(&before)), Ok(repr(&outer)), Ok(repr(&after))];
        for parts in all_splits(&stream) {
            let mut d = Decoder::new();
            assert_eq!(feed(&mut d, &parts), want, "{stream:02X?}");
            assert_eq!(d.stats().bytes_skipped, 0);
        }
    }
}

#[test]
fn garbage_before_a_frame_is_skipped_at_every_split() {
    // No SYNC in the garbage: all of it is skipped, whatever the split.
    let garbage = [0x00, 0x13, 0x37, 0x15, 0x05, 0xFD, 0xFB];
    for outer in outer_frames() {
        let stream = [garbage.as_slice(), &outer].concat();
        for parts in all_splits(&stream) {
            let mut d = Decoder::new();
            assert_eq!(feed(&mut d, &parts), vec![Ok(repr(&outer))]);
            assert_eq!(d.stats().bytes_skipped, garbage.len() as u64);
        }
    }
}

#[test]
fn a_false_sync_before_a_frame_fails_its_crc_and_the_frame_is_found() {
    // `FC 07 00` claims 7 bytes, reaching into the real frame: the decoder
    // waits for them, the CRC fails, and the search resumes after the SYNC.
    let status = frame(0x11, &[]);
    let stream = [[SYNC, 0x07, 0x00].as_slice(), &status].concat();
    let bad_crc = Frame::parse(&stream).unwrap_err();
    assert!(matches!(bad_crc, WireError::BadCrc { .. }));
    for parts in all_splits(&stream) {
        let mut d = Decoder::new();
        assert_eq!(feed(&mut d, &parts), vec![Err(bad_crc), Ok(repr(&status))]);
        let s = d.stats();
        assert_eq!((s.crc_errors, s.bytes_skipped), (1, 3));
    }
}

#[test]
fn an_outer_frame_with_a_bad_crc_gives_up_its_inner_frames() {
    // Only a committed frame that fails its CRC releases its bytes: then
    // the frames inside it are real candidates again.
    let vv = vend_valid();
    let mut outer = frame(0x88, &[b"i(CHN)".as_slice(), &vv, b"-SS"].concat());
    let last = outer.len() - 1;
    outer[last] ^= 0x5A;
    let bad_crc = Frame::parse(&outer).unwrap_err();
    assert!(matches!(bad_crc, WireError::BadCrc { .. }));
    let next = escrow_63();
    let stream = [outer.as_slice(), &next].concat();
    for parts in all_splits(&stream) {
        let mut d = Decoder::new();
        assert_eq!(
            feed(&mut d, &parts),
            vec![Err(bad_crc), Ok(repr(&vv)), Ok(repr(&next))]
        );
        assert_eq!(d.stats().crc_errors, 1);
        assert_eq!(d.buffered(), 0);
    }
}
