//! Wire codec throughput, and receipt encoding next to the `escpos` crate.
//!
//! - `decode-frames/*`, `decode-bytes/*`: the same streams measured in
//!   frames (commands, lines, status answers) per second and in bytes per
//!   second, pushed in 64-byte reads as a serial port delivers them.
//! - `encode-receipt/*`: one receipt (bold heading, four text lines, a QR
//!   code, feed and cut) rendered by `kiosk_hal::wire::escpos::render_receipt`
//!   and by the `escpos` crate's `Printer` into a memory driver. Text is
//!   ASCII: the `escpos` crate has no GBK page, so Chinese text could not be
//!   compared like for like.
//!
//! Run with `cargo bench -p kiosk-benches --bench codecs` (about 30 s).
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiosk_hal::wire::cctalk;
use kiosk_hal::wire::escpos::{render_receipt, CommandDecoder, Paper, RealTimeStatus};
use kiosk_hal::wire::evdev::{InputEvent, KeyDecoder, RecordDecoder, EV_KEY, EV_MSC, EV_SYN};
use kiosk_hal::wire::id003::{CurrencyEntry, Decoder, RejectCode, StatusResponse};
use kiosk_hal::wire::scanner::{classify, LineDecoder, Terminator, DEFAULT_MAX_LINE_LEN};
use kiosk_hal::wire::ssp;
use kiosk_hal::{PrinterStatus, Receipt, ReceiptLine};

const READ: usize = 64;

/// A codec's test stream and how many frames it holds.
struct Stream {
    name: &'static str,
    bytes: Vec<u8>,
    frames: u64,
    decode: fn(&[u8]) -> u64,
}

fn id003_stream() -> Stream {
    let table: Vec<CurrencyEntry> = (0..6)
        .map(|i| CurrencyEntry {
            escrow_code: 0x62 + i,
            country_code: 0x1A,
            value: 1 + i,
            exponent: 1,
        })
        .collect();
    let cycle = [
        StatusResponse::Idling,
        StatusResponse::Accepting,
        StatusResponse::Escrow(0x63),
        StatusResponse::Stacking,
        StatusResponse::VendValid,
        StatusResponse::Stacked,
        StatusResponse::Rejecting(RejectCode::Discrimination),
        StatusResponse::CurrencyAssign(table),
    ];
    let mut bytes = Vec::new();
    for i in 0..1000 {
        bytes.extend(cycle[i % cycle.len()].to_bytes().unwrap());
    }
    Stream {
        name: "id003",
        bytes,
        frames: 1000,
        decode: |bytes| {
            let mut d = Decoder::new();
            let mut n = 0;
            for chunk in bytes.chunks(READ) {
                d.push(chunk);
                while let Some(frame) = d.next_frame() {
                    n += u64::from(frame.is_ok());
                }
            }
            n
        },
    }
}

fn receipt(n: usize) -> Receipt {
    let reference = format!("K01-{n:06}");
    Receipt {
        reference: reference.clone(),
        lines: vec![
            ReceiptLine::Bold("PAYMENT RECEIPT".into()),
            ReceiptLine::Text("Site: Xihu business hall".into()),
            ReceiptLine::Text("Account: 0571-12345678".into()),
            ReceiptLine::Text("Amount: CNY 70.00".into()),
            ReceiptLine::Text(format!("Reference: {reference}")),
            ReceiptLine::Qr(reference),
        ],
    }
}

fn escpos_stream() -> Stream {
    let mut bytes = Vec::new();
    for i in 0..100 {
        bytes.extend(render_receipt(&receipt(i)));
    }
    let decode: fn(&[u8]) -> u64 = |bytes| {
        let mut d = CommandDecoder::new();
        let mut paper = Paper::new();
        let mut n = 0;
        for chunk in bytes.chunks(READ) {
            d.push(chunk);
            while let Some(cmd) = d.next_command() {
                paper.apply(&cmd);
                n += 1;
            }
        }
        while let Some(cmd) = d.flush() {
            paper.apply(&cmd);
            n += 1;
        }
        black_box(paper.take_cut_receipts());
        n
    };
    let frames = decode(&bytes);
    Stream {
        name: "escpos-commands",
        bytes,
        frames,
        decode,
    }
}

