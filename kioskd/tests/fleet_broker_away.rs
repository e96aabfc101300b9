//! The broker is away: payments go on as if there were no fleet at all,
//! telemetry beyond the queue's capacity is dropped oldest-first and
//! counted, and once the broker comes up the kiosk connects by itself and
//! its retained status (with the count of what was dropped) is there.
#![forbid(unsafe_code)]

use crate::{common, fleet_common, mosquitto};
use std::time::{Duration, Instant};

use common::{login, post, screen, status_until};
use fleet_common::{live_client, plain_fleet, write_fleet_config};
use kiosk_fleet::broker::BrokerConfig;
use kiosk_fleet::messages::StatusMessage;
use serde_json::json;

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_go_on_without_the_broker_and_the_status_follows_when_it_comes() {
    if mosquitto::find().is_none() {
        eprintln!("SKIPPED: mosquitto is not installed");
        return;
    }
    let port = mosquitto::free_port();
    let address = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = write_fleet_config(
        dir.path(),
        "K01",
        &plain_fleet("H1", &address, "queue-capacity = 2"),
    );
    let k = common::Kioskd::start(&config, &dir.path().join("state"));
    let c = common::client();
    let token = login(&c, &k, "wang").await;
    let customer = k.url("/v1/customer");
    let started = Instant::now();
    for _ in 0..2 {
        status_until(&c, &k, &token, |s| {
            s["offered_methods"] == json!(["cash"]) && s["session"].is_null()
        })
        .await;
        post(
            &c,
            &customer,
            None,
            json!({"action": "enter-account", "account": "1001"}),
        )
        .await;
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
        post(&c, &k.url("/v1/sim/notes"), None, note).await;
        status_until(&c, &k, &token, |s| screen(s) == "note-accepted").await;
        post(&c, &customer, None, json!({"action": "confirm"})).await;
        status_until(&c, &k, &token, |s| {
            s["session"].is_null() && s["pending_payments"] == 0
        })
        .await;
    }
    eprintln!(
        "two cash payments with the broker away: {:?}",
        started.elapsed()
    );
    let metrics = reqwest::get(k.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dropped = metric(&metrics, "kioskd_fleet_messages_dropped_total").unwrap();
    assert!(dropped >= 2, "6 events into a queue of 2: {metrics}");
    assert_eq!(metric(&metrics, "kioskd_fleet_connected"), Some(0));
    assert_eq!(
        metric(&metrics, "kioskd_payments_total{outcome=\"credited\"}"),
        Some(2),
        "{metrics}"
    );

    // The broker comes up: the kiosk connects by itself (backoff ≤ 5 s).
    let broker = mosquitto::Mosquitto::start(&mosquitto::Setup {
        port: Some(port),
        ..mosquitto::Setup::default()
    })
    .unwrap();
    let (_w, mut seen) = live_client(
        &BrokerConfig::plain(&broker.address()),
        "watch",
        &["kiosk/v1/H1/K01/status".to_string()],
    )
    .await
    .unwrap();
    let status = loop {
        let (_, payload) = tokio::time::timeout(Duration::from_secs(15), seen.recv())
            .await
            .expect("the status within 15 s")
            .unwrap();
        if let Ok(StatusMessage::Online(s)) = serde_json::from_slice(&payload) {
            break s;
        }
    };
    assert_eq!(status.telemetry_dropped, dropped, "{status:?}");
    assert!(status
        .offered_methods
        .contains(&kiosk_hal::PaymentMethod::Cash));
    let metrics = reqwest::get(k.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(metric(&metrics, "kioskd_fleet_connected"), Some(1));
}
