//! Unit and property tests of the payment session state machine.

use kiosk_hal::{
    AcceptorEvent, AccountAnswer, AccountInfo, AccountNumber, AccountRefusal, Currency, ErrorKind,
    JamLocation, Money, PaymentMethod, PostingAnswer, PrintOutcome, RejectReason,
};
use proptest::prelude::*;

use super::*;

fn cny(v: i64) -> Money {
    Money::major(v, Currency::CNY)
}

fn payable() -> Input {
    Input::AccountAnswer(Ok(AccountAnswer::Payable(AccountInfo {
        holder_name: "张三".into(),
        amount_due: cny(120),
        balance: cny(-120),
    })))
}

fn start() -> (Session, Vec<Action>) {
    Session::start(
        SessionId("K01-000001".into()),
        KioskId("K01".into()),
        AccountNumber("13800000000".into()),
        vec![PaymentMethod::Cash, PaymentMethod::Code],
        SessionConfig::default(),
    )
}

/// Drives a session to the insertion phase.
fn inserting() -> Session {
    let (mut s, _) = start();
    s.handle(payable(), Millis(0));
    let a = s.handle(
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
        Millis(100),
    );
    assert!(a.contains(&Action::EnableAcceptor(
        SessionConfig::default().accepted_notes
    )));
    assert_eq!(s.phase(), &Phase::Inserting);
    s
}

fn insert_note(s: &mut Session, v: i64, at: u64) -> Vec<Action> {
    let mut all = s.handle(
        Input::Acceptor(AcceptorEvent::Escrowed { value: cny(v) }),
        Millis(at),
    );
    assert!(all.contains(&Action::StackNote));
    all.extend(s.handle(
        Input::Acceptor(AcceptorEvent::Stacked { value: cny(v) }),
        Millis(at + 800),
    ));
    all
}

fn position(actions: &[Action], pred: impl Fn(&Action) -> bool) -> Option<usize> {
    actions.iter().position(pred)
}

#[test]
fn cash_payment_follows_the_domain_flow() {
    let (mut s, first) = start();
    assert_eq!(
        first,
        vec![
            Action::Show(Screen::CheckingAccount),
            Action::LookupAccount(AccountNumber("13800000000".into()))
        ]
    );
    let a = s.handle(payable(), Millis(10));
    assert!(
        matches!(&a[0], Action::Show(Screen::ConfirmAccount { holder, .. }) if holder == "张*")
    );
    let mut s = inserting();
    let a = insert_note(&mut s, 50, 1_000);
    // Durable before acknowledged: the stacked record precedes the screen.
    let rec = position(&a, |x| {
        matches!(x, Action::Record(Record::NoteStacked { .. }))
    })
    .unwrap();
    let shown = position(&a, |x| {
        matches!(x, Action::Show(Screen::NoteAccepted { .. }))
    })
    .unwrap();
    assert!(rec < shown);
    insert_note(&mut s, 20, 3_000);
    assert_eq!(s.total(), cny(70));
    let a = s.handle(Input::Customer(CustomerAction::Confirm), Millis(5_000));
    let pend = position(&a, |x| matches!(x, Action::Record(Record::PaymentPending { amount, .. }) if *amount == cny(70))).unwrap();
    let post = position(
        &a,
        |x| matches!(x, Action::PostPayment(p) if p.amount == cny(70)),
    )
    .unwrap();
    assert!(pend < post, "payment journaled before it is posted");
    assert!(a.contains(&Action::InhibitAcceptor));
    let a = s.handle(
        Input::PostingAnswer(Ok(PostingAnswer::Credited {
            backend_ref: "B1".into(),
            new_balance: cny(-50),
        })),
        Millis(6_000),
    );
    assert!(a.iter().any(|x| matches!(x, Action::Show(Screen::PaymentSuccess { amount, new_balance, .. }) if *amount == cny(70) && *new_balance == cny(-50))));
    assert!(a.iter().any(|x| matches!(x, Action::PrintReceipt(_))));
    let a = s.handle(Input::PrintResult(Ok(PrintOutcome::Printed)), Millis(8_000));
    assert_eq!(
        a,
        vec![Action::Record(Record::SessionEnded {
            outcome: SessionOutcome::Credited
        })]
    );
    assert_eq!(s.outcome(), Some(SessionOutcome::Credited));
}

