//! The operator dashboard in a real headless Chromium (chromedriver), fed
//! by a real mosquitto: three kiosks publish as kioskd does (one in
//! service with a ticket past the 5-minute response target and a nearly
//! full cash box, one out of service, one whose connection dies so the
//! broker publishes its last will). The page must show each one's state in
//! Chinese first, the overdue ticket, the cash box, the queue, and the
//! guidance; it must follow a change without a reload. A PNG goes to
//! `$KIOSK_SCREENSHOTS` (default `target/screenshots`)/fleet-dashboard.png.
//!
//! Skipped, saying so, without chromium, chromedriver or mosquitto.
#![forbid(unsafe_code)]

#[path = "support/mosquitto.rs"]
mod mosquitto;

use std::time::{Duration, Instant};

use kiosk_core::tickets::{Severity, TicketId, TicketKind};
use kiosk_core::DeviceKind;
use kiosk_fleet::broker::{retained_will, BrokerConfig};
use kiosk_fleet::messages::{
    DeviceStatus, KioskState, KioskStatus, Offline, StatusMessage, TicketInfo,
};
use kiosk_fleet::rumqttc::{AsyncClient, Event, EventLoop, Packet, QoS};
use kiosk_fleet::service::{self, wall_ms, HallState};
use kiosk_fleet::topics::{Channel, HallTopics};
use kiosk_hal::{CashBoxStatus, ErrorKind, FillLevel, PaymentMethod};
use kiosk_testkit::fantoccini::Locator;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn status(id: &str, state: KioskState, methods: Vec<PaymentMethod>) -> KioskStatus {
    KioskStatus {
        kiosk_id: id.into(),
        seq: 1,
        started_at_ms: wall_ms(),
        at_ms: wall_ms(),
        state,
        devices: vec![DeviceStatus {
            device: DeviceKind::Printer,
            fault: None,
            identity: None,
        }],
        offered_methods: methods,
        session: None,
        queue: None,
        cash_box: Some(CashBoxStatus {
            present: true,
            level: FillLevel::Normal,
            contents: None,
        }),
        notes_stacked: 0,
        open_tickets: vec![],
        pending_payments: 0,
        in_doubt_notes: 0,
        clearing_open: false,
        telemetry_dropped: 0,
    }
}

/// A kiosk's connection, with its retained last will set, as kioskd's.
async fn kiosk(address: &str, hall: &HallTopics, id: &str) -> (AsyncClient, EventLoop) {
    let will = StatusMessage::Offline(Offline {
        kiosk_id: id.into(),
        clean: false,
        at_ms: None,
    });
    let opts = BrokerConfig::plain(address)
        .options(
            &format!("fake-{id}"),
            Some(retained_will(
                hall.topic(id, Channel::Status),
                will.to_payload(),
            )),
        )
        .unwrap();
    let (c, mut events) = AsyncClient::new(opts, 16);
    loop {
        if let Event::Incoming(Packet::ConnAck(_)) = events.poll().await.unwrap() {
            break;
        }
    }
    (c, events)
}

