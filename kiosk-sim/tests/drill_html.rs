//! The drills' HTML report (`kiosk-sim drill --html`): its structure, and
//! what a real headless Chromium makes of it.
//!
//! The browser test drives Debian's chromium over WebDriver (chromedriver),
//! as kiosk-screen's browser test does, loads the report from a `file://`
//! URL, checks that every chart is an SVG the browser lays out with a
//! non-zero size and that its Chinese labels get a width, and saves
//! `drill-report.png` in `$KIOSK_SCREENSHOTS` (default `target/screenshots`).
//! Without chromium or chromedriver it prints `SKIPPED: …` and passes,
//! unless `CI` is set: CI installs them (`.ci/run`), so there it fails.
#![forbid(unsafe_code)]

use kiosk_sim::drill::html::render;
use kiosk_sim::drill::{builtin, run_drill, DrillReport, Scenario};
use kiosk_testkit::fantoccini::Locator;
use serde_json::json;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// HTML elements that have no closing tag.
const VOID: &[&str] = &[
    "meta", "br", "hr", "img", "input", "link", "area", "base", "col", "source", "wbr",
];

/// Checks that every tag in `html` is closed in order (SVG's `<x/>` closes
/// itself, `VOID` elements need no close) and returns the opening tags'
/// names in document order. An unescaped `<` in text shows up as a stray
/// tag and breaks the nesting.
fn tags(html: &str) -> Vec<String> {
    let mut open: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest
            .find('>')
            .unwrap_or_else(|| panic!("unclosed '<' before: {:.80}", rest));
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            let top = open.pop();
            assert_eq!(
                top.as_deref(),
                Some(name.as_str()),
                "</{name}> closes {top:?}"
            );
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(!name.is_empty(), "not a tag: <{tag}>");
        seen.push(name.clone());
        if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "never closed: {open:?}");
    seen
}

/// A kiosk drill (renamed to an id with markup in it), and a site drill.
fn runs() -> Vec<(Scenario, DrillReport)> {
    let mut jam = builtin("bill-jam").expect("bill-jam");
    jam.id = "bill-jam<b>&\"x\"".into();
    let site = builtin("spare-switchover").expect("spare-switchover");
    [(jam, 3), (site, 5)]
        .into_iter()
        .map(|(s, seed)| {
            let r = run_drill(&s, seed).expect("the drill runs");
            (s, r)
        })
        .collect()
}

