//! SIGTERM in the middle of a customer's cash payment: kioskd finishes or
//! parks the session (never abandons the note), closes the journal, exits
//! 0, and after a restart the books, the cash box and the backend agree.
//!
//! A real `kioskd --simulate` process, a real `kill -TERM`; the devices'
//! physical state and the backend's book are files in the state directory,
//! so they are the same devices after the restart, and kiosk-sim's crash
//! check reads the three witnesses (box, journal, backend) afterwards.

use crate::common;
use std::path::Path;
use std::time::Duration;

use common::{client, login, post, screen, status_until, write_config, Kioskd};
use kiosk_core::journal::Journal;
use kiosk_hal::Currency;
use kiosk_sim::crash::acceptor::PHYSICAL_FILE;
use kiosk_sim::crash::observe;
use kiosk_sim::crash::physical::{PathState, Physical};
use serde_json::json;

/// The stacker takes this long to carry a note into the box.
const TRANSPORT_MS: u64 = 1500;

fn physical(state: &Path) -> Physical {
    kiosk_sim::crash::store::load(&state.join(PHYSICAL_FILE))
        .unwrap()
        .unwrap_or_default()
}

/// The money line from the three witnesses, with nothing left over.
fn assert_books_balance(state: &Path, settled: bool) {
    let o = observe(state).unwrap();
    let broken = if settled {
        o.settled_violations()
    } else {
        o.violations()
    };
    assert!(broken.is_empty(), "{broken:#?}\n{o:#?}");
    let (notes, minor) = o.physical.box_total();
    assert_eq!((notes, minor), (1, 5000), "the 50 is in the box: {o:#?}");
    assert_eq!(o.books.in_box.minor, 5000, "{o:#?}");
    assert_eq!(o.physical.path, PathState::Idle, "nothing left in the path");
}

async fn sigterm_with_a_note_in_the_path(delay_after_insert: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), TRANSPORT_MS);
    let state = dir.path().join("state");
    let mut k = Kioskd::start(&config, &state);
    let c = client();
    let token = login(&c, &k, "wang").await;
    status_until(&c, &k, &token, |s| s["offered_methods"] == json!(["cash"])).await;

    let customer = k.url("/v1/customer");
    let (code, _) = post(
        &c,
        &customer,
        None,
        json!({"action": "enter-account", "account": "1001"}),
    )
    .await;
    assert_eq!(code, 202);
    status_until(&c, &k, &token, |s| screen(s) == "confirm-account").await;
    post(
        &c,
        &customer,
        None,
        json!({"action": "choose-method", "method": "cash"}),
    )
    .await;
    status_until(&c, &k, &token, |s| screen(s) == "insert-notes").await;
    let note = json!({"value": {"minor": 5000, "currency": "CNY"}});
    let (code, body) = post(&c, &k.url("/v1/sim/notes"), None, note).await;
    assert_eq!(
        (code, body["insertion"].as_str()),
        (200, Some("Escrowed")),
        "{body}"
    );
    tokio::time::sleep(delay_after_insert).await;
    assert_ne!(
        physical(&state).path,
        PathState::Idle,
        "the note is in the acceptor's path"
    );

    k.terminate();
    // While it finishes the session it still answers, and refuses new customers.
    let s = status_until(&c, &k, &token, |s| s["stopping"] == true).await;
    assert!(
        s["session"].is_string(),
        "the session is still being finished: {s}"
    );
    let (code, _) = post(
        &c,
        &customer,
        None,
        json!({"action": "enter-account", "account": "1002"}),
    )
    .await;
    assert_eq!(code, 503, "no new customer once stopping");
    let exit = k.wait(Duration::from_secs(30));
    assert!(exit.success(), "exit {exit:?}\n{}", k.logs());
    assert!(k.logs().contains("SIGTERM"), "{}", k.logs());

    // The session ended inside this life: nothing open for recovery.
    {
        let journal = Journal::open(state.join("journal.db")).unwrap();
        assert!(journal.open_sessions().unwrap().is_empty(), "{}", k.logs());
        let t = journal.cash_totals(Currency::CNY).unwrap();
        assert_eq!(t.credited.minor + t.pending.minor, 5000, "{t:?}");
        assert_eq!(t.in_doubt_notes, 0, "{t:?}");
    }
    assert_books_balance(&state, false);

    // Restart on the same devices and state: it serves again, and once
    // idle everything is settled with the backend.
    let mut k = Kioskd::start(&config, &state);
    let token = login(&c, &k, "wang").await;
    let s = status_until(&c, &k, &token, |s| {
        s["serving"] == true && s["pending_payments"] == 0
    })
    .await;
    assert_eq!(s["in_doubt_notes"], 0, "{s}");
    k.terminate();
    let exit = k.wait(Duration::from_secs(30));
    assert!(exit.success(), "exit {exit:?}\n{}", k.logs());
    assert_books_balance(&state, true);
    let o = observe(&state).unwrap();
    assert_eq!(o.backend.len(), 1, "one payment, one key: {o:#?}");
    assert_eq!((o.backend[0].applied, o.backend[0].amount_minor), (1, 5000));
}

/// SIGTERM while the note is on its way from escrow to the box.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_note_is_being_stacked() {
    sigterm_with_a_note_in_the_path(Duration::from_millis(400)).await;
}

/// SIGTERM the instant the note is in escrow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_the_instant_a_note_is_escrowed() {
    sigterm_with_a_note_in_the_path(Duration::ZERO).await;
}
