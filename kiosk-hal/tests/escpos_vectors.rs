//! The command sequences the decoder finds in what python-escpos sends.
//!
//! Vectors: `tests/vectors/escpos/*.bin`, made by `generate.py` there with
//! python-escpos 3.1's `Dummy` printer (versions in `VERSIONS`). Each test
//! checks the whole sequence: text as text, every image as one command
//! with its data length, barcodes with their data, one cut at the end. The
//! images hold GS V 0, LF, ESC @ and ESC p in their data on purpose.
//! Every split of each vector into two pieces decodes the same.
#![forbid(unsafe_code)]

use kiosk_hal::wire::escpos::{
    CommandDecoder, CutMode, Image, ImageFormat, PrinterCommand as C, QrSetting,
};

macro_rules! vector {
    ($name:literal) => {
        include_bytes!(concat!("vectors/escpos/", $name, ".bin")).as_slice()
    };
}

fn decode_parts(parts: &[&[u8]]) -> Vec<C> {
    let mut d = CommandDecoder::new();
    let mut out = Vec::new();
    for part in parts {
        d.push(part);
        out.extend(std::iter::from_fn(|| d.next_command()));
    }
    out.extend(std::iter::from_fn(|| d.flush()));
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.stats().framing_errors, 0, "no decode errors");
    out
}

/// Decodes `bytes` whole, then checks every two-piece split gives the same.
fn decode(bytes: &[u8]) -> Vec<C> {
    let whole = decode_parts(&[bytes]);
    for i in 1..bytes.len() {
        assert_eq!(
            decode_parts(&[&bytes[..i], &bytes[i..]]),
            whole,
            "split at {i}"
        );
    }
    whole
}

fn ign(head: &[u8]) -> C {
    C::Ignored {
        head: head.to_vec(),
        data_len: 0,
    }
}

fn text(s: &str) -> C {
    C::Text(s.into())
}

const CODEPAGE_0: &[u8] = &[0x1B, 0x74, 0x00];

/// What python-escpos's `barcode()` sends before GS k.
fn barcode_setup() -> Vec<C> {
    vec![
        ign(&[0x1B, 0x61, 0x01]), // ESC a 1: centre
        ign(&[0x1D, 0x68, 64]),   // GS h: height
        ign(&[0x1D, 0x77, 3]),    // GS w: module width
        ign(&[0x1D, 0x66, 0]),    // GS f: HRI font
        ign(&[0x1D, 0x48, 2]),    // GS H: HRI below
    ]
}

