//! Remote commands over a real mosquitto to a real `kioskd --simulate`:
//! a signed command from an operator is performed through the operator
//! API's path and answered; a forged signature, an unknown sender, a
//! replay, a stale time, a command for another kiosk, a viewer's command
//! and a remote clearing step are each refused, written to the audit log
//! as security events, journaled (the kiosk raises its security alarm) and
//! answered with their reason.
#![forbid(unsafe_code)]

use crate::{common, fleet_common, mosquitto};
use std::time::Duration;

use fleet_common::{client, next_message, plain_fleet, write_fleet_config};
use kiosk_core::StaffCommand;
use kiosk_fleet::broker::BrokerConfig;
use kiosk_fleet::rumqttc::{AsyncClient, EventLoop, QoS};
use kiosk_fleet::signing::{
    self, generate_key, CommandAnswer, CommandBody, Outcome, Refusal, SignedCommand,
};
use kiosk_fleet::topics::{Channel, HallTopics};
use serde_json::Value;

fn now_ms() -> u64 {
    kiosk_fleet::service::wall_ms()
}

fn body(sender: &str, kiosk: &str, at_ms: u64, command: StaffCommand) -> CommandBody {
    CommandBody {
        sender: sender.into(),
        kiosk_id: kiosk.into(),
        at_ms,
        nonce: signing::new_nonce().unwrap(),
        command,
    }
}

