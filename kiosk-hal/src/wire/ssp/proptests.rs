//! Property tests: emit/parse round trips, chunking invariance and garbage
//! resistance.

use proptest::collection::vec;
use proptest::prelude::*;

use super::essp::{decrypt, encrypt, EsspKey};
use super::*;

fn arb_packet() -> impl Strategy<Value = Packet> {
    (0u8..128, any::<bool>(), vec(any::<u8>(), 1..=MAX_DATA_LEN))
        .prop_map(|(address, seq, data)| Packet::new(address, seq, data))
}

/// Data rich in 0x7F, the byte stuffing is about.
fn arb_stx_heavy_packet() -> impl Strategy<Value = Packet> {
    (
        0u8..128,
        any::<bool>(),
        vec(prop_oneof![Just(0x7Fu8), any::<u8>()], 1..40),
    )
        .prop_map(|(address, seq, data)| Packet::new(address, seq, data))
}

fn arb_event() -> impl Strategy<Value = Event> {
    let plain = vec![
        Event::SlaveReset,
        Event::Rejecting,
        Event::Rejected,
        Event::Stacking,
        Event::Stacked,
        Event::SafeJam,
        Event::UnsafeJam,
        Event::Disabled,
        Event::StackerFull,
        Event::CashboxRemoved,
        Event::CashboxReplaced,
        Event::NotePathOpen,
        Event::Initialising,
    ];
    prop_oneof![
        proptest::sample::select(plain),
        any::<u8>().prop_map(Event::Read),
        any::<u8>().prop_map(Event::Credit),
        any::<u8>().prop_map(Event::FraudAttempt),
        any::<u8>().prop_map(Event::NoteClearedFromFront),
        any::<u8>().prop_map(Event::NoteClearedIntoCashbox),
    ]
}

fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Result<Packet, WireError>> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    for p in points.into_iter().chain([bytes.len()]) {
        d.push(&bytes[start..p.max(start)]);
        start = p.max(start);
        out.extend(std::iter::from_fn(|| d.next_packet()));
    }
    out
}

proptest! {
    #[test]
    fn packets_round_trip(p in prop_oneof![arb_packet(), arb_stx_heavy_packet()]) {
        let bytes = p.to_bytes().unwrap();
        prop_assert_eq!(Packet::parse(&bytes), Ok((p.clone(), bytes.len())));
        // No lone STX inside: every 0x7F after the first comes in pairs.
        let mut i = 1;
        while i < bytes.len() {
            if bytes[i] == STX {
                prop_assert_eq!(bytes.get(i + 1), Some(&STX));
                i += 2;
            } else {
                i += 1;
            }
        }
    }

    #[test]
    fn any_chunking_decodes_the_same(
        packets in vec(prop_oneof![arb_packet(), arb_stx_heavy_packet()], 1..5),
        cuts in vec(any::<usize>(), 0..12),
    ) {
        let bytes: Vec<u8> = packets.iter().flat_map(|p| p.to_bytes().unwrap()).collect();
        let whole = decode_chunked(&bytes, &[]);
        let chunked = decode_chunked(&bytes, &cuts);
        prop_assert_eq!(&whole, &chunked);
        let expected: Vec<_> = packets.into_iter().map(Ok).collect();
        prop_assert_eq!(whole, expected);
    }

    #[test]
    fn garbage_never_panics_and_a_packet_after_it_is_found(
        garbage in vec(any::<u8>(), 0..300),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let sync = Packet::new(0, true, [0x11]);
        // A lone STX always starts a packet, so the real one is found
        // unless the garbage ends in a 7F that pairs with its STX.
        let mut bytes = garbage.clone();
        if bytes.last() == Some(&STX) {
            bytes.push(0x00);
        }
        bytes.extend(sync.to_bytes().unwrap());
        let out = decode_chunked(&bytes, &cuts);
        prop_assert_eq!(out.last(), Some(&Ok(sync)));
        let _ = Packet::parse(&garbage);
        let _ = Command::parse(&garbage);
        let _ = Reply::parse(&garbage);
        let _ = Event::parse_all(&garbage);
        let _ = SetupData::parse(&garbage);
        let _ = decrypt(&EsspKey::new(1, 2), &garbage);
    }

    #[test]
    fn events_round_trip(events in vec(arb_event(), 0..20)) {
        let bytes = Event::emit_all(&events);
        prop_assert_eq!(Event::parse_all(&bytes), Ok(events));
    }

    #[test]
    fn encryption_round_trips(
        fixed in any::<u64>(),
        negotiated in any::<u64>(),
        count in any::<u32>(),
        data in vec(any::<u8>(), 0..=essp::MAX_PLAIN_LEN),
    ) {
        let key = EsspKey::new(fixed, negotiated);
        let sealed = encrypt(&key, count, &data, &mut || 0x5A).unwrap();
        prop_assert!(sealed.len() <= MAX_DATA_LEN);
        prop_assert_eq!(decrypt(&key, &sealed), Ok((count, data)));
    }
}
