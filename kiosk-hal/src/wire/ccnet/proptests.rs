//! Property tests: any frame round-trips; any chunking of any byte stream
//! decodes the same; no input panics.

use proptest::prelude::*;

use super::{
    BillTable, Decoder, FrameRepr, HostCommand, Identification, PollState, MAX_PAYLOAD_LEN,
};

fn frame() -> impl Strategy<Value = FrameRepr> {
    (
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 1..=MAX_PAYLOAD_LEN),
    )
        .prop_map(|(address, payload)| FrameRepr::new(address, payload))
}

fn drain(d: &mut Decoder) -> Vec<Result<FrameRepr, crate::wire::WireError>> {
    std::iter::from_fn(|| d.next_frame()).collect()
}

proptest! {
    #[test]
    fn frames_round_trip(f in frame()) {
        let bytes = f.to_bytes().unwrap();
        prop_assert_eq!(FrameRepr::parse(&bytes), Ok((f, bytes.len())));
    }

    #[test]
    fn chunking_never_changes_what_is_decoded(
        frames in prop::collection::vec(frame(), 0..4),
        noise in prop::collection::vec(any::<u8>(), 0..64),
        chunk in 1usize..17,
    ) {
        let mut stream = noise;
        for f in &frames {
            stream.extend(f.to_bytes().unwrap());
        }
        stream.truncate(1000);
        let mut whole = Decoder::new();
        whole.push(&stream);
        let whole_out = drain(&mut whole);
        let mut split = Decoder::new();
        let mut split_out = Vec::new();
        for piece in stream.chunks(chunk) {
            split.push(piece);
            split_out.extend(drain(&mut split));
        }
        prop_assert_eq!(&whole_out, &split_out);
        prop_assert_eq!(whole.stats(), split.stats());
    }

    #[test]
    fn clean_frames_after_noise_are_all_found_once_the_line_is_quiet(
        frames in prop::collection::vec(frame(), 1..4),
        noise in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let mut d = Decoder::new();
        d.push(&noise);
        let mut out = drain(&mut d);
        while d.abandon_incomplete() {
            out.extend(drain(&mut d));
        }
        for f in &frames {
            d.push(&f.to_bytes().unwrap());
            out.extend(drain(&mut d));
        }
        let good: Vec<_> = out.into_iter().filter_map(Result::ok).collect();
        prop_assert!(good.ends_with(&frames), "{:?}", good);
    }

    #[test]
    fn typed_parsers_never_panic(payload in prop::collection::vec(any::<u8>(), 0..130)) {
        let _ = PollState::from_payload(&payload);
        let _ = BillTable::from_payload(&payload);
        let _ = Identification::from_payload(&payload);
        let _ = HostCommand::from_frame(&FrameRepr::new(3, payload));
    }
}
