//! A hall of real `kioskd --simulate` processes on one real mosquitto, the
//! hall service following them: guidance on live telemetry, a kiosk killed
//! with SIGKILL (its last will), a spare coming online, a clean stop.
#![forbid(unsafe_code)]

use crate::{common, fleet_common, mosquitto};
use std::time::{Duration, Instant};

use fleet_common::{plain_fleet, start_hall, state_of, write_fleet_config};
use kiosk_fleet::broker::BrokerConfig;

/// The operators' fault-response target (domain.md): the hall must have
/// moved customers off a dead kiosk well within it.
const RESPONSE_TARGET: Duration = Duration::from_secs(5 * 60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guidance_moves_customers_off_a_killed_kiosk_and_onto_a_spare_at_once() {
    let Some(broker) = mosquitto::Mosquitto::start(&mosquitto::Setup::default()) else {
        return;
    };
    let address = broker.address();
    let hall = start_hall(BrokerConfig::plain(&address), "H1").await;
    let dir = tempfile::tempdir().unwrap();
    let start = |id: &str| {
        let kdir = dir.path().join(id);
        std::fs::create_dir_all(&kdir).unwrap();
        let config = write_fleet_config(&kdir, id, &plain_fleet("H1", &address, ""));
        common::Kioskd::start(&config, &kdir.join("state"))
    };
    let mut k1 = start("K01");
    let mut k2 = start("K02");
    let _k3 = start("K03");

    let online =
        |v: &serde_json::Value, ids: &[&str]| ids.iter().all(|id| state_of(v, id) == "in-service");
    hall.until("three kiosks in service", Duration::from_secs(30), |v| {
        online(v, &["K01", "K02", "K03"])
    })
    .await;

    // Arrivals are spread by expected wait: nobody waits anywhere, so the
    // nearest first, then the others as each gets a queue.
    let mut sent = Vec::new();
    for _ in 0..4 {
        let a = hall.guidance("cash", true).await;
        sent.push(a["kiosk"].as_str().unwrap().to_string());
    }
    assert_eq!(
        sent,
        ["K01", "K02", "K03", "K01"],
        "spread by expected wait"
    );
    let row = hall.row("K01").await.unwrap();
    assert_eq!(row["queue"], 2, "{row}");
    assert_eq!(row["queue_measured"], false);
    assert!(
        !row["offered_methods"].as_array().unwrap().is_empty(),
        "{row}"
    );
    assert!(
        row["cash_box"]["level"].is_string(),
        "the cash box's reading reaches the hall: {row}"
    );

    // K01 dies: no clean stop, its socket closed by the kernel.
    let killed_at = Instant::now();
    let mut child = k1.take_child();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let took = hall
        .until("K01's last will", Duration::from_secs(30), |v| {
            state_of(v, "K01") == "lost"
        })
        .await;
    let lwt_latency = killed_at.elapsed();
    eprintln!("K01 killed → hall shows it lost: {lwt_latency:?} (polled {took:?})");
    assert!(lwt_latency < RESPONSE_TARGET);
    let a = hall.guidance("cash", false).await;
    assert_ne!(a["kiosk"], "K01", "{a}");
    let k01 = a["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kiosk"] == "K01")
        .unwrap();
    assert_eq!(k01["usable"], false);
    assert_eq!(k01["zh"], "离线（连接中断）");
    // The two customers sent to K01 are gone from its queue: none counted there.
    assert_eq!(hall.row("K01").await.unwrap()["queue"], 0);
    for _ in 0..6 {
        let a = hall.guidance("cash", true).await;
        assert_ne!(a["kiosk"], "K01", "nobody is sent to a dead kiosk: {a}");
    }

    // A spare comes online: with nobody waiting there it is used at once.
    let _k9 = start("K09");
    hall.until("the spare in service", Duration::from_secs(30), |v| {
        state_of(v, "K09") == "in-service"
    })
    .await;
    let a = hall.guidance("cash", true).await;
    assert_eq!(a["kiosk"], "K09", "the spare is used at once: {a}");

    // A clean stop says "offline" itself (not the will): shut down.
    k2.terminate();
    assert!(k2.wait(Duration::from_secs(20)).success(), "{}", k2.logs());
    hall.until("K02's clean stop", Duration::from_secs(10), |v| {
        state_of(v, "K02") == "offline"
    })
    .await;
    let a = hall.guidance("cash", false).await;
    assert_ne!(a["kiosk"], "K02");
    drop(broker);
}
