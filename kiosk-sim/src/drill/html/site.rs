//! Pictures of a site drill: the fleet's own reports, run again with the
//! drill's seed (the site model is deterministic), turned into charts.
//!
//! What the fleet's public reports offer is drawn; what they do not (a
//! per-kiosk queue length series, every customer's wait) is named in a
//! note on the page instead of being made up.

use super::chart::{GroupedBars, Mark, Row, Timeline};
use super::Figure;
use crate::drill::report::duration;
use crate::drill::site::SiteDrill;
use crate::fleet::{
    compare_guidance, fault_statistics, spare_switchover, FaultKind, SiteConfig, SiteReport, DAY_MS,
};

/// What a site drill adds to its section.
pub(super) struct SitePictures {
    /// The drill's timeline.
    pub timeline: Timeline,
    /// Further charts.
    pub figures: Vec<Figure>,
    /// What could not be drawn, and why.
    pub notes: Vec<String>,
}

/// The note for the per-kiosk queue chart the site model cannot feed yet.
pub(super) const NO_QUEUE_SERIES: &str = "各机全天排队长度：站点模型尚未公开每台机的排队序列，此处只画顾客加入时的排队人数分布。 \
     Queue length over the day per kiosk: the site model does not expose a per-kiosk queue series yet; \
     shown instead is the distribution of the queue length customers found on joining.";

/// A fault kind's name for people, Chinese first.
pub(super) fn kind_label(kind: FaultKind) -> String {
    let zh = match kind {
        FaultKind::BillJam => "卡币",
        FaultKind::AcceptorOffline => "识币器离线",
        FaultKind::CashBoxFull => "钱箱满",
        FaultKind::PrinterPaperOut => "打印机缺纸",
        FaultKind::PrinterJam => "打印机卡纸",
        FaultKind::ReaderFailure => "读码器故障",
        FaultKind::LinkDown => "网络中断",
        FaultKind::KioskCrash => "终端死机",
        FaultKind::DeviceDamaged => "设备损坏",
    };
    format!("{zh} {}", kind.name())
}

/// The four statistics of a summary, as chart groups.
const STATS: [&str; 4] = ["平均 mean", "中位 p50", "95分位 p95", "最长 max"];

/// A summary's statistics in [`STATS`] order (a macro: the fleet does not
/// export its summary type by name).
macro_rules! stats_of {
    ($s:expr) => {{
        let s = &$s;
        vec![s.mean, s.p50, s.p95, s.max]
    }};
}

fn bars(title: &str, y_desc: &str, series: Vec<(String, Vec<f64>)>) -> Figure {
    let chart = GroupedBars {
        title: title.to_string(),
        y_desc: y_desc.to_string(),
        groups: STATS.iter().map(|s| s.to_string()).collect(),
        series,
        target: None,
    };
    Figure {
        caption: title.to_string(),
        svg: super::chart::grouped_bars(&chart),
    }
}

/// Rows for the site's faults: one per kiosk that had any, each fault a
/// bar from its start to its resolution (or the run's end), plus the rush
/// hours and any spare in service.
fn fault_rows(config: &SiteConfig, report: &SiteReport) -> Vec<Row> {
    let mut rows = vec![Row {
        label: "高峰 rush hour".into(),
        marks: Vec::new(),
        spans: (0..u64::from(report.days))
            .map(|d| {
                (
                    d * DAY_MS + config.rush.start.ms,
                    d * DAY_MS + config.rush.end.ms,
                )
            })
            .collect(),
        milestone: false,
    }];
    let mut kiosks: Vec<&str> = report.tickets.iter().map(|t| t.kiosk.as_str()).collect();
    kiosks.sort_unstable();
    kiosks.dedup();
    for kiosk in kiosks {
        let tickets: Vec<_> = report.tickets.iter().filter(|t| t.kiosk == kiosk).collect();
        rows.push(Row {
            label: format!("{kiosk} 故障 faults ({})", tickets.len()),
            marks: tickets
                .iter()
                .map(|t| Mark {
                    at_ms: t.detected_ms,
                    note: String::new(),
                })
                .collect(),
            spans: tickets
                .iter()
                .map(|t| (t.started_ms, t.resolved_ms.min(report.end_ms)))
                .collect(),
            milestone: false,
        });
    }
    for sw in &report.switchovers {
        if let Some(from) = sw.in_service_ms {
            rows.push(Row {
                label: format!("备机 spare {} → {}", sw.spare, sw.covering),
                marks: Vec::new(),
                spans: vec![(from, sw.released_ms.unwrap_or(report.end_ms))],
                milestone: false,
            });
        }
    }
    rows
}