async fn publish(c: &AsyncClient, events: &mut EventLoop, topic: String, s: &KioskStatus) {
    c.publish(
        topic,
        QoS::AtLeastOnce,
        true,
        StatusMessage::Online(s.clone()).to_payload(),
    )
    .await
    .unwrap();
    // Drive the connection until the broker has it.
    loop {
        if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_every_kiosk_in_chinese_and_follows_changes_in_chromium(
) -> Result<(), Error> {
    let Some(browser) =
        kiosk_testkit::Browser::start("the dashboard test", 1920, 1080, "zh-CN").await?
    else {
        return Ok(());
    };
    let Some(broker) = mosquitto::Mosquitto::start(&mosquitto::Setup::default()) else {
        return Ok(());
    };
    let address = broker.address();
    let topics = HallTopics::new("H1")?;

    // The hall service, in this process.
    let state = HallState::new(topics.clone());
    tokio::spawn(service::follow(
        BrokerConfig::plain(&address),
        "dashboard-hall".into(),
        state.clone(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, service::router(state)).await });

    // K01 in service, a ticket opened 6 minutes ago without a response,
    // its box nearly full.
    let (k1, mut k1e) = kiosk(&address, &topics, "K01").await;
    let mut s1 = status(
        "K01",
        KioskState::InService,
        vec![PaymentMethod::Cash, PaymentMethod::Code],
    );
    s1.cash_box = Some(CashBoxStatus {
        present: true,
        level: FillLevel::NearFull,
        contents: None,
    });
    s1.devices[0].fault = Some(ErrorKind::PaperOut);
    s1.open_tickets = vec![TicketInfo {
        id: TicketId(7),
        device: DeviceKind::Printer,
        kind: TicketKind::Device(ErrorKind::PaperOut),
        severity: Severity::Medium,
        opened_at_ms: wall_ms() - 6 * 60 * 1000,
        escalated_at_ms: None,
    }];
    publish(&k1, &mut k1e, topics.topic("K01", Channel::Status), &s1).await;
    // K02 out of service; K03 in service, then its connection dies.
    let (k2, mut k2e) = kiosk(&address, &topics, "K02").await;
    publish(
        &k2,
        &mut k2e,
        topics.topic("K02", Channel::Status),
        &status("K02", KioskState::OutOfService, vec![]),
    )
    .await;
    let (k3, mut k3e) = kiosk(&address, &topics, "K03").await;
    publish(
        &k3,
        &mut k3e,
        topics.topic("K03", Channel::Status),
        &status("K03", KioskState::InService, vec![PaymentMethod::Code]),
    )
    .await;

    let shots = kiosk_testkit::screenshot_dir()?;
    let page = browser.client.clone();
    let result = async {
        page.goto(&base).await?;
        let text_of = |css: &'static str| {
            let page = page.clone();
            async move { page.find(Locator::Css(css)).await?.text().await }
        };
        let wait_for = |css: &'static str, want: &'static [&'static str]| {
            let page = page.clone();
            async move {
                let until = Instant::now() + Duration::from_secs(15);
                loop {
                    let text = match page.find(Locator::Css(css)).await {
                        Ok(e) => e.text().await.unwrap_or_default(),
                        Err(_) => String::new(),
                    };
                    if want.iter().all(|w| text.contains(w)) {
                        return Ok::<String, Error>(text);
                    }
                    if Instant::now() > until {
                        return Err(format!("{css}: {want:?} not in {text:?}").into());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let k1_text = wait_for(
            "[data-kiosk=K01]",
            &[
                "K01",
                "正常服务",
                "in service",
                "将满",
                "超时",
                "overdue",
                "未响应",
                "/ 目标 5:00",
            ],
        )
        .await?;
        assert!(k1_text.contains("打印机"), "{k1_text}");
        assert!(k1_text.contains("缺纸"), "the fault in Chinese: {k1_text}");
        wait_for("[data-kiosk=K02]", &["暂停服务", "out of service"]).await?;
        wait_for("[data-kiosk=K03]", &["正常服务"]).await?;
        let title = text_of("h1").await?;
        assert!(
            title.starts_with("营业厅自助终端监控"),
            "Chinese first: {title}"
        );
        wait_for("#guidance", &["下一位顾客", "K01"]).await?;

        // K03's connection dies: the broker publishes its will, the page
        // follows without a reload, guidance stays on K01.
        let died = Instant::now();
        drop(k3);
        drop(k3e);
        wait_for("[data-kiosk=K03]", &["离线（连接中断）", "connection lost"]).await?;
        eprintln!(
            "K03's connection closed → dashboard shows it lost: {:?}",
            died.elapsed()
        );
        let overdue = page
            .find(Locator::Css("[data-kiosk=K01] .ticket.overdue"))
            .await?;
        assert!(overdue.text().await?.contains("#7"));
        let png = page.screenshot().await?;
        std::fs::write(shots.join("fleet-dashboard.png"), png)?;
        Ok::<(), Error>(())
    }
    .await;
    page.close().await?;
    drop((k1, k2, k1e, k2e));
    drop(broker);
    result
}
