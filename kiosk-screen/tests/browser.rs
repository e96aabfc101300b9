//! The customer's screen in a real headless Chromium, driven over
//! WebDriver (chromedriver), against a kiosk on virtual devices in real
//! time: a whole cash payment, a QR payment and a printer fault, with the
//! Chinese text asserted on every screen, the language switch, both
//! orientations and a PNG of every screen in `$KIOSK_SCREENSHOTS`
//! (default `target/screenshots`).
//!
//! Skipped, saying so, when chromium or chromedriver is not installed
//! (Debian: `apt-get install chromium chromium-driver`; `.ci/run` does it).
#![forbid(unsafe_code)]

#[path = "../examples/screen_demo/rig.rs"]
#[allow(dead_code)]
mod rig;

use std::path::PathBuf;
use std::time::Duration;

use kiosk_hal::{Currency, Money};
use kiosk_testkit::fantoccini::{Client, Locator};
use serde_json::json;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Page {
    client: Client,
    shots: PathBuf,
}

impl Page {
    async fn attr(&self, css: &str, name: &str) -> Result<Option<String>, Error> {
        Ok(self
            .client
            .find(Locator::Css(css))
            .await?
            .attr(name)
            .await?)
    }

    /// Sizes the window so that the page's viewport is `width` × `height`
    /// (the window's own frame is measured and added).
    async fn viewport(&self, width: u32, height: u32) -> Result<(), Error> {
        self.client.set_window_size(width, height).await?;
        let frame = self
            .client
            .execute(
                "return [outerWidth - innerWidth, outerHeight - innerHeight];",
                vec![],
            )
            .await?;
        let dx = frame[0].as_u64().unwrap_or(0) as u32;
        let dy = frame[1].as_u64().unwrap_or(0) as u32;
        self.client.set_window_size(width + dx, height + dy).await?;
        let inner = self
            .client
            .execute("return [innerWidth, innerHeight];", vec![])
            .await?;
        assert_eq!(inner, json!([width, height]), "the viewport");
        Ok(())
    }

