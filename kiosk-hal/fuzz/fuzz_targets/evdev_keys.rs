//! USB HID scanners: input_event records in any chunking, the key decoder
//! and the classification of its lines. Whatever the bytes, nothing
//! panics, chunking never changes the lines, and a record re-emits to its
//! own bytes.
#![no_main]

use kiosk_hal::wire::evdev::{InputEvent, KeyDecoder, RecordDecoder, RECORD_LEN};
use kiosk_hal::wire::scanner::classify;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 31) + 1;
    let tab = first & 0x80 != 0;
    let max = usize::from(first % 40) + 1;
    let lines = |pieces: &mut dyn Iterator<Item = &[u8]>| {
        let mut records = RecordDecoder::new();
        let mut keys = KeyDecoder::new(tab, max);
        let mut out = Vec::new();
        for piece in pieces {
            records.push(piece, |e| {
                assert_eq!(InputEvent::parse(&e.to_bytes()), Ok(e));
                keys.push(e);
            });
            while let Some(line) = keys.next_line() {
                assert!(line.chars().count() <= max, "a line is bounded");
                if let Ok(code) = classify(&line) {
                    assert!(code.expose_digits().bytes().all(|b| b.is_ascii_digit()));
                }
                out.push(line);
            }
        }
        assert!(records.buffered() < RECORD_LEN);
        (out, keys.stats())
    };
    let whole = lines(&mut std::iter::once(stream));
    let split = lines(&mut stream.chunks(chunk));
    assert_eq!(whole, split, "chunking changes the lines");
});