fn status_stream() -> Stream {
    let kinds = [
        PrinterStatus::Ready,
        PrinterStatus::PaperNearEnd,
        PrinterStatus::PaperOut,
        PrinterStatus::CoverOpen,
    ];
    let mut bytes = Vec::new();
    for i in 0..1000 {
        let status = RealTimeStatus::from_printer_status(kinds[i % kinds.len()]).unwrap();
        bytes.extend(status.answers());
    }
    Stream {
        name: "escpos-status",
        bytes,
        frames: 1000,
        decode: |bytes| {
            bytes
                .chunks_exact(4)
                .filter_map(|a| RealTimeStatus::parse([a[0], a[1], a[2], a[3]]).ok())
                .map(|s| u64::from(s.printer_status() != PrinterStatus::Offline))
                .sum()
        },
    }
}

fn scanner_stream() -> Stream {
    let mut bytes = Vec::new();
    for i in 0..1000u64 {
        let code = if i % 2 == 0 {
            format!("13{:016}\r", i * 7919)
        } else {
            format!("28{:014}\r", i * 104_729)
        };
        bytes.extend(code.as_bytes());
    }
    Stream {
        name: "scanner-lines",
        bytes,
        frames: 1000,
        decode: |bytes| {
            let mut d = LineDecoder::new(Terminator::Cr, DEFAULT_MAX_LINE_LEN);
            let mut n = 0;
            for chunk in bytes.chunks(READ) {
                d.push(chunk);
                while let Some(line) = d.next_line() {
                    n += u64::from(classify(&line).is_ok());
                }
            }
            n
        },
    }
}

/// SSP poll answers as a validator sends them (read, credit with a 0x7F
/// CRC byte now and then, stacked, disabled…), each decoded into packets
/// and its events parsed.
fn ssp_stream() -> Stream {
    use ssp::{Event, Packet};
    let cycle: [&[Event]; 6] = [
        &[],
        &[Event::Read(0)],
        &[Event::Read(5)],
        &[Event::Stacking, Event::Credit(5), Event::Stacking],
        &[Event::Stacked],
        &[Event::Disabled],
    ];
    let mut bytes = Vec::new();
    for i in 0..1000 {
        let mut data = vec![0xF0];
        data.extend(Event::emit_all(cycle[i % cycle.len()]));
        let packet = Packet::new(0, i % 2 == 0, data);
        bytes.extend(packet.to_bytes().unwrap());
    }
    Stream {
        name: "ssp",
        bytes,
        frames: 1000,
        decode: |bytes| {
            let mut d = ssp::Decoder::new();
            let mut n = 0;
            for chunk in bytes.chunks(READ) {
                d.push(chunk);
                while let Some(packet) = d.next_packet() {
                    let events = packet.ok().map(|p| Event::parse_all(&p.data[1..]));
                    n += u64::from(matches!(events, Some(Ok(_))));
                }
            }
            n
        },
    }
}

/// A USB HID scanner's key events as `/dev/input/eventN` delivers them:
/// per character an `MSC_SCAN`, press, report, release, report (24-byte
/// records), Enter at the end; each line classified.
fn hid_scanner_stream() -> Stream {
    let key = |code: u16, value: i32| InputEvent::new(EV_KEY, code, value);
    let syn = InputEvent::new(EV_SYN, 0, 0);
    let mut bytes = Vec::new();
    for i in 0..1000u64 {
        let code = if i % 2 == 0 {
            format!("13{:016}", i * 7919)
        } else {
            format!("28{:014}", i * 104_729)
        };
        // KEY_1 = 2 … KEY_9 = 10, KEY_0 = 11, KEY_ENTER = 28.
        let keys = code
            .bytes()
            .map(|d| {
                if d == b'0' {
                    11
                } else {
                    u16::from(d - b'1') + 2
                }
            })
            .chain([28]);
        for k in keys {
            for e in [
                InputEvent::new(EV_MSC, 4, 0x7001E),
                key(k, 1),
                syn,
                key(k, 0),
                syn,
            ] {
                bytes.extend(e.to_bytes());
            }
        }
    }
    Stream {
        name: "hid-scanner-keys",
        bytes,
        frames: 1000,
        decode: |bytes| {
            let mut records = RecordDecoder::new();
            let mut keys = KeyDecoder::default();
            let mut n = 0;
            for chunk in bytes.chunks(READ) {
                records.push(chunk, |e| keys.push(e));
                while let Some(line) = keys.next_line() {
                    n += u64::from(classify(&line).is_ok());
                }
            }
            n
        },
    }
}

