//! `HttpLink::identity()`: the endpoint, and the subject of the server
//! certificate seen on the last answer (the wire contract has no service
//! name or version).

use crate::support;
use kiosk_billing::FaultPlan;
use kiosk_hal::{DeviceProtocol, NetworkLink};
use kiosk_http::HttpLink;
use support::Rig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_names_its_endpoint_and_after_an_answer_the_server_certificate() {
    let rig = Rig::start(false, FaultPlan::default()).await;
    let config = rig.link_config();
    let mut link = HttpLink::new(&config).unwrap();
    let before = link.identity().await.unwrap();
    assert_eq!(before.protocol, DeviceProtocol::Https);
    assert_eq!(before.model.as_deref(), Some(link.base_url().as_str()));
    assert_eq!(before.manufacturer, None, "no answer seen yet");
    link.heartbeat().await.unwrap();
    let after = link.identity().await.unwrap();
    // The test PKI's server certificate: CN = its first name.
    assert_eq!(after.manufacturer.as_deref(), Some("CN=127.0.0.1"));
    assert!(after.model.unwrap().starts_with("https://127.0.0.1:"));
}
