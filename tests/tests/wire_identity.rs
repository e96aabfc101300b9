//! Each serial driver reads the device's identity through the real bytes of
//! its protocol: driver and pty emulator, in real time. What the driver
//! reports must be what the emulator was configured to answer.

use std::time::Duration;

use kiosk_hal::drivers::ccnet::{CcnetAcceptor, CcnetConfig};
use kiosk_hal::drivers::cctalk::{CctalkAcceptor, CctalkConfig};
use kiosk_hal::drivers::id003::{Id003Acceptor, Id003Config};
use kiosk_hal::drivers::ssp::{SspAcceptor, SspConfig};
use kiosk_hal::{BillAcceptor, CashBox, DeviceIdentity, DeviceProtocol};
use kiosk_sim::emulators::{
    CcnetEmulator, CcnetEmulatorConfig, CctalkEmulator, CctalkEmulatorConfig, CctalkIdentity,
    Id003Emulator, Id003EmulatorConfig, SspEmulator, SspEmulatorConfig,
};

/// Waits (at most 5 s) until `running` says the driver finished set-up.
async fn until_running(running: impl Fn() -> bool) {
    for _ in 0..500 {
        if running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the driver did not finish set-up in 5 s");
}

#[tokio::test]
async fn id003_reads_the_version_line_the_emulator_answers() {
    let dir = tempfile::tempdir().unwrap();
    let version = "i(CHN)100-SS ID003-05V213-07 09SEP21";
    let emu = Id003Emulator::start(
        dir.path().join("id003"),
        &Id003EmulatorConfig {
            version: version.into(),
            ..Id003EmulatorConfig::default()
        },
    )
    .unwrap();
    let mut acceptor = Id003Acceptor::open(&Id003Config {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..Id003Config::for_port(emu.path())
    })
    .unwrap();
    until_running(|| acceptor.is_running()).await;
    let id = acceptor.identity().await.unwrap();
    assert_eq!(
        id,
        DeviceIdentity {
            model: Some("i(CHN)100-SS".into()),
            firmware: Some("ID003-05V213-07 09SEP21".into()),
            country: Some("CHN".into()),
            ..DeviceIdentity::of(DeviceProtocol::Id003)
        }
    );
    assert_eq!(acceptor.cash_box().identity().await.unwrap(), id);
}

#[tokio::test]
async fn id003_emulator_defaults_to_a_china_dataset_line() {
    let dir = tempfile::tempdir().unwrap();
    let emu =
        Id003Emulator::start(dir.path().join("id003"), &Id003EmulatorConfig::default()).unwrap();
    let mut acceptor = Id003Acceptor::open(&Id003Config {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..Id003Config::for_port(emu.path())
    })
    .unwrap();
    until_running(|| acceptor.is_running()).await;
    let id = acceptor.identity().await.unwrap();
    assert_eq!(id.country.as_deref(), Some("CHN"));
    assert_eq!(
        id.model.as_deref(),
        kiosk_sim::emulators::ID003_DEFAULT_VERSION
            .split(' ')
            .next()
    );
}

#[tokio::test]
async fn ssp_reads_setup_and_serial_number() {
    let dir = tempfile::tempdir().unwrap();
    let emu = SspEmulator::start(
        dir.path().join("ssp"),
        &SspEmulatorConfig {
            serial_number: 4_880_564,
            ..SspEmulatorConfig::default()
        },
    )
    .unwrap();
    let mut acceptor = SspAcceptor::open(&SspConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 150,
        reset_grace_ms: 2000,
        ..SspConfig::for_port(emu.path())
    })
    .unwrap();
    until_running(|| acceptor.is_running()).await;
    let id = acceptor.identity().await.unwrap();
    assert_eq!(id.protocol, DeviceProtocol::Ssp);
    assert_eq!(id.serial.as_deref(), Some("4880564"));
    assert_eq!(id.model.as_deref(), Some("Banknote validator"));
    assert_eq!(id.country.as_deref(), Some("CNY"));
    assert!(id.firmware.is_some(), "{id:?}");
    assert_eq!(acceptor.cash_box().identity().await.unwrap(), id);
}

#[tokio::test]
async fn ccnet_reads_part_and_serial_number() {
    let dir = tempfile::tempdir().unwrap();
    let emu = CcnetEmulator::start(
        dir.path().join("ccnet"),
        &CcnetEmulatorConfig {
            part_number: "SM-CN1501".into(),
            serial_number: "41K012345678".into(),
            ..CcnetEmulatorConfig::default()
        },
    )
    .unwrap();
    let mut acceptor = CcnetAcceptor::open(&CcnetConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..CcnetConfig::for_port(emu.path())
    })
    .unwrap();
    until_running(|| acceptor.is_running()).await;
    assert_eq!(
        acceptor.identity().await.unwrap(),
        DeviceIdentity {
            model: Some("SM-CN1501".into()),
            serial: Some("41K012345678".into()),
            ..DeviceIdentity::of(DeviceProtocol::Ccnet)
        }
    );
}

#[tokio::test]
async fn cctalk_reads_the_core_identity_headers() {
    let dir = tempfile::tempdir().unwrap();
    let emu = CctalkEmulator::start(
        dir.path().join("cctalk"),
        &CctalkEmulatorConfig {
            identity: CctalkIdentity {
                manufacturer: "ITL".into(),
                product: "NV9USB".into(),
                serial_number: 0x12_3456,
                software_revision: "4.20".into(),
            },
            ..CctalkEmulatorConfig::default()
        },
    )
    .unwrap();
    let mut acceptor = CctalkAcceptor::open(&CctalkConfig {
        poll_interval_ms: 40,
        answer_timeout_ms: 250,
        ..CctalkConfig::for_port(emu.path())
    })
    .unwrap();
    until_running(|| acceptor.is_running()).await;
    assert_eq!(
        BillAcceptor::identity(&mut acceptor).await.unwrap(),
        DeviceIdentity {
            manufacturer: Some("ITL".into()),
            model: Some("NV9USB".into()),
            firmware: Some("4.20".into()),
            serial: Some(0x12_3456.to_string()),
            ..DeviceIdentity::of(DeviceProtocol::Cctalk)
        }
    );
    assert_eq!(
        acceptor
            .cash_box()
            .identity()
            .await
            .unwrap()
            .serial
            .as_deref(),
        Some("1193046")
    );
}