/// A ccTalk coin acceptor's answers to READ BUFFERED CREDIT (229) on the
/// single-wire bus: the host's own request echoed, then the answer with
/// the log (a coin more each time), each read as coin events since the
/// last counter.
fn cctalk_coin_stream() -> Stream {
    use cctalk::{Checksum, CoinEvent, HostCommand};
    let bytes = cctalk_exchanges(
        HostCommand::ReadBufferedCreditOrErrorCodes,
        cctalk::ADDR_COIN_ACCEPTOR,
        Checksum::Simple,
        |log, i| {
            log.record_coin(CoinEvent::Credit {
                position: (i % 3) as u8 + 1,
                sorter_path: 1,
            })
        },
    );
    Stream {
        name: "cctalk-coin",
        bytes,
        frames: 1000,
        decode: |bytes| {
            decode_cctalk_logs(bytes, Checksum::Simple, |log, last| {
                log.coin_since(last).new.len() == 1
            })
        },
    }
}

/// A thousand ccTalk exchanges on the single-wire bus: the host's
/// `command` to `device` (echoed, as the bus does), then the device's
/// event log after `record` added the exchange's event to it.
fn cctalk_exchanges(
    command: cctalk::HostCommand,
    device: u8,
    checksum: cctalk::Checksum,
    mut record: impl FnMut(&mut cctalk::BufferedBillEvents, u32),
) -> Vec<u8> {
    let mut log = cctalk::BufferedBillEvents {
        counter: 0,
        pairs: [(0, 0); 5],
    };
    let request = command
        .to_frame(device, cctalk::ADDR_HOST)
        .to_bytes(checksum)
        .unwrap();
    let mut bytes = Vec::new();
    for i in 0..1000u32 {
        record(&mut log, i);
        bytes.extend(&request);
        let answer = cctalk::FrameRepr::new(cctalk::ADDR_HOST, device, 0, log.to_data());
        bytes.extend(answer.to_bytes(checksum).unwrap());
    }
    bytes
}

/// Decodes ccTalk frames from 64-byte reads, skips the host's echoed
/// requests, parses each answer as an event log and counts the answers
/// `counts` accepts, given the counter the previous answer had.
fn decode_cctalk_logs(
    bytes: &[u8],
    checksum: cctalk::Checksum,
    counts: fn(&cctalk::BufferedBillEvents, Option<u8>) -> bool,
) -> u64 {
    let mut d = cctalk::Decoder::new(checksum);
    let mut last = Some(0);
    let mut n = 0;
    for chunk in bytes.chunks(READ) {
        d.push(chunk);
        while let Some(frame) = d.next_frame() {
            let Ok(frame) = frame else { continue };
            if frame.dest != cctalk::ADDR_HOST {
                continue; // the echo
            }
            if let Ok(log) = cctalk::BufferedBillEvents::parse(&frame.data) {
                n += u64::from(counts(&log, last));
                last = Some(log.counter);
            }
        }
    }
    n
}

/// CCNET poll answers as a CashCode-compatible validator sends them (idle,
/// accepting, escrow, stacking, stacked, a rejection), each decoded into a
/// frame and its state parsed.
fn ccnet_stream() -> Stream {
    use kiosk_hal::wire::ccnet::{self, PollState, RejectCode};
    let cycle = [
        PollState::Idling,
        PollState::Accepting,
        PollState::EscrowPosition(3),
        PollState::Stacking,
        PollState::BillStacked(3),
        PollState::Rejecting(RejectCode::Magnetic),
    ];
    let mut bytes = Vec::new();
    for i in 0..1000 {
        bytes.extend(cycle[i % cycle.len()].to_bytes());
    }
    Stream {
        name: "ccnet",
        bytes,
        frames: 1000,
        decode: |bytes| {
            let mut d = ccnet::Decoder::new();
            let mut n = 0;
            for chunk in bytes.chunks(READ) {
                d.push(chunk);
                while let Some(frame) = d.next_frame() {
                    let state = frame.ok().map(|f| PollState::from_payload(&f.payload));
                    n += u64::from(matches!(state, Some(Ok(_))));
                }
            }
            n
        },
    }
}

