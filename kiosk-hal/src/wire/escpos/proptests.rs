//! Property tests: render/decode round trips, chunking and garbage.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::{Receipt, ReceiptLine};

/// Printable ASCII, CJK ideographs (all in GBK) and full-width punctuation.
fn arb_text() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        (0x20u8..0x7F).prop_map(char::from),
        (0x4E00u32..=0x9FA5).prop_map(|c| char::from_u32(c).unwrap_or('?')),
        proptest::sample::select(vec!['，', '。', '：', '￥', '（', '）']),
    ];
    vec(ch, 0..40).prop_map(|v| v.into_iter().collect())
}

fn arb_line() -> impl Strategy<Value = ReceiptLine> {
    prop_oneof![
        arb_text().prop_map(ReceiptLine::Text),
        arb_text()
            .prop_filter("bold lines have text", |t| !t.is_empty())
            .prop_map(ReceiptLine::Bold),
        any::<String>()
            .prop_filter("QR data is not empty", |t| !t.is_empty())
            .prop_map(ReceiptLine::Qr),
    ]
}

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

fn decode(bytes: &[u8], sizes: &[usize], chinese: bool) -> Vec<PrinterCommand> {
    decode_with_stats(bytes, sizes, chinese).0
}

fn decode_with_stats(
    bytes: &[u8],
    sizes: &[usize],
    chinese: bool,
) -> (Vec<PrinterCommand>, crate::wire::DecoderStats) {
    let mut d = CommandDecoder::with_chinese_mode(chinese);
    let mut out = Vec::new();
    for chunk in chunks(bytes, sizes) {
        d.push(chunk);
        out.extend(std::iter::from_fn(|| d.next_command()));
        assert!(d.buffered() < DECODER_CAPACITY);
    }
    out.extend(std::iter::from_fn(|| d.flush()));
    assert_eq!(d.buffered(), 0);
    (out, d.stats())
}

/// Stream pieces dense in command starts: prefixes with random parameters,
/// well-formed data commands, text and line feeds.
fn arb_piece() -> impl Strategy<Value = Vec<u8>> {
    let prefix = proptest::sample::select(vec![0x10u8, 0x1B, 0x1C, 0x1D]);
    prop_oneof![
        (prefix, vec(any::<u8>(), 0..6)).prop_map(|(p, rest)| [vec![p], rest].concat()),
        (0u8..4, 0u16..4, 0u16..4, vec(any::<u8>(), 0..40)).prop_map(|(m, x, y, data)| {
            let mut b = vec![0x1D, 0x76, 0x30, m];
            b.extend(x.to_le_bytes());
            b.extend(y.to_le_bytes());
            b.extend(data);
            b
        }),
        (
            proptest::sample::select(vec![0u8, 1, 32, 33]),
            0u16..8,
            vec(any::<u8>(), 0..30)
        )
            .prop_map(|(m, n, data)| {
                let mut b = vec![0x1B, 0x2A, m];
                b.extend(n.to_le_bytes());
                b.extend(data);
                b
            }),
        (any::<u8>(), vec(any::<u8>(), 0..20))
            .prop_map(|(m, data)| { [vec![0x1D, 0x6B, m, data.len() as u8], data].concat() }),
        (any::<u8>(), vec(any::<u8>(), 0..20)).prop_map(|(x, data)| {
            let [pl, ph] = (data.len() as u16).to_le_bytes();
            [vec![0x1D, 0x28, x, pl, ph], data].concat()
        }),
        vec(0x20u8..0x7F, 0..10),
        Just(vec![0x0A]),
    ]
}

fn replay(cmds: &[PrinterCommand]) -> Paper {
    let mut paper = Paper::new();
    for c in cmds {
        paper.apply(c);
    }
    paper
}

proptest! {
    #[test]
    fn rendered_receipts_decode_to_the_same_lines(
        lines in vec(arb_line(), 0..8),
        sizes in vec(1usize..32, 1..6),
        chinese in any::<bool>(),
    ) {
        let receipt = Receipt { reference: "R".into(), lines: lines.clone() };
        let bytes = render_receipt(&receipt);
        let paper = replay(&decode(&bytes, &sizes, chinese));
        prop_assert_eq!(paper.cut_receipts(), &[lines][..]);
    }

    #[test]
    fn text_round_trips(text in arb_text()) {
        let mut e = Encoder::new();
        e.text(&text).line_feed();
        let cmds = decode(e.as_bytes(), &[usize::MAX], false);
        let decoded: String = cmds
            .iter()
            .filter_map(|c| match c {
                PrinterCommand::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(decoded, text);
    }

    #[test]
    fn chunking_does_not_change_the_commands(
        bytes in vec(any::<u8>(), 0..600),
        sizes in vec(1usize..64, 1..8),
        chinese in any::<bool>(),
    ) {
        let whole = decode_with_stats(&bytes, &[usize::MAX], chinese);
        let chunked = decode_with_stats(&bytes, &sizes, chinese);
        prop_assert_eq!(&whole, &chunked);
        let _ = replay(&chunked.0);
    }

    #[test]
    fn chunking_does_not_change_command_dense_streams(
        pieces in vec(arb_piece(), 0..30),
        sizes in vec(1usize..16, 1..8),
        chinese in any::<bool>(),
    ) {
        let bytes = pieces.concat();
        let whole = decode_with_stats(&bytes, &[usize::MAX], chinese);
        let chunked = decode_with_stats(&bytes, &sizes, chinese);
        prop_assert_eq!(&whole, &chunked);
        let byte_by_byte = decode_with_stats(&bytes, &[1], chinese);
        prop_assert_eq!(&whole, &byte_by_byte);
        let _ = replay(&chunked.0);
    }

    #[test]
    fn a_receipt_after_text_garbage_still_prints(
        garbage in vec(0x20u8..=0x7E, 0..200),
        lines in vec(arb_line(), 1..5),
        sizes in vec(1usize..64, 1..8),
    ) {
        let receipt = Receipt { reference: "R".into(), lines: lines.clone() };
        let bytes = [garbage, render_receipt(&receipt)].concat();
        let paper = replay(&decode(&bytes, &sizes, true));
        prop_assert_eq!(paper.cut_receipts(), &[lines][..]);
    }

    #[test]
    fn status_bytes_never_panic_and_valid_ones_round_trip(byte in any::<u8>()) {
        if let Ok(s) = PrinterState::parse(byte) {
            prop_assert_eq!(s.emit(), 0x12 | (byte & 0x08));
        }
        if let Ok(s) = PaperRoll::parse(byte) {
            prop_assert_eq!(PaperRoll::parse(s.emit()), Ok(s));
        }
        let _ = OfflineCause::parse(byte);
        let _ = ErrorCause::parse(byte);
    }
}
