//! Property tests: emit/parse round trips and garbage resistance.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

fn arb_setting() -> impl Strategy<Value = Setting> {
    prop_oneof![
        any::<[u8; 2]>().prop_map(Setting::Enable),
        any::<[u8; 2]>().prop_map(Setting::Security),
        any::<u8>().prop_map(Setting::CommMode),
        any::<bool>().prop_map(Setting::Inhibit),
        any::<u8>().prop_map(Setting::Direction),
        any::<[u8; 2]>().prop_map(Setting::OptionalFunction),
    ]
}

fn arb_host_command() -> impl Strategy<Value = HostCommand> {
    use HostCommand::*;
    let plain = [
        StatusRequest,
        Reset,
        Stack1,
        Stack2,
        Return,
        Hold,
        Wait,
        Ack,
        ReadEnable,
        ReadSecurity,
        ReadCommMode,
        ReadInhibit,
        ReadDirection,
        ReadOptionalFunction,
        VersionRequest,
        BootVersionRequest,
        CurrencyAssignRequest,
    ];
    prop_oneof![
        proptest::sample::select(plain.to_vec()),
        arb_setting().prop_map(HostCommand::from),
    ]
}

fn arb_status() -> impl Strategy<Value = StatusResponse> {
    use StatusResponse::*;
    let plain = vec![
        Idling,
        Accepting,
        Stacking,
        VendValid,
        Stacked,
        Returning,
        Holding,
        Disabled,
        Initialize,
        PowerUp,
        PowerUpBillInAcceptor,
        PowerUpBillInStacker,
        StackerFull,
        StackerOpen,
        AcceptorJam,
        StackerJam,
        Pause,
        Cheated,
        CommunicationError,
        InvalidCommand,
        Ack,
    ];
    let entry = any::<[u8; 4]>().prop_map(|b| CurrencyEntry {
        escrow_code: b[0],
        country_code: b[1],
        value: b[2],
        exponent: b[3],
    });
    prop_oneof![
        proptest::sample::select(plain),
        any::<u8>().prop_map(Escrow),
        any::<u8>().prop_map(|b| Rejecting(RejectCode::from_byte(b))),
        any::<u8>().prop_map(|b| Failure(FailureCode::from_byte(b))),
        arb_setting().prop_map(SettingEcho),
        arb_setting().prop_map(SettingValue),
        vec(any::<u8>(), 0..=MAX_DATA_LEN).prop_map(Version),
        vec(any::<u8>(), 0..=MAX_DATA_LEN).prop_map(BootVersion),
        vec(entry, 0..=MAX_DATA_LEN / 4).prop_map(CurrencyAssign),
    ]
}

fn arb_frame() -> impl Strategy<Value = FrameRepr> {
    arb_frame_up_to(MAX_DATA_LEN)
}

/// Frames with at most `max_data` data bytes.
fn arb_frame_up_to(max_data: usize) -> impl Strategy<Value = FrameRepr> {
    (any::<u8>(), vec(any::<u8>(), 0..=max_data)).prop_map(|(c, d)| FrameRepr::new(c, d))
}

