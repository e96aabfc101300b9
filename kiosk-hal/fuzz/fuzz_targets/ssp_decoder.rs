//! SSP / eSSP: the streaming packet decoder in any chunking, the typed
//! parsers (commands, replies, poll events, setup data), decryption with a
//! fixed key, and the host state machine fed whatever the decoder finds;
//! chunked and whole decoding must give the same packets and errors.
#![no_main]

use kiosk_hal::drivers::ssp::{Request, SspConfig, SspHost};
use kiosk_hal::wire::ssp::essp::{decrypt, EsspKey, DEFAULT_FIXED_KEY};
use kiosk_hal::wire::ssp::{Command, Decoder, Event, Packet, Reply, SetupData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Packet::parse(data);
    let _ = Command::parse(data);
    let _ = Reply::parse(data);
    let _ = Event::parse_all(data);
    let _ = SetupData::parse(data);
    let _ = decrypt(&EsspKey::new(DEFAULT_FIXED_KEY, 58_169_935), data);
    let (chunk, stream) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 16) + 1, rest),
        None => return,
    };
    let mut whole = Decoder::new();
    let mut split = Decoder::new();
    let mut whole_out = Vec::new();
    let mut split_out = Vec::new();
    if stream.len() < 1024 {
        whole.push(stream);
        whole_out.extend(std::iter::from_fn(|| whole.next_packet()));
        for piece in stream.chunks(chunk) {
            split.push(piece);
            split_out.extend(std::iter::from_fn(|| split.next_packet()));
        }
        assert_eq!(whole_out, split_out, "chunking changes the packets");
        assert_eq!(whole.stats(), split.stats());
    }
    let config = SspConfig {
        encryption: chunk % 2 == 0,
        ..SspConfig::for_port("/dev/null")
    };
    let mut host = SspHost::new(&config);
    host.port_opened(0, u64::from(chunk as u32));
    let mut decoder = Decoder::new();
    let mut now = 0u64;
    for (i, piece) in stream.chunks(chunk).enumerate() {
        now += 37;
        // Answer with the sequence flag of whatever went out.
        let seq = host
            .poll_transmit(now)
            .and_then(|t| Packet::parse(&t.bytes).ok())
            .map(|(p, _)| p.seq);
        if i % 7 == 3 {
            host.request(i as u64, Request::Stack);
        }
        decoder.push(piece);
        while let Some(packet) = decoder.next_packet() {
            match packet {
                Ok(mut p) => {
                    let bytes = p.to_bytes().expect("a decoded packet re-emits");
                    assert_eq!(Packet::parse(&bytes).map(|(q, _)| q), Ok(p.clone()));
                    if let Some(seq) = seq {
                        p.seq = seq;
                    }
                    host.handle_packet(now, &p);
                }
                Err(e) => host.handle_wire_error(now, e),
            }
        }
        while host.poll_output().is_some() {}
    }
    let _ = host.status();
});
