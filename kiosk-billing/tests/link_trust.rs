//! `HttpLink` over real TLS on loopback: whom it trusts (CA bundle, pinned
//! certificate), who it is (client certificate for mutual TLS), what it
//! does with bytes that are no answer, and what leaves the kiosk on a retry.

use crate::support;
use kiosk_billing::FaultPlan;
use kiosk_hal::{AccountAnswer, AccountNumber, ErrorKind, NetworkLink};
use kiosk_http::HttpLink;
use support::{cash, code_payment, Pki, RawServer, Rig, CODE_DIGITS, OPEN, START_BALANCE_MINOR};

fn open() -> AccountNumber {
    AccountNumber(OPEN.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_signed_by_another_ca_is_refused_before_anything_is_sent() {
    let rig = Rig::start(false, FaultPlan::default()).await;
    let mut config = rig.link_config();
    config.ca_bundle = Some(rig.pki.other_ca.clone());
    let mut link = HttpLink::new(&config).unwrap();

    let e = link
        .post_payment(&cash("K01-000001-p1", 100))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
    assert!(e.message().contains("cannot connect"), "{e}");
    assert!(e.message().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(rig.credits(), 0);
    assert_eq!(
        rig.server
            .store()
            .posting(&cash("K01-000001-p1", 100).key)
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_certificate_is_accepted_and_any_other_refused_even_from_the_trusted_ca() {
    let rig = Rig::start(false, FaultPlan::default()).await;

    let mut pinned_right = rig.link_config();
    pinned_right.ca_bundle = None;
    pinned_right.pinned_certificate = Some(rig.pki.server_cert.clone());
    let answer = HttpLink::new(&pinned_right)
        .unwrap()
        .lookup_account(&open())
        .await
        .unwrap();
    assert!(matches!(answer, AccountAnswer::Payable(_)), "{answer:?}");

    // The other certificate is valid for 127.0.0.1 and signed by the
    // trusted CA: only the pin tells them apart.
    for with_ca in [false, true] {
        let mut pinned_wrong = rig.link_config();
        if !with_ca {
            pinned_wrong.ca_bundle = None;
        }
        pinned_wrong.pinned_certificate = Some(rig.pki.other_server_cert.clone());
        let e = HttpLink::new(&pinned_wrong)
            .unwrap()
            .lookup_account(&open())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
        assert!(
            e.message().contains("not the pinned certificate"),
            "with CA {with_ca}: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_a_kiosk_without_a_certificate_or_with_a_strangers() {
    let rig = Rig::start(true, FaultPlan::default()).await;
    let posting = cash("K01-000002-p1", 700);

    for identity in [None, Some(rig.pki.stranger_identity.clone())] {
        let mut config = rig.link_config();
        config.client_identity = identity.clone();
        let e = HttpLink::new(&config)
            .unwrap()
            .post_payment(&posting)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Offline, "{identity:?}: {e}");
    }
    assert_eq!(rig.credits(), 0);
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR);

    let mut config = rig.link_config();
    config.client_identity = Some(rig.pki.client_identity.clone());
    let mut link = HttpLink::new(&config).unwrap();
    link.post_payment(&posting).await.unwrap();
    assert_eq!(rig.balance_minor(), START_BALANCE_MINOR + 700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_offline() {
    let pki = Pki::new();
    // Bind and drop: the port is then (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = kiosk_http::HttpLinkConfig {
        base_url: format!("https://127.0.0.1:{port}/"),
        ca_bundle: Some(pki.ca.clone()),
        pinned_certificate: None,
        client_identity: None,
        timeout_ms: 2_000,
    };
    let e = HttpLink::new(&config)
        .unwrap()
        .heartbeat()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_no_answer_are_protocol_errors_and_a_cut_answer_is_lost() {
    let pki = Pki::new();
    let answers: [&[u8]; 4] = [
        // Not HTTP at all.
        b"\x00\x01\x02 hello, this is not HTTP\r\n\r\n",
        // HTTP, but the body is not JSON.
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot json!",
        // JSON, but not the contract's.
        b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}",
        // The connection closes in the middle of the body.
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"backend_ref\":",
    ];
    let server = RawServer::start(&pki, move |i| answers.get(i).map(|a| a.to_vec())).await;
    let mut link = HttpLink::new(&server.link_config(&pki, 2_000)).unwrap();
    let posting = cash("K01-000003-p1", 100);

    let mut kinds = Vec::new();
    for _ in 0..4 {
        kinds.push(link.post_payment(&posting).await.unwrap_err().kind());
    }
    assert_eq!(
        kinds,
        [
            ErrorKind::Protocol,
            ErrorKind::Protocol,
            ErrorKind::Protocol,
            ErrorKind::Offline
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_never_carries_the_payment_code_even_if_the_caller_passes_it() {
    let pki = Pki::new();
    // Every request: read, keep, close without an answer (a lost answer).
    let server = RawServer::start(&pki, |_| None).await;
    let mut link = HttpLink::new(&server.link_config(&pki, 2_000)).unwrap();
    let posting = code_payment("K01-000004-p1", 4200);

    for _ in 0..3 {
        let e = link.post_payment(&posting).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Offline, "{e}");
    }
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert!(
        bodies[0].contains(CODE_DIGITS),
        "the first posting charges the code: {}",
        bodies[0]
    );
    for retry in &bodies[1..] {
        assert!(!retry.contains(CODE_DIGITS), "{retry}");
        assert!(!retry.contains("\"code\":"), "{retry}");
        assert!(retry.contains("\"method\":\"code\""), "{retry}");
        assert!(retry.contains("\"minor\":4200"), "{retry}");
    }
    // The key rides in the header on every try.
    for request in server.requests.lock().unwrap().iter() {
        let head = String::from_utf8_lossy(request).to_ascii_lowercase();
        assert!(
            head.contains("idempotency-key: k01-000004-p1\r\n"),
            "{head}"
        );
    }
}

#[test]
fn a_client_identity_without_a_key_is_named_at_setup() {
    let pki = Pki::new();
    let config = kiosk_http::HttpLinkConfig {
        base_url: "https://127.0.0.1:1/".into(),
        ca_bundle: Some(pki.ca.clone()),
        pinned_certificate: None,
        // A certificate file, no key in it.
        client_identity: Some(pki.server_cert.clone()),
        timeout_ms: 1_000,
    };
    let text = HttpLink::new(&config).unwrap_err().to_string();
    assert!(text.starts_with("link.client_identity: "), "{text}");
    assert!(text.contains("no private key"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_demo_runs_over_plain_http_without_any_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_server(dir.path(), None, FaultPlan::default()).await;
    assert!(
        server.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        server.base_url()
    );
    let mut link = HttpLink::new(&kiosk_http::HttpLinkConfig {
        base_url: server.base_url(),
        ca_bundle: None,
        pinned_certificate: None,
        client_identity: None,
        timeout_ms: 2_000,
    })
    .unwrap();
    let answer = link
        .post_payment(&cash("K01-000005-p1", 300))
        .await
        .unwrap();
    assert!(
        matches!(answer, kiosk_hal::PostingAnswer::Credited { .. }),
        "{answer:?}"
    );
    assert_eq!(server.store().credits().unwrap(), 1);
}
