//! Journal recovery: the kiosk loses power at every point of a payment, restarts
//! on the same journal file and devices, and the money is all accounted for.
#![forbid(unsafe_code)]

use kiosk_core::journal::{Journal, JournalErrorKind};
use kiosk_core::KioskEvent;
use kiosk_sim::drill::check::check_money;
use kiosk_sim::drill::scenario::PowerLoss;
use kiosk_sim::drill::{run_once, Scenario};

const PAYMENT: &str = r#"
id = "crash-mid-payment"
title = "one cash payment"
duration-ms = 300000

[backend.accounts."1"]
holder-name = "A"
amount-due = { minor = 17000, currency = "CNY" }

[[customers]]
arrive-ms = 10000
account = "1"
notes = [50, 20, 100]
"#;

/// The session runs from about 10 s to about 25 s of virtual time: crash
/// every 250 ms across it, before and after.
#[test]
fn a_crash_at_any_point_of_a_payment_keeps_the_money() {
    let base = Scenario::from_toml("crash", PAYMENT).unwrap();
    let mut interrupted_runs = 0;
    for at_ms in (9_000..=30_000).step_by(250) {
        let mut s = base.clone();
        s.power_losses = vec![PowerLoss {
            at_ms,
            down_ms: 4_000,
        }];
        let run = run_once(&s, 11).unwrap();
        let inv = check_money(&s, &run);
        assert!(inv.holds, "crash at {at_ms} ms: {:?}", inv.violations);
        let journal = run.kiosk.journal();
        assert!(
            journal.open_sessions().unwrap().is_empty(),
            "crash at {at_ms} ms: recovery closed the interrupted session"
        );
        assert!(
            journal.pending_payments().unwrap().is_empty(),
            "crash at {at_ms} ms: the pending payment was credited after restart"
        );
        let recovered = run.trace.iter().filter_map(|e| match e.event {
            KioskEvent::Recovered {
                interrupted_sessions,
                ..
            } => Some(interrupted_sessions),
            _ => None,
        });
        let recovered: Vec<u32> = recovered.collect();
        assert_eq!(recovered.len(), 2, "started twice");
        if recovered[1] > 0 {
            interrupted_runs += 1;
        }
        // Whatever reached the box is credited or held in doubt for staff;
        // never more credited than the box holds.
        assert!(inv.credited <= inv.physical_box);
        assert!(inv.physical_box <= inv.credited + inv.in_doubt + inv.pending + inv.refused);
    }
    assert!(
        interrupted_runs >= 20,
        "most crash points fall inside the session ({interrupted_runs})"
    );
}

#[test]
fn a_corrupted_journal_is_a_clear_error_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            JournalErrorKind::NotAJournal | JournalErrorKind::Corrupt
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("journal.db"),
        "names the file: {err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "never emptied");
}

#[test]
fn a_journal_survives_reopening_mid_session() {
    use kiosk_core::journal::SessionStart;
    use kiosk_core::{KioskId, Millis, SessionId};
    use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let session = SessionId("K01-000001".into());
    {
        let mut j = Journal::open(&path).unwrap();
        j.begin_session(&SessionStart {
            id: session.clone(),
            kiosk: KioskId("K01".into()),
            account: AccountNumber("1".into()),
            method: PaymentMethod::Cash,
            at: Millis(1),
        })
        .unwrap();
        let note = j
            .note_escrowed(&session, Money::major(50, Currency::CNY), Millis(2))
            .unwrap();
        j.note_stacked(
            &session,
            Some(note),
            Money::major(50, Currency::CNY),
            Millis(3),
        )
        .unwrap();
        j.note_escrowed(&session, Money::major(20, Currency::CNY), Millis(4))
            .unwrap();
        // Power lost here: no end_session, no payment.
    }
    let j = Journal::open(&path).unwrap();
    let open = j.open_sessions().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, session);
    assert_eq!(
        open[0].unposted_stacked,
        Some(Money::major(50, Currency::CNY))
    );
    assert_eq!(open[0].escrowed.len(), 1);
    assert!(!open[0].has_payment);
    let totals = j.cash_totals(Currency::CNY).unwrap();
    assert_eq!(totals.in_box, Money::major(50, Currency::CNY));
    assert_eq!(totals.pending, Money::major(50, Currency::CNY));
}
