//! ccTalk: the sync-less frame decoder in any chunking for both checksums,
//! the typed parsers, the event counter arithmetic, and the host state
//! machine fed whatever the decoder finds.
#![no_main]

use kiosk_hal::drivers::cctalk::{CctalkCoinConfig, CctalkConfig, CctalkHost, Request};
use kiosk_hal::wire::cctalk::{
    BufferedBillEvents, Checksum, CoinError, CoinId, Decoder, FrameRepr, HostCommand,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let checksum = if first & 0x80 == 0 {
        Checksum::Simple
    } else {
        Checksum::Crc16
    };
    let chunk = usize::from(first % 16) + 1;
    let _ = FrameRepr::parse(stream, checksum);
    if let Ok(events) = BufferedBillEvents::parse(stream.get(..11).unwrap_or(stream)) {
        for last in [None, Some(0), Some(1), Some(events.counter), Some(255)] {
            let d = events.since(last);
            assert!(d.new.len() <= 5);
            let c = events.coin_since(last);
            assert_eq!((c.new.len(), c.lost), (d.new.len(), d.lost));
        }
    }
    if let Ok(Some(id)) = CoinId::parse(stream.get(..6).unwrap_or(stream)) {
        assert_eq!(CoinId::parse(&id.to_data()), Ok(Some(id)));
    }
    for &b in stream.iter().take(8) {
        assert_eq!(CoinError::from_byte(b).to_byte(), b);
    }
    if stream.len() < 1024 {
        let mut whole = Decoder::new(checksum);
        let mut split = Decoder::new(checksum);
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
    // Bills or (first byte's bit 6) coins: the same host, other headers.
    let mut host = if first & 0x40 == 0 {
        CctalkHost::new(&CctalkConfig {
            checksum,
            ..CctalkConfig::for_port("/dev/null")
        })
    } else {
        CctalkHost::coins(&CctalkCoinConfig {
            checksum,
            ..CctalkCoinConfig::for_port("/dev/null")
        })
    };
    host.port_opened(0);
    let mut decoder = Decoder::new(checksum);
    let mut now = 0u64;
    for (i, piece) in stream.chunks(chunk).enumerate() {
        now += 61;
        while host.poll_transmit(now).is_some() {}
        match i % 13 {
            3 => host.request(i as u64, Request::Stack),
            5 => host.request(i as u64, Request::Enable(Vec::new())),
            8 => host.request(i as u64, Request::Return),
            _ => {}
        }
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Ok(f) => {
                    let _ = HostCommand::from_frame(&f);
                    let bytes = f.to_bytes(checksum).expect("a decoded frame re-emits");
                    let again = FrameRepr::parse(&bytes, checksum).map(|(g, _)| g);
                    assert_eq!(
                        again.map(|g| (g.dest, g.header, g.data)),
                        Ok((f.dest, f.header, f.data.clone()))
                    );
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
