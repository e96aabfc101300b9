//! The integrator's path end to end, over real HTTPS on loopback: the
//! reference billing server with a certificate made for the test, a real
//! `kioskd --simulate` process whose virtual devices pay through
//! `HttpLink`, customers driven through the operator API. The server is
//! killed while it holds a posting it has applied; the kiosk is killed
//! (SIGKILL) with a note in its acceptor. Both restart, and the money line
//! is checked against the server's own records: every key applied once,
//! nothing lost, the cash box equal to the books.

use crate::common;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{client, login, post, screen, status_until, write_config, Kioskd};
use kiosk_billing::{BillingServer, FaultPlan, ServeConfig, TlsFiles};
use kiosk_core::journal::{Journal, PaymentState};
use kiosk_hal::{AccountNumber, Currency, IdempotencyKey};
use kiosk_sim::crash::observe;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::json;

const ACCOUNT: &str = "1001";
const START_BALANCE: i64 = 0;

/// A CA and a server certificate for 127.0.0.1, as PEM files in `dir`.
fn certificates(dir: &Path) -> (TlsFiles, std::path::PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let ca_path = write("ca.pem", ca.pem());
    let files = TlsFiles {
        cert: write("server.pem", leaf.pem()),
        key: write("server.key", key.serialize_pem()),
        client_ca: None,
    };
    (files, ca_path)
}

async fn billing(
    dir: &Path,
    listen: SocketAddr,
    tls: &TlsFiles,
    faults: FaultPlan,
) -> BillingServer {
    let accounts = dir.join("accounts.toml");
    std::fs::write(
        &accounts,
        format!(
            "[accounts.\"{ACCOUNT}\"]\nholder-name = \"张三\"\n\
             amount-due = {{ minor = 100000, currency = \"CNY\" }}\n\
             balance = {{ minor = {START_BALANCE}, currency = \"CNY\" }}\n"
        ),
    )
    .unwrap();
    BillingServer::start(&ServeConfig {
        listen,
        accounts,
        db: dir.join("billing.db"),
        tls: Some(tls.clone()),
        base_path: "/".into(),
        faults,
    })
    .await
    .expect("the reference billing server starts")
}

