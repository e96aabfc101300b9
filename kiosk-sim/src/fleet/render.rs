//! The site drills' detail text for operators (peak diversion, spare
//! switchover, fault statistics), Chinese first, English with `--lang en`:
//! every line comes from the [`crate::cli_text`] catalog.

use crate::cli_text::{table_lines, Align, Lang, Msg};

use super::diversion::DiversionReport;
use super::report::clock;
use super::statistics::FaultStatistics;
use super::stats::Summary;
use super::switchover::SwitchoverReport;

/// One summary as `mean … p50 … p95 … max … (n=…)`; durations (`seconds`)
/// with one decimal and the language's unit, counts with two.
pub(crate) fn summary_line(s: &Summary, seconds: bool, lang: Lang) -> String {
    let unit = if seconds {
        Msg::UnitSeconds.text(lang)
    } else {
        ""
    };
    let mean = if seconds {
        format!("{:.1}", s.mean)
    } else {
        format!("{:.2}", s.mean)
    };
    Msg::SummaryLine.fill(
        lang,
        &[
            ("mean", &mean),
            ("p50", &format!("{:.1}", s.p50)),
            ("p95", &format!("{:.1}", s.p95)),
            ("max", &format!("{:.1}", s.max)),
            ("unit", &unit),
            ("count", &s.count),
        ],
    )
}

/// `{:.1}` of a percentage.
fn pct(v: f64) -> String {
    format!("{v:.1}")
}

/// Appends `m` filled with `values`, and a line break.
fn push(o: &mut String, lang: Lang, m: Msg, values: &[(&str, &dyn std::fmt::Display)]) {
    o.push_str(&m.fill(lang, values));
    o.push('\n');
}

impl DiversionReport {
    /// The detail text in Chinese.
    pub fn render_text(&self) -> String {
        self.render_text_in(Lang::default())
    }

    /// The detail text in `lang`.
    pub fn render_text_in(&self, lang: Lang) -> String {
        let mut o = String::new();
        push(
            &mut o,
            lang,
            Msg::DivHeading,
            &[("kiosks", &self.guided.kiosks), ("seed", &self.seed)],
        );
        for (name, r) in [
            (Msg::DivGuided, &self.guided),
            (Msg::DivUnguided, &self.unguided),
            (Msg::DivSelfOrganised, &self.self_organised),
        ] {
            push(&mut o, lang, Msg::DivPolicy, &[("name", &name.text(lang))]);
            for (label, s, seconds) in [
                (Msg::StatQueueLen, &r.queue_len, false),
                (Msg::StatWait, &r.wait_s, true),
                (Msg::StatRushQueueLen, &r.rush_queue_len, false),
                (Msg::StatRushWait, &r.rush_wait_s, true),
            ] {
                let line = summary_line(s, seconds, lang);
                push(&mut o, lang, label, &[("line", &line)]);
            }
            let c = &r.customers;
            push(
                &mut o,
                lang,
                Msg::DivCustomers,
                &[
                    ("waiting", &format!("{:.2}", r.waiting_mean)),
                    ("turned_away", &c.turned_away),
                    ("gave_up", &c.gave_up),
                    ("rerouted", &c.rerouted),
                ],
            );
        }
        for (name, i) in [
            (Msg::DivUnguided, &self.improvement),
            (Msg::DivSelfOrganised, &self.improvement_vs_self_organised),
        ] {
            push(
                &mut o,
                lang,
                Msg::DivImprovement,
                &[
                    ("name", &name.text(lang)),
                    ("q_mean", &pct(i.mean_queue_len_pct)),
                    ("q_p95", &pct(i.p95_queue_len_pct)),
                    ("w_mean", &pct(i.mean_wait_pct)),
                    ("w_p95", &pct(i.p95_wait_pct)),
                    ("rush_q", &pct(i.rush_mean_queue_len_pct)),
                    ("rush_w", &pct(i.rush_mean_wait_pct)),
                ],
            );
        }
        let verdict = if self.meets_target {
            Msg::Meets
        } else {
            Msg::Misses
        };
        push(
            &mut o,
            lang,
            Msg::DivVerdict,
            &[
                ("verdict", &verdict.text(lang)),
                ("target", &format!("{:.0}", self.target_pct)),
                ("seed", &self.seed),
            ],
        );
        o
    }
}

