//! ESC/POS: real-time status bytes, alone and through the host's byte-by-byte reader.
#![no_main]

use kiosk_hal::drivers::escpos::{EscPosConfig, EscPosHost, PrinterRequest};
use kiosk_hal::wire::escpos::RealTimeStatus;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for answers in data.chunks_exact(4) {
        let answers = [answers[0], answers[1], answers[2], answers[3]];
        if let Ok(status) = RealTimeStatus::parse(answers) {
            // Undefined bits are ignored, so the bytes need not round-trip;
            // the decoded status must (re-emitted, it parses to itself).
            assert_eq!(RealTimeStatus::parse(status.answers()), Ok(status));
            let _ = status.printer_status();
        }
    }
    let mut host = EscPosHost::new(&EscPosConfig::for_port("/dev/null"));
    host.port_opened(0);
    host.request(1, PrinterRequest::Print(b"receipt".to_vec()));
    host.request(2, PrinterRequest::Status);
    let mut now = 0;
    for piece in data.chunks(3) {
        now += 400;
        while host.poll_transmit(now).is_some() {}
        host.handle_bytes(now, piece);
        while host.poll_output().is_some() {}
    }
});
