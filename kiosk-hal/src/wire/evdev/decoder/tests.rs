use super::*;
use crate::wire::evdev::{RecordDecoder, EV_MSC};
use crate::wire::scanner::{classify, CodeRejection};
use crate::PaymentScheme;
use proptest::collection::vec;
use proptest::prelude::*;

/// Key codes typed in from `linux/input-event-codes.h` (not from the
/// decoder's tables): digits, a few letters, Enter, the Shifts.
fn kernel_code(c: char) -> (u16, bool) {
    match c {
        '1'..='9' => (2 + (c as u16 - '1' as u16), false), // KEY_1 = 2 … KEY_9 = 10
        '0' => (11, false),                                // KEY_0
        'a' => (30, false),                                // KEY_A
        'b' => (48, false),                                // KEY_B
        'c' => (46, false),                                // KEY_C
        'h' => (35, false),                                // KEY_H
        'p' => (25, false),                                // KEY_P
        't' => (20, false),                                // KEY_T
        's' => (31, false),                                // KEY_S
        'A' => (30, true),
        'B' => (48, true),
        'X' => (45, true), // KEY_X
        ':' => (39, true), // KEY_SEMICOLON
        '/' => (53, false),
        '.' => (52, false),
        _ => panic!("no test code for {c:?}"),
    }
}

const SYN: InputEvent = InputEvent {
    time_sec: 0,
    time_usec: 0,
    kind: EV_SYN,
    code: SYN_REPORT,
    value: 0,
};

fn key(code: u16, value: i32) -> InputEvent {
    InputEvent::new(EV_KEY, code, value)
}

/// What a typical scanner sends for `text` then Enter: for each key an
/// `MSC_SCAN`, the press, a report, the release, a report; Left Shift
/// pressed before and released after each upper-case character.
fn typed(text: &str) -> Vec<InputEvent> {
    let mut out = Vec::new();
    let stroke = |out: &mut Vec<InputEvent>, code: u16| {
        out.extend([
            InputEvent::new(EV_MSC, 4, 0x7001E),
            key(code, 1),
            SYN,
            key(code, 0),
            SYN,
        ])
    };
    for c in text.chars() {
        let (code, shifted) = kernel_code(c);
        if shifted {
            out.extend([key(42, 1), SYN]); // KEY_LEFTSHIFT down
        }
        stroke(&mut out, code);
        if shifted {
            out.extend([key(42, 0), SYN]);
        }
    }
    stroke(&mut out, 28); // KEY_ENTER
    out
}

fn lines(d: &mut KeyDecoder) -> Vec<String> {
    std::iter::from_fn(|| d.next_line()).collect()
}

const WECHAT: &str = "134567890123456789";

#[test]
fn a_scanned_payment_code_comes_out_and_classifies() {
    let mut d = KeyDecoder::default();
    d.push_all(typed(WECHAT));
    let got = lines(&mut d);
    assert_eq!(got, [WECHAT]);
    assert_eq!(
        classify(&got[0]).map(|c| c.scheme),
        Ok(PaymentScheme::WeChatPay)
    );
    assert_eq!(d.stats().lines, 1);
    assert_eq!(d.stats().chars, 18);
}

#[test]
fn shift_gives_upper_case_and_punctuation_and_ends_on_release() {
    let mut d = KeyDecoder::default();
    d.push_all(typed("hAttps:/Bc.X1"));
    assert_eq!(lines(&mut d), ["hAttps:/Bc.X1"]);
    // Right Shift works the same; a letter after its release is lower case.
    d.push_all([
        key(54, 1),
        key(30, 1),
        key(30, 0),
        key(54, 0),
        key(30, 1),
        key(28, 1),
    ]);
    assert_eq!(lines(&mut d), ["Aa"]);
    // Caps Lock flips letters only.
    d.push_all([key(58, 1), key(58, 0), key(30, 1), key(2, 1), key(28, 1)]);
    assert_eq!(lines(&mut d), ["A1"]);
}

#[test]
fn auto_repeat_is_ignored() {
    let mut d = KeyDecoder::default();
    // KEY_1 held long enough to auto-repeat twice: still one '1'.
    d.push_all([
        key(2, 1),
        key(2, 2),
        key(2, 2),
        key(2, 0),
        key(3, 1),
        key(28, 1),
    ]);
    d.push(key(28, 2)); // a repeated Enter ends nothing
    assert_eq!(lines(&mut d), ["12"]);
    assert_eq!(d.stats().repeats_ignored, 3);
}