#[test]
fn idle_timeout_counts_as_confirmation() {
    let mut s = inserting();
    insert_note(&mut s, 100, 1_000);
    let deadline = s.deadline().unwrap();
    assert_eq!(deadline, Millis(1_800 + 30_000));
    assert!(
        s.on_timeout(Millis(deadline.0 - 1)).is_empty(),
        "not before the deadline"
    );
    let a = s.on_timeout(deadline);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::PostPayment(p) if p.amount == cny(100))));
}

#[test]
fn no_timeout_while_a_note_is_in_escrow() {
    let mut s = inserting();
    s.handle(
        Input::Acceptor(AcceptorEvent::Escrowed { value: cny(10) }),
        Millis(1_000),
    );
    assert_eq!(s.deadline(), None);
    // Confirm while in escrow waits for the note to settle, then posts it.
    let a = s.handle(Input::Customer(CustomerAction::Confirm), Millis(1_100));
    assert!(!a.iter().any(|x| matches!(x, Action::PostPayment(_))));
    let a = s.handle(
        Input::Acceptor(AcceptorEvent::Stacked { value: cny(10) }),
        Millis(1_900),
    );
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::PostPayment(p) if p.amount == cny(10))));
}

#[test]
fn counterfeit_is_never_credited_and_repeats_raise_an_alert() {
    let mut s = inserting();
    for i in 0..3 {
        let a = s.handle(
            Input::Acceptor(AcceptorEvent::Rejected {
                reason: RejectReason::Counterfeit,
            }),
            Millis(1_000 + i),
        );
        assert!(a.contains(&Action::Record(Record::NoteRejected {
            reason: RejectReason::Counterfeit
        })));
        assert!(!a.iter().any(|x| matches!(x, Action::StackNote)));
        assert_eq!(
            a.iter()
                .any(|x| matches!(x, Action::Alert(SessionAlert::RepeatedRejects { count: 3 }))),
            i == 2
        );
    }
    assert!(s.total().is_zero());
    let a = s.handle(Input::Customer(CustomerAction::Confirm), Millis(2_000));
    assert!(!a.iter().any(|x| matches!(x, Action::PostPayment(_))));
    assert_eq!(s.outcome(), Some(SessionOutcome::NoPayment));
}

#[test]
fn jam_puts_the_note_in_doubt_and_posts_only_what_was_stacked() {
    let mut s = inserting();
    insert_note(&mut s, 50, 1_000);
    s.handle(
        Input::Acceptor(AcceptorEvent::Escrowed { value: cny(20) }),
        Millis(3_000),
    );
    let a = s.handle(
        Input::Acceptor(AcceptorEvent::Jammed {
            location: JamLocation::Stacker,
            value: None,
        }),
        Millis(3_500),
    );
    assert!(a.contains(&Action::Record(Record::NoteInDoubt {
        value: Some(cny(20))
    })));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Show(Screen::AskStaff { .. }))));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::PostPayment(p) if p.amount == cny(50))));
}

#[test]
fn lost_posting_answer_leaves_the_payment_pending() {
    let mut s = inserting();
    insert_note(&mut s, 50, 1_000);
    s.handle(Input::Customer(CustomerAction::Confirm), Millis(2_000));
    let a = s.handle(
        Input::PostingAnswer(Err(ErrorKind::Timeout)),
        Millis(20_000),
    );
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Show(Screen::PaymentPending { .. }))));
    assert!(!a
        .iter()
        .any(|x| matches!(x, Action::Record(Record::PaymentRefused { .. }))));
    s.handle(
        Input::PrintResult(Ok(PrintOutcome::Printed)),
        Millis(22_000),
    );
    assert_eq!(s.outcome(), Some(SessionOutcome::Pending));
}

#[test]
fn refused_account_takes_no_money() {
    let (mut s, _) = start();
    let a = s.handle(
        Input::AccountAnswer(Ok(AccountAnswer::Refused {
            reason: AccountRefusal::Closed,
        })),
        Millis(10),
    );
    assert!(a
        .iter()
        .all(|x| !matches!(x, Action::EnableAcceptor(_) | Action::Record(_))));
    assert_eq!(s.outcome(), Some(SessionOutcome::NoPayment));
    let (mut s, _) = start();
    let a = s.handle(Input::AccountAnswer(Err(ErrorKind::Offline)), Millis(10));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Show(Screen::CannotCheckAccount { .. }))));
    assert!(a.iter().all(|x| !matches!(x, Action::EnableAcceptor(_))));
}

