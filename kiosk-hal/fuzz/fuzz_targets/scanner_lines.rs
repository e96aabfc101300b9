//! Serial scanner: line framing with each terminator, then classification.
#![no_main]

use kiosk_hal::wire::scanner::{classify, LineDecoder, Terminator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, stream) = match data.split_first() {
        Some((c, rest)) => (*c, rest),
        None => return,
    };
    let terminator = match first % 3 {
        0 => Terminator::Cr,
        1 => Terminator::CrLf,
        _ => Terminator::Lf,
    };
    let max = usize::from(first >> 2) + 1;
    let mut decoder = LineDecoder::new(terminator, max);
    for piece in stream.chunks(usize::from(first % 7) + 1) {
        decoder.push(piece);
        while let Some(line) = decoder.next_line() {
            assert!(line.len() <= max * 3, "a line is bounded");
            if let Ok(code) = classify(&line) {
                assert!(code.expose_digits().bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
});