/// A milestone row: `label` at `at`, noted with the time since `since`,
/// or with the time of day when there is nothing to count from.
fn milestone(label: &str, at: u64, since: Option<u64>) -> Row {
    Row {
        label: label.to_string(),
        marks: vec![Mark {
            at_ms: at,
            note: match since {
                Some(since) => format!("+{}", duration(at.saturating_sub(since))),
                None => duration(at % DAY_MS),
            },
        }],
        spans: Vec::new(),
        milestone: true,
    }
}

/// Runs `drill` again with `seed` and draws it.
pub(super) fn pictures(
    config: &SiteConfig,
    drill: &SiteDrill,
    seed: u64,
    id: &str,
) -> SitePictures {
    let title = format!("时间线 timeline — {id}");
    match drill {
        SiteDrill::PeakDiversion { .. } => {
            let r = compare_guidance(config, seed);
            let policies = [
                ("有引导 guided", &r.guided),
                ("无引导 unguided (random pick)", &r.unguided),
                ("自选最短队 shortest visible queue", &r.self_organised),
            ];
            let series = |f: fn(&SiteReport) -> Vec<f64>| {
                policies
                    .iter()
                    .map(|(name, rep)| (name.to_string(), f(rep)))
                    .collect::<Vec<_>>()
            };
            SitePictures {
                timeline: Timeline {
                    title: format!(
                        "{title}（有引导 guided run: 故障与高峰 faults and rush hours）"
                    ),
                    rows: fault_rows(config, &r.guided),
                    start_ms: 0,
                    end_ms: r.guided.end_ms,
                },
                figures: vec![
                    bars(
                        "等候时间分布：有无引导 waiting time with and without guidance",
                        "秒 seconds",
                        series(|r| stats_of!(r.wait_s)),
                    ),
                    bars(
                        "高峰等候时间 waiting time in the rush hour",
                        "秒 seconds",
                        series(|r| stats_of!(r.rush_wait_s)),
                    ),
                    bars(
                        "加入时排队人数 queue length on joining",
                        "人 people",
                        series(|r| stats_of!(r.queue_len)),
                    ),
                ],
                notes: vec![NO_QUEUE_SERIES.to_string()],
            }
        }
        SiteDrill::SpareSwitchover { failure, .. } => {
            let r = spare_switchover(config, seed, failure);
            let mut rows = Vec::new();
            if let Some(t) = &r.ticket {
                // As the report's timings: detection since the fault, the
                // rest since detection.
                let (s, d) = (t.started_ms, t.detected_ms);
                rows.push(milestone(&format!("故障 fault ({})", r.kiosk), s, None));
                rows.push(milestone(
                    "检测·开工单 detected, ticket",
                    t.detected_ms,
                    Some(s),
                ));
                rows.push(milestone(
                    "运维响应 operations respond",
                    t.responded_ms,
                    Some(d),
                ));
                if let Some(at) = t.dispatched_ms {
                    rows.push(milestone("派单到场 dispatched on site", at, Some(d)));
                }
                if let Some(at) = r.switchover.as_ref().and_then(|sw| sw.in_service_ms) {
                    rows.push(milestone("备机接客 spare takes customers", at, Some(d)));
                }
                if t.resolved {
                    rows.push(milestone("解决 resolved", t.resolved_ms, Some(d)));
                }
                if let Some(at) = r.switchover.as_ref().and_then(|sw| sw.released_ms) {
                    rows.push(milestone("备机撤回 spare released", at, Some(d)));
                }
            }
            let times = rows
                .iter()
                .flat_map(|row| row.marks.iter().map(|m| m.at_ms));
            let end = times.clone().max().unwrap_or(DAY_MS);
            // From a little before the failure: the hours before it are empty.
            let first = times.min().unwrap_or(0);
            let start = first.saturating_sub((end - first) / 10);
            let w = &r.with_spares;
            let wo = &r.without_spares;
            SitePictures {
                timeline: Timeline {
                    title,
                    rows,
                    start_ms: start,
                    end_ms: end,
                },
                figures: vec![
                    bars(
                        "等候时间：有无备机 waiting time with and without spares",
                        "秒 seconds",
                        vec![
                            (
                                "有备机·故障前 with spares, before".into(),
                                stats_of!(w.before.wait_s),
                            ),
                            (
                                "有备机·故障后 with spares, after".into(),
                                stats_of!(w.after.wait_s),
                            ),
                            (
                                "无备机·故障前 no spare, before".into(),
                                stats_of!(wo.before.wait_s),
                            ),
                            (
                                "无备机·故障后 no spare, after".into(),
                                stats_of!(wo.after.wait_s),
                            ),
                        ],
                    ),
                    bars(
                        "加入时排队人数 queue length on joining",
                        "人 people",
                        vec![
                            (
                                "有备机·故障后 with spares, after".into(),
                                stats_of!(w.after.queue_len),
                            ),
                            (
                                "无备机·故障后 no spare, after".into(),
                                stats_of!(wo.after.queue_len),
                            ),
                        ],
                    ),
                ],
                notes: vec![NO_QUEUE_SERIES.to_string()],
            }
        }
        SiteDrill::FaultStatistics { days, .. } => {
            let r = fault_statistics(config, seed, *days);
            let mut rows = vec![
                milestone("故障 fault", 0, None),
                milestone(
                    "平均响应 mean response",
                    (r.response_s.mean * 1000.0) as u64,
                    Some(0),
                ),
                milestone(
                    "平均解决 mean resolved",
                    (r.repair_s.mean * 1000.0) as u64,
                    Some(0),
                ),
            ];
            for k in &r.by_kind {
                rows.push(Row {
                    label: format!("{} ({})", kind_label(k.kind), k.count),
                    marks: vec![Mark {
                        at_ms: (k.response_s.mean * 1000.0) as u64,
                        note: String::new(),
                    }],
                    spans: vec![(0, (k.repair_s.mean * 1000.0) as u64)],
                    milestone: false,
                });
            }
            let end = (r.repair_s.mean.max(r.response_s.mean) * 1000.0) as u64;
            let causes: Vec<(String, u64)> = r
                .by_kind
                .iter()
                .map(|k| (kind_label(k.kind), k.count))
                .collect();
            let response = GroupedBars {
                title: format!(
                    "响应时间与{:.0}分钟目标 response time against the {:.0}-minute target",
                    r.response_target_s / 60.0,
                    r.response_target_s / 60.0
                ),
                y_desc: "秒 seconds".into(),
                groups: r.by_kind.iter().map(|k| kind_label(k.kind)).collect(),
                series: vec![
                    (
                        "中位 p50".into(),
                        r.by_kind.iter().map(|k| k.response_s.p50).collect(),
                    ),
                    (
                        "95分位 p95".into(),
                        r.by_kind.iter().map(|k| k.response_s.p95).collect(),
                    ),
                    (
                        "最长 max".into(),
                        r.by_kind.iter().map(|k| k.response_s.max).collect(),
                    ),
                ],
                target: Some((
                    format!("目标 target {:.0}s", r.response_target_s),
                    r.response_target_s,
                )),
            };
            let caption = format!(
                "故障原因 fault causes, {} 天 days, {} 次 faults",
                r.days, r.total
            );
            SitePictures {
                timeline: Timeline {
                    title: format!("{title}（各类故障的平均经过 mean life of a fault by cause）"),
                    rows,
                    start_ms: 0,
                    end_ms: end.max(1),
                },
                figures: vec![
                    Figure {
                        svg: super::chart::counts(&caption, "次 faults", &causes),
                        caption,
                    },
                    Figure {
                        caption: response.title.clone(),
                        svg: super::chart::grouped_bars(&response),
                    },
                ],
                notes: vec![format!(
                    "{:.1}% 的故障在目标内响应 of faults answered within the target ({} of {} responded); \
                     响应时间按原因给出中位、95分位和最长，站点模型不公开每一单的响应时间 \
                     (response times by cause as p50, p95 and max: the site model does not expose each ticket's).",
                    r.within_target_pct, r.within_target, r.response_s.count
                )],
            }
        }
    }
}
