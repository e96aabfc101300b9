//! ESC/POS: the printer-side command decoder in any chunking, replayed on
//! paper; chunked and whole decoding must give the same commands.
#![no_main]

use kiosk_hal::wire::escpos::{CommandDecoder, Paper, PrinterCommand};
use libfuzzer_sys::fuzz_target;

/// Decodes `stream` pushed in `chunk`-byte pieces, draining after each.
fn decode(stream: &[u8], chunk: usize, chinese: bool) -> Vec<PrinterCommand> {
    let mut decoder = CommandDecoder::with_chinese_mode(chinese);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        out.extend(std::iter::from_fn(|| decoder.next_command()));
    }
    out.extend(std::iter::from_fn(|| decoder.flush()));
    assert_eq!(decoder.buffered(), 0, "flush drains everything");
    out
}

fuzz_target!(|data: &[u8]| {
    let (chunk, chinese, stream) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 32) + 1, c & 0x80 != 0, rest),
        None => return,
    };
    let chunked = decode(stream, chunk, chinese);
    let whole = decode(stream, stream.len().max(1), chinese);
    assert_eq!(chunked, whole, "chunking changes the commands");
    let mut paper = Paper::new();
    for cmd in &chunked {
        paper.apply(cmd);
    }
    let _ = paper.take_cut_receipts();
});