async fn ask(
    c: &AsyncClient,
    events: &mut EventLoop,
    topic: &str,
    payload: Vec<u8>,
) -> CommandAnswer {
    c.publish(topic, QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    let (_, answer) = next_message(events, Duration::from_secs(20))
        .await
        .expect("an answer on cmd/result");
    serde_json::from_slice(&answer).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_commands_are_performed_and_every_bad_one_is_refused_and_audited() {
    let Some(broker) = mosquitto::Mosquitto::start(&mosquitto::Setup::default()) else {
        return;
    };
    let address = broker.address();
    let desk = generate_key().unwrap();
    let viewer = generate_key().unwrap();
    let mallory = generate_key().unwrap();
    let senders = format!(
        "[[fleet.senders]]\nname = \"desk\"\nrole = \"operator\"\npublic-key = \"{}\"\n\
         [[fleet.senders]]\nname = \"wang\"\nrole = \"viewer\"\npublic-key = \"{}\"\n",
        signing::hex(desk.verifying_key().as_bytes()),
        signing::hex(viewer.verifying_key().as_bytes()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_fleet_config(
        dir.path(),
        "K05",
        &format!(
            "{}{senders}",
            plain_fleet("H1", &address, "replay-window-s = 30")
        ),
    );
    let state = dir.path().join("state");
    let k = common::Kioskd::start(&config, &state);
    let topics = HallTopics::new("H1").unwrap();
    let cmd = topics.topic("K05", Channel::Command);
    let (c, mut events) = client(
        &BrokerConfig::plain(&address),
        "test-desk",
        &[topics.topic("K05", Channel::CommandResult)],
    )
    .await
    .unwrap();
    // The kiosk is connected and subscribed once its status is retained.
    let (sc, mut sev) = client(
        &BrokerConfig::plain(&address),
        "test-watch",
        &[topics.topic("K05", Channel::Status)],
    )
    .await
    .unwrap();
    let (_, status) = next_message(&mut sev, Duration::from_secs(30))
        .await
        .expect("the kiosk's retained status");
    assert!(String::from_utf8_lossy(&status).contains("\"presence\":\"online\""));
    drop(sc);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A good command: performed by the kiosk, answered with its result.
    let good = SignedCommand::sign(
        &desk,
        &body("desk", "K05", now_ms(), StaffCommand::SelfTest),
    );
    let a = ask(&c, &mut events, &cmd, good.to_payload()).await;
    assert_eq!(a.command.as_deref(), Some("self-test"), "{a:?}");
    assert!(
        matches!(a.outcome, Outcome::Done | Outcome::Failed),
        "{a:?}"
    );
    assert!(!a.detail.is_empty(), "the kiosk's own words: {a:?}");
    let disable = SignedCommand::sign(
        &desk,
        &body(
            "desk",
            "K05",
            now_ms(),
            StaffCommand::Disable {
                reason: "远程维护".into(),
            },
        ),
    );
    let a = ask(&c, &mut events, &cmd, disable.to_payload()).await;
    assert_eq!(a.outcome, Outcome::Done, "{a:?}");

    // The replay of a good command.
    let a = ask(&c, &mut events, &cmd, good.to_payload()).await;
    assert!(matches!(a.refusal, Some(Refusal::Replay { .. })), "{a:?}");
    // A forged signature: mallory signs as desk.
    let forged = SignedCommand::sign(
        &mallory,
        &body("desk", "K05", now_ms(), StaffCommand::Enable),
    );
    let a = ask(&c, &mut events, &cmd, forged.to_payload()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::BadSignature { .. })),
        "{a:?}"
    );
    assert_eq!(a.outcome, Outcome::Refused);
    // An unknown sender.
    let stranger = SignedCommand::sign(
        &mallory,
        &body("mallory", "K05", now_ms(), StaffCommand::Enable),
    );
    let a = ask(&c, &mut events, &cmd, stranger.to_payload()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::UnknownSender { .. })),
        "{a:?}"
    );
    // A stale one (signed an hour ago).
    let stale = SignedCommand::sign(
        &desk,
        &body("desk", "K05", now_ms() - 3_600_000, StaffCommand::Enable),
    );
    let a = ask(&c, &mut events, &cmd, stale.to_payload()).await;
    assert!(matches!(a.refusal, Some(Refusal::Stale { .. })), "{a:?}");
    // One signed for another kiosk, replayed here.
    let other = SignedCommand::sign(&desk, &body("desk", "K06", now_ms(), StaffCommand::Enable));
    let a = ask(&c, &mut events, &cmd, other.to_payload()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::WrongKiosk { .. })),
        "{a:?}"
    );
    // A viewer may not command.
    let weak = SignedCommand::sign(
        &viewer,
        &body("wang", "K05", now_ms(), StaffCommand::Enable),
    );
    let a = ask(&c, &mut events, &cmd, weak.to_payload()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::Forbidden { .. })),
        "{a:?}"
    );
    assert!(a.message_zh.contains("无权"), "{a:?}");
    // A clearing step is never remote, even from an operator.
    let clearing = SignedCommand::sign(
        &desk,
        &body(
            "desk",
            "K05",
            now_ms(),
            StaffCommand::BeginClearing {
                operators: ["zhang".into(), "li".into()],
            },
        ),
    );
    let a = ask(&c, &mut events, &cmd, clearing.to_payload()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::NotRemote { .. })),
        "{a:?}"
    );
    // Garbage.
    let a = ask(&c, &mut events, &cmd, b"not json".to_vec()).await;
    assert!(
        matches!(a.refusal, Some(Refusal::Malformed { .. })),
        "{a:?}"
    );

    // The kiosk is still disabled: none of the refused enables took effect.
    let http = common::client();
    let token = common::login(&http, &k, "wang").await;
    let s = common::status_until(&http, &k, &token, |s| s["serving"] == true).await;
    assert_eq!(
        s["offered_methods"],
        Value::Array(vec![]),
        "still disabled: {s}"
    );

    // The audit log: the two commands, seven refusals as security events
    // (unauthenticated or forbidden), all from MQTT.
    let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["request"].as_str().unwrap_or("").starts_with("MQTT "))
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "command",
            "command",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated",
            "forbidden",
            "forbidden",
            "unauthenticated"
        ],
        "{audit}"
    );
    assert_eq!(lines[0]["who"], "desk");
    assert_eq!(
        lines[3]["who"], "desk",
        "a forged command names who it claimed"
    );
    // Journaled as security events: the kiosk raised its alarm for each.
    let until = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = reqwest::get(k.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let alarms = metrics
            .lines()
            .find(|l| l.starts_with("kioskd_security_alarms_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if alarms >= 8 {
            assert!(
                metrics.contains("kioskd_api_refusals_total{reason=\"forbidden\"} 2"),
                "{metrics}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "alarms {alarms}:\n{metrics}\n{}",
            k.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(broker);
}
