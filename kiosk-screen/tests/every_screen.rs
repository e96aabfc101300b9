//! Every screen kiosk-core can show, in every language, comes out in
//! catalog words: no empty text, no raw key, no unfilled placeholder, and
//! the Chinese screen in Chinese.

use std::collections::BTreeMap;

use kiosk_core::{KioskEvent, Screen, SessionId};
use kiosk_hal::{AccountRefusal, Currency, ErrorKind, Money, PaymentMethod, RejectReason};
use kiosk_screen::view::{availability_reason, channel_msg, reason_msg, DEVICES};
use kiosk_screen::{present, Catalog, Lang, Msg, ScreenConfig, ScreenState};
use tokio::time::Instant;

fn cny(v: i64) -> Money {
    Money::major(v, Currency::CNY)
}

fn alternatives() -> Vec<String> {
    kiosk_core::screen::ALTERNATIVE_CHANNELS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// One of every variant; [`variant`] fails to compile when kiosk-core adds one.
fn every_screen() -> Vec<Screen> {
    let reference = SessionId("K01-000001".into());
    vec![
        Screen::Welcome {
            methods: vec![PaymentMethod::Cash, PaymentMethod::Code],
        },
        Screen::OutOfService {
            reason: "backend unreachable".into(),
            alternatives: alternatives(),
        },
        Screen::CheckingAccount,
        Screen::ConfirmAccount {
            holder: "张*".into(),
            amount_due: cny(70),
            balance: cny(-70),
            methods: vec![PaymentMethod::Cash, PaymentMethod::Code],
        },
        Screen::AccountRefused {
            message: AccountRefusal::Closed.describe().into(),
        },
        Screen::CannotCheckAccount {
            alternatives: alternatives(),
        },
        Screen::MethodUnavailable {
            method: PaymentMethod::Code,
            offered: vec![PaymentMethod::Cash],
        },
        Screen::InsertNotes {
            accepted: vec![cny(10), cny(20), cny(50), cny(100)],
            total: cny(0),
        },
        Screen::NoteAccepted {
            value: cny(50),
            total: cny(50),
        },
        Screen::NoteRejected {
            reason: RejectReason::Counterfeit.describe().into(),
            total: cny(50),
        },
        Screen::InsertionStopped {
            reason: "the kiosk cannot take more notes".into(),
            total: cny(50),
        },
        Screen::PresentCode { amount: cny(30) },
        Screen::CodeUnreadable,
        Screen::Processing { amount: cny(70) },
        Screen::PaymentSuccess {
            amount: cny(70),
            new_balance: cny(0),
            reference: reference.clone(),
        },
        Screen::PaymentPending {
            amount: cny(70),
            reference: reference.clone(),
        },
        Screen::PaymentFailed {
            reason: "账户已冻结".into(),
            reference: reference.clone(),
        },
        Screen::AskStaff {
            reason: "a note is stuck in the acceptor".into(),
            reference: reference.clone(),
        },
        Screen::ReceiptUnavailable { reference },
        Screen::NothingPaid,
    ]
}

fn variant(s: &Screen) -> usize {
    match s {
        Screen::Welcome { .. } => 0,
        Screen::OutOfService { .. } => 1,
        Screen::CheckingAccount => 2,
        Screen::ConfirmAccount { .. } => 3,
        Screen::AccountRefused { .. } => 4,
        Screen::CannotCheckAccount { .. } => 5,
        Screen::MethodUnavailable { .. } => 6,
        Screen::InsertNotes { .. } => 7,
        Screen::NoteAccepted { .. } => 8,
        Screen::NoteRejected { .. } => 9,
        Screen::InsertionStopped { .. } => 10,
        Screen::PresentCode { .. } => 11,
        Screen::CodeUnreadable => 12,
        Screen::Processing { .. } => 13,
        Screen::PaymentSuccess { .. } => 14,
        Screen::PaymentPending { .. } => 15,
        Screen::PaymentFailed { .. } => 16,
        Screen::AskStaff { .. } => 17,
        Screen::ReceiptUnavailable { .. } => 18,
        Screen::NothingPaid => 19,
    }
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                // The action payloads are protocol, not text.
                let protocol =
                    ["action", "screen", "lang", "switch_to", "tone"].contains(&k.as_str());
                // A countdown's text may be all before or all after the number.
                let countdown_side = (k == "before" || k == "after") && x == "";
                if !protocol && !countdown_side {
                    strings(x, out);
                }
            }
        }
        _ => {}
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

