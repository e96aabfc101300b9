//! What python-escpos's output prints, replayed on [`Paper`]: one receipt
//! per job with exactly the text lines sent. Images, barcodes and drawer
//! pulses add no text and no cut, whatever bytes their data holds.
//!
//! The vectors and the script that generated them are in
//! `tests/vectors/escpos/` (python-escpos 3.1, see `generate.py`); Python
//! is not needed to run these tests.
#![forbid(unsafe_code)]

use kiosk_hal::wire::escpos::{CommandDecoder, Paper};
use kiosk_hal::ReceiptLine;

macro_rules! vector {
    ($name:literal) => {
        include_bytes!(concat!("vectors/escpos/", $name, ".bin")).as_slice()
    };
}

/// The receipts `bytes` prints when delivered in `chunk`-byte pieces.
fn receipts(bytes: &[u8], chunk: usize) -> Vec<Vec<ReceiptLine>> {
    let mut d = CommandDecoder::new();
    let mut paper = Paper::new();
    for piece in bytes.chunks(chunk) {
        d.push(piece);
        while let Some(cmd) = d.next_command() {
            paper.apply(&cmd);
        }
    }
    while let Some(cmd) = d.flush() {
        paper.apply(&cmd);
    }
    assert!(
        paper.uncut_lines().is_empty(),
        "nothing printed after the cut"
    );
    paper.take_cut_receipts()
}

fn text(s: &str) -> ReceiptLine {
    ReceiptLine::Text(s.into())
}

fn check(name: &str, bytes: &[u8], want: Vec<ReceiptLine>) {
    for chunk in [bytes.len(), 1, 2, 3, 7, 64] {
        assert_eq!(
            receipts(bytes, chunk),
            vec![want.clone()],
            "{name} in {chunk}-byte pieces"
        );
    }
}

#[test]
fn text_job_prints_its_lines_and_one_cut() {
    check(
        "text",
        vector!("text"),
        vec![
            text("Kiosk 7 receipt"),
            ReceiptLine::Bold("TOTAL 50.00".into()),
            text("Cafe"),
            text("no newline"),
            text(""),
        ],
    );
}

#[test]
fn image_data_holding_cuts_and_line_feeds_prints_no_cut() {
    check(
        "image_raster",
        vector!("image_raster"),
        vec![text("before"), text("after")],
    );
    // ESC * lines each end with LF: one empty line for the image row.
    check(
        "image_column",
        vector!("image_column"),
        vec![text("before"), text(""), text("after")],
    );
    check("image_graphics", vector!("image_graphics"), vec![]);
}

#[test]
fn qr_codes_native_and_as_images() {
    check(
        "qr_native",
        vector!("qr_native"),
        vec![ReceiptLine::Qr(
            "https://pay.example.com/t/TX-2024-0001".into(),
        )],
    );
    check(
        "qr_image",
        vector!("qr_image"),
        vec![text(""), text(""), text("")],
    );
}

#[test]
fn barcode_data_is_not_printed_as_text() {
    for (name, bytes) in [
        ("barcode_code39_a", vector!("barcode_code39_a")),
        ("barcode_code39_b", vector!("barcode_code39_b")),
        ("barcode_ean13_a", vector!("barcode_ean13_a")),
        ("barcode_ean13_b", vector!("barcode_ean13_b")),
        ("barcode_code128_b", vector!("barcode_code128_b")),
    ] {
        check(name, bytes, vec![]);
    }
}

#[test]
fn cuts_and_drawer_pulses() {
    check("cut_full", vector!("cut_full"), vec![text("x")]);
    check("cut_partial", vector!("cut_partial"), vec![text("x")]);
    check("cut_no_feed", vector!("cut_no_feed"), vec![text("x")]);
    // ESC p m t1 t2: the pulse times are not text.
    check("cashdraw", vector!("cashdraw"), vec![text("drawer")]);
}
