//! Broker load of a simulated hall on loopback: `N` kiosk connections
//! (each with its retained last will, as kioskd's) publish what a real
//! kioskd publishes per cash payment (counts measured by
//! `kioskd/tests/fleet_measure.rs`: statuses and events), one payment
//! every `--session-every-s` each, to a mosquitto started here; one
//! subscriber follows the whole hall as `kiosk-hall` does. Prints the
//! messages per second in and out, mosquitto's CPU, and the delay from a
//! kiosk's publish to the hall's receipt.
//!
//! ```text
//! cargo run --release -p kiosk-fleet --example hall_load -- --kiosks 100 --seconds 60
//! ```

#[path = "../tests/support/mosquitto.rs"]
mod mosquitto;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use kiosk_core::DeviceKind;
use kiosk_fleet::broker::{retained_will, BrokerConfig};
use kiosk_fleet::messages::{
    DeviceStatus, KioskState, KioskStatus, Offline, SessionState, StatusMessage,
};
use kiosk_fleet::rumqttc::{AsyncClient, Event, Packet, QoS};
use kiosk_fleet::service::wall_ms;
use kiosk_fleet::topics::{Channel, HallTopics};
use kiosk_hal::{CashBoxStatus, FillLevel, PaymentMethod};

#[derive(Parser)]
struct Args {
    /// Kiosks in the hall.
    #[arg(long, default_value_t = 100)]
    kiosks: usize,
    /// How long to run.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Each kiosk starts a cash payment this often (busy hall: 90 s).
    #[arg(long, default_value_t = 90)]
    session_every_s: u64,
    /// Statuses per payment (measured on kioskd: 4).
    #[arg(long, default_value_t = 4)]
    statuses: usize,
    /// Events per payment (measured on kioskd: 3).
    #[arg(long, default_value_t = 3)]
    events: usize,
}

fn status(id: &str, seq: u64, session: bool) -> KioskStatus {
    KioskStatus {
        kiosk_id: id.into(),
        seq,
        started_at_ms: 1,
        at_ms: wall_ms(),
        state: KioskState::InService,
        devices: [
            DeviceKind::Acceptor,
            DeviceKind::CashBox,
            DeviceKind::Printer,
            DeviceKind::Reader,
            DeviceKind::Link,
            DeviceKind::Kiosk,
        ]
        .into_iter()
        .map(|device| DeviceStatus {
            device,
            fault: None,
            identity: None,
        })
        .collect(),
        offered_methods: vec![PaymentMethod::Cash, PaymentMethod::Code],
        session: session.then(|| SessionState {
            id: format!("{id}-{seq:06}"),
            started_at_ms: wall_ms(),
        }),
        queue: None,
        cash_box: Some(CashBoxStatus {
            present: true,
            level: FillLevel::Normal,
            contents: None,
        }),
        notes_stacked: seq,
        open_tickets: vec![],
        pending_payments: 0,
        in_doubt_notes: 0,
        clearing_open: false,
        telemetry_dropped: 0,
    }
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command: state is field 3, utime 14, stime 15 (1-based).
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let broker =
        mosquitto::Mosquitto::start(&mosquitto::Setup::default()).expect("mosquitto is installed");
    let address = broker.address();
    let topics = HallTopics::new("LOAD").unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let delays = Arc::new(Mutex::new(Vec::<u64>::new()));

    // The hall's subscriber.
    let opts = BrokerConfig::plain(&address)
        .options("load-hall", None)
        .unwrap();
    let (hall, mut hall_events) = AsyncClient::new(opts, 64);
    hall.subscribe("kiosk/v1/LOAD/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    {
        let (received, delays) = (received.clone(), delays.clone());
        tokio::spawn(async move {
            loop {
                match hall_events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        received.fetch_add(1, Ordering::Relaxed);
                        if let Ok(StatusMessage::Online(s)) = serde_json::from_slice(&p.payload) {
                            delays
                                .lock()
                                .unwrap()
                                .push(wall_ms().saturating_sub(s.at_ms));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let start_cpu = cpu_s(broker.pid());
    let started = Instant::now();
    let run = Duration::from_secs(args.seconds);
    let mut kiosks = Vec::new();
    for k in 0..args.kiosks {
        let id = format!("K{k:03}");
        let will = StatusMessage::Offline(Offline {
            kiosk_id: id.clone(),
            clean: false,
            at_ms: None,
        });
        let opts = BrokerConfig::plain(&address)
            .options(
                &format!("load-{id}"),
                Some(retained_will(
                    topics.topic(&id, Channel::Status),
                    will.to_payload(),
                )),
            )
            .unwrap();
        let (c, mut events) = AsyncClient::new(opts, 64);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        let (sent, topics) = (sent.clone(), topics.clone());
        let every = Duration::from_secs(args.session_every_s);
        let (statuses, n_events) = (args.statuses, args.events);
        // Spread the kiosks' payments evenly over the interval.
        let offset = every.mul_f64(k as f64 / args.kiosks as f64);
        kiosks.push(tokio::spawn(async move {
            let status_topic = topics.topic(&id, Channel::Status);
            let event_topic = topics.topic(&id, Channel::Event);
            let publish = |topic: String, qos, retain, payload: Vec<u8>| {
                let c = c.clone();
                let sent = sent.clone();
                async move {
                    c.publish(topic, qos, retain, payload).await.unwrap();
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            };
            let mut seq = 1;
            let s = StatusMessage::Online(status(&id, seq, false)).to_payload();
            publish(status_topic.clone(), QoS::AtLeastOnce, true, s).await;
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let mut events_left = n_events;
                for i in 0..statuses {
                    seq += 1;
                    let s = StatusMessage::Online(status(&id, seq, i + 1 < statuses)).to_payload();
                    publish(status_topic.clone(), QoS::AtLeastOnce, true, s).await;
                    let now = n_events.div_ceil(statuses.max(1)).min(events_left);
                    events_left -= now;
                    for _ in 0..now {
                        let e = format!(
                            "{{\"kiosk-id\":\"{id}\",\"at-ms\":{},\"event\":{{\"event\":\"session-started\",\"session\":\"{id}-{seq:06}\"}}}}",
                            wall_ms()
                        );
                        publish(event_topic.clone(), QoS::AtMostOnce, false, e.into_bytes()).await;
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }));
    }
    tokio::time::sleep(run).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_s(broker.pid()) - start_cpu;
    for k in kiosks {
        k.abort();
    }
    let (sent, received) = (
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
    );
    let mut d = delays.lock().unwrap().clone();
    d.sort_unstable();
    let pct = |p: f64| {
        d.get(((d.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{} kiosks, {:.0} s, one payment per kiosk every {} s ({} statuses + {} events each)",
        args.kiosks, elapsed, args.session_every_s, args.statuses, args.events
    );
    println!(
        "published {sent} ({:.1}/s), delivered to the hall {received} ({:.1}/s)",
        sent as f64 / elapsed,
        received as f64 / elapsed
    );
    println!(
        "mosquitto CPU {:.2} s in {:.0} s = {:.2} % of one core",
        cpu,
        elapsed,
        100.0 * cpu / elapsed
    );
    println!(
        "kiosk publish → hall receipt (statuses): p50 {} ms, p99 {} ms, max {} ms ({} samples)",
        pct(0.5),
        pct(0.99),
        d.last().copied().unwrap_or(0),
        d.len()
    );
}