/// Splits `bytes` into chunks whose sizes cycle through `sizes`.
fn chunks<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.clamp(1, rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// Feeds `stream` in chunks and returns the good frames, the error count and the decoder.
fn decode(stream: &[u8], sizes: &[usize]) -> (Vec<FrameRepr>, u64, Decoder) {
    let mut d = Decoder::new();
    let (mut ok, mut errors) = (Vec::new(), 0);
    for chunk in chunks(stream, sizes) {
        d.push(chunk);
        while let Some(r) = d.next_frame() {
            match r {
                Ok(f) => ok.push(f),
                Err(_) => errors += 1,
            }
        }
        assert!(d.buffered() <= DEFAULT_BUFFER_CAPACITY);
    }
    (ok, errors, d)
}

proptest! {
    #[test]
    fn host_commands_round_trip(cmd in arb_host_command()) {
        let bytes = cmd.to_bytes();
        prop_assert_eq!(HostCommand::parse(&bytes), Ok((cmd, bytes.len())));
    }

    #[test]
    fn status_responses_round_trip(r in arb_status()) {
        let bytes = r.to_bytes().unwrap();
        prop_assert_eq!(StatusResponse::parse(&bytes), Ok((r, bytes.len())));
    }

    #[test]
    fn frames_round_trip(f in arb_frame()) {
        let bytes = f.to_bytes().unwrap();
        prop_assert_eq!(bytes.len(), f.buffer_len());
        prop_assert_eq!(FrameRepr::parse(&bytes), Ok((f, bytes.len())));
    }

    #[test]
    fn typed_parsers_never_panic(bytes in vec(any::<u8>(), 0..300)) {
        let _ = HostCommand::parse(&bytes);
        let _ = StatusResponse::parse(&bytes);
        if let Some((&cmd, data)) = bytes.split_first() {
            let _ = HostCommand::from_parts(cmd, data);
            let _ = StatusResponse::from_parts(cmd, data);
        }
    }

    #[test]
    fn any_chunking_of_valid_frames_decodes_them_all(
        frames in vec(arb_frame(), 1..5),
        sizes in vec(1usize..64, 1..8),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|f| f.to_bytes().unwrap()).collect();
        let (ok, errors, d) = decode(&stream, &sizes);
        prop_assert_eq!(ok, frames);
        prop_assert_eq!(errors, 0);
        prop_assert_eq!(d.stats().bytes_skipped, 0);
    }

    #[test]
    fn garbage_never_panics_and_a_frame_after_it_is_found(
        garbage in vec(any::<u8>(), 0..400),
        frame in arb_frame(),
        sizes in vec(1usize..64, 1..8),
    ) {
        let frame_bytes = frame.to_bytes().unwrap();
        let stream = [garbage, frame_bytes].concat();
        let (mut ok, _, mut d) = decode(&stream, &sizes);
        // The line goes quiet: a false SYNC in the garbage may still hold a
        // frame open; the driver's reply timeout gives it up.
        while d.abandon_incomplete() {
            ok.extend(std::iter::from_fn(|| d.next_frame()).filter_map(Result::ok));
        }
        prop_assert_eq!(d.buffered(), 0);
        // Found, unless the garbage itself held a CRC-valid frame (a 1 in
        // 65536 collision) that overlapped it.
        prop_assert!(ok.contains(&frame) || ok.iter().any(|f| *f != frame));
        // Every byte is accounted for: skipped or decoded.
        let decoded: usize = ok.iter().map(FrameRepr::buffer_len).sum();
        prop_assert_eq!(d.stats().bytes_skipped as usize + decoded, stream.len());
        prop_assert_eq!(d.stats().frames_ok as usize, ok.len());
    }

    #[test]
    fn frames_embedding_frames_come_out_whole_in_random_splits(
        cmd in any::<u8>(),
        prefix in vec(any::<u8>(), 0..100),
        inner in arb_frame_up_to(99),
        suffix in vec(any::<u8>(), 0..40),
        cut_a in any::<proptest::sample::Index>(),
        cut_b in any::<proptest::sample::Index>(),
    ) {
        let data = [prefix, inner.to_bytes().unwrap(), suffix].concat();
        let outer = FrameRepr::new(cmd, data);
        let bytes = outer.to_bytes().unwrap();
        let (a, b) = (cut_a.index(bytes.len() + 1), cut_b.index(bytes.len() + 1));
        let (a, b) = (a.min(b), a.max(b));
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for part in [&bytes[..a], &bytes[a..b], &bytes[b..]] {
            d.push(part);
            out.extend(std::iter::from_fn(|| d.next_frame()));
        }
        prop_assert_eq!(out, vec![Ok(outer)]);
        prop_assert_eq!(d.stats().bytes_skipped, 0);
    }

    #[test]
    fn split_and_whole_decoding_agree(
        segments in vec(arb_segment(), 0..12),
        sizes in vec(1usize..40, 1..8),
    ) {
        let stream: Vec<u8> = segments.concat();
        let whole = run(&stream, &[usize::MAX]);
        let split = run(&stream, &sizes);
        prop_assert_eq!(&whole.0, &split.0);
        prop_assert_eq!(whole.1, split.1);
        prop_assert_eq!(whole.2, split.2);
    }
}

/// Stream pieces that exercise resynchronisation: noise, valid frames,
/// frames holding frames, corrupted frames and bare SYNC + LNG pairs.
fn arb_segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..20),
        arb_frame_up_to(60).prop_map(|f| f.to_bytes().unwrap()),
        (arb_frame_up_to(60), any::<u8>()).prop_map(|(f, cmd)| FrameRepr::new(
            cmd,
            f.to_bytes().unwrap()
        )
        .to_bytes()
        .unwrap()),
        (
            arb_frame_up_to(60),
            any::<proptest::sample::Index>(),
            1u8..=255
        )
            .prop_map(|(f, i, x)| {
                let mut b = f.to_bytes().unwrap();
                let at = i.index(b.len());
                b[at] ^= x;
                b
            }),
        any::<u8>().prop_map(|lng| vec![SYNC, lng]),
    ]
}

/// Decodes `stream` pushed in chunks; the results, the counters and what is left buffered.
fn run(
    stream: &[u8],
    sizes: &[usize],
) -> (
    Vec<Result<FrameRepr, WireError>>,
    crate::wire::DecoderStats,
    usize,
) {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for chunk in chunks(stream, sizes) {
        d.push(chunk);
        out.extend(std::iter::from_fn(|| d.next_frame()));
    }
    (out, d.stats(), d.buffered())
}