#[test]
fn the_report_has_a_section_with_a_chart_seed_and_reproduce_command_per_drill() {
    let runs = runs();
    let refs: Vec<(&Scenario, &DrillReport)> = runs.iter().map(|(s, r)| (s, r)).collect();
    let html = render(&refs);
    let names = tags(&html);
    assert_eq!(names.first().map(String::as_str), Some("html"));
    assert!(
        !names
            .iter()
            .any(|n| n == "script" || n == "link" || n == "img"),
        "no external assets"
    );
    assert!(!html.contains("<b>&"), "the id's markup is escaped");
    let sections: Vec<&str> = html.split("<section ").skip(1).collect();
    assert_eq!(sections.len(), 2);
    for ((_, report), section) in runs.iter().zip(&sections) {
        let svgs = section.matches("<svg").count();
        assert!(svgs >= 1, "{}: {svgs} charts", report.id);
        assert!(section.contains(&format!("data-seed=\"{}\"", report.seed)));
        assert!(section.contains(&format!("<dd class=\"seed\">{}</dd>", report.seed)));
        // An id a shell would misread is quoted, as the CLI prints it.
        let id = if report
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            report.id.clone()
        } else {
            format!("'{}'", report.id)
        };
        let command = format!("kiosk-sim drill {id} --seed {}", report.seed);
        assert_eq!(report.reproduce_command(), command);
        let escaped = command
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        assert!(
            section.contains(&format!("<code class=\"reproduce\">{escaped}</code>")),
            "{}: reproduce command",
            report.id
        );
        for e in &report.expectations {
            let mark = if e.passed { "通过 ok" } else { "失败 FAIL" };
            assert!(section.contains(mark), "{}: {}", report.id, e.expectation);
        }
    }
    let (jam, site) = (sections[0], sections[1]);
    assert!(
        jam.contains("bill-jam&lt;b&gt;&amp;&quot;x&quot;"),
        "escaped id"
    );
    assert!(jam.contains("检测 detected") && jam.contains("告知顾客 customer told"));
    assert!(jam.contains("资金 money: 成立 holds"), "money line");
    // The site drill: its timeline plus the waiting-time and queue charts.
    assert!(site.matches("<svg").count() >= 3, "site charts");
    assert!(site.contains("备机接客 spare takes customers"));
    assert!(site.contains("not modelled by the site simulation"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_draws_every_chart_of_the_report() -> Result<(), Error> {
    let Some(browser) =
        kiosk_testkit::Browser::start("the report's browser test", 1100, 1400, "zh-CN").await?
    else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("drill-report.html");
    // The drills (and the report, which runs them again) run their own
    // runtimes: off this one.
    let path = file.clone();
    let runs = tokio::task::spawn_blocking(move || {
        let runs = runs();
        let refs: Vec<(&Scenario, &DrillReport)> = runs.iter().map(|(s, r)| (s, r)).collect();
        kiosk_sim::drill::html::write(&path, &refs).map(|()| runs)
    })
    .await??;
    let shots = kiosk_testkit::screenshot_dir()?;

    let client = browser.client.clone();
    let result = async {
        client.goto(&format!("file://{}", file.display())).await?;
        let title = client.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(title, "应急演练报告 Contingency drill report");
        let seen = client
            .execute(
                "return [...document.querySelectorAll('section.drill')].map(s => ({
                   id: s.querySelector('.drill-id').textContent,
                   seed: s.dataset.seed,
                   reproduce: s.querySelector('.reproduce').textContent,
                   svgs: [...s.querySelectorAll('svg')].map(v => {
                     const r = v.getBoundingClientRect();
                     return [r.width, r.height];
                   }),
                   zhText: Math.max(...[...s.querySelectorAll('svg text')]
                     .filter(t => /[\\u4e00-\\u9fff]/.test(t.textContent))
                     .map(t => t.getBBox().width)),
                 }));",
                vec![],
            )
            .await?;
        let sections = seen.as_array().ok_or("a list of sections")?;
        assert_eq!(sections.len(), runs.len(), "{seen}");
        for ((_, report), s) in runs.iter().zip(sections) {
            assert_eq!(s["id"], json!(report.id), "{s}");
            assert_eq!(s["seed"], json!(report.seed.to_string()), "{s}");
            assert_eq!(s["reproduce"], json!(report.reproduce_command()), "{s}");
            let svgs = s["svgs"].as_array().ok_or("svg boxes")?;
            assert!(!svgs.is_empty(), "{}: no chart", report.id);
            for b in svgs {
                let (w, h) = (b[0].as_f64().unwrap_or(0.0), b[1].as_f64().unwrap_or(0.0));
                assert!(w > 100.0 && h > 100.0, "{}: a chart of {w}x{h}", report.id);
            }
            assert!(
                s["zhText"].as_f64().unwrap_or(0.0) > 10.0,
                "{}: Chinese chart labels are laid out: {s}",
                report.id
            );
        }
        // The whole page in one picture: the viewport as tall as the page.
        let height = client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await?
            .as_u64()
            .unwrap_or(1400) as u32;
        client
            .set_window_size(1100, height.clamp(800, 12_000) + 140)
            .await?;
        let png = client.screenshot().await?;
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(shots.join("drill-report.png"), png)?;
        Ok::<(), Error>(())
    }
    .await;
    client.close().await?;
    result
}
