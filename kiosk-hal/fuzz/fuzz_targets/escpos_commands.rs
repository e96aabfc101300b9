//! ESC/POS: the printer-side command decoder in any chunking, replayed on paper.
#![no_main]

use kiosk_hal::wire::escpos::{CommandDecoder, Paper};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (chunk, chinese, stream) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 32) + 1, c & 0x80 != 0, rest),
        None => return,
    };
    let mut decoder = CommandDecoder::with_chinese_mode(chinese);
    let mut paper = Paper::new();
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        while let Some(cmd) = decoder.next_command() {
            paper.apply(&cmd);
        }
    }
    while let Some(cmd) = decoder.flush() {
        paper.apply(&cmd);
    }
    assert_eq!(decoder.buffered(), 0, "flush drains everything");
    let _ = paper.take_cut_receipts();
});
