//! The broker set up as the README says for a hall: TLS only, a password
//! per kiosk, and an ACL that keeps each kiosk to its own topics. A real
//! `kioskd` reaches it over TLS with its own login; the hall service
//! follows over TLS; a client logged in as kiosk K01 cannot publish as
//! K02 nor read K02's commands; a wrong password and a plain-TCP client
//! are turned away. Certificates made in the test with rcgen.
#![forbid(unsafe_code)]

use crate::{common, fleet_common, mosquitto};
use std::path::Path;
use std::time::Duration;

use fleet_common::{client, drain, live_client, start_hall, state_of, write_fleet_config};
use kiosk_fleet::broker::BrokerConfig;
use kiosk_fleet::messages::{Offline, StatusMessage};
use kiosk_fleet::rumqttc::QoS;
use kiosk_fleet::topics::{Channel, HallTopics};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// The hall's ACL (the README's): each kiosk writes under its own branch
/// and reads only its own commands; the hall reads everything and writes
/// commands.
pub const ACL: &str = "\
# every kiosk: its login is its kiosk id (%u)
pattern write kiosk/v1/H1/%u/status
pattern write kiosk/v1/H1/%u/ticket
pattern write kiosk/v1/H1/%u/event
pattern write kiosk/v1/H1/%u/cmd/result
pattern read kiosk/v1/H1/%u/cmd

# the hall service and the operations desk
user hall
topic read kiosk/v1/H1/#
topic write kiosk/v1/H1/+/cmd
";

/// A CA (PEM file) and a server certificate and key for 127.0.0.1.
fn certificates(dir: &Path) -> (std::path::PathBuf, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    (ca_path, leaf.pem(), key.serialize_pem())
}

fn login(address: &str, ca: &Path, user: &str, password: &str) -> BrokerConfig {
    BrokerConfig {
        username: Some(user.into()),
        password: Some(password.into()),
        ca_file: Some(ca.to_path_buf()),
        ..BrokerConfig::plain(address)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_per_kiosk_logins_keep_each_kiosk_to_its_own_topics() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let users = [("K01", "pw-K01"), ("K02", "pw-K02"), ("hall", "pw-hall")];
    let setup = mosquitto::Setup {
        tls: Some((cert, key)),
        users: users
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect(),
        acl: Some(ACL.into()),
        port: None,
    };
    let Some(broker) = mosquitto::Mosquitto::start(&setup) else {
        return;
    };
    let address = broker.address();
    let topics = HallTopics::new("H1").unwrap();

    // kioskd K01 over TLS with its own login (password in a file).
    let pw = dir.path().join("k01.pw");
    std::fs::write(&pw, "pw-K01\n").unwrap();
    let fleet = format!(
        "[fleet]\nhall = \"H1\"\n[fleet.broker]\naddress = \"{address}\"\nusername = \"K01\"\n\
         password-file = \"{}\"\nca-file = \"{}\"\n",
        pw.display(),
        ca.display()
    );
    let kdir = dir.path().join("K01");
    std::fs::create_dir_all(&kdir).unwrap();
    let config = write_fleet_config(&kdir, "K01", &fleet);
    let _k1 = common::Kioskd::start(&config, &kdir.join("state"));
    let hall = start_hall(login(&address, &ca, "hall", "pw-hall"), "H1").await;
    hall.until("K01 over TLS", Duration::from_secs(30), |v| {
        state_of(v, "K01") == "in-service"
    })
    .await;

    // K02 (a plain client standing in for it) says it is in service.
    let (k2, _k2_events) = live_client(&login(&address, &ca, "K02", "pw-K02"), "K02-stand-in", &[])
        .await
        .unwrap();
    let k01_status = hall
        .state
        .lock()
        .kiosks()
        .get("K01")
        .and_then(|e| e.status.clone())
        .unwrap();
    let mut k02_status = k01_status.clone();
    k02_status.kiosk_id = "K02".into();
    k2.publish(
        topics.topic("K02", Channel::Status),
        QoS::AtLeastOnce,
        true,
        StatusMessage::Online(k02_status).to_payload(),
    )
    .await
    .unwrap();
    hall.until("K02 in service", Duration::from_secs(10), |v| {
        state_of(v, "K02") == "in-service"
    })
    .await;

    // A client logged in as K01 tries to pass for K02: offline, and reads
    // K02's commands. A watcher with the hall's login sees every message.
    let (_watcher, mut seen) = live_client(
        &login(&address, &ca, "hall", "pw-hall"),
        "watcher",
        &["kiosk/v1/H1/#".to_string()],
    )
    .await
    .unwrap();
    drain(&mut seen, Duration::from_millis(500)).await; // the retained ones
    let (rogue, mut rogue_events) = live_client(
        &login(&address, &ca, "K01", "pw-K01"),
        "K01-rogue",
        &[topics.topic("K02", Channel::Command)],
    )
    .await
    .unwrap();
    let forged = StatusMessage::Offline(Offline {
        kiosk_id: "K02".into(),
        clean: false,
        at_ms: None,
    });
    rogue
        .publish(
            topics.topic("K02", Channel::Status),
            QoS::AtLeastOnce,
            true,
            forged.to_payload(),
        )
        .await
        .unwrap();
    // Its own branch works (the control): this one arrives.
    rogue
        .publish(
            topics.topic("K01", Channel::Event),
            QoS::AtLeastOnce,
            false,
            b"{}".to_vec(),
        )
        .await
        .unwrap();
    let topics_seen: Vec<String> = drain(&mut seen, Duration::from_millis(1500))
        .await
        .into_iter()
        .map(|(topic, _)| topic)
        .collect();
    assert!(
        topics_seen.contains(&topics.topic("K01", Channel::Event)),
        "the control message: {topics_seen:?}"
    );
    assert!(
        !topics_seen.contains(&topics.topic("K02", Channel::Status)),
        "K01 published as K02: {topics_seen:?}"
    );
    assert_eq!(state_of(&hall.view().await, "K02"), "in-service");
    // The hall's command to K02 does not reach a K01 login.
    let (desk, _desk_events) = live_client(&login(&address, &ca, "hall", "pw-hall"), "desk", &[])
        .await
        .unwrap();
    desk.publish(
        topics.topic("K02", Channel::Command),
        QoS::AtLeastOnce,
        false,
        b"{}".to_vec(),
    )
    .await
    .unwrap();
    let leaked = drain(&mut rogue_events, Duration::from_millis(1500)).await;
    assert!(leaked.is_empty(), "K01 read K02's command: {leaked:?}");

    // A wrong password, and plain TCP on the TLS port, are turned away.
    assert!(client(&login(&address, &ca, "K02", "wrong"), "bad-pw", &[])
        .await
        .is_err());
    let plain = BrokerConfig {
        username: Some("K02".into()),
        password: Some("pw-K02".into()),
        ..BrokerConfig::plain(&address)
    };
    assert!(client(&plain, "no-tls", &[]).await.is_err());
    drop(broker);
}