#[tokio::test(start_paused = true)]
async fn every_screen_in_every_language_is_catalog_text() {
    let screens = every_screen();
    let mut seen: Vec<usize> = screens.iter().map(variant).collect();
    seen.sort();
    assert_eq!(
        seen,
        (0..20).collect::<Vec<_>>(),
        "one sample of every Screen variant"
    );
    let catalog = Catalog::builtin();
    let keys: Vec<&str> = Msg::ALL.iter().map(|m| m.key()).collect();
    let now = Instant::now();
    for screen in &screens {
        // Every screen with every fault showing, live and held over the welcome screen.
        for held in [false, true] {
            let mut state = ScreenState::new(ScreenConfig::default());
            for d in DEVICES {
                state.apply(
                    &KioskEvent::FaultDetected {
                        device: d,
                        kind: ErrorKind::Offline,
                    },
                    now,
                );
            }
            state.apply(
                &KioskEvent::Screen {
                    screen: screen.clone(),
                },
                now,
            );
            if held {
                let welcome = Screen::Welcome {
                    methods: vec![PaymentMethod::Cash],
                };
                state.apply(&KioskEvent::Screen { screen: welcome }, now);
            }
            for lang in Lang::ALL {
                let view = present(&catalog, lang, &state.shown(now), now);
                let json = serde_json::to_value(&view).unwrap();
                let mut texts = Vec::new();
                strings(&json, &mut texts);
                assert!(!view.title.is_empty());
                for t in &texts {
                    assert!(
                        !t.trim().is_empty(),
                        "{lang:?} {screen:?}: empty text in {json}"
                    );
                    assert!(
                        !t.contains('{') && !t.contains('}'),
                        "{lang:?}: raw placeholder {t:?}"
                    );
                    for k in &keys {
                        assert!(!t.contains(k), "{lang:?}: raw key {k} in {t:?}");
                    }
                }
                if lang == Lang::Zh && !(held && variant(screen) == 0) {
                    assert!(
                        view.title.chars().any(is_cjk),
                        "Chinese title for {screen:?}: {}",
                        view.title
                    );
                    for t in &texts {
                        // Amounts, references and the switch label are the only non-Chinese texts.
                        let ok = t.chars().any(is_cjk) || t == "English" || t.starts_with("K01-");
                        assert!(ok, "{screen:?}: not Chinese: {t:?}");
                    }
                }
                assert_eq!(
                    view.notices.len(),
                    DEVICES.len(),
                    "guidance for every fault"
                );
            }
        }
    }
}

#[test]
fn every_reason_kiosk_core_and_the_hal_write_has_a_translation() {
    let rejects = [
        RejectReason::Counterfeit,
        RejectReason::Inhibited,
        RejectReason::Insertion,
        RejectReason::Transport,
        RejectReason::HostReturned,
        RejectReason::Other,
    ];
    for r in rejects {
        assert!(reason_msg(r.describe()).is_some(), "{r:?}");
    }
    for r in [
        AccountRefusal::Unknown,
        AccountRefusal::Closed,
        AccountRefusal::NotPayable,
    ] {
        assert!(reason_msg(r.describe()).is_some(), "{r:?}");
    }
    for d in DEVICES {
        assert!(reason_msg(&availability_reason(d)).is_some(), "{d:?}");
    }
    for ch in kiosk_core::screen::ALTERNATIVE_CHANNELS {
        assert!(channel_msg(ch).is_some(), "alternative channel {ch:?}");
    }
    // The reasons kiosk-core names by a constant.
    let checking = kiosk_core::screen::CHECKING_ACCEPTOR;
    assert!(reason_msg(checking).is_some(), "{checking:?}");
    // The literal reasons kiosk-core's session and availability write
    // (`reason: "…".into()`): read from its source, so a new one fails here.
    let core = concat!(env!("CARGO_MANIFEST_DIR"), "/../kiosk-core/src");
    let mut literals = BTreeMap::new();
    for file in ["session.rs", "machine/availability.rs"] {
        let text = std::fs::read_to_string(format!("{core}/{file}")).unwrap();
        for part in text.split("reason: \"").skip(1) {
            let literal = part.split('"').next().unwrap();
            let rest = &part[literal.len()..];
            if rest.starts_with("\".into()") || rest.starts_with("\".to_string()") {
                literals.insert(literal.to_string(), file);
            }
        }
        for part in text.split(" => \"").skip(1) {
            let literal = part.split('"').next().unwrap();
            if part[literal.len()..].starts_with("\".into()") {
                literals.insert(literal.to_string(), file);
            }
        }
    }
    assert!(
        literals.len() >= 4,
        "the scan finds kiosk-core's reasons: {literals:?}"
    );
    for (literal, file) in &literals {
        assert!(
            reason_msg(literal).is_some(),
            "{file}: reason {literal:?} has no catalog text"
        );
    }
}

#[test]
fn every_device_has_fault_guidance_naming_another_way_to_pay() {
    let c = Catalog::builtin();
    for d in DEVICES {
        let (reason, guidance) = kiosk_screen::view::device_msgs(d);
        for lang in Lang::ALL {
            assert!(!c.text(lang, reason, &[]).is_empty());
            let g = c.text(lang, guidance, &[]);
            let names_channel = [
                Msg::ChannelCounter,
                Msg::ChannelKiosk,
                Msg::ChannelApp,
                Msg::MethodCode,
                Msg::MethodCash,
            ]
            .iter()
            .any(|m| g.contains(&c.text(lang, *m, &[])))
                || g.contains("柜台")
                || g.contains("counter");
            assert!(names_channel, "{lang:?} {d:?}: {g}");
        }
    }
}
