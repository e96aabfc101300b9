//! CCNET: the streaming frame decoder in any chunking, the typed parsers,
//! and the host state machine fed whatever the decoder finds; chunked and
//! whole decoding must give the same frames and errors.
#![no_main]

use kiosk_hal::drivers::ccnet::{CcnetConfig, CcnetHost, Request};
use kiosk_hal::wire::ccnet::{
    BillTable, Decoder, FrameRepr, HostCommand, Identification, PollState, Reply,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = FrameRepr::parse(data);
    let _ = HostCommand::parse(data);
    let _ = PollState::from_payload(data);
    let _ = BillTable::from_payload(data);
    let _ = Identification::from_payload(data);
    let _ = Reply::from_payload(data);
    let (chunk, stream) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 16) + 1, rest),
        None => return,
    };
    if stream.len() < 1024 {
        let mut whole = Decoder::new();
        let mut split = Decoder::new();
        whole.push(stream);
        let whole_out: Vec<_> = std::iter::from_fn(|| whole.next_frame()).collect();
        let mut split_out = Vec::new();
        for piece in stream.chunks(chunk) {
            split.push(piece);
            split_out.extend(std::iter::from_fn(|| split.next_frame()));
        }
        assert_eq!(whole_out, split_out, "chunking changes the frames");
        assert_eq!(whole.stats(), split.stats());
    }
    let mut host = CcnetHost::new(&CcnetConfig::for_port("/dev/null"));
    host.port_opened(0);
    let mut decoder = Decoder::new();
    let mut now = 0u64;
    for (i, piece) in stream.chunks(chunk).enumerate() {
        now += 37;
        while host.poll_transmit(now).is_some() {}
        match i % 11 {
            3 => host.request(i as u64, Request::Stack),
            5 => host.request(i as u64, Request::Enable(Vec::new())),
            7 => host.request(i as u64, Request::Return),
            _ => {}
        }
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Ok(f) => {
                    let bytes = f.to_bytes().expect("a decoded frame re-emits");
                    assert_eq!(FrameRepr::parse(&bytes).map(|(g, _)| g), Ok(f.clone()));
                    host.handle_frame(now, &f);
                }
                Err(e) => host.handle_wire_error(now, e),
            }
        }
        while host.poll_output().is_some() {}
    }
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