/// A ccTalk bill validator's answers to READ BUFFERED BILL EVENTS (159) on
/// the single-wire bus, CRC-16 checksums: the host's request echoed, then
/// the event log (a note escrowed, then credited, in turn), each read as
/// the bill events since the last counter.
fn cctalk_bill_stream() -> Stream {
    use cctalk::{BillEvent, Checksum, HostCommand};
    let bytes = cctalk_exchanges(
        HostCommand::ReadBufferedBillEvents,
        cctalk::ADDR_BILL_VALIDATOR,
        Checksum::Crc16,
        |log, i| {
            let bill_type = (i % 4) as u8 + 1;
            log.record(if i % 2 == 0 {
                BillEvent::PendingCredit { bill_type }
            } else {
                BillEvent::Credit { bill_type }
            })
        },
    );
    Stream {
        name: "cctalk-bill",
        bytes,
        frames: 1000,
        decode: |bytes| {
            decode_cctalk_logs(bytes, Checksum::Crc16, |log, last| {
                let delta = log.since(last);
                delta.new.len() == 1 && delta.lost == 0
            })
        },
    }
}

fn decoding(c: &mut Criterion) {
    let streams = [
        id003_stream(),
        ssp_stream(),
        ccnet_stream(),
        cctalk_bill_stream(),
        escpos_stream(),
        status_stream(),
        scanner_stream(),
        hid_scanner_stream(),
        cctalk_coin_stream(),
    ];
    for s in &streams {
        assert_eq!(
            (s.decode)(&s.bytes),
            s.frames,
            "{} decodes every frame",
            s.name
        );
    }
    let mut frames = c.benchmark_group("decode-frames");
    for s in &streams {
        frames.throughput(Throughput::Elements(s.frames));
        frames.bench_function(s.name, |b| b.iter(|| (s.decode)(black_box(&s.bytes))));
    }
    frames.finish();
    let mut bytes = c.benchmark_group("decode-bytes");
    for s in &streams {
        bytes.throughput(Throughput::Bytes(s.bytes.len() as u64));
        bytes.bench_function(s.name, |b| b.iter(|| (s.decode)(black_box(&s.bytes))));
    }
    bytes.finish();
}

/// An `escpos` driver that keeps what it is sent.
#[derive(Clone, Default)]
struct Memory(Rc<RefCell<Vec<u8>>>);

impl escpos::driver::Driver for Memory {
    fn name(&self) -> String {
        "memory".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The same receipt through the `escpos` crate.
fn escpos_crate(r: &Receipt) -> Vec<u8> {
    use escpos::printer::Printer;
    use escpos::utils::{Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
    let memory = Memory::default();
    let mut p = Printer::new(memory.clone(), Protocol::default(), None);
    let mut run = || -> escpos::errors::Result<()> {
        p.init()?;
        for line in &r.lines {
            match line {
                ReceiptLine::Text(t) => {
                    p.writeln(t)?;
                }
                ReceiptLine::Bold(t) => {
                    p.bold(true)?.write(t)?.bold(false)?.feed()?;
                }
                ReceiptLine::Qr(q) => {
                    let qr = QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M);
                    p.qrcode_option(q, qr)?;
                }
            }
        }
        p.feeds(3)?.print_cut()?;
        Ok(())
    };
    run().expect("the escpos crate encodes the receipt");
    let bytes = memory.0.borrow().clone();
    bytes
}

fn encoding(c: &mut Criterion) {
    let r = receipt(42);
    let ours = render_receipt(&r);
    let theirs = escpos_crate(&r);
    println!(
        "encode-receipt: kiosk-hal {} bytes, escpos crate {} bytes",
        ours.len(),
        theirs.len()
    );
    let mut group = c.benchmark_group("encode-receipt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("kiosk-hal", |b| b.iter(|| render_receipt(black_box(&r))));
    group.bench_function("escpos-crate", |b| b.iter(|| escpos_crate(black_box(&r))));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

criterion_group! {
    name = codecs;
    config = config();
    targets = decoding, encoding
}
criterion_main!(codecs);