impl SwitchoverReport {
    /// The detail text in Chinese.
    pub fn render_text(&self) -> String {
        self.render_text_in(Lang::default())
    }

    /// The detail text in `lang`.
    pub fn render_text_in(&self, lang: Lang) -> String {
        let mut o = String::new();
        let d = &self.drill;
        push(
            &mut o,
            lang,
            Msg::SwHeading,
            &[
                ("kiosk", &self.kiosk),
                ("kind", &d.kind.name()),
                ("at", &d.at),
                ("seed", &self.seed),
            ],
        );
        match &self.ticket {
            Some(t) => {
                let dispatched = t
                    .dispatched_ms
                    .map_or(Msg::No.text(lang).to_string(), clock);
                push(
                    &mut o,
                    lang,
                    Msg::SwTicket,
                    &[
                        ("id", &t.id),
                        ("opened", &clock(t.detected_ms)),
                        (
                            "detect",
                            &format!("{:.0}", (t.detected_ms - t.started_ms) as f64 / 1000.0),
                        ),
                        ("responded", &clock(t.responded_ms)),
                        ("dispatched", &dispatched),
                    ],
                );
            }
            None => push(&mut o, lang, Msg::SwNoTicket, &[]),
        }
        let verdict = if self.spares >= self.spares_target {
            Msg::Meets
        } else {
            Msg::Below
        };
        push(
            &mut o,
            lang,
            Msg::SwSpares,
            &[
                ("spares", &self.spares),
                ("verdict", &verdict.text(lang)),
                ("target", &self.spares_target),
            ],
        );
        if let Some(s) = &self.switchover {
            let at = s
                .in_service_ms
                .map_or(Msg::Never.text(lang).to_string(), clock);
            push(
                &mut o,
                lang,
                Msg::SwSpare,
                &[
                    ("spare", &s.spare),
                    ("requested", &clock(s.requested_ms)),
                    ("at", &at),
                ],
            );
        }
        for (name, r) in [
            (Msg::SwWith, &self.with_spares),
            (Msg::SwWithout, &self.without_spares),
        ] {
            push(&mut o, lang, Msg::DivPolicy, &[("name", &name.text(lang))]);
            for (phase, w) in [(Msg::SwBefore, &r.before), (Msg::SwAfter, &r.after)] {
                push(
                    &mut o,
                    lang,
                    Msg::SwWindow,
                    &[
                        ("phase", &phase.text(lang)),
                        ("arrived", &w.arrived),
                        ("lost", &w.lost),
                        ("line", &summary_line(&w.wait_s, true, lang)),
                    ],
                );
                let line = summary_line(&w.queue_len, false, lang);
                push(&mut o, lang, Msg::SwWindowQueue, &[("line", &line)]);
            }
        }
        push(
            &mut o,
            lang,
            Msg::SwImprovement,
            &[
                ("pct", &pct(self.after_wait_improvement_pct)),
                ("seed", &self.seed),
            ],
        );
        o
    }
}

impl FaultStatistics {
    /// The detail text in Chinese.
    pub fn render_text(&self) -> String {
        self.render_text_in(Lang::default())
    }