    async fn text(&self, css: &str) -> Result<String, Error> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    /// Waits until the page shows `screen` and its text contains every one of `texts`.
    async fn expect(&self, screen: &str, texts: &[&str]) -> Result<String, Error> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let shown = self.attr("#main", "data-screen").await?.unwrap_or_default();
            let body = self.text("#main").await?;
            if shown == screen && texts.iter().all(|t| body.contains(t)) {
                return Ok(body);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "expected screen {screen} with {texts:?}; shows {shown}: {body}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) -> Result<(), Error> {
        self.client.find(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    async fn shot(&self, name: &str) -> Result<(), Error> {
        let png = self.client.screenshot().await?;
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png)?;
        Ok(())
    }

    async fn type_account(&self, account: &str) -> Result<(), Error> {
        for d in account.chars() {
            self.click(&format!("#keys button[data-key=\"{d}\"]"))
                .await?;
        }
        assert_eq!(self.text("#digits").await?, account);
        Ok(())
    }

    /// Every visible control is a large touch target and nothing spills
    /// out of the viewport.
    async fn check_layout(&self, what: &str) -> Result<(), Error> {
        let r = self
            .client
            .execute(
                "const b = [...document.querySelectorAll('button')].filter(e => e.offsetParent !== null)
                   .map(e => e.getBoundingClientRect());
                 return { n: b.length, minH: Math.min(...b.map(r => r.height)), minW: Math.min(...b.map(r => r.width)),
                          overflowX: document.documentElement.scrollWidth > innerWidth,
                          overflowY: document.documentElement.scrollHeight > innerHeight,
                          w: innerWidth, h: innerHeight };",
                vec![],
            )
            .await?;
        assert!(r["n"].as_u64().unwrap_or(0) > 0, "{what}: buttons {r}");
        assert!(
            r["minH"].as_f64().unwrap_or(0.0) >= 96.0,
            "{what}: touch targets {r}"
        );
        assert!(
            r["minW"].as_f64().unwrap_or(0.0) >= 96.0,
            "{what}: touch targets {r}"
        );
        assert_eq!(r["overflowX"], json!(false), "{what}: {r}");
        assert_eq!(r["overflowY"], json!(false), "{what}: {r}");
        Ok(())
    }

    /// Presses Done on a held outcome and waits for the welcome screen.
    async fn done(&self) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self
            .client
            .find(Locator::Id("dismiss"))
            .await?
            .is_displayed()
            .await?
        {
            assert!(tokio::time::Instant::now() < deadline, "no Done button");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(self.text("#dismiss").await?, "完成");
        self.click("#dismiss").await?;
        self.expect("welcome", &["欢迎使用自助缴费"]).await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_pays_cash_and_by_code_and_meets_a_printer_fault_in_chromium(
) -> Result<(), Error> {
    let Some(browser) =
        kiosk_testkit::Browser::start("the browser test", 1080, 1920, "zh-CN").await?
    else {
        return Ok(());
    };
    let demo = rig::start("127.0.0.1:0".parse()?)?;
    let page = Page {
        client: browser.client.clone(),
        shots: kiosk_testkit::screenshot_dir()?,
    };
    let result = drive(&page, &demo).await;
    browser.close().await?;
    result
}

async fn drive(page: &Page, demo: &rig::Demo) -> Result<(), Error> {
    let cny = |v| Money::major(v, Currency::CNY);
    page.client.goto(&demo.url).await?;
    page.viewport(1080, 1920).await?;

    // Welcome, portrait and landscape; the language switch.
    page.expect(
        "welcome",
        &[
            "欢迎使用自助缴费",
            "可用缴费方式：现金、付款码",
            "请输入缴费号码",
        ],
    )
    .await?;
    assert_eq!(page.attr("html", "lang").await?.as_deref(), Some("zh-CN"));
    page.check_layout("welcome portrait").await?;
    page.shot("01-welcome-portrait").await?;
    page.viewport(1920, 1080).await?;
    page.check_layout("welcome landscape").await?;
    page.shot("02-welcome-landscape").await?;
    page.viewport(1080, 1920).await?;
    page.click("#lang").await?;
    page.expect(
        "welcome",
        &["Welcome", "Ways to pay now: Cash, Payment code"],
    )
    .await?;
    assert_eq!(page.text("#lang").await?, "中文");
    page.shot("03-welcome-english").await?;
    page.click("#lang").await?;
    page.expect("welcome", &["欢迎使用自助缴费"]).await?;

    // A whole cash payment.
    page.type_account("13800000001").await?;
    page.shot("04-keypad").await?;
    page.click("#keys button[data-key=\"ok\"]").await?;
    page.expect(
        "confirm-account",
        &[
            "请核对账户信息",
            "户名：张*",
            "应缴金额：70.00 元",
            "账户余额：-70.00 元",
        ],
    )
    .await?;
    page.check_layout("confirm portrait").await?;
    page.shot("05-confirm-account").await?;
    page.click("button[data-method=\"cash\"]").await?;
    page.expect(
        "insert-notes",
        &[
            "请逐张投入纸币",
            "可接收面额：10.00 元、20.00 元、50.00 元、100.00 元",
            "已投金额：0.00 元",
        ],
    )
    .await?;
    page.shot("06-insert-notes").await?;
    demo.slot.insert_note(cny(50), true)?;
    let body = page
        .expect("note-accepted", &["已收到 50.00 元", "已投金额：50.00 元"])
        .await?;
    assert!(
        body.contains("秒内无新纸币投入"),
        "the idle countdown shows: {body}"
    );
    page.shot("07-note-accepted").await?;
    demo.slot.insert_note(cny(20), true)?;
    page.expect("note-accepted", &["已收到 20.00 元", "已投金额：70.00 元"])
        .await?;
    page.click("button[data-action=\"confirm\"]").await?;
    page.expect(
        "payment-success",
        &[
            "缴费成功",
            "缴费金额：70.00 元",
            "账户余额：0.00 元",
            "交易凭证号：K01-",
        ],
    )
    .await?;
    page.shot("08-payment-success").await?;
    page.done().await?;
    assert_eq!(demo.printer.receipts().len(), 1, "the receipt printed");

    // A QR payment.
    page.type_account("13800000002").await?;
    page.click("#keys button[data-key=\"ok\"]").await?;
    page.expect("confirm-account", &["户名：李**", "应缴金额：30.00 元"])
        .await?;
    page.click("button[data-method=\"code\"]").await?;
    page.expect(
        "present-code",
        &["请出示付款码", "扣款金额：30.00 元", "秒后返回首页"],
    )
    .await?;
    page.shot("09-present-code").await?;
    demo.window.present_code("12");
    page.expect("code-unreadable", &["未能识别付款码，请重新出示"])
        .await?;
    page.shot("10-code-unreadable").await?;
    demo.window.present_code(rig::DEMO_CODE);
    page.expect("payment-success", &["缴费成功", "缴费金额：30.00 元"])
        .await?;
    page.shot("11-code-payment-success").await?;
    page.done().await?;
    assert_eq!(demo.printer.receipts().len(), 2);

    // A printer fault: the welcome screen says what it means and where else to go.
    demo.printer.load_paper(0);
    page.expect("welcome", &["凭据打印机故障，缴费后不能打印凭据"])
        .await?;
    page.shot("12-printer-fault-welcome").await?;
    page.type_account("13800000001").await?;
    page.click("#keys button[data-key=\"ok\"]").await?;
    page.expect("confirm-account", &["户名：张*"]).await?;
    page.click("button[data-method=\"cash\"]").await?;
    page.expect("insert-notes", &["请逐张投入纸币"]).await?;
    demo.slot.insert_note(cny(100), true)?;
    page.expect("note-accepted", &["已收到 100.00 元"]).await?;
    page.click("button[data-action=\"confirm\"]").await?;
    page.expect(
        "receipt-unavailable",
        &[
            "缴费凭据未能打印",
            "缴费金额：100.00 元",
            "账户余额：100.00 元",
            "交易凭证号：K01-",
            "补打凭据",
        ],
    )
    .await?;
    page.check_layout("receipt unavailable").await?;
    page.shot("13-receipt-unavailable").await?;
    // Done, timed in the page: press → POST → state → SSE → drawn.
    let latency = page
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const main = document.getElementById('main');
             const t0 = performance.now();
             new MutationObserver((_, obs) => {
               if (main.dataset.screen === 'welcome') { obs.disconnect(); done(performance.now() - t0); }
             }).observe(main, { attributes: true });
             document.getElementById('dismiss').click();",
            vec![],
        )
        .await?;
    let latency_ms = latency.as_f64().unwrap_or(f64::MAX);
    eprintln!("screen update latency (Done pressed to welcome drawn): {latency_ms:.1} ms");
    assert!(latency_ms < 1_000.0, "{latency_ms} ms");
    page.expect("welcome", &["欢迎使用自助缴费"]).await?;
    demo.printer.load_paper(10_000);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while page.text("#main").await?.contains("凭据打印机故障") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fault notice goes when the printer is fixed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    page.shot("14-printer-fixed-welcome").await?;
    assert_eq!(
        demo.printer.receipts().len(),
        2,
        "nothing printed while out of paper"
    );
    assert_eq!(
        demo.backend.credited_total(kiosk_hal::PaymentMethod::Cash),
        cny(170)
    );
    assert_eq!(
        demo.backend.credited_total(kiosk_hal::PaymentMethod::Code),
        cny(30)
    );
    Ok(())
}
