//! ID-003: the streaming frame decoder in any chunking, the typed parsers,
//! and the host state machine fed whatever the decoder finds; chunked and
//! whole decoding must give the same frames and errors.
#![no_main]

use kiosk_hal::drivers::id003::{Id003Config, Id003Host, Request};
use kiosk_hal::wire::id003::{Decoder, FrameRepr, HostCommand, StatusResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = FrameRepr::parse(data);
    let _ = HostCommand::parse(data);
    let mut host = Id003Host::new(&Id003Config::for_port("/dev/null"));
    host.port_opened(0);
    let mut decoder = Decoder::new();
    let mut now = 0u64;
    // The first byte picks the chunk size; the rest is the stream.
    let (chunk, stream) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 16) + 1, rest),
        None => return,
    };
    let mut whole = Decoder::new();
    let mut split = Decoder::new();
    let mut whole_out = Vec::new();
    let mut split_out = Vec::new();
    // Below the buffer bound, so no bytes are dropped either way.
    if stream.len() < 1024 {
        whole.push(stream);
        whole_out.extend(std::iter::from_fn(|| whole.next_frame()));
        for piece in stream.chunks(chunk) {
            split.push(piece);
            split_out.extend(std::iter::from_fn(|| split.next_frame()));
        }
        assert_eq!(whole_out, split_out, "chunking changes the frames");
        assert_eq!(whole.stats(), split.stats());
    }
    for (i, piece) in stream.chunks(chunk).enumerate() {
        now += 37;
        let _ = host.poll_transmit(now);
        if i % 7 == 3 {
            host.request(i as u64, Request::Stack);
        }
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Ok(f) => {
                    let _ = StatusResponse::from_frame(&f);
                    let _ = HostCommand::from_frame(&f);
                    let bytes = f.to_bytes().expect("a decoded frame re-emits");
                    assert_eq!(FrameRepr::parse(&bytes).map(|(g, _)| g), Ok(f.clone()));
                    host.handle_frame(now, &f);
                }
                Err(e) => host.handle_wire_error(now, e),
            }
        }
        while host.poll_output().is_some() {}
    }
    // The line goes quiet: give up incomplete frames until nothing is left.
    while decoder.abandon_incomplete() {
        while let Some(frame) = decoder.next_frame() {
            if let Ok(f) = frame {
                host.handle_frame(now, &f);
            }
        }
    }
    assert_eq!(decoder.buffered(), 0, "abandoning drains everything");
    let _ = host.status();
});
