//! Property tests: frames round-trip in both variants; any chunking of any
//! byte stream decodes the same; the event counter never miscounts.

use proptest::prelude::*;

use super::{BillEvent, BufferedBillEvents, Checksum, Decoder, FrameRepr, HostCommand};

fn frame() -> impl Strategy<Value = FrameRepr> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..=255),
    )
        .prop_map(|(d, s, h, data)| FrameRepr::new(d, s, h, data))
}

fn checksum() -> impl Strategy<Value = Checksum> {
    prop_oneof![Just(Checksum::Simple), Just(Checksum::Crc16)]
}

proptest! {
    #[test]
    fn frames_round_trip(f in frame(), c in checksum()) {
        let bytes = f.to_bytes(c).unwrap();
        let (g, n) = FrameRepr::parse(&bytes, c).unwrap();
        prop_assert_eq!(n, bytes.len());
        prop_assert_eq!((g.dest, g.header, &g.data), (f.dest, f.header, &f.data));
        if c == Checksum::Simple {
            prop_assert_eq!(g.source, f.source);
        }
    }

    #[test]
    fn chunking_never_changes_what_is_decoded(
        frames in prop::collection::vec(frame(), 0..4),
        noise in prop::collection::vec(any::<u8>(), 0..32),
        chunk in 1usize..17,
        c in checksum(),
    ) {
        let mut stream = noise;
        for f in &frames {
            stream.extend(f.to_bytes(c).unwrap());
        }
        stream.truncate(1000);
        let mut whole = Decoder::new(c);
        whole.push(&stream);
        let whole_out: Vec<_> = std::iter::from_fn(|| whole.next_frame()).collect();
        let mut split = Decoder::new(c);
        let mut split_out = Vec::new();
        for piece in stream.chunks(chunk) {
            split.push(piece);
            split_out.extend(std::iter::from_fn(|| split.next_frame()));
        }
        prop_assert_eq!(whole_out, split_out);
        prop_assert_eq!(whole.stats(), split.stats());
    }

    #[test]
    fn the_counter_counts_every_event_new_or_lost(
        start in 0u8..=255,
        happened in 0u32..20,
    ) {
        let mut dev = BufferedBillEvents { counter: start, pairs: [(0, 0); 5] };
        for i in 0..happened {
            dev.record(BillEvent::Credit { bill_type: (i % 200) as u8 + 1 });
        }
        let d = dev.since(Some(start));
        prop_assert_eq!(d.new.len() as u32 + d.lost, if start == 0 && happened == 0 { 0 } else { happened });
        prop_assert_eq!(d.lost, happened.saturating_sub(5));
        prop_assert!(!d.restarted);
    }

    #[test]
    fn parsers_never_panic(data in prop::collection::vec(any::<u8>(), 0..40), h in any::<u8>()) {
        let _ = FrameRepr::parse(&data, Checksum::Simple);
        let _ = FrameRepr::parse(&data, Checksum::Crc16);
        let _ = BufferedBillEvents::parse(&data);
        let _ = HostCommand::from_frame(&FrameRepr::new(40, 1, h, data));
    }
}