#[test]
fn text_styles_and_cut() {
    let esc_bang = |n| ign(&[0x1B, 0x21, n]);
    assert_eq!(
        decode(vector!("text")),
        vec![
            C::Init,
            ign(CODEPAGE_0),
            text("Kiosk 7 receipt"),
            C::LineFeed,
            esc_bang(0),
            esc_bang(0),
            esc_bang(0x30),
            C::Bold(true),
            ign(&[0x1B, 0x61, 0x01]),
            text("TOTAL 50.00"),
            C::LineFeed,
            esc_bang(0),
            esc_bang(0),
            esc_bang(0),
            C::Bold(false),
            ign(&[0x1B, 0x2D, 0x01]),
            ign(&[0x1B, 0x61, 0x00]),
            text("Cafe"),
            C::LineFeed,
            ign(&[0x1B, 0x2D, 0x00]),
            text("no newline"),
            C::LineFeed,
            C::LineFeed,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn raster_image_is_one_command() {
    assert_eq!(
        decode(vector!("image_raster")),
        vec![
            ign(CODEPAGE_0),
            text("before"),
            C::LineFeed,
            C::Image(Image {
                format: ImageFormat::Raster,
                mode: 0,
                width_dots: 24,
                height_dots: 8,
                data_len: 24,
            }),
            text("after"),
            C::LineFeed,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn column_image_is_one_command_and_the_cut_after_it_is_kept() {
    assert_eq!(
        decode(vector!("image_column")),
        vec![
            ign(CODEPAGE_0),
            text("before"),
            C::LineFeed,
            ign(&[0x1B, 0x33, 16]), // ESC 3 16: line spacing for the image
            C::Image(Image {
                format: ImageFormat::Column,
                mode: 33,
                width_dots: 30,
                height_dots: 24,
                data_len: 90,
            }),
            C::LineFeed,
            ign(&[0x1B, 0x32]), // ESC 2: default line spacing
            text("after"),
            C::LineFeed,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn graphics_image_is_passed_over() {
    // GS ( L fn 112 (store: 2 + 8 header + 24 data bytes), then fn 50 (print).
    assert_eq!(
        decode(vector!("image_graphics")),
        vec![
            C::Ignored {
                head: vec![0x1D, 0x28, 0x4C, 34, 0],
                data_len: 34
            },
            C::Ignored {
                head: vec![0x1D, 0x28, 0x4C, 2, 0],
                data_len: 2
            },
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn native_qr_code() {
    assert_eq!(
        decode(vector!("qr_native")),
        vec![
            C::QrSetting(QrSetting::Model(50)),
            C::QrSetting(QrSetting::ModuleSize(6)),
            C::QrSetting(QrSetting::ErrorCorrection(49)),
            C::QrStore("https://pay.example.com/t/TX-2024-0001".into()),
            C::QrPrint,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn qr_code_as_an_image() {
    // Version 3 QR (29 modules and a 1-module border each side) at 3 dots:
    // 93 × 93,
    // padded to 12 bytes (96 dots) a row.
    assert_eq!(
        decode(vector!("qr_image")),
        vec![
            ign(CODEPAGE_0),
            C::LineFeed,
            C::Image(Image {
                format: ImageFormat::Raster,
                mode: 0,
                width_dots: 96,
                height_dots: 93,
                data_len: 12 * 93,
            }),
            C::LineFeed,
            C::LineFeed,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}

#[test]
fn barcodes_in_both_function_types() {
    let cases: [(&[u8], u8, &[u8]); 5] = [
        (vector!("barcode_code39_a"), 4, b"KIOSK-42"),
        (vector!("barcode_code39_b"), 69, b"KIOSK-42"),
        (vector!("barcode_ean13_a"), 2, b"4006381333931"),
        (vector!("barcode_ean13_b"), 67, b"4006381333931"),
        (vector!("barcode_code128_b"), 73, b"{BTX-2024-0001"),
    ];
    for (bytes, system, data) in cases {
        let mut want = barcode_setup();
        want.extend([
            C::Barcode {
                system,
                data: data.to_vec(),
            },
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]);
        assert_eq!(decode(bytes), want, "GS k {system}");
    }
}

#[test]
fn cuts() {
    let with = |cut| vec![ign(CODEPAGE_0), text("x"), C::Feed(6), C::Cut(cut)];
    assert_eq!(decode(vector!("cut_full")), with(CutMode::Full));
    assert_eq!(decode(vector!("cut_partial")), with(CutMode::Partial));
    // python-escpos's cut(feed=False) sends GS V 66 0: feed to the cutter
    // and cut partially, whatever the mode asked.
    assert_eq!(
        decode(vector!("cut_no_feed")),
        vec![
            ign(CODEPAGE_0),
            text("x"),
            C::Cut(CutMode::FeedAndPartial(0))
        ]
    );
}

#[test]
fn drawer_pulses() {
    assert_eq!(
        decode(vector!("cashdraw")),
        vec![
            C::DrawerPulse {
                pin: 0,
                on: 50,
                off: 50
            },
            C::DrawerPulse {
                pin: 1,
                on: 50,
                off: 50
            },
            C::DrawerPulse {
                pin: 0,
                on: 25,
                off: 255
            },
            ign(CODEPAGE_0),
            text("drawer"),
            C::LineFeed,
            C::Feed(6),
            C::Cut(CutMode::Full),
        ]
    );
}
