//! The drills' report as one self-contained HTML page (`kiosk-sim drill
//! --html FILE`): per drill its result, seed, reproduce command,
//! expectations, money line and a timeline chart; site drills add their
//! waiting-time, queue and fault charts.
//!
//! One file, no external assets: the CSS is inline and every chart is an
//! inline SVG drawn by plotters. Every text that comes from a drill (ids,
//! titles, expectations, events) goes through [`escape`].
//!
//! A [`DrillReport`] holds results, not the trace or the site model's
//! figures, so the page runs each drill once more with its seed (drills are
//! deterministic; the kiosk trace's hash is compared with the report's and
//! a mismatch is shown) and draws from that run.

mod chart;
mod site;
mod timeline;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::report::{duration, DrillReport, InvariantReport};
use super::run::run_once;
use super::scenario::Scenario;
use super::trace::{event_json, trace_hash};

/// A chart with its caption: the SVG, or why it could not be drawn.
pub(crate) struct Figure {
    caption: String,
    svg: Result<String, String>,
}

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by their entities: safe
/// in element content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's style: a CJK font first for the Chinese text, in the charts too.
const CSS: &str = r#"
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       margin: 0 auto; max-width: 1000px; padding: 16px; color: #222; background: #fafafa; }
svg text { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; }
h1 { font-size: 1.6em; }
span.en { color: #666; font-size: 0.9em; }
section.drill { background: #fff; border: 1px solid #ddd; border-left: 6px solid #2c7; border-radius: 4px;
                margin: 24px 0; padding: 8px 16px; }
section.drill.fail { border-left-color: #d22; }
.verdict { font-weight: bold; padding: 2px 8px; border-radius: 3px; color: #fff; background: #2a6; }
.fail .verdict, td.fail { background: #c22; color: #fff; }
td.pass { background: #2a6; color: #fff; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
code { background: #f1f1f1; padding: 1px 4px; border-radius: 3px; }
figure { margin: 12px 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption, .note { font-size: 0.9em; color: #555; }
.money.broken { color: #c22; font-weight: bold; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
"#;

fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// The money line, Chinese first; `None`: the drill's model journals no cash.
fn money_line(inv: Option<&InvariantReport>) -> String {
    let Some(i) = inv else {
        return "<p class=\"money\">资金 money: 站点模拟不记录现金，由各终端演练逐笔核对 \
                not modelled by the site simulation (the kiosk drills check every session's cash)</p>\n"
            .to_string();
    };
    let mut s = format!(
        "<p class=\"money{}\">资金 money: {} 钱箱 box {} = 已入账 credited {} + 待定 pending {} + 拒收 refused {} \
         （日志在箱 journal in box {}，存疑 in doubt {} / {} 张 notes）；后台入账 backend credited {}，\
         同一键最多入账 max applies per key {}</p>\n",
        if i.holds { "" } else { " broken" },
        if i.holds { "成立 holds" } else { "不成立 BROKEN" },
        money(i.physical_box),
        money(i.credited),
        money(i.pending),
        money(i.refused),
        money(i.journal_in_box),
        money(i.in_doubt),
        i.in_doubt_notes,
        money(i.backend_credited),
        i.max_applies_per_key,
    );
    for v in &i.violations {
        let _ = writeln!(
            s,
            "<p class=\"money broken\">违反 violation: {}</p>",
            escape(v)
        );
    }
    s
}

fn figure(out: &mut String, f: &Figure) {
    match &f.svg {
        // plotters escapes the text it writes into the SVG.
        Ok(svg) => {
            let _ = writeln!(
                out,
                "<figure>{svg}<figcaption>{}</figcaption></figure>",
                escape(&f.caption)
            );
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "<p class=\"note\">图表未能绘制 chart not drawn ({}): {}</p>",
                escape(&f.caption),
                escape(e)
            );
        }
    }
}

/// The section of one drill run.
fn section(n: usize, scenario: &Scenario, report: &DrillReport) -> String {
    let mut s = String::new();
    let class = if report.passed { "pass" } else { "fail" };
    let verdict = if report.passed {
        "通过 PASS"
    } else {
        "失败 FAIL"
    };
    let _ = writeln!(
        s,
        "<section class=\"drill {class}\" id=\"run-{n}\" data-drill=\"{}\" data-seed=\"{}\">",
        escape(&report.id),
        report.seed
    );
    let _ = writeln!(
        s,
        "<h2><span class=\"verdict\">{verdict}</span> <code class=\"drill-id\">{}</code> {} \
         <span class=\"en\">{}</span></h2>",
        escape(&report.id),
        escape(&report.title_zh),
        escape(&report.title)
    );
    let t = &report.timings;
    let time = |v: Option<u64>| v.map_or("-".to_string(), duration);
    let _ = writeln!(
        s,
        "<dl class=\"facts\"><dt>种子 seed</dt><dd class=\"seed\">{}</dd>\
         <dt>复现 reproduce</dt><dd><code class=\"reproduce\">{}</code></dd>\
         <dt>轨迹哈希 trace hash</dt><dd><code>{}</code> ({} 个事件 events, 模拟 simulated {})</dd>\
         <dt>用时 timings</dt><dd>故障 fault {} → 检测 detected +{} → 降级 fallback +{} → 解决 resolved +{}</dd></dl>",
        report.seed,
        escape(&report.reproduce_command()),
        escape(&report.trace_hash),
        report.events,
        duration(report.simulated_ms),
        time(t.fault_at_ms),
        time(t.detect_ms),
        time(t.fallback_ms),
        time(t.resolve_ms),
    );
    s.push_str(&money_line(report.invariant.as_ref()));
    s.push_str(
        "<table class=\"expectations\"><tr><th>结果 result</th><th>预期 expectation</th><th>实际 observed</th></tr>\n",
    );
    for e in &report.expectations {
        let (c, mark) = if e.passed {
            ("pass", "通过 ok")
        } else {
            ("fail", "失败 FAIL")
        };
        let _ = writeln!(
            s,
            "<tr><td class=\"{c}\">{mark}</td><td>{}<br><span class=\"en\">{}</span></td>\
             <td>{}<br><span class=\"en\">{}</span></td></tr>",
            escape(&e.expectation_zh),
            escape(&e.expectation),
            escape(&e.observed_zh),
            escape(&e.observed)
        );
    }
    s.push_str("</table>\n");
    match &scenario.site_drill {
        Some(drill) => {
            let p = site::pictures(&scenario.site, drill, report.seed, &report.id);
            figure(
                &mut s,
                &Figure {
                    caption: p.timeline.title.clone(),
                    svg: chart::timeline(&p.timeline),
                },
            );
            for f in &p.figures {
                figure(&mut s, f);
            }
            for note in &p.notes {
                let _ = writeln!(s, "<p class=\"note\">{}</p>", escape(note));
            }
        }
        None => kiosk_pictures(&mut s, scenario, report),
    }
    if let Some(detail) = &report.detail {
        let _ = writeln!(
            s,
            "<details><summary>详情 details</summary><pre>{}</pre></details>",
            escape(&detail.zh)
        );
    }
    s.push_str("</section>\n");
    s
}

/// A kiosk drill's timeline and its events, from a second run of the drill.
fn kiosk_pictures(s: &mut String, scenario: &Scenario, report: &DrillReport) {
    let run = match run_once(scenario, report.seed) {
        Ok(run) => run,
        Err(e) => {
            let _ = writeln!(
                s,
                "<p class=\"note\">无法重放以绘制时间线 could not replay the drill for its timeline: {}</p>",
                escape(&e.to_string())
            );
            return;
        }
    };
    let hash = format!("{:016x}", trace_hash(&run.trace));
    if hash != report.trace_hash {
        let _ = writeln!(
            s,
            "<p class=\"money broken\">重放轨迹不同 the replay's trace differs: {} vs {}</p>",
            escape(&hash),
            escape(&report.trace_hash)
        );
    }
    let m = timeline::Milestones::of(&report.timings, &run.trace);
    let t = timeline::kiosk_timeline(
        &format!("时间线 timeline — {}", report.id),
        &m,
        &run.trace,
        run.ended_at.0,
    );
    figure(
        s,
        &Figure {
            caption: t.title.clone(),
            svg: chart::timeline(&t),
        },
    );
    let _ = writeln!(
        s,
        "<details><summary>事件 events ({})</summary><table class=\"events\">\
         <tr><th>模拟时间 simulated time</th><th>事件 event</th><th>内容 details</th></tr>",
        run.trace.len()
    );
    for e in &run.trace {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&e.at.to_string()),
            escape(&timeline::tag(&e.event)),
            escape(&event_json(&e.event).to_string())
        );
    }
    s.push_str("</table></details>\n");
}

/// Every run's section, in order, drawn on every core (each replays its drill).
fn sections(runs: &[(&Scenario, &DrillReport)]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; runs.len()]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(runs.len()) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some((scenario, report)) = runs.get(n) else {
                    break;
                };
                let html = section(n, scenario, report);
                done.lock().unwrap_or_else(|p| p.into_inner())[n] = Some(html);
            });
        }
    });
    done.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// The whole page for `runs` (each drill run with the scenario it ran).
pub fn render(runs: &[(&Scenario, &DrillReport)]) -> String {
    let failed = runs.iter().filter(|(_, r)| !r.passed).count();
    let mut s =
        String::from("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str("<title>应急演练报告 Contingency drill report</title>\n<style>");
    s.push_str(CSS);
    s.push_str("</style>\n</head>\n<body>\n<h1>应急演练报告 Contingency drill report</h1>\n");
    let _ = writeln!(
        s,
        "<p class=\"summary\">{} 次演练 drill runs: {} 通过 passed, {} 失败 failed</p>",
        runs.len(),
        runs.len() - failed,
        failed
    );
    s.push_str("<table class=\"index\"><tr><th>演练 drill</th><th>结果 result</th><th>种子 seed</th></tr>\n");
    for (n, (_, r)) in runs.iter().enumerate() {
        let (c, mark) = if r.passed {
            ("pass", "通过 PASS")
        } else {
            ("fail", "失败 FAIL")
        };
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#run-{n}\">{}</a></td><td class=\"{c}\">{mark}</td><td>{}</td></tr>",
            escape(&r.id),
            r.seed
        );
    }
    s.push_str("</table>\n");
    for section in sections(runs) {
        s.push_str(&section);
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// Writes the page for `runs` to `path`.
pub fn write(path: &std::path::Path, runs: &[(&Scenario, &DrillReport)]) -> std::io::Result<()> {
    std::fs::write(path, render(runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_every_markup_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a> 检测"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; 检测"
        );
    }
}