#[test]
fn printer_failure_keeps_the_receipt_and_shows_the_reference() {
    let mut s = inserting();
    insert_note(&mut s, 20, 1_000);
    s.handle(Input::Customer(CustomerAction::Confirm), Millis(2_000));
    s.handle(
        Input::PostingAnswer(Ok(PostingAnswer::Credited {
            backend_ref: "B9".into(),
            new_balance: cny(0),
        })),
        Millis(3_000),
    );
    let a = s.handle(Input::PrintResult(Err(ErrorKind::PaperOut)), Millis(4_000));
    let kept = a.iter().find_map(|x| match x {
        Action::Record(Record::ReceiptKept { receipt }) => Some(receipt.clone()),
        _ => None,
    });
    let kept = kept.expect("receipt kept for reprint");
    assert!(kept.lines.iter().any(|l| format!("{l:?}").contains("B9")));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Show(Screen::ReceiptUnavailable { .. }))));
    assert_eq!(s.outcome(), Some(SessionOutcome::Credited));
}

#[test]
fn unavailable_method_is_refused_without_journaling() {
    let (mut s, _) = Session::start(
        SessionId("K01-000002".into()),
        KioskId("K01".into()),
        AccountNumber("1".into()),
        vec![PaymentMethod::Code],
        SessionConfig::default(),
    );
    s.handle(payable(), Millis(0));
    let a = s.handle(
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
        Millis(1),
    );
    assert!(matches!(
        &a[..],
        [Action::Show(Screen::MethodUnavailable { .. })]
    ));
}

fn arb_input() -> impl Strategy<Value = Input> {
    let note = prop_oneof![Just(10i64), Just(20), Just(50), Just(100), Just(5)].prop_map(cny);
    prop_oneof![
        4 => note.clone().prop_map(|value| Input::Acceptor(AcceptorEvent::Escrowed { value })),
        4 => note.clone().prop_map(|value| Input::Acceptor(AcceptorEvent::Stacked { value })),
        1 => note.prop_map(|value| Input::Acceptor(AcceptorEvent::Returned { value })),
        2 => Just(Input::Acceptor(AcceptorEvent::Rejected { reason: RejectReason::Counterfeit })),
        1 => Just(Input::Acceptor(AcceptorEvent::Jammed { location: JamLocation::Stacker, value: None })),
        1 => Just(Input::Acceptor(AcceptorEvent::StackerFull)),
        1 => Just(Input::AcceptorFailed(ErrorKind::Offline)),
        1 => Just(Input::Customer(CustomerAction::Confirm)),
        1 => Just(Input::Customer(CustomerAction::Cancel)),
        1 => Just(Input::PostingAnswer(Err(ErrorKind::Timeout))),
        1 => Just(Input::PostingAnswer(Ok(PostingAnswer::Credited { backend_ref: "B".into(), new_balance: cny(0) }))),
        1 => Just(Input::PrintResult(Err(ErrorKind::PaperOut))),
        1 => Just(Input::PrintResult(Ok(PrintOutcome::Printed))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the devices and the customer do, in any order: the amount
    /// posted is exactly the sum of notes journaled as stacked, every money
    /// record precedes its acknowledgement, and there is at most one payment.
    #[test]
    fn money_records_are_consistent(inputs in proptest::collection::vec(arb_input(), 0..40), timeouts in proptest::collection::vec(any::<bool>(), 40)) {
        let (mut s, mut actions) = start();
        actions.extend(s.handle(payable(), Millis(0)));
        actions.extend(s.handle(Input::Customer(CustomerAction::ChooseMethod { method: PaymentMethod::Cash }), Millis(1)));
        let mut now = 1u64;
        for (i, input) in inputs.into_iter().enumerate() {
            now += 500;
            if timeouts[i] {
                if let Some(d) = s.deadline() { now = now.max(d.0); actions.extend(s.on_timeout(Millis(now))); }
            }
            actions.extend(s.handle(input, Millis(now)));
        }
        let mut stacked = 0i64;
        let mut pending = Vec::new();
        let mut ended = 0;
        let mut escrowed = false;
        for a in &actions {
            match a {
                Action::Record(Record::NoteEscrowed { .. }) => escrowed = true,
                Action::Record(Record::NoteStacked { value }) => { stacked += value.minor; escrowed = false; }
                Action::Record(Record::NoteReturned | Record::NoteInDoubt { .. }) => escrowed = false,
                Action::StackNote => prop_assert!(escrowed, "stack only with a journaled escrow"),
                Action::Record(Record::PaymentPending { key, amount }) => {
                    prop_assert_eq!(amount.minor, stacked, "posted amount = stacked notes");
                    pending.push(key.clone());
                }
                Action::PostPayment(p) => prop_assert!(pending.contains(&p.key), "posted only after journaled"),
                Action::Show(Screen::NoteAccepted { total, .. }) => prop_assert!(total.minor <= stacked),
                Action::Record(Record::SessionEnded { .. }) => ended += 1,
                _ => {}
            }
        }
        prop_assert!(pending.len() <= 1, "one payment per session");
        prop_assert!(ended <= 1, "ends once");
        if stacked > 0 && s.outcome().is_some() { prop_assert_eq!(pending.len(), 1, "stacked money is always posted"); }
    }
}

/// Drives a code payment to the backend's answer; returns the session,
/// the actions of the answer and the code shown.
fn paid_by_code(answer: Result<PostingAnswer, ErrorKind>) -> (Session, Vec<Action>, PaymentCode) {
    let (mut s, _) = start();
    s.handle(payable(), Millis(0));
    s.handle(
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Code,
        }),
        Millis(100),
    );
    let code = PaymentCode::new(kiosk_hal::PaymentScheme::Alipay, "281234567890123456");
    s.handle(Input::CodeRead(Ok(code.clone())), Millis(2_000));
    // 2026-11-29 15:30:00 UTC: 23:30:00 in Beijing.
    let a = s.handle(Input::PostingAnswer(answer), Millis(1_795_966_200_000));
    (s, a, code)
}

