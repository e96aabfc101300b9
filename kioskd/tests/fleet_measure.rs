//! Measurement, not a check (`#[ignore]`; run with `cargo test -p kioskd
//! --test fleet_measure -- --ignored --nocapture`): how many telemetry
//! messages a real `kioskd --simulate` sends on a real mosquitto while
//! idle and per cash payment, by topic. The README's figures per kiosk
//! per hour come from these counts.
#![forbid(unsafe_code)]

use crate::{common, fleet_common, mosquitto};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{login, post, screen, status_until};
use fleet_common::{drain, live_client, plain_fleet, write_fleet_config};
use kiosk_fleet::broker::BrokerConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn telemetry_messages_idle_and_per_cash_payment() {
    let Some(broker) = mosquitto::Mosquitto::start(&mosquitto::Setup::default()) else {
        return;
    };
    let address = broker.address();
    let (_w, mut seen) = live_client(
        &BrokerConfig::plain(&address),
        "measure",
        &["kiosk/v1/H1/#".to_string()],
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_fleet_config(dir.path(), "K01", &plain_fleet("H1", &address, ""));
    let k = common::Kioskd::start(&config, &dir.path().join("state"));
    let c = common::client();
    let token = login(&c, &k, "wang").await;
    status_until(&c, &k, &token, |s| s["offered_methods"] == json!(["cash"])).await;
    drain(&mut seen, Duration::from_secs(1)).await; // start-up

    let idle = Duration::from_secs(30);
    let t = Instant::now();
    let mut idle_count = 0;
    while t.elapsed() < idle {
        idle_count += drain(&mut seen, Duration::from_millis(500)).await.len();
    }
    println!("idle: {idle_count} messages in {idle:?} (plus one status per status-interval-s, default 300 s)");

    let sessions = 5;
    let mut by_topic: BTreeMap<String, usize> = BTreeMap::new();
    let customer = k.url("/v1/customer");
    for _ in 0..sessions {
        status_until(&c, &k, &token, |s| {
            s["offered_methods"] == json!(["cash"])
                && s["session"].is_null()
                && screen(s) == "welcome"
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
        status_until(&c, &k, &token, |s| s["session"].is_null()).await;
        for (topic, _) in drain(&mut seen, Duration::from_millis(700)).await {
            let tail = topic
                .rsplit_once("K01/")
                .map(|(_, t)| t.to_string())
                .unwrap_or(topic);
            *by_topic.entry(tail).or_default() += 1;
        }
    }
    let total: usize = by_topic.values().sum();
    println!(
        "per cash payment: {:.1} messages ({by_topic:?} over {sessions} payments)",
        total as f64 / sessions as f64
    );
    drop(broker);
}
