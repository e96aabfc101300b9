//! `HttpLink` against the reference billing server over real HTTPS on
//! loopback: account checks, postings, and every way an answer can go
//! wrong, with the server's own books checked after each — a key is
//! credited at most once, whatever happened to its answers.

use crate::support;
use std::time::Duration;

use kiosk_billing::FaultPlan;
use kiosk_hal::{
    AccountAnswer, AccountNumber, AccountRefusal, Currency, ErrorKind, IdempotencyKey, Money,
    NetworkLink, PostingAnswer,
};
use kiosk_http::HttpLink;
use support::{cash, code_payment, Rig, CLOSED, OPEN, START_BALANCE_MINOR};

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey(k.into())
}

fn credited_balance(answer: &PostingAnswer) -> i64 {
    match answer {
        PostingAnswer::Credited { new_balance, .. } => new_balance.minor,
        other => panic!("expected a credit, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_checks_answer_payable_and_refused_over_one_connection() {
    let rig = Rig::start(false, FaultPlan::default()).await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();

    let AccountAnswer::Payable(info) = link
        .lookup_account(&AccountNumber(OPEN.into()))
        .await
        .unwrap()
    else {
        panic!("1001 is open");
    };
    assert_eq!(info.holder_name, "张三");
    assert_eq!(info.amount_due, Money::new(12000, Currency::CNY));
    assert_eq!(info.balance, Money::new(START_BALANCE_MINOR, Currency::CNY));

    let refused = |reason| AccountAnswer::Refused { reason };
    assert_eq!(
        link.lookup_account(&AccountNumber("9999".into()))
            .await
            .unwrap(),
        refused(AccountRefusal::Unknown)
    );
    assert_eq!(
        link.lookup_account(&AccountNumber(CLOSED.into()))
            .await
            .unwrap(),
        refused(AccountRefusal::Closed)
    );
    for _ in 0..5 {
        link.heartbeat().await.unwrap();
    }
    // Eight calls over kept connections: one, or two when a call starts
    // before the previous connection is back in the client's pool.
    let connections = rig.server.connections_accepted();
    assert!(
        (1..=2).contains(&connections),
        "{connections} connections for 8 calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posting_is_credited_and_the_same_key_twice_credits_once() {
    let rig = Rig::start(false, FaultPlan::default()).await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = cash("K01-000001-p1", 5000);

    let first = link.post_payment(&posting).await.unwrap();
    assert_eq!(credited_balance(&first), START_BALANCE_MINOR + 5000);
    let second = link.post_payment(&posting).await.unwrap();
    assert_eq!(
        second, first,
        "a repeat gets the first answer, reference included"
    );

    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 5000);
    assert_eq!(rig.credits(), 1);
    let record = rig.server.store().posting(&posting.key).unwrap().unwrap();
    assert_eq!((record.credited, record.times_received), (true, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_after_apply_is_offline_and_the_retry_gets_one_credit() {
    let rig = Rig::start(
        false,
        FaultPlan {
            drop_answers: 1,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = cash("K01-000002-p1", 2000);

    let lost = link.post_payment(&posting).await.unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::Offline, "{lost}");
    // The server did apply it: the answer alone was lost.
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 2000);

    let retry = link.post_payment(&posting).await.unwrap();
    assert_eq!(credited_balance(&retry), START_BALANCE_MINOR + 2000);
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 2000);
    assert_eq!(rig.credits(), 1);
    assert_eq!(
        rig.server
            .store()
            .posting(&posting.key)
            .unwrap()
            .unwrap()
            .times_received,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_backend_is_a_timeout_and_the_retry_credits_once() {
    let rig = Rig::start(
        false,
        FaultPlan {
            delay_ms: 1_500,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut config = rig.link_config();
    config.timeout_ms = 300;
    let mut link = HttpLink::new(&config).unwrap();
    let posting = cash("K01-000003-p1", 1000);

    let started = std::time::Instant::now();
    let late = link.post_payment(&posting).await.unwrap_err();
    assert_eq!(late.kind(), ErrorKind::Timeout, "{late}");
    assert!(
        started.elapsed() < Duration::from_millis(1_200),
        "cut off at the timeout"
    );

    // The slow backend applied it before the kiosk gave up.
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 1000);

    rig.server.faults().set(FaultPlan::default());
    let retry = link.post_payment(&posting).await.unwrap();
    assert_eq!(credited_balance(&retry), START_BALANCE_MINOR + 1000);
    assert_eq!(
        rig.server
            .store()
            .posting(&posting.key)
            .unwrap()
            .unwrap()
            .times_received,
        2
    );
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 1000);
    assert_eq!(rig.credits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_offline_applies_nothing_and_the_retry_credits() {
    let rig = Rig::start(
        false,
        FaultPlan {
            fail_5xx: 1,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = cash("K01-000004-p1", 3000);

    let e = link.post_payment(&posting).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
    assert!(e.message().contains("503"), "{e}");
    assert_eq!(rig.server.store().posting(&posting.key).unwrap(), None);
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR);

    let retry = link.post_payment(&posting).await.unwrap();
    assert_eq!(credited_balance(&retry), START_BALANCE_MINOR + 3000);
    assert_eq!(rig.credits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_amount_is_indeterminate_and_changes_nothing() {
    let rig = Rig::start(false, FaultPlan::default()).await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    link.post_payment(&cash("K01-000005-p1", 5000))
        .await
        .unwrap();

    let e = link
        .post_payment(&cash("K01-000005-p1", 6000))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Indeterminate, "{e}");
    assert!(e.message().contains("409"), "{e}");
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 5000);
    assert_eq!(rig.credits(), 1);
    let record = rig
        .server
        .store()
        .posting(&key("K01-000005-p1"))
        .unwrap()
        .unwrap();
    assert_eq!((record.times_received, record.conflicting_retries), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_backends_words_and_are_repeated_to_a_retry() {
    let rig = Rig::start(
        false,
        FaultPlan {
            refuse: 1,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = cash("K01-000006-p1", 500);

    let refused = link.post_payment(&posting).await.unwrap();
    assert_eq!(
        refused,
        PostingAnswer::Refused {
            reason: "演练拒绝 / refused for a rehearsal".into()
        }
    );
    assert_eq!(link.post_payment(&posting).await.unwrap(), refused);

    let mut closed = cash("K01-000007-p1", 500);
    closed.account = AccountNumber(CLOSED.into());
    assert_eq!(
        link.post_payment(&closed).await.unwrap(),
        PostingAnswer::Refused {
            reason: "账户已销户 / account is closed".into()
        }
    );
    assert_eq!(rig.credits(), 0);
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_answer_after_apply_is_a_protocol_error_and_the_retry_credits_once() {
    let rig = Rig::start(
        false,
        FaultPlan {
            garbage: 1,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = cash("K01-000008-p1", 800);

    let e = link.post_payment(&posting).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 800);
    let retry = link.post_payment(&posting).await.unwrap();
    assert_eq!(credited_balance(&retry), START_BALANCE_MINOR + 800);
    assert_eq!(rig.credits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_payment_whose_answer_was_lost_is_credited_once_by_a_retry_without_the_code() {
    let rig = Rig::start(
        false,
        FaultPlan {
            drop_answers: 1,
            ..FaultPlan::default()
        },
    )
    .await;
    let mut link = HttpLink::new(&rig.link_config()).unwrap();
    let posting = code_payment("K01-000009-p1", 4200);

    let lost = link.post_payment(&posting).await.unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::Offline, "{lost}");
    // The retry as the kiosk's retry schedule builds it: no code.
    let retry = kiosk_hal::PaymentPosting {
        code: None,
        ..posting.clone()
    };
    let answer = link.post_payment(&retry).await.unwrap();
    assert_eq!(credited_balance(&answer), START_BALANCE_MINOR + 4200);
    assert_eq!(rig.credits(), 1);

    // A code payment the backend never saw, retried without its code:
    // refused, nothing charged.
    let unseen = kiosk_hal::PaymentPosting {
        code: None,
        ..code_payment("K01-000010-p1", 100)
    };
    let PostingAnswer::Refused { reason } = link.post_payment(&unseen).await.unwrap() else {
        panic!("a code payment without a code cannot be credited");
    };
    assert!(reason.contains("未扣款"), "{reason}");
    assert_eq!(rig.credits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credits_survive_a_server_restart_and_a_retry_after_it_is_not_applied_again() {
    let pki = support::Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let posting = cash("K01-000011-p1", 900);
    let first = {
        let server = support::start_server(
            dir.path(),
            Some(pki.server_files(false)),
            FaultPlan::default(),
        )
        .await;
        let config = kiosk_http::HttpLinkConfig {
            base_url: server.base_url(),
            ca_bundle: Some(pki.ca.clone()),
            pinned_certificate: None,
            client_identity: None,
            timeout_ms: 2_000,
        };
        let answer = HttpLink::new(&config)
            .unwrap()
            .post_payment(&posting)
            .await
            .unwrap();
        server.shutdown().await;
        answer
    };
    let server = support::start_server(
        dir.path(),
        Some(pki.server_files(false)),
        FaultPlan::default(),
    )
    .await;
    let config = kiosk_http::HttpLinkConfig {
        base_url: server.base_url(),
        ca_bundle: Some(pki.ca.clone()),
        pinned_certificate: None,
        client_identity: None,
        timeout_ms: 2_000,
    };
    let again = HttpLink::new(&config)
        .unwrap()
        .post_payment(&posting)
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(server.store().credits().unwrap(), 1);
    assert_eq!(
        server
            .store()
            .balance(&AccountNumber(OPEN.into()))
            .unwrap()
            .unwrap()
            .minor,
        START_BALANCE_MINOR + 900
    );
}