#[test]
fn a_code_split_across_reads_of_a_pipe_comes_out_whole() {
    let bytes: Vec<u8> = typed(WECHAT).iter().flat_map(|e| e.to_bytes()).collect();
    // The Enter press is the fourth record from the end: every cut before
    // its last byte leaves the line unfinished.
    let enter_end = bytes.len() - 3 * RECORD_LEN;
    for cut in [1, 7, 23, 24, 25, 100, bytes.len() / 2, enter_end - 1] {
        let mut records = RecordDecoder::new();
        let mut d = KeyDecoder::default();
        records.push(&bytes[..cut], |e| d.push(e));
        assert!(lines(&mut d).is_empty(), "cut {cut}");
        records.push(&bytes[cut..], |e| d.push(e));
        assert_eq!(lines(&mut d), [WECHAT], "cut {cut}");
    }
}

#[test]
fn an_unknown_key_spoils_its_line_and_the_next_code_is_clean() {
    let mut d = KeyDecoder::default();
    // '1', F1 (59), '2', Enter: the line is not "12".
    d.push_all([key(2, 1), key(59, 1), key(3, 1), key(28, 1)]);
    d.push_all(typed(WECHAT));
    let got = lines(&mut d);
    assert_eq!(got.len(), 2);
    assert_eq!(classify(&got[0]), Err(CodeRejection::NotDigits { len: 3 }));
    assert_eq!(got[1], WECHAT);
    assert_eq!(d.stats().unknown_keys, 1);
}

#[test]
fn syn_dropped_throws_the_line_away_until_the_next_report() {
    // A line still being typed when the kernel drops events.
    let mut d = KeyDecoder::default();
    d.push_all([key(2, 1), key(4, 1), key(42, 1)]);
    d.push(InputEvent::new(EV_SYN, SYN_DROPPED, 0));
    d.push(key(5, 1)); // before the report: part of the lost stretch
    d.push(SYN);
    d.push_all([key(30, 1), key(28, 1)]);
    // Shift was forgotten: lower case.
    assert_eq!(lines(&mut d), ["a"]);
    assert_eq!(d.stats().lines_dropped, 1);
    assert_eq!(d.stats().syn_dropped, 1);
}

#[test]
fn overlong_lines_are_dropped_and_the_queue_is_bounded() {
    let mut d = KeyDecoder::new(false, 4);
    d.push_all(typed("12345"));
    d.push_all(typed("1234"));
    assert_eq!(lines(&mut d), ["1234"]);
    assert_eq!(d.stats().lines_dropped, 1);
    let mut d = KeyDecoder::default();
    for _ in 0..MAX_QUEUED_LINES + 2 {
        d.push_all(typed("1"));
    }
    assert_eq!(lines(&mut d).len(), MAX_QUEUED_LINES);
    assert_eq!(d.stats().lines_dropped, 2);
}

#[test]
fn tab_ends_a_line_only_when_configured() {
    let mut tab = KeyDecoder::new(true, 64);
    let mut enter = KeyDecoder::default();
    let events = [key(2, 1), key(15, 1), key(3, 1), key(28, 1)];
    tab.push_all(events);
    enter.push_all(events);
    assert_eq!(lines(&mut tab), ["1", "2"]);
    assert_eq!(lines(&mut enter).len(), 1);
}

#[test]
fn nothing_prints_what_was_typed() {
    let mut d = KeyDecoder::default();
    d.push_all(typed("1345678901234"));
    let shown = format!("{d:?}");
    assert!(!shown.contains("4567890"), "{shown}");
}

proptest! {
    #[test]
    fn garbage_records_never_panic_and_a_code_after_them_is_found(
        garbage in vec(any::<u8>(), 0..2000),
        sizes in vec(1usize..64, 1..6),
    ) {
        let mut records = RecordDecoder::new();
        let mut d = KeyDecoder::default();
        // Whatever the garbage was, whole records of it, then a report,
        // an Enter (ending any half line), and a clean code.
        let whole = garbage.len() / RECORD_LEN * RECORD_LEN;
        let mut stream = garbage[..whole].to_vec();
        for e in [SYN, key(28, 1), key(42, 0), key(54, 0)] {
            stream.extend(e.to_bytes());
        }
        for e in typed(WECHAT) {
            stream.extend(e.to_bytes());
        }
        let mut got = Vec::new();
        let mut rest = &stream[..];
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            records.push(chunk, |e| d.push(e));
            got.extend(lines(&mut d));
            rest = tail;
        }
        for line in &got {
            let _ = classify(line);
        }
        // Caps Lock may have been toggled by the garbage: digits do not care.
        prop_assert_eq!(got.last().map(String::as_str), Some(WECHAT));
    }
}

use crate::wire::evdev::RECORD_LEN;