fn printed(a: &[Action]) -> LazyReceipt {
    a.iter()
        .find_map(|x| match x {
            Action::PrintReceipt(r) => Some(r.clone()),
            _ => None,
        })
        .expect("a receipt to print")
}

fn credited() -> Result<PostingAnswer, ErrorKind> {
    Ok(PostingAnswer::Credited {
        backend_ref: "B-9".into(),
        new_balance: cny(0),
    })
}

/// The receipt is rendered only when read (a simulated hall's printers
/// never read it), and then says exactly what `build_receipt` gives for
/// the session's posting, code and the time of the answer.
#[test]
fn the_printed_receipt_is_rendered_when_read_and_is_build_receipts() {
    let (s, a, code) = paid_by_code(credited());
    let r = printed(&a);
    assert!(!r.is_rendered(), "rendered before anything read it");
    let posting = s.posting().expect("posted").clone();
    let want = crate::receipt::build_receipt(
        &SessionConfig::default(),
        &KioskId("K01".into()),
        &SessionId("K01-000001".into()),
        &posting,
        Some(("B-9", cny(0))),
        Some(&code),
        Millis(1_795_966_200_000),
    );
    assert_eq!(*r, want);
    assert!(r.is_rendered());

    // Pending: the same receipt marked pending.
    let (s, a, code) = paid_by_code(Err(ErrorKind::Timeout));
    let posting = s.posting().expect("posted").clone();
    let want = crate::receipt::build_receipt(
        &SessionConfig::default(),
        &KioskId("K01".into()),
        &SessionId("K01-000001".into()),
        &posting,
        None,
        Some(&code),
        Millis(1_795_966_200_000),
    );
    assert_eq!(*printed(&a), want);
}

/// The whole text of a session's receipt, line by line, as the kiosk
/// printed it when receipts were rendered at once: rendering it later
/// must not change a byte.
#[test]
fn a_session_receipt_prints_these_lines() {
    use kiosk_hal::ReceiptLine::{Bold, Qr, Text};
    let (_, a, _) = paid_by_code(credited());
    assert_eq!(
        printed(&a).lines,
        vec![
            Bold("缴费凭据".into()),
            Text("营业厅：site".into()),
            Text("终端号：K01".into()),
            Text("交易凭证号：K01-000001".into()),
            Text("缴费时间：2026-11-29 23:30:00".into()),
            Text("缴费号码：*******0000".into()),
            Text("缴费方式：付款码".into()),
            Bold("缴费金额：120.00 元".into()),
            Text("付款码：28************3456".into()),
            Text("系统流水号：B-9".into()),
            Text("账户余额：0.00 元".into()),
            Text("请妥善保管本凭据".into()),
            Qr("K01-000001".into()),
        ]
    );
}

/// A receipt the printer failed on is kept as it would have printed.
#[test]
fn a_kept_receipt_is_the_printed_one() {
    let (mut s, a, _) = paid_by_code(credited());
    let r = printed(&a);
    let a = s.handle(
        Input::PrintResult(Err(ErrorKind::Jam)),
        Millis(1_795_966_201_000),
    );
    let kept = a.iter().find_map(|x| match x {
        Action::Record(Record::ReceiptKept { receipt }) => Some(receipt.clone()),
        _ => None,
    });
    assert_eq!(kept.as_ref(), Some(&*r));
}
