//! The customer's screen served by kioskd under `/screen/`: the page, its
//! Chinese view of the kiosk's real state, and its actions reaching the
//! kiosk through the same gate as the API's.

use crate::common;
use std::time::Duration;

use common::{client, get, login, screen, status_until, write_config, Kioskd};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kioskd_serves_the_customers_screen_and_takes_its_actions() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 300);
    let state = dir.path().join("state");
    let mut k = Kioskd::start(&config, &state);
    let c = client();
    let token = login(&c, &k, "wang").await;
    status_until(&c, &k, &token, |s| s["offered_methods"] == json!(["cash"])).await;

    let page = c.get(k.url("/screen/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html"), "{html}");

    // The page's view follows the kiosk: the welcome screen, in Chinese.
    let (code, view) = get(&c, &k.url("/screen/api/view?lang=zh"), None).await;
    assert_eq!(code, 200, "{view}");
    let text = view.to_string();
    assert!(
        text.contains("现金"),
        "the welcome offers cash, in Chinese: {view}"
    );

    // A customer's action on the page starts a session on the kiosk.
    let enter = c
        .post(k.url("/screen/api/action"))
        .json(&json!({"action": "enter-account", "account": "1001"}))
        .send()
        .await
        .unwrap();
    assert!(enter.status().is_success(), "{}", enter.status());
    status_until(&c, &k, &token, |s| screen(s) == "confirm-account").await;
    let (_, view): (u16, Value) = get(&c, &k.url("/screen/api/view?lang=zh"), None).await;
    assert_ne!(view, Value::Null);

    k.terminate();
    let exit = k.wait(Duration::from_secs(30));
    assert!(exit.success(), "{exit:?}\n{}", k.logs());
}