/// A customer pays one note of `yuan`, up to the point where it is in the
/// acceptor; `confirm` then ends insertion.
async fn pay_note(c: &reqwest::Client, k: &Kioskd, token: &str, yuan: i64, confirm: bool) {
    let customer = k.url("/v1/customer");
    status_until(c, k, token, |s| {
        s["offered_methods"] == json!(["cash"]) && s["session"].is_null()
    })
    .await;
    let enter = json!({"action": "enter-account", "account": ACCOUNT});
    assert_eq!(post(c, &customer, None, enter).await.0, 202);
    status_until(c, k, token, |s| screen(s) == "confirm-account").await;
    let choose = json!({"action": "choose-method", "method": "cash"});
    post(c, &customer, None, choose).await;
    status_until(c, k, token, |s| screen(s) == "insert-notes").await;
    let note = json!({"value": {"minor": yuan * 100, "currency": "CNY"}});
    let (code, body) = post(c, &k.url("/v1/sim/notes"), None, note).await;
    assert_eq!(code, 200, "{body}");
    if confirm {
        status_until(c, k, token, |s| screen(s) == "note-accepted").await;
        post(c, &customer, None, json!({"action": "confirm"})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paying_over_https_survives_a_killed_server_and_a_killed_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let (tls, ca) = certificates(dir.path());
    let server = billing(
        dir.path(),
        "127.0.0.1:0".parse().unwrap(),
        &tls,
        FaultPlan::default(),
    )
    .await;
    let addr = server.local_addr();
    let config = write_config(dir.path(), 300);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[link]\nbase_url = \"https://{addr}/\"\nca_bundle = \"{}\"\ntimeout_ms = 2000\n",
        ca.display()
    ));
    std::fs::write(&config, text).unwrap();
    let state = dir.path().join("state");
    let c = client();

    // 1. A plain payment over HTTPS.
    let k = Kioskd::start(&config, &state);
    let token = login(&c, &k, "wang").await;
    pay_note(&c, &k, &token, 50, true).await;
    let s = status_until(&c, &k, &token, |s| {
        s["session"].is_null() && s["pending_payments"] == 0
    })
    .await;
    assert_eq!(server.store().credits().unwrap(), 1);
    // The link's identity in the operator status: the HTTPS endpoint it
    // paid through, read after its first answer.
    let link = &s["devices"]["link"]["identity"];
    assert_eq!(link["protocol"], "https", "{s}");
    assert!(link.to_string().contains("127.0.0.1"), "the endpoint: {s}");
    let balance = |s: &BillingServer| {
        s.store()
            .balance(&AccountNumber(ACCOUNT.into()))
            .unwrap()
            .unwrap()
            .minor
    };
    assert_eq!(balance(&server), START_BALANCE + 5000);

    // 2. The server applies a posting and dies before answering it: the
    //    kiosk times out, keeps the payment pending under its key.
    pay_note(&c, &k, &token, 20, false).await;
    status_until(&c, &k, &token, |s| screen(s) == "note-accepted").await;
    server.faults().set(FaultPlan {
        delay_ms: 4_000,
        ..FaultPlan::default()
    });
    post(
        &c,
        &k.url("/v1/customer"),
        None,
        json!({"action": "confirm"}),
    )
    .await;
    let applied_at = Instant::now();
    while server.store().credits().unwrap() < 2 {
        assert!(
            applied_at.elapsed() < Duration::from_secs(15),
            "never applied\n{}",
            k.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
    status_until(&c, &k, &token, |s| {
        s["session"].is_null() && s["pending_payments"] == 1
    })
    .await;

    // 3. The server comes back on the same address and books; the kiosk
    //    is killed (SIGKILL) with the next customer's note in its path.
    let server = billing(dir.path(), addr, &tls, FaultPlan::default()).await;
    pay_note(&c, &k, &token, 10, false).await;
    drop(k); // SIGKILL
    let k = Kioskd::start(&config, &state);
    let token = login(&c, &k, "wang").await;
    status_until(&c, &k, &token, |s| {
        s["serving"] == true && s["session"].is_null() && s["pending_payments"] == 0
    })
    .await;
    k.terminate();
    let mut k = k;
    let exit = k.wait(Duration::from_secs(30));
    assert!(exit.success(), "exit {exit:?}\n{}", k.logs());

    // The money line, against the server's own records.
    let journal = Journal::open(state.join("journal.db")).unwrap();
    let totals = journal.cash_totals(Currency::CNY).unwrap();
    let o = observe(&state).unwrap();
    let (_, in_box) = o.physical.box_total();
    assert_eq!(
        o.in_doubt_known, totals.in_doubt_notes,
        "every note in doubt has a known value here: {o:#?}"
    );
    assert_eq!(
        in_box,
        totals.credited.minor + totals.pending.minor + totals.refused.minor + totals.in_doubt.minor,
        "box = credited + pending + refused + in doubt: {totals:?}"
    );
    assert_eq!(totals.pending.minor, 0, "{totals:?}");
    assert_eq!(
        balance(&server) - START_BALANCE,
        totals.credited.minor,
        "the server credited exactly what the journal says: {totals:?}"
    );
    let keys: Vec<IdempotencyKey> = (1..=3)
        .map(|n| IdempotencyKey(format!("T01-{n:06}-p1").into()))
        .collect();
    for key in &keys[..2] {
        let record = server.store().posting(key).unwrap().expect("posted");
        assert!(record.credited, "{key}: {record:?}");
        assert_eq!(record.conflicting_retries, 0, "{key}: {record:?}");
        assert_eq!(
            journal.payment_state(key).unwrap(),
            Some(PaymentState::Credited),
            "{key}"
        );
    }
    // The second key arrived twice (the lost answer, then the retry) and
    // was applied once: the balance above is the proof.
    assert!(
        server
            .store()
            .posting(&keys[1])
            .unwrap()
            .unwrap()
            .times_received
            >= 2
    );
    server.shutdown().await;
}