    /// The detail text in `lang`; the causes are a table.
    pub fn render_text_in(&self, lang: Lang) -> String {
        let mut o = String::new();
        push(
            &mut o,
            lang,
            Msg::FsHeading,
            &[
                ("site", &self.site),
                ("days", &self.days),
                ("hours", &format!("{:.0}", self.kiosk_hours)),
                ("seed", &self.seed),
            ],
        );
        push(
            &mut o,
            lang,
            Msg::FsTotals,
            &[
                ("total", &self.total),
                ("resolved", &self.resolved),
                ("remote", &self.remote_fixed),
                ("dispatched", &self.dispatched),
                ("open", &self.open_at_end),
            ],
        );
        let response = summary_line(&self.response_s, true, lang);
        push(&mut o, lang, Msg::FsResponse, &[("line", &response)]);
        let repair = summary_line(&self.repair_s, true, lang);
        push(&mut o, lang, Msg::FsRepair, &[("line", &repair)]);
        push(
            &mut o,
            lang,
            Msg::FsWithin,
            &[
                ("target", &format!("{:.0}", self.response_target_s)),
                ("n", &self.within_target),
                ("pct", &pct(self.within_target_pct)),
            ],
        );
        push(&mut o, lang, Msg::FsCauses, &[]);
        let header = [
            "#",
            Msg::FsColCause.text(lang),
            Msg::FsColCount.text(lang),
            Msg::FsColShare.text(lang),
            Msg::FsColResponse.text(lang),
            Msg::FsColRepair.text(lang),
            Msg::FsColRepairP95.text(lang),
        ];
        let rows: Vec<Vec<String>> = self
            .by_kind
            .iter()
            .enumerate()
            .map(|(rank, k)| {
                vec![
                    format!("{}.", rank + 1),
                    k.kind.name().to_string(),
                    k.count.to_string(),
                    format!("{:.1}%", k.share_pct),
                    format!("{:.1}", k.response_s.mean),
                    format!("{:.1}", k.repair_s.mean),
                    format!("{:.1}", k.repair_s.p95),
                ]
            })
            .collect();
        let mut align = [Align::Right; 7];
        align[1] = Align::Left;
        for line in table_lines(&header, &rows, &align) {
            o.push_str("    ");
            o.push_str(&line);
            o.push('\n');
        }
        push(
            &mut o,
            lang,
            Msg::FsFooter,
            &[
                ("switchovers", &self.switchovers),
                ("lost", &self.customers_lost),
                ("digest", &format!("{:016x}", self.digest)),
                ("seed", &self.seed),
            ],
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compare_guidance, fault_statistics, spare_switchover, SiteConfig};
    use crate::cli_text::Lang;

    /// Han characters in `s`.
    fn han(s: &str) -> usize {
        s.chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count()
    }

    #[test]
    fn site_drill_details_are_chinese_first_and_english_on_request() {
        let config = SiteConfig {
            days: 1,
            ..SiteConfig::default()
        };
        let texts = [
            {
                let r = compare_guidance(&config, 3);
                (r.render_text(), r.render_text_in(Lang::En))
            },
            {
                let r = spare_switchover(&config, 3, &Default::default());
                (r.render_text(), r.render_text_in(Lang::En))
            },
            {
                let r = fault_statistics(&config, 3, 2);
                (r.render_text(), r.render_text_in(Lang::En))
            },
        ];
        for (zh, en) in &texts {
            assert_eq!(zh.lines().count(), en.lines().count(), "{zh}\n{en}");
            // Every Chinese line has Chinese in it, except the causes
            // table's rows (ids and figures) and the ticket-less lines.
            for line in zh.lines() {
                let figures_only = line.trim_start().starts_with(|c: char| c.is_ascii_digit());
                assert!(han(line) > 0 || figures_only, "no Chinese: {line:?}\n{zh}");
            }
            assert_eq!(han(en), 0, "Chinese in the English text:\n{en}");
        }
        assert!(texts[0].0.starts_with("高峰分流："), "{}", texts[0].0);
        assert!(texts[0].1.starts_with("peak-diversion: "), "{}", texts[0].1);
        assert!(texts[2].0.contains("最常见的故障原因"), "{}", texts[2].0);
    }
}
